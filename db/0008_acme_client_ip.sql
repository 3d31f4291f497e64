-- certmint store, schema 9: the address an ACME order came from, for the
-- per-address rate limits (orders and failed validations per hour), which
-- several serve on one store share.
ALTER TABLE acme_orders ADD COLUMN client_ip TEXT;
CREATE INDEX acme_orders_client_ip ON acme_orders(client_ip, created);
