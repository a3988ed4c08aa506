// SQL of the matching service: its read model of listings, the matches, members' reliability.
#pragma once

#include <map>
#include <optional>
#include <pqxx/pqxx>
#include <set>
#include <string>
#include <vector>

#include "services/matching/matching_service.hpp"

namespace maillon::matching_service::repo {

// A listing as an event describes it; times are RFC 3339 as received.
struct ListingWrite {
  ReadListing listing;  // its _s times are ignored: the database computes them from these
  std::optional<std::string> site_id;
  std::optional<std::string> available_from;
  std::optional<std::string> available_until;
  std::string created_at;
  std::string updated_at;
};

// Inserts or replaces the row unless the stored one is newer (a late redelivery); returns the
// row as stored, or nullopt when the event was older than what is stored.
std::optional<ReadListing> upsert_listing(pqxx::work& tx, const ListingWrite& write);
// A partner installation's offer (issue 23) at its revision there: the row as stored, or nullopt
// when a newer copy is kept, the id is one of ours or another partner's, or the partner
// community has `cap` open copies already.
std::optional<ReadListing> upsert_partner_listing(pqxx::work& tx, const ListingWrite& write,
                                                  const std::string& partner_url,
                                                  int64_t partner_revision, int64_t cap);
// A partner's offer withdrawn at `partner_revision`: its community when the copy closed.
std::optional<std::string> withdraw_partner_listing(pqxx::work& tx, const std::string& id,
                                                    const std::string& partner_url,
                                                    int64_t partner_revision);
// Sets a closed or expired status; returns the community of the listing when it is known.
std::optional<std::string> close_listing(pqxx::work& tx, const std::string& id,
                                         const std::string& status);
// Every active listing of a member (to take them out when the member is erased), then closed.
std::vector<ReadListing> close_listings_of_member(pqxx::work& tx, const std::string& member_id);
std::vector<ReadListing> active_listings(pqxx::work& tx);
// The active listings of these communities that cross (visibility federation or public): what a
// link that became active pairs anew.
std::vector<ReadListing> crossing_listings_of(pqxx::transaction_base& tx,
                                              const std::vector<std::string>& community_ids);
// The oldest transaction still running: rows written after a read that began now have a
// written_by_xact at least this large (schemas/matching/002_index_feed.sql).
std::string feed_position(pqxx::transaction_base& tx);
// Every listing written by a transaction at least as recent as `since`, and the next position.
std::pair<std::vector<ReadListing>, std::string> index_feed(pqxx::transaction_base& tx,
                                                            const std::string& since);
// The revision (schemas/matching/003_listing_revision.sql) of those of `ids` that are active and
// that no other transaction is writing, share-locked until the end of `tx`: while the lock holds no
// consumer can change them, and a consumer that changes one afterwards sees what `tx` stored. A row
// being written is skipped rather than waited for (its writer's commit comes back through the
// feed), so this never waits on a lock.
std::map<std::string, int64_t> lock_active_revisions(pqxx::work& tx,
                                                     const std::vector<std::string>& ids);

// What an answer may show of a listing: never its position, only its coarse area (the handover
// point rounded by coarse_degrees, as the offers and requests services show it).
struct ListingSummary {
  std::string id, side, member_id, category, title, kind, mode, status;
  double area_lat = 0, area_lon = 0;
};
std::map<std::string, ListingSummary> summaries(pqxx::work& tx,
                                                const std::vector<std::string>& ids);
std::optional<ListingSummary> summary(pqxx::work& tx, const std::string& id);

struct MatchRow {
  std::string id;
  std::string community_id;
  std::string offer_id, request_id;
  std::string offer_member_id, request_member_id;
  double score = 0;
  int64_t distance_m = 0;  // bucketed
  std::string status = "proposed";
};
// Inserts each pair or refreshes its score and distance (a dismissed pair stays dismissed), in
// one statement: one round trip per new listing, whatever its number of matches. Returns the
// ids of the pairs that are new. Precondition: no pair twice.
std::set<std::string> upsert_matches(pqxx::work& tx, const std::vector<MatchRow>& matches);
// The other listing of each proposed (not dismissed) match of this listing.
std::vector<std::string> proposed_counterparts(pqxx::work& tx, const std::string& listing_id);
// Deletes the proposed matches between the listing and those others, which no longer hold;
// dismissed ones stay, so that a dismissed pair is never proposed again. Returns the count.
std::size_t delete_proposed_matches(pqxx::work& tx, const std::string& listing_id,
                                    const std::vector<std::string>& other_ids);
// Proposed matches whose two listings are active, best first; a pair across communities only
// while their link is active.
std::vector<MatchRow> matches_of_listing(pqxx::work& tx, const std::string& listing_id, int limit);
std::vector<MatchRow> matches_of_member(pqxx::work& tx, const std::string& member_id, int limit,
                                        int64_t offset);
// False when the match is unknown or neither of its sides belongs to the member.
bool dismiss(pqxx::work& tx, const std::string& match_id, const std::string& member_id);

// Counts one finished exchange for the member; returns (completed, abandoned) after it.
std::pair<int64_t, int64_t> count_exchange(pqxx::work& tx, const std::string& member_id,
                                           bool completed);
std::map<std::string, std::pair<int64_t, int64_t>> all_reliability(pqxx::work& tx);
// The members whose counts were written by a transaction at or after a feed position (as
// index_feed's), with their counts now.
std::map<std::string, std::pair<int64_t, int64_t>> reliability_since(pqxx::transaction_base& tx,
                                                                     const std::string& since);

// Counts one proposal received today for each member listed (a member twice counts twice);
// returns each one's proposals over the last 14 days after it.
std::map<std::string, uint32_t> count_proposals(pqxx::work& tx,
                                                const std::vector<std::string>& member_ids);
// Drops the days that no longer count, then every member's recent proposals.
std::map<std::string, uint32_t> all_recent_proposals(pqxx::work& tx);
// The members whose proposals were counted by a transaction at or after a feed position, with
// their recent proposals now.
std::map<std::string, uint32_t> proposals_since(pqxx::transaction_base& tx,
                                                const std::string& since);

}  // namespace maillon::matching_service::repo
