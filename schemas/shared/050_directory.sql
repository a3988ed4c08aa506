-- The directory: communities and sites as the members stream last described them
-- (services/common/directory.hpp), the same tables in every service schema that reads them.
-- Each schema links here (050_directory.sql -> ../shared/050_directory.sql). The tables keep the
-- names and rows the services had before (depot, exchange, ledger: communities; depot, exchange:
-- sites with a name; offers, requests: sites with a position): each gains what the others had.
-- Columns a service never received stay at their defaults until the next event about that row.
CREATE TABLE IF NOT EXISTS communities (
  id uuid PRIMARY KEY,
  policy jsonb NOT NULL  -- every field present (policy_to_json), validated before it is stored
);
-- described_at: the occurred_at of the event last applied (an older one changes nothing).
ALTER TABLE communities
  ADD COLUMN IF NOT EXISTS name text NOT NULL DEFAULT '',
  ADD COLUMN IF NOT EXISTS described_at timestamptz;

CREATE TABLE IF NOT EXISTS sites (
  id uuid PRIMARY KEY,
  community_id uuid NOT NULL
);
ALTER TABLE sites
  ADD COLUMN IF NOT EXISTS name text NOT NULL DEFAULT '',
  ADD COLUMN IF NOT EXISTS kind text NOT NULL DEFAULT '',
  ADD COLUMN IF NOT EXISTS address text NOT NULL DEFAULT '',
  ADD COLUMN IF NOT EXISTS opening_hours text,
  ADD COLUMN IF NOT EXISTS lat double precision,
  ADD COLUMN IF NOT EXISTS lon double precision,
  ADD COLUMN IF NOT EXISTS described_at timestamptz;
-- Unknown where the position never came (sites recorded by depot or exchange before this file);
-- every site event carries one, so a row written by the directory always has it.
ALTER TABLE sites ALTER COLUMN lat DROP NOT NULL, ALTER COLUMN lon DROP NOT NULL;
CREATE INDEX IF NOT EXISTS sites_by_community ON sites (community_id, id);
