-- Published to the exchange service: one match's two listings, for a proposal that names a match
-- whose match.proposed event the exchange has not read yet (read your own writes: a member
-- proposes on a match the moment it shows among their matches, which another replica of the
-- exchange may not have consumed). SECURITY DEFINER, read-only, one row at most. A dismissed
-- match still names its listings, as its event did: whether the listings can still be proposed
-- on is the listings' status, checked by the exchange as for any proposal.
DO $migration$
BEGIN
  EXECUTE format($create$
    CREATE OR REPLACE FUNCTION %1$I.match_copy(p_id uuid)
    RETURNS TABLE (offer_id uuid, request_id uuid)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = %1$I, pg_temp
    AS $body$
      SELECT m.offer_id, m.request_id FROM matches m WHERE m.id = p_id
    $body$
  $create$, current_schema());
END
$migration$;
