-- certmint store, schema 4: ACME state (issue 15), so that an order
-- survives a restart of serve and several serve on one store act as one.

-- Nonces handed out (RFC 8555 7.2): each is used once; old ones expire.
CREATE TABLE acme_nonces (
	nonce TEXT PRIMARY KEY,
	created INTEGER NOT NULL
) WITHOUT ROWID;

-- Accounts (7.1.2), keyed by their JWK thumbprint (RFC 7638).
CREATE TABLE acme_accounts (
	id INTEGER PRIMARY KEY,
	ca_id INTEGER NOT NULL REFERENCES cas(id),
	thumbprint TEXT NOT NULL,
	jwk TEXT NOT NULL,
	status TEXT NOT NULL DEFAULT 'valid'
		CHECK (status IN ('valid', 'deactivated', 'revoked')),
	contact TEXT,
	created INTEGER NOT NULL,
	UNIQUE (ca_id, thumbprint)
);
