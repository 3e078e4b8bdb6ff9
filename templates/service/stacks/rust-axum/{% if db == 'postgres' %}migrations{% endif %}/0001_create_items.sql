-- An example table: replace it with your own schema. Each migration is a file named
-- <version>_<description>.sql; `migrate` applies the pending ones in version order, each in a
-- transaction, and records them in _sqlx_migrations, so running it again is a no-op.
-- Never edit a migration that has been applied: add a new one.
SET lock_timeout = '5s';

CREATE TABLE IF NOT EXISTS items (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
