// The service's view of the matching engine: one Engine per community, plus one of every
// listing that crosses communities (visibility federation or public, issue 23) whose pairs are
// kept to linked communities; UUID and slug translation, and the lock that lets HTTP workers read
// while the consumers write.
#pragma once

#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "matching/engine.hpp"
#include "services/matching/matching_service.hpp"

namespace maillon::matching_service {

// Category slugs numbered in file order, with each one's parent: what the engine takes.
struct CategoryIds {
  std::map<std::string, matching::CategoryId, std::less<>> id_of_slug;
  std::vector<matching::CategoryId> parents;
};
// Reads <schemas_dir>/categories.json; throws std::invalid_argument when it is malformed
// (a start-up error).
CategoryIds load_category_ids(const std::string& path);

matching::ListingId listing_id_of(std::string_view uuid);  // precondition: a valid UUID
std::string uuid_of(matching::ListingId id);
// Distinct words of at least 3 bytes, lower-cased (ASCII), hashed; at most kMaxWords.
matching::Words hash_words(std::string_view text);

// A match seen from the listing that asked for it.
struct Proposal {
  std::string other_id;
  double score = 0;
  double distance_m = 0;  // exact between snapped points: bucket it before showing it
};

struct NearbyInput {
  std::string community_id;
  std::string viewer_member_id;
  matching::GeoPoint at;
  uint32_t radius_m = 5000;
  std::optional<std::string> category;  // a known slug
  std::optional<matching::Side> side;
  std::string words;
  std::size_t k = 20;
  int64_t now_s = 0;
};

class MatchIndex {
 public:
  explicit MatchIndex(CategoryIds categories);

  bool knows_category(std::string_view slug) const;
  // Replaces every engine with the active listings given; returns how many were indexed.
  std::size_t rebuild(const std::vector<ReadListing>& rows);
  // Applies the listing (an inactive one leaves the index) and, when it is active, answers its
  // best k matches in its community. One write lock for both, so that of two listings arriving
  // at once on two consumer threads the second always sees the first. A row older than the
  // revision the index holds (a feed read that a consumer overtook) changes nothing.
  std::vector<Proposal> upsert_and_match(const ReadListing& row, std::size_t k, int64_t now_s);
  // For a closed listing: it leaves the index, and no older row of it comes back.
  void remove(const std::string& community_id, std::string_view listing_id);
  // Of the listing's stored counterparts, those it no longer makes a pair with (a category,
  // mode, place or window changed). A pair with a listing out of the index (paused, say) is
  // left alone: that listing's own return re-checks it.
  std::vector<std::string> broken_pairs(const std::string& community_id,
                                        std::string_view listing_id,
                                        const std::vector<std::string>& other_ids,
                                        int64_t now_s) const;
  // Of the counterparts the index feed found for `listing`, those it may store: both listings
  // are in `locked` (active rows share-locked in the feed's transaction, with their revisions)
  // at the revision the index holds, and the pair holds in the index. Under those locks no consumer
  // can change either listing before the feed commits.
  std::vector<Proposal> still_holding(const ReadListing& listing, std::vector<Proposal> proposals,
                                      const std::map<std::string, int64_t>& locked,
                                      int64_t now_s) const;
  // For a link that became active: the best k of a listing that crosses among `partner`'s that
  // cross, which neither's publication could pair while the two were not linked. Empty when the
  // listing is not in the index as one that crosses, or `partner` is not its community's partner.
  std::vector<Proposal> matches_with_partner(const ReadListing& listing, const std::string& partner,
                                             std::size_t k, int64_t now_s) const;
  std::vector<Proposal> nearby(const NearbyInput& input) const;
  // Each community's active federation partners (services/common/federation_partners.hpp):
  // listings that cross pair with, and are shown to, these communities only.
  void set_partners(std::unordered_map<std::string, std::vector<std::string>> partners);
  void set_reliability(const std::string& member_id, double reliability);
  // The proposals this member received lately (the database counts them, for every replica),
  // so that the same active provider is not always first.
  void set_recent_proposals(const std::string& member_id, uint32_t proposals);
  std::size_t size() const;

 private:
  matching::Listing to_engine(const ReadListing& row);  // needs the write lock (member ids)
  matching::Engine& engine_of(const std::string& community_id);
  matching::MemberIndex member_index(const std::string& member_id);
  // Keeps the crossing engine in step with one listing (needs the write lock).
  void upsert_crossing(const ReadListing& row, const matching::Listing& listing);
  void remove_crossing(std::string_view listing_id);
  // Whether `other` is a crossing listing of a partner of `community_id` (needs a lock).
  bool partner_listing(const std::string& community_id, const std::string& other) const;
  // The best k of a crossing listing among its partners' (needs a lock).
  std::vector<Proposal> crossing_matches(const std::string& community_id, matching::ListingId id,
                                         std::size_t k, int64_t now_s) const;
  std::optional<bool> pair_holds(const std::string& community_id, std::string_view listing_id,
                                 const std::string& other, int64_t now_s) const;

  CategoryIds categories_;
  mutable std::shared_mutex mutex_;                                   // guards everything below
  std::map<std::string, std::unique_ptr<matching::Engine>> engines_;  // by community id
  std::unordered_map<std::string, matching::MemberIndex> members_;
  // Every member's scoring inputs as last set, given to an engine made later (a community's
  // first listing after a rebuild or a count).
  std::unordered_map<matching::MemberIndex, double> reliability_;
  std::unordered_map<matching::MemberIndex, uint32_t> recent_proposals_;
  std::unordered_map<std::string, int64_t> revisions_;  // listing id -> revision applied last
  // Every active listing that crosses, of every community: pairs are found here and kept to
  // linked communities (a post-filter over at most matching::kMaxResults candidates).
  std::unique_ptr<matching::Engine> crossing_;
  std::unordered_map<std::string, std::string> crossing_community_;  // listing id -> community
  std::unordered_map<std::string, std::vector<std::string>> partners_;
  // Whether either community lists the other as its partner.
  bool linked(const std::string& a, const std::string& b) const;
};

}  // namespace maillon::matching_service
