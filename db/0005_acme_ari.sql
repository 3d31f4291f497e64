-- certmint store, schema 6: the certificate an ACME order replaces (RFC
-- 9773 replaces): marked superseded once the new one is issued.
ALTER TABLE acme_orders ADD COLUMN replaces TEXT;
