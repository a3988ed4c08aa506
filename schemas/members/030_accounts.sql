-- Accounts that recover: e-mail verification, password reset, e-mail change, and the list of a
-- member's sessions (services/members/accounts*.cpp).

-- NULL until the member follows a link mailed to their current address.
ALTER TABLE members ADD COLUMN email_verified_at timestamptz;

-- Sessions get a public id (the token hash is never shown, not even to its owner), when they were
-- last seen and the browser or client that opened them, for GET /v1/me/sessions.
ALTER TABLE sessions
  ADD COLUMN id uuid NOT NULL DEFAULT gen_random_uuid(),
  ADD COLUMN last_seen_at timestamptz,
  ADD COLUMN user_agent text;
CREATE UNIQUE INDEX sessions_id ON sessions (id);
CREATE INDEX sessions_live_by_member ON sessions (member_id, created_at)
  WHERE revoked_at IS NULL;

-- Single-use tokens mailed to a member. A token is `selector` + verifier: the row is found by its
-- selector and the verifier's hash compared in constant time, so that neither the table nor the
-- time a lookup takes gives away a usable token. Times come from the service's clock (tests move
-- it), never from now().
CREATE TABLE account_tokens (
  selector text PRIMARY KEY,
  verifier_hash text NOT NULL,
  purpose text NOT NULL CHECK (purpose IN ('verify', 'reset', 'email-change')),
  member_id uuid NOT NULL REFERENCES members(id),
  -- The address the link went to: verify and reset check it is still the member's; an
  -- e-mail change makes it theirs.
  email text NOT NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  used_at timestamptz
);
CREATE INDEX account_tokens_open_by_member ON account_tokens (member_id, purpose)
  WHERE used_at IS NULL;
