-- Items of the depot shown as offers (services/offers/depot_items.cpp): one listing per item,
-- with the item's id, owned by the site that holds it (member_id = site_id). This table keeps
-- the last item revision applied, so a redelivered or reordered depot event changes nothing.
-- Offers only: the requests schema (001 is shared through a link) has no depot items.
CREATE TABLE depot_items (
  item_id uuid PRIMARY KEY,
  site_id uuid NOT NULL,
  revision bigint NOT NULL
);
