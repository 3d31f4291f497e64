-- certmint store, schema 7: the certmint profile an ACME order asked for
-- (the newOrder "profile" field), NULL: the directory's default.
ALTER TABLE acme_orders ADD COLUMN profile TEXT;
