-- An example table: replace it with your own schema.
--
-- `migrate` (Flyway) applies the pending V<version>__<description>.sql files of this directory in
-- version order, each in its own transaction, and records them in flyway_schema_history, so a
-- second run is a no-op. Never edit a migration that has been applied: add a new one.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

-- It runs in a transaction, so it cannot half-apply.
-- squawk-ignore prefer-robust-stmts
CREATE TABLE items (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
