-- RGPD export (published function, called by the members service for GET /v1/me/export;
-- SECURITY DEFINER and read-only, like members.session_identity): the member's account, the
-- entries of its history, the transfers it is a party to (pending, voided and expired ones
-- included: they left no entry) and the staff grants awaiting review for it. Counterparties
-- by account id only. Each kind the oldest first, at most 10000 rows ("truncated" says when one
-- was cut). Transfers are found within the account's community (the primary key's prefix):
-- an export is rare, and an index on payer and payee would cost every transfer.
CREATE FUNCTION ledger.member_export(p_member uuid) RETURNS json
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ledger, pg_temp SET timezone = 'UTC' AS $$
  WITH account AS (
    SELECT * FROM accounts WHERE member_id = p_member
  ), booked AS (
    SELECT e.* FROM entries e WHERE e.account_id = p_member::text ORDER BY e.id LIMIT 10001
  ), moved AS (
    SELECT t.* FROM transfers t JOIN account a ON t.community_id = a.community_id
    WHERE t.from_account_id = a.id OR t.to_account_id = a.id
    ORDER BY t.created_at_us, t.id LIMIT 10001
  ), awaiting AS (
    SELECT g.* FROM grant_reviews g WHERE g.to_account_id = p_member::text
    ORDER BY g.requested_at_us, g.id LIMIT 10001
  )
  SELECT json_build_object(
    'account', (
      SELECT json_build_object(
               'id', a.id, 'community_id', a.community_id, 'balance_minutes', a.balance_minutes,
               'pending_debit_minutes', a.pending_debit_minutes,
               'pending_credit_minutes', a.pending_credit_minutes, 'pseudonym', a.pseudonym,
               'opened_at', a.opened_at)
      FROM account a),
    'entries', COALESCE((
      SELECT json_agg(json_build_object(
               'transfer_id', e.transfer_id, 'amount_minutes', e.amount_minutes,
               'balance_after_minutes', e.balance_after_minutes, 'kind', e.kind, 'ref', e.ref,
               'counterparty_account_id', e.counterparty_account_id,
               'at', to_timestamp(e.at_us / 1e6))
             ORDER BY e.id)
      FROM (SELECT * FROM booked ORDER BY id LIMIT 10000) e), '[]'::json),
    'transfers', COALESCE((
      SELECT json_agg(json_build_object(
               'id', t.id, 'from_account_id', t.from_account_id,
               'to_account_id', t.to_account_id, 'amount_minutes', t.amount_minutes,
               'posted_minutes', t.posted_minutes, 'pending', t.pending, 'kind', t.kind,
               'memo', t.memo, 'ref', t.ref, 'state', t.state, 'actor_id', t.actor_id,
               'created_at', to_timestamp(t.created_at_us / 1e6),
               'resolved_at', CASE WHEN t.resolved_at_us = 0 THEN NULL
                                   ELSE to_timestamp(t.resolved_at_us / 1e6) END)
             ORDER BY t.created_at_us, t.id)
      FROM (SELECT * FROM moved ORDER BY created_at_us, id LIMIT 10000) t), '[]'::json),
    'grants_awaiting_review', COALESCE((
      SELECT json_agg(json_build_object(
               'id', g.id, 'amount_minutes', g.amount_minutes, 'memo', g.memo, 'ref', g.ref,
               'state', g.state, 'requested_by', g.requested_by,
               'requested_at', to_timestamp(g.requested_at_us / 1e6))
             ORDER BY g.requested_at_us, g.id)
      FROM (SELECT * FROM awaiting ORDER BY requested_at_us, id LIMIT 10000) g), '[]'::json),
    'truncated', (SELECT count(*) FROM booked) > 10000 OR (SELECT count(*) FROM moved) > 10000
                 OR (SELECT count(*) FROM awaiting) > 10000)
$$;
