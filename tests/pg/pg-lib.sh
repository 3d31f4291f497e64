# pg-lib.sh - a throwaway PostgreSQL cluster for the tests (sourced).
#
# pg_start DIR: initdb + pg_ctl start in DIR, listening on a Unix socket in
# DIR only (no TCP at all), on a free port; sets PG_HOST, PG_PORT, PG_BIN
# and PG_URI (a postgresql:// URI of the database "certmint", made).
# pg_stop: stops it by PID.  Returns 77 when the server binaries are
# missing.  As root, the server runs as the postgres user (it refuses
# root); the data folder is that user's.

pg_find_bin() {
	for d in /usr/lib/postgresql/*/bin; do
		[ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && PG_BIN=$d
	done
	[ -n "${PG_BIN:-}" ] || PG_BIN=$(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/x)")
	[ -x "$PG_BIN/initdb" ] && [ -x "$PG_BIN/pg_ctl" ]
}

pg_as() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

pg_start() {
	PG_DIR=$1
	pg_find_bin || return 77
	if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
		return 77
	fi
	mkdir -p "$PG_DIR" && chmod 755 "$PG_DIR"
	[ "$(id -u)" -eq 0 ] && chown postgres "$PG_DIR"
	pg_as "$PG_BIN/initdb" -D "$PG_DIR/data" -A trust -U postgres \
	    --no-sync -E UTF8 --no-locale >"$PG_DIR/initdb.log" 2>&1 ||
	    return 1
	# A free port: the socket's name carries it; try a few.
	for _i in 1 2 3 4 5 6 7 8; do
		PG_PORT=$(( (($$ + _i * 7919) % 20000) + 30000 ))
		PG_HOST=$PG_DIR
		if pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -w -t 30 \
		    -l "$PG_DIR/server.log" -o "-c listen_addresses='' \
		    -k $PG_DIR -p $PG_PORT -c fsync=off \
		    -c max_connections=60" start >/dev/null 2>&1; then
			PG_URI="postgresql:///certmint?host=$PG_HOST&port=$PG_PORT&user=postgres"
			"$PG_BIN/psql" -q -h "$PG_HOST" -p "$PG_PORT" -U postgres \
			    -d postgres -c "CREATE DATABASE certmint" \
			    >/dev/null 2>&1 || return 1
			export PG_HOST PG_PORT PG_BIN PG_URI PG_DIR
			return 0
		fi
	done
	return 1
}

pg_psql() {
	"$PG_BIN/psql" -X -q -At -h "$PG_HOST" -p "$PG_PORT" -U postgres \
	    -d "${PG_DB:-certmint}" "$@"
}

pg_stop() {
	[ -n "${PG_DIR:-}" ] && [ -f "$PG_DIR/data/postmaster.pid" ] || return 0
	_pid=$(head -1 "$PG_DIR/data/postmaster.pid")
	kill -INT "$_pid" 2>/dev/null
	for _i in $(seq 1 100); do
		kill -0 "$_pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL "$_pid" 2>/dev/null
	return 0
}
