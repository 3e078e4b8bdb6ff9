-- An example table: replace it with your own schema.
--
-- `migrate` applies pending migrations in version order, each in its own
-- transaction, and records them in goose_db_version, so a second run is a
-- no-op. Never edit a migration that has been applied: add a new one.

-- +goose Up
CREATE TABLE items (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

-- squawk-ignore ban-drop-table
DROP TABLE items;
