-- The notify service's schema: the in-app inbox (moved from the exchange service, same shape),
-- who can be told what and how (recipients from member.contact / member.registered|updated,
-- preferences, unsubscribe tokens), the read models its reminder jobs scan, and the items kept
-- for daily digests. Outgoing mail is 060_mail_queue.sql; sites and communities 050_directory.sql.

CREATE TABLE notifications (
  id uuid PRIMARY KEY,  -- uuid_from_name(cause + member): a redelivered event adds nothing
  seq bigserial UNIQUE,
  member_id uuid NOT NULL,
  type text NOT NULL,   -- the event type that caused it ("exchange.accepted", "match.proposed")
  kind text NOT NULL,   -- the preference kind ("exchange.update", "match.new")
  exchange_id uuid,
  data jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  read_at timestamptz
);
CREATE INDEX notifications_member ON notifications (member_id, seq DESC);

-- Who a member is for notify: the address only when verified is ever mailed.
CREATE TABLE recipients (
  member_id uuid PRIMARY KEY,
  community_id uuid,
  home_site_id uuid,
  display_name text NOT NULL DEFAULT '',
  email text,
  email_verified boolean NOT NULL DEFAULT false,
  staff_site_ids uuid[] NOT NULL DEFAULT '{}',
  erased boolean NOT NULL DEFAULT false
);
CREATE INDEX recipients_staff ON recipients USING gin (staff_site_ids);

-- Only the choices a member changed; the defaults live in the code (preferences.cpp).
CREATE TABLE preferences (
  member_id uuid NOT NULL,
  kind text NOT NULL,
  in_app boolean NOT NULL,
  email text NOT NULL CHECK (email IN ('instant', 'digest', 'off')),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (member_id, kind)
);

-- One random token per mail (its hash): the mail's link turns that kind's e-mail off, no login.
CREATE TABLE unsubscribe_tokens (
  token_hash text PRIMARY KEY,
  member_id uuid NOT NULL,
  kind text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- What a member chose to receive as a daily digest, until the digest job mails it.
CREATE TABLE digest_items (
  id uuid PRIMARY KEY,
  member_id uuid NOT NULL,
  kind text NOT NULL,
  line text NOT NULL,  -- one French sentence
  link text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL,
  sent boolean NOT NULL DEFAULT false
);
CREATE INDEX digest_items_unsent ON digest_items (member_id, kind) WHERE NOT sent;

-- Listings as their streams describe them: titles and owners for the match mails.
CREATE TABLE listings (
  id uuid PRIMARY KEY,
  side text NOT NULL,
  member_id uuid NOT NULL,
  title text NOT NULL DEFAULT '',
  site_id uuid
);

-- Loans between members (exchange events with a due date) for the due-tomorrow reminder.
CREATE TABLE exchange_loans (
  exchange_id uuid PRIMARY KEY,
  provider_id uuid,
  receiver_id uuid,
  site_id uuid,
  due_at timestamptz NOT NULL,
  open boolean NOT NULL DEFAULT true  -- false once returned, lost, cancelled or completed
);
CREATE INDEX exchange_loans_due ON exchange_loans (due_at) WHERE open;

-- Depot reservations for the expiring reminder.
CREATE TABLE reservations (
  item_id uuid PRIMARY KEY,
  member_id uuid NOT NULL,
  site_id uuid,
  title text NOT NULL DEFAULT '',
  reserved_until timestamptz NOT NULL
);
CREATE INDEX reservations_until ON reservations (reserved_until);

-- Open disputes per site, for the desk digest.
CREATE TABLE disputes (
  exchange_id uuid PRIMARY KEY,
  site_id uuid,
  opened_at timestamptz NOT NULL,
  resolved boolean NOT NULL DEFAULT false
);
