-- Outgoing mail (services/common/mail.hpp): written in the transaction of its cause, sent by the
-- service's mail sender. Each schema that queues mail links here (060_mail_queue.sql ->
-- ../shared/060_mail_queue.sql).
--   pending -> sending (owner_key, attempt_id) -> sent
--                      \-> pending again (transient failure, or its sender died) -> ...
--                      \-> parked (after repeated permanent failure)
-- message_id is chosen when queued and kept by every attempt, so that a copy sent twice (the
-- sender died between the server's 250 and its mark) carries the same Message-ID.
CREATE TABLE IF NOT EXISTS mail_queue (
  id bigserial PRIMARY KEY,
  dedup_key text NOT NULL UNIQUE,
  message_id text NOT NULL UNIQUE,
  recipient text NOT NULL,
  kind text NOT NULL,
  subject text NOT NULL,
  body_text text NOT NULL,
  body_html text NOT NULL,
  unsubscribe_url text NOT NULL DEFAULT '',
  state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sending', 'sent', 'parked')),
  attempts integer NOT NULL DEFAULT 0,
  permanent_failures integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  owner_key integer,  -- the sender's advisory lock (classid 7123): alive while it is held
  attempt_id uuid,
  last_error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  sent_at timestamptz
);
-- What the senders scan: due rows and rows being sent; sent and parked rows stay out of it.
CREATE INDEX IF NOT EXISTS mail_queue_due ON mail_queue (next_attempt_at, id)
  WHERE state IN ('pending', 'sending');
