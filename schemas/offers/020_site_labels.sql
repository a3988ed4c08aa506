-- Published to the depot service (GET /v1/sites/{id}/labels.pdf): the lendable objects handed
-- over at a site, so that its staff print QR labels for them next to the depot's own items.
-- SECURITY DEFINER and read-only; titles only, nobody's person. Depot items shown as offers
-- (depot_items) are left out: the depot labels them from its own rows. `p_ids` null: all of
-- them, by id, at most `p_limit`.
CREATE FUNCTION offers.site_lend_labels(p_site uuid, p_ids uuid[], p_limit integer)
RETURNS TABLE (id uuid, title text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = offers, pg_temp AS $$
  SELECT l.id, l.title FROM listings l
  WHERE l.site_id = p_site AND l.mode = 'lend' AND l.status IN ('active', 'paused', 'reserved')
    AND (p_ids IS NULL OR l.id = ANY (p_ids))
    AND NOT EXISTS (SELECT 1 FROM depot_items d WHERE d.item_id = l.id)
  ORDER BY l.id
  LIMIT p_limit
$$;
