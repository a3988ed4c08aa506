-- Published to the depot service (SECURITY DEFINER, read-only, like federation_headroom): what a
-- member's account holds beyond its pending debits (Account::available_minutes), so that a loan
-- whose cost the member cannot pay is refused at the desk (422 insufficient-credits) before the
-- object leaves the shelf; the charge itself is the ledger's, under its lock, as before. No row:
-- the ledger has not opened the account yet.
CREATE FUNCTION ledger.available_minutes(p_member uuid) RETURNS bigint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ledger, pg_temp AS $$
  SELECT balance_minutes - pending_debit_minutes FROM accounts WHERE id = p_member::text
$$;

-- Only the depot service calls it (k8s/base/postgres.yaml gives its role USAGE on this schema);
-- a development server has one superuser role and no per-service roles.
REVOKE ALL ON FUNCTION ledger.available_minutes(uuid) FROM PUBLIC;
DO $grant$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'maillon_depot') THEN
    GRANT EXECUTE ON FUNCTION ledger.available_minutes(uuid) TO maillon_depot;
  END IF;
END
$grant$;
