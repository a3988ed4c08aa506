-- The depot's items as a site's desk sees them (services/exchange/desk_items.cpp), copied from
-- the `depot` stream: reserved ones wait to be handed out, unclaimed ones to be redirected.
-- `revision` is the item's: an event older than the row is not applied.
CREATE TABLE desk_items (
  item_id uuid PRIMARY KEY,
  site_id uuid NOT NULL,
  community_id uuid NOT NULL,
  revision bigint NOT NULL,
  status text NOT NULL,
  unclaimed boolean NOT NULL DEFAULT false,  -- announced by item.unclaimed, until a return
  reserved_by_member_id uuid,
  reserved_until timestamptz,
  item jsonb NOT NULL                        -- the Item view of the API, as the desk lists it
);

CREATE INDEX desk_items_on_shelf ON desk_items (site_id, status)
  WHERE status IN ('available', 'reserved');
