-- Members erased under the RGPD: their messages stay in the other party's conversation, shown
-- under "ancien membre" rather than their name (services/exchange: list_messages).
CREATE TABLE erased_members (
  member_id uuid PRIMARY KEY,
  erased_at timestamptz NOT NULL DEFAULT now()
);

