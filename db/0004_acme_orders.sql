-- certmint store, schema 5: ACME orders, authorizations and challenges
-- (RFC 8555 7.1.3-7.1.5), kept so that an order survives a restart.

CREATE TABLE acme_orders (
	id INTEGER PRIMARY KEY,
	account_id INTEGER NOT NULL REFERENCES acme_accounts(id),
	status TEXT NOT NULL CHECK (status IN ('pending', 'ready',
		'processing', 'valid', 'invalid')),
	identifiers TEXT NOT NULL,      -- JSON array, as ordered
	expires INTEGER NOT NULL,
	cert_serial TEXT,               -- the certificate, once valid
	error TEXT,                     -- JSON problem, once invalid
	created INTEGER NOT NULL
);

CREATE TABLE acme_authzs (
	id INTEGER PRIMARY KEY,
	order_id INTEGER NOT NULL REFERENCES acme_orders(id),
	type TEXT NOT NULL CHECK (type IN ('dns', 'ip')),
	value TEXT NOT NULL,
	status TEXT NOT NULL CHECK (status IN ('pending', 'valid', 'invalid',
		'deactivated', 'expired', 'revoked')),
	expires INTEGER NOT NULL
);
CREATE INDEX acme_authzs_order ON acme_authzs(order_id);

CREATE TABLE acme_challenges (
	id INTEGER PRIMARY KEY,
	authz_id INTEGER NOT NULL REFERENCES acme_authzs(id),
	type TEXT NOT NULL,
	token TEXT NOT NULL,
	status TEXT NOT NULL CHECK (status IN ('pending', 'processing',
		'valid', 'invalid')),
	validated INTEGER,
	error TEXT
);
CREATE INDEX acme_challenges_authz ON acme_challenges(authz_id);

-- The account an ACME certificate was issued to (list --json shows it).
ALTER TABLE certs ADD COLUMN acme_account_id INTEGER;
