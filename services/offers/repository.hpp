// The listings SQL, one named statement per action, shared by offers and requests: each service
// runs it on its own schema (the connection's search_path), so no statement names a schema.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <pqxx/pqxx>
#include <set>
#include <string>
#include <vector>

#include "exchange/listing.hpp"
#include "services/common/db.hpp"

namespace maillon::listings {

// A stored listing with what the service keeps beside the domain's view of it.
struct ListingRow {
  Listing listing;
  std::string home_site_id;                // owner's home site at creation, "" when none
  ListingLocation position;                // exact handover point: location, else the site's
  ListingLocation grid;                    // `position` snapped to the privacy grid
  std::optional<std::string> exchange_id;  // the accepted exchange reserving it
  std::optional<std::string> acted_by;     // staff member who last acted for the owner
  int64_t created_at_us = 0;               // keyset position (with the id)
  std::optional<double> distance_m;        // exact, from the snapped near point, when asked
  // Hidden from everyone but its editors, whatever its status (schemas/offers/004_...sql).
  bool hidden_suspended = false;  // its owner is suspended
  bool hidden_moderated = false;  // staff hid it after a report
  // One more at every change, under the row's lock (schemas/shared/listing_revision.sql): the
  // events carry it so that a consumer reading them out of order keeps the newest.
  int64_t revision = 0;
  // A partner installation's listing (issue 23): where it lives. Read here, never changed here.
  std::optional<std::string> partner_url;

  bool hidden() const { return hidden_suspended || hidden_moderated; }
};

struct SiteRow {
  std::string id;
  std::string community_id;
  ListingLocation location;
};

// Filters of GET /v1/<side>s, already validated; an absent one filters nothing.
struct ListQuery {
  std::string community_id;
  std::string status = "active";
  std::optional<std::string> text;                     // websearch syntax, French, no accents
  std::optional<std::vector<std::string>> categories;  // a slug and its descendants
  std::optional<std::string> kind;
  std::optional<std::string> mode;
  std::optional<std::string> site_id;
  std::optional<std::string> member_id;
  std::optional<ListingLocation> near;  // snapped
  double radius_m = 0;
  // The reader's community's active federation partners: their listings that cross come too
  // (exchange/listing.hpp: visible_to_community), only with `near`.
  std::vector<std::string> partner_community_ids;
  // Hidden listings are left out, except those of this member (the caller's own).
  std::string hidden_shown_to;
  std::optional<std::pair<int64_t, std::string>> after;  // (created_at_us, id) of the last seen
  int limit = 20;
};

void insert_listing(pqxx::work& tx, const ListingRow& row);
// New listings in one statement, each only when its owner may post (its standing, read after
// lock_members): the ids written and when (created_at = updated_at, the transaction's now()).
struct NewListings {
  std::set<std::string> ids;
  int64_t created_at_s = 0;
  int64_t created_at_us = 0;
};
NewListings insert_new_listings(pqxx::work& tx, const std::vector<const ListingRow*>& rows);
std::optional<ListingRow> find_listing(pqxx::transaction_base& tx, const std::string& id,
                                       bool for_update);
// Writes every mutable column of `row` (fields, status, exchange_id, acted_by); updated_at = now.
ListingRow update_listing(pqxx::work& tx, const ListingRow& row);
std::vector<ListingRow> list_listings(pqxx::transaction_base& tx, const ListQuery& query);
// Active or paused listings whose window has ended, locked (SKIP LOCKED: replicas share them).
std::vector<ListingRow> expiring_listings(pqxx::work& tx, int64_t now_s, int limit);

// What changed since a reader's last look (schemas/offers/002_search_feed.sql): every row written
// by a transaction at least as recent as `since_xact`, with its tsvector as PostgreSQL prints it,
// and the id to pass next time. "0" reads everything.
struct ListingFeed {
  std::string next_xact;
  std::vector<std::pair<ListingRow, std::string>> rows;  // (row, printed tsvector)
};
ListingFeed read_listing_feed(pqxx::transaction_base& tx, const std::string& since_xact);
// A search text in websearch syntax as PostgreSQL parses it with french_unaccent, printed.
std::string printed_search_query(pqxx::transaction_base& tx, const std::string& text);

// A member's standing as the members stream last said (schemas/offers/004_member_lifecycle.sql).
enum class OwnerStanding { active, suspended, erased };
// Serialises a member's new listings with the events that hide or close that member's listings,
// so that no listing posted during a suspension escapes it. Held until the transaction ends.
void lock_member(pqxx::work& tx, const std::string& member_id);
void lock_members(pqxx::work& tx, const std::vector<std::string>& member_ids);
OwnerStanding owner_standing(pqxx::transaction_base& tx, const std::string& member_id);
// Records `standing` as of `event_at` (RFC 3339); false when a later event was applied already
// or the member is erased (final): the caller then changes nothing. An erasure always applies,
// whatever came before it.
bool record_standing(pqxx::work& tx, const std::string& member_id, const std::string& community_id,
                     OwnerStanding standing, const std::string& event_at);
// The member's listings that the change affected, as they are after it (updated_at = now).
std::vector<ListingRow> hide_listings_of_member(pqxx::work& tx, const std::string& member_id);
std::vector<ListingRow> show_listings_of_member(pqxx::work& tx, const std::string& member_id);
// Every listing of the member not closed yet becomes closed (staff_close applies to them all).
std::vector<ListingRow> close_listings_of_member(pqxx::work& tx, const std::string& member_id);
// Staff moderation: the listing when it was visible and is now hidden, else nothing.
std::optional<ListingRow> hide_listing(pqxx::work& tx, const std::string& id,
                                       const std::string& community_id,
                                       const std::optional<std::string>& report_id);

// The exchanges that ended for a listing they could reserve (issue 21): an accept read after its
// own exchange's end must not reserve. Call under the listing's row lock (find_listing for update).
// A partner installation's listing, as its ledger told ours (FederationListingShared): the copy
// written at its newest revision, active or closed (false: not written, an older revision or an
// id that is not that partner's copy); or, withdrawn without its listing, closed.
struct PartnerListing {
  std::string partner_url;
  std::string community_id;
  int64_t revision = 0;
  std::string listing;  // JSON text, as the event carries it
};
bool upsert_partner_listing(pqxx::work& tx, const PartnerListing& copy, bool active);
void withdraw_partner_listing(pqxx::work& tx, const std::string& id, const PartnerListing& copy);
// Open copies of one partner community's listings.
int64_t partner_listings_open(pqxx::work& tx, const std::string& community_id);

void record_exchange_end(pqxx::work& tx, const std::string& listing_id,
                         const std::string& exchange_id);
bool exchange_ended(pqxx::work& tx, const std::string& listing_id, const std::string& exchange_id);

// A site of the directory (services/common/directory.hpp) with its position.
std::optional<SiteRow> find_site(pqxx::transaction_base& tx, const std::string& id);

// A listing's own fields that its API views, its events and its stored record (kInsertNewListings'
// JSON) write alike; each adds its times and extras to this object.
nlohmann::json listing_fields(const Listing& l);

}  // namespace maillon::listings
