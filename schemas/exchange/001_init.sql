-- The exchange service's own data: exchanges (the workflow state as a document plus the columns
-- that lists and the desk filter on), messages, ratings, notifications, and read models copied
-- from other services' events (communities' policies, sites, listings, matches, transfers).
CREATE TABLE communities (
  id uuid PRIMARY KEY,
  policy jsonb NOT NULL
);

CREATE TABLE sites (
  id uuid PRIMARY KEY,
  community_id uuid NOT NULL,
  name text NOT NULL DEFAULT ''
);

CREATE TABLE listings (
  id uuid PRIMARY KEY,
  side text NOT NULL CHECK (side IN ('offer', 'request')),
  member_id uuid NOT NULL,
  community_id uuid NOT NULL,
  site_id uuid,
  price_minutes bigint NOT NULL DEFAULT 0,
  status text NOT NULL,
  title text NOT NULL DEFAULT ''
);

CREATE TABLE matches (
  id uuid PRIMARY KEY,
  offer_id uuid NOT NULL,
  request_id uuid NOT NULL
);

CREATE TABLE exchanges (
  id uuid PRIMARY KEY,
  seq bigserial UNIQUE,
  community_id uuid NOT NULL,
  state text NOT NULL,
  provider_id uuid NOT NULL,
  receiver_id uuid NOT NULL,
  site_id uuid,
  offer_id uuid,
  request_id uuid,
  match_id uuid,
  scheduled_at timestamptz,
  message text,
  proposed_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  doc jsonb NOT NULL
);
CREATE INDEX exchanges_provider ON exchanges (provider_id, seq DESC);
CREATE INDEX exchanges_receiver ON exchanges (receiver_id, seq DESC);
CREATE INDEX exchanges_site ON exchanges (site_id, state);
CREATE INDEX exchanges_proposed ON exchanges (proposed_at) WHERE state = 'proposed';

-- The ledger's view of each transfer the exchanges asked for, from ledger.events: what the
-- consistency checks compare against the exchanges' states.
CREATE TABLE transfers (
  transfer_id text PRIMARY KEY,
  exchange_id uuid NOT NULL,
  state text NOT NULL,
  minutes bigint,
  reason text,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX transfers_exchange ON transfers (exchange_id);

CREATE TABLE messages (
  id uuid PRIMARY KEY,
  seq bigserial UNIQUE,
  exchange_id uuid NOT NULL REFERENCES exchanges (id),
  author_id uuid NOT NULL,
  acting_staff_id uuid,
  body text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX messages_exchange ON messages (exchange_id, seq);

CREATE TABLE ratings (
  exchange_id uuid NOT NULL REFERENCES exchanges (id),
  rater_id uuid NOT NULL,
  rated_id uuid NOT NULL,
  stars integer NOT NULL CHECK (stars BETWEEN 1 AND 5),
  comment text NOT NULL DEFAULT '',
  acting_staff_id uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (exchange_id, rater_id)
);

CREATE TABLE notifications (
  id uuid PRIMARY KEY,
  seq bigserial UNIQUE,
  member_id uuid NOT NULL,
  type text NOT NULL,
  exchange_id uuid,
  data jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  read_at timestamptz
);
CREATE INDEX notifications_member ON notifications (member_id, seq DESC);
