-- certmint store, schema 8: External Account Binding keys (RFC 8555
-- 7.3.4), made by 'certmint acme eab add'; each binds one account.
CREATE TABLE acme_eab (
	kid TEXT PRIMARY KEY,
	ca_id INTEGER NOT NULL REFERENCES cas(id),
	hmac_key TEXT NOT NULL,         -- base64url, 32 octets
	created INTEGER NOT NULL,
	account_id INTEGER REFERENCES acme_accounts(id)
);
