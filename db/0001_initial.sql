-- certmint store, schema 1.
-- Times are seconds since the epoch (UTC); serials are lower-case hex.

CREATE TABLE keys (
	id INTEGER PRIMARY KEY,
	key_type TEXT NOT NULL,
	-- DER PKCS#8; PBES2/AES-256 encrypted when encrypted = 1
	pkcs8 BLOB,
	encrypted INTEGER NOT NULL DEFAULT 0 CHECK (encrypted IN (0, 1)),
	-- a pkcs11: URI when the key lives in a token
	uri TEXT,
	CHECK ((pkcs8 IS NULL) <> (uri IS NULL))
);

CREATE TABLE cas (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE,
	parent_id INTEGER REFERENCES cas(id),
	key_id INTEGER NOT NULL REFERENCES keys(id),
	cert_der BLOB NOT NULL,
	subject TEXT NOT NULL,
	serial TEXT NOT NULL,
	key_type TEXT NOT NULL,
	not_before INTEGER NOT NULL,
	not_after INTEGER NOT NULL,
	fingerprint TEXT NOT NULL UNIQUE,
	-- name constraints as given, one per line
	permitted TEXT NOT NULL DEFAULT '',
	path_len INTEGER NOT NULL DEFAULT -1,
	crl_number INTEGER NOT NULL DEFAULT 0,
	created INTEGER NOT NULL
);

CREATE TABLE certs (
	id INTEGER PRIMARY KEY,
	ca_id INTEGER NOT NULL REFERENCES cas(id),
	serial TEXT NOT NULL,
	subject TEXT NOT NULL,
	cn TEXT NOT NULL,
	profile TEXT NOT NULL,
	key_type TEXT NOT NULL,
	not_before INTEGER NOT NULL,
	not_after INTEGER NOT NULL,
	der BLOB NOT NULL,
	fingerprint TEXT NOT NULL UNIQUE,
	status TEXT NOT NULL DEFAULT 'valid'
		CHECK (status IN ('valid', 'revoked', 'superseded')),
	revoked_at INTEGER,
	revocation_reason INTEGER,
	key_id INTEGER REFERENCES keys(id),
	created INTEGER NOT NULL,
	-- RFC 5280 4.1.2.2: unique per issuer
	UNIQUE (ca_id, serial)
);
CREATE INDEX certs_cn ON certs(cn);
CREATE INDEX certs_not_after ON certs(not_after);
CREATE INDEX certs_serial ON certs(serial);

-- Every name of a certificate, in the order given (pos 0 is the CN).
CREATE TABLE cert_names (
	cert_id INTEGER NOT NULL REFERENCES certs(id),
	pos INTEGER NOT NULL,
	type TEXT NOT NULL,
	name TEXT NOT NULL,
	PRIMARY KEY (cert_id, pos)
) WITHOUT ROWID;
CREATE INDEX cert_names_name ON cert_names(name);

-- Append-only audit log.
CREATE TABLE events (
	id INTEGER PRIMARY KEY,
	time INTEGER NOT NULL,
	actor TEXT NOT NULL,
	action TEXT NOT NULL,
	object TEXT,
	details TEXT
);
CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events
BEGIN
	SELECT RAISE(ABORT, 'events are append-only');
END;
CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events
BEGIN
	SELECT RAISE(ABORT, 'events are append-only');
END;
