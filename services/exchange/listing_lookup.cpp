// A listing (or a match) not copied yet, read through the function its owner publishes
// (schemas/offers/030_listing_copy.sql), so that a proposal made right after the listing was
// created is not refused as unknown-listing while the listing's event is on its way.
#include "services/exchange/listing_lookup.hpp"

#include "services/common/db.hpp"
#include "services/common/json_body.hpp"
#include "services/exchange/listing_lookup_sql.hpp"

namespace maillon::exchange {
namespace {

ListingCopy read_copy(const pqxx::row& row) {
  ListingCopy l;
  int64_t revision = 0;  // never NULL in the owner's answer: read as a number, not an optional
  read_columns(row, l.id, l.side, l.member_id, l.community_id, l.site_id, l.price_minutes, l.status,
               l.mode, l.deposit_minutes, l.capacity, revision);
  l.revision = revision;
  return l;
}

// Who may find it (schemas/offers/042_listing_visibility.sql): a linked community's member
// proposes only on a listing that crosses. An owner without the function leaves the default
// (community), which never crosses.
void read_visibility(pqxx::work& tx, const std::string& side, ListingCopy& copy) {
  try {
    pqxx::subtransaction sub(tx, "listing_visibility");
    const auto v =
        exec_cached(sub, side == "offer" ? kOfferVisibility : kRequestVisibility, copy.id);
    sub.commit();
    if (!v.empty() && !v[0][0].is_null()) copy.visibility = v[0][0].c_str();
  } catch (const pqxx::sql_error&) {
    copy.visibility = "community";
  }
}

// One row of a function another service publishes, read in a savepoint: an owner of an older
// release without the function (or without a column) is only a row not found, not an aborted
// transaction; the caller then waits for the event as before.
std::optional<pqxx::row> published_row(pqxx::work& tx, const char* savepoint, const char* query,
                                       const std::string& id) {
  try {
    pqxx::subtransaction sub(tx, savepoint);
    const auto r = exec_cached(sub, query, id);
    sub.commit();
    if (r.empty()) return std::nullopt;
    return r[0];
  } catch (const pqxx::sql_error&) {
    return std::nullopt;
  }
}

std::optional<ListingCopy> owner_row(pqxx::work& tx, const std::string& id,
                                     const std::string& side) {
  const auto row =
      published_row(tx, "listing_from_owner", side == "offer" ? kOfferCopy : kRequestCopy, id);
  if (!row) return std::nullopt;
  ListingCopy copy = read_copy(*row);
  read_visibility(tx, side, copy);
  return copy;
}

}  // namespace

std::optional<ListingCopy> listing_from_owner(pqxx::work& tx, const std::string& id,
                                              const std::string& side) {
  if (!is_uuid(id) || (side != "offer" && side != "request")) return std::nullopt;
  auto listing = owner_row(tx, id, side);
  if (listing) repo::upsert_listing(tx, *listing);
  return listing;
}

std::optional<ListingCopy> partner_offer_copy(pqxx::work& tx, const std::string& id) {
  if (!is_uuid(id)) return std::nullopt;
  const auto row = published_row(tx, "partner_offer_copy", kPartnerOfferCopy, id);
  if (!row) return std::nullopt;
  ListingCopy l;
  read_columns(*row, l.id, l.side, l.member_id, l.community_id, l.price_minutes, l.status, l.mode,
               l.deposit_minutes, l.capacity, l.visibility, l.partner_url);
  return l;
}

std::optional<std::pair<std::string, std::string>> match_from_owner(pqxx::work& tx,
                                                                    const std::string& id) {
  if (!is_uuid(id)) return std::nullopt;
  const auto row = published_row(tx, "match_from_owner", kMatchCopy, id);
  if (!row) return std::nullopt;
  auto match = std::make_pair((*row)[0].as<std::string>(), (*row)[1].as<std::string>());
  repo::upsert_match(tx, id, match.first, match.second);
  return match;
}

}  // namespace maillon::exchange
