-- Published functions of the depot for the members service (SECURITY DEFINER, read-only, like
-- members.session_identity): the RGPD export of GET /v1/me/export and the check that stops an
-- erasure while the member still holds a lent object (DELETE /v1/me answers 409 open-loan).

-- Who dropped or collected an item is asked for once per export: partial indexes keep those
-- reads off the whole items table at the price of an entry for the items that name someone.
CREATE INDEX items_dropped_by ON items (dropped_by_member_id) WHERE dropped_by_member_id IS NOT NULL;
CREATE INDEX items_collected_by ON items (collected_by_member_id)
  WHERE collected_by_member_id IS NOT NULL;

-- Objects lent to the member and not returned yet (items_on_loan serves it).
CREATE FUNCTION depot.member_open_loans(p_member uuid) RETURNS integer
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = depot, pg_temp AS $$
  SELECT count(*)::integer FROM items WHERE status = 'on_loan' AND loan_member_id = p_member
$$;

-- What the depot holds about the member, each kind the oldest first and at most 10000 rows
-- ("truncated" says when one was cut). Only the member's own part of each item: the item they
-- dropped is shown without whoever reserves or borrows it now, a loan without the next
-- borrower. The depot keeps an item's current reservation and its last loan, no older ones.
-- Times are Unix seconds in the table, RFC 3339 UTC here.
CREATE FUNCTION depot.member_export(p_member uuid) RETURNS json
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = depot, pg_temp SET timezone = 'UTC' AS $$
  WITH dropped AS (
    SELECT * FROM items WHERE dropped_by_member_id = p_member
    ORDER BY deposited_at_s, id LIMIT 10001
  ), reserved AS (
    SELECT * FROM items WHERE status = 'reserved' AND reserved_by_member_id = p_member
    ORDER BY reserved_until_s, id LIMIT 10001
  ), lent AS (
    SELECT * FROM items WHERE loan_member_id = p_member
    ORDER BY loan_lent_at_s, id LIMIT 10001
  ), collected AS (
    SELECT * FROM items WHERE collected_by_member_id = p_member
    ORDER BY available_since_s, id LIMIT 10001
  )
  SELECT json_build_object(
    'items_dropped', COALESCE((
      SELECT json_agg(json_build_object(
               'item_id', i.id, 'site_id', i.site_id, 'category', i.category, 'title', i.title,
               'description', i.description, 'condition', i.condition, 'weight_g', i.weight_g,
               'mode', i.mode, 'photos', i.photos, 'status', i.status,
               'deposited_at', to_timestamp(i.deposited_at_s),
               'deposit_rewarded', i.deposit_rewarded)
             ORDER BY i.deposited_at_s, i.id)
      FROM (SELECT * FROM dropped ORDER BY deposited_at_s, id LIMIT 10000) i), '[]'::json),
    'reservations', COALESCE((
      SELECT json_agg(json_build_object(
               'item_id', i.id, 'site_id', i.site_id, 'title', i.title,
               'reserved_until', to_timestamp(i.reserved_until_s))
             ORDER BY i.reserved_until_s, i.id)
      FROM (SELECT * FROM reserved ORDER BY reserved_until_s, id LIMIT 10000) i), '[]'::json),
    'loans', COALESCE((
      SELECT json_agg(json_build_object(
               'item_id', i.id, 'site_id', i.site_id, 'title', i.title,
               'loan_number', i.loan_number, 'lent_at', to_timestamp(i.loan_lent_at_s),
               'due_at', to_timestamp(i.loan_due_at_s),
               'returned_at', to_timestamp(i.loan_returned_at_s),
               'open', i.status = 'on_loan')
             ORDER BY i.loan_lent_at_s, i.id)
      FROM (SELECT * FROM lent ORDER BY loan_lent_at_s, id LIMIT 10000) i), '[]'::json),
    'items_collected', COALESCE((
      SELECT json_agg(json_build_object(
               'item_id', i.id, 'site_id', i.site_id, 'category', i.category, 'title', i.title,
               'weight_g', i.weight_g)
             ORDER BY i.available_since_s, i.id)
      FROM (SELECT * FROM collected ORDER BY available_since_s, id LIMIT 10000) i), '[]'::json),
    'truncated', (SELECT count(*) FROM dropped) > 10000 OR (SELECT count(*) FROM reserved) > 10000
                 OR (SELECT count(*) FROM lent) > 10000 OR (SELECT count(*) FROM collected) > 10000)
$$;
