-- An example table: replace it with your own schema.
--
-- `migrate` applies the pending migrations of this directory in file-name order, in one
-- transaction, and records them in pgmigrations, so a second run is a no-op. Never edit a
-- migration that has been applied: add a new one with
-- `npx node-pg-migrate create <description> --migration-file-language sql`.

-- Up Migration
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

-- It runs in a transaction, so it cannot half-apply.
-- squawk-ignore prefer-robust-stmts
CREATE TABLE items (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Down Migration
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

-- squawk-ignore ban-drop-table, prefer-robust-stmts
DROP TABLE items;
