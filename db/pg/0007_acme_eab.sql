-- The PostgreSQL variant of db/0007_acme_eab.sql.
CREATE TABLE acme_eab (
	kid TEXT PRIMARY KEY,
	ca_id BIGINT NOT NULL REFERENCES cas(id),
	hmac_key TEXT NOT NULL,
	created BIGINT NOT NULL,
	account_id BIGINT REFERENCES acme_accounts(id)
);
