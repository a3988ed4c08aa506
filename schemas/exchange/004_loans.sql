-- Loans, swaps and bookings between members (issue #19). The workflow state stays in `doc`;
-- the columns here are copies the late job, the calendar and the overdue check filter on.
ALTER TABLE exchanges
  ADD COLUMN mode text NOT NULL DEFAULT 'give',
  ADD COLUMN starts_at timestamptz,
  ADD COLUMN due_at timestamptz;
CREATE INDEX exchanges_loans_due ON exchanges (due_at) WHERE state = 'handed_over';
CREATE INDEX exchanges_late_receiver ON exchanges (receiver_id) WHERE state = 'late';

-- What an exchange needs from its offer: the mode, a loan's deposit, a service's capacity.
ALTER TABLE listings
  ADD COLUMN mode text,
  ADD COLUMN deposit_minutes bigint NOT NULL DEFAULT 0,
  ADD COLUMN capacity integer;

-- Bookings of an object never overlap: PostgreSQL refuses the second one (exclusion constraint
-- on the offer and the range), also when two accepts commit at the same time. btree_gist gives
-- uuid its `=` in a GiST index; it is a trusted extension (a database owner may create it).
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'btree_gist') THEN
    CREATE EXTENSION btree_gist SCHEMA public;
  END IF;
END
$$;

-- `active`: the booking holds its dates (accepted, handed over, late); an exchange that ended
-- or stepped back frees them, and its row stays for the history.
CREATE TABLE bookings (
  exchange_id uuid PRIMARY KEY REFERENCES exchanges (id),
  offer_id uuid NOT NULL,
  member_id uuid NOT NULL,
  during tstzrange NOT NULL CHECK (NOT isempty(during)),
  active boolean NOT NULL DEFAULT true,
  CONSTRAINT bookings_no_overlap EXCLUDE USING gist (offer_id WITH =, during WITH &&)
    WHERE (active)
);
CREATE INDEX bookings_offer ON bookings (offer_id, lower(during)) WHERE active;

-- Late loans at the depot (from loan.late until item.returned): their borrower cannot borrow
-- from a member either.
CREATE TABLE depot_late_loans (
  item_id uuid PRIMARY KEY,
  member_id uuid NOT NULL,
  due_at timestamptz NOT NULL
);
CREATE INDEX depot_late_loans_member ON depot_late_loans (member_id);

-- Private calendar feeds (GET /v1/me/calendar.ics?token=): one token per member, revocable
-- (DELETE /v1/me/calendar makes a new one on the next GET).
CREATE TABLE calendar_tokens (
  member_id uuid PRIMARY KEY,
  token text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now()
);
