-- The SQL of services/exchange/listing_lookup.cpp, one statement per `-- name: <its C++ constant>`.
-- At build time, cmake/sql_queries.cmake turns this file into the header
-- services/exchange/listing_lookup_sql.hpp, which listing_lookup.cpp includes. Whitespace is free;
-- `--` lines are comments.
-- namespace: maillon::exchange
-- linkage: file-local

-- name: kOfferCopy
-- With the listing's revision (schemas/offers/041_listing_copy_revision.sql): the copy then
-- ignores any event older than what was read here.
SELECT id, side, member_id, community_id, site_id, price_minutes, status, mode,
  deposit_minutes, capacity, revision
FROM offers.listing_copy($1::uuid);

-- name: kRequestCopy
SELECT id, side, member_id, community_id, site_id, price_minutes, status, mode,
  deposit_minutes, capacity, revision
FROM requests.listing_copy($1::uuid);

-- name: kOfferVisibility
SELECT offers.listing_visibility($1::uuid);

-- name: kRequestVisibility
SELECT requests.listing_visibility($1::uuid);

-- name: kMatchCopy
-- The match as matching has it (schemas/matching/044_match_copy.sql).
SELECT offer_id, request_id
FROM matching.match_copy($1::uuid);

-- name: kPartnerOfferCopy
-- A partner installation's offer kept by offers (schemas/offers/072_partner_listing_copy.sql).
SELECT id, side, member_id, community_id, price_minutes, status, mode, deposit_minutes,
  capacity, visibility, partner_url
FROM offers.partner_listing_copy($1::uuid);
