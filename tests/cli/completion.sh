#!/bin/sh
# completion.sh - bash and zsh completion (issue 17, item 2): bash's
# completion function driven in a bash subshell (COMP_WORDS, COMP_CWORD)
# for commands, subcommands, options from --help, key types, profiles,
# CA and certificate names of the store given by --store or
# CERTMINT_STORE, and files; zsh's file parses.
. "$top_srcdir/tests/cli/lib.sh"
need bash

cd "$WORK" || exit 1
BIN=$(cd "$(dirname "$CERTMINT")" && pwd)
"$CERTMINT" issue server web.test >/dev/null 2>&1 &&
"$CERTMINT" issue client alice@example.test >/dev/null 2>&1 &&
"$CERTMINT" ca create sub --parent "certmint dev CA" >/dev/null 2>&1 ||
    { echo "Bail out! setup"; exit 1; }
mkdir -p "$WORK/profiles" && : >"$WORK/profiles/mine.tmpl"
: >req.csr
: >other.scn

# comp WORDS...: what bash completes for the last word (empty: a TAB
# after a space), one per line, sorted.
comp() {
	PATH="$BIN:$PATH" bash -c '
		. "$1"; shift
		COMP_WORDS=("$@")
		COMP_CWORD=$(($# - 1))
		COMP_LINE="$*"
		COMP_POINT=${#COMP_LINE}
		_certmint certmint "${COMP_WORDS[COMP_CWORD]}" \
		    "${COMP_WORDS[COMP_CWORD-1]}"
		printf "%s\n" "${COMPREPLY[@]}" | sort -u' sh \
	    "$top_srcdir/completion/certmint" "$@"
}
line() { tr '\n' ' ' | sed 's/ $//'; }

is "certmint is<TAB>: issue" "$(comp certmint is | line)" "issue"
is "certmint t<TAB>: test trust" "$(comp certmint t | line)" "test trust"
is "certmint test <TAB>: its subcommands and scenario files" \
    "$(comp certmint test '' | line)" "client connect other.scn serve server"
is "certmint ca <TAB>: create list set show" "$(comp certmint ca '' | line)" \
    "create list set show"
kt=$("$CERTMINT" issue --help | grep -A2 '^  --key-type' |
    grep -o 'ec-p[0-9]*\|ed25519\|ed448\|rsa-[0-9]*' | sort -u | line)
is "issue server --key-type <TAB>: the key types of issue --help" \
    "$(comp certmint issue server --key-type '' | line)" "$kt"
is "show <TAB>: the store's certificate names (CERTMINT_STORE)" \
    "$(comp certmint show '' | line)" "alice@example.test sub web.test"
is "show w<TAB>: web.test" "$(comp certmint show w | line)" "web.test"
is "--store PATH show <TAB>: the names of that store" \
    "$(CERTMINT_STORE=/nonexistent/x.db comp certmint --store "$CERTMINT_STORE" show '' | line)" \
    "alice@example.test sub web.test"
is "issue client x --ca <TAB>: the CA names (one with a space)" \
    "$(comp certmint issue client x --ca '' | line)" "certmint dev CA sub"
is "issue --profile <TAB>: built-in and the store's profiles" \
    "$(comp certmint issue server x --profile '' | grep -v '/' | line)" \
    "client intermediate-ca mine ocsp-signer peer root-ca server"
is "list --st<TAB>: --status (from list --help)" \
    "$(comp certmint list --st | line)" "--status"
is "test server --ex<TAB>: the options of test server" \
    "$(comp certmint test server 127.0.0.1:1 --ex | line)" "--expect-revocation"
is "revoke x --reason key<TAB>" "$(comp certmint revoke x --reason key | line)" \
    "keyCompromise"
is "sign re<TAB>: files" "$(comp certmint sign re | line)" "req.csr"
is "test --format <TAB>" "$(comp certmint test --cert x --format '' | line)" \
    "html json junit table tap"
# Every command of certmint --help is offered.
want=$("$CERTMINT" --help | sed -n '/^Commands:/,/^$/p' | awk 'NR > 1 && NF { print $1 }' | sort | line)
is "certmint <TAB>: every command of certmint --help" "$(comp certmint '' | line)" "$want"

if command -v zsh >/dev/null 2>&1; then
	check "zsh: _certmint parses" zsh -n "$top_srcdir/completion/_certmint"
else
	echo "# zsh not installed: its check skipped"
fi

done_testing
