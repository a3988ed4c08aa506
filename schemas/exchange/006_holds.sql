-- Holds on lent objects (issue #19): members queue for an object on loan, in the order they
-- joined (seq); when it is back, the first is told and alone may borrow it until pickup_until,
-- then the next one is told. `waiting`: in the queue; `ready`: told, within the pick-up window;
-- `fulfilled`: they asked for the loan in time; `expired`: the window passed; `cancelled`: they
-- left (or the offer closed). Times are the service's clock (moved by tests), not now().
CREATE TABLE holds (
  id uuid PRIMARY KEY,
  seq bigserial UNIQUE,
  offer_id uuid NOT NULL,
  member_id uuid NOT NULL,
  community_id uuid NOT NULL,
  state text NOT NULL DEFAULT 'waiting'
    CHECK (state IN ('waiting', 'ready', 'fulfilled', 'expired', 'cancelled')),
  created_at timestamptz NOT NULL,
  ready_at timestamptz,
  pickup_until timestamptz,
  -- The loan whose return freed the object for this hold (named in exchange.hold_available).
  freed_by uuid,
  exchange_id uuid,  -- the loan a fulfilled hold asked for
  ended_at timestamptz,
  CHECK (state <> 'ready' OR pickup_until IS NOT NULL)
);
-- A member is in an object's queue once (the second join is refused, also when two arrive
-- together); one ready hold per object at a time.
CREATE UNIQUE INDEX holds_one_per_member ON holds (offer_id, member_id)
  WHERE state IN ('waiting', 'ready');
CREATE UNIQUE INDEX holds_one_ready ON holds (offer_id) WHERE state = 'ready';
CREATE INDEX holds_queue ON holds (offer_id, seq) WHERE state IN ('waiting', 'ready');
CREATE INDEX holds_pickup ON holds (pickup_until) WHERE state = 'ready';

-- Weekly late notices of a loan (week 1, 2, ... after its due date; week 0 is exchange.late
-- itself): a row per week sent, so that however often the job runs a week is told once.
CREATE TABLE loan_late_notices (
  exchange_id uuid NOT NULL,
  week integer NOT NULL CHECK (week > 0),
  sent_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (exchange_id, week)
);
