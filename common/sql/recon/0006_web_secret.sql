-- recon's own schema, version 6: a secret every recon-web replica shares.
--
-- In trusted-proxy mode there is no session row to hold a CSRF token, so
-- recon-web derives it from the user name with a keyed hash. The key must
-- be the same on every replica behind the load balancer (a form rendered
-- by one is posted to another), so it lives here, made once at random.
CREATE TABLE recon.web_secrets (
    name   text PRIMARY KEY,
    secret text NOT NULL CHECK (length(secret) >= 32)
);
INSERT INTO recon.web_secrets (name, secret)
VALUES ('csrf', replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''));
