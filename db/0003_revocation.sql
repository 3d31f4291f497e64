-- certmint store, schema 3: CRLs, distribution points, OCSP.

-- URLs a CA places in the certificates it issues (NULL: none).
ALTER TABLE cas ADD COLUMN crl_url TEXT;
ALTER TABLE cas ADD COLUMN ocsp_url TEXT;

-- The cas.crl_number current when a certificate was revoked: a delta CRL
-- on base N lists the revocations stamped N or later (NULL: before any).
ALTER TABLE certs ADD COLUMN revoked_after_crl INTEGER;
CREATE TRIGGER certs_revoked_stamp AFTER UPDATE OF status ON certs
	WHEN new.status = 'revoked' AND old.status <> 'revoked'
BEGIN
	UPDATE certs SET revoked_after_crl =
	    (SELECT crl_number FROM cas WHERE id = new.ca_id)
	WHERE id = new.id;
END;
-- Revoked entries of a CA in the order a CRL lists them (by serial value:
-- hex without leading zeros, by length then text), covering the columns a
-- CRL reads, so that building one is an index scan with no sort.
CREATE INDEX certs_revoked ON certs(ca_id, length(serial), serial,
	revoked_at, revocation_reason, revoked_after_crl)
	WHERE status = 'revoked';

-- Every CRL issued: base_number is NULL for a complete CRL, the complete
-- CRL's number for a delta.
CREATE TABLE crls (
	id INTEGER PRIMARY KEY,
	ca_id INTEGER NOT NULL REFERENCES cas(id),
	number INTEGER NOT NULL,
	base_number INTEGER,
	this_update INTEGER NOT NULL,
	next_update INTEGER NOT NULL,
	entries INTEGER NOT NULL,
	der BLOB NOT NULL,
	UNIQUE (ca_id, number)
);
