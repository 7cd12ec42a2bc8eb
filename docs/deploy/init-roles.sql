-- Run once by the PostgreSQL image on first start (as the superuser it creates).
-- The application role is neither superuser nor owner, so row-level security applies to it.
\set app_password `echo "$VECTRA_APP_PASSWORD"`
CREATE EXTENSION IF NOT EXISTS vector;
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS btree_gist;
CREATE ROLE vectra_app LOGIN NOSUPERUSER NOBYPASSRLS PASSWORD :'app_password';
GRANT vectra_app TO vectra_owner;
