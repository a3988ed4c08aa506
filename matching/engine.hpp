// The proximity matching engine: an in-memory index of active listings, partitioned by
// category and side, with a uniform grid of cells inside each partition; it answers the best
// matches of a listing and the listings near a point. Pure: no I/O, no clock (time is passed).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "matching/category_tree.hpp"
#include "matching/id_map.hpp"
#include "matching/listing.hpp"
#include "matching/score.hpp"

namespace maillon::matching {

inline constexpr std::size_t kMaxResults = 100;  // K is clamped to this
inline constexpr MemberIndex kMaxMembers = 1u << 24;

// distance_m is exact between the two snapped handover points; pass it through
// maillon::distance_bucket_m (exchange/listing.hpp) before showing it to anyone.
struct Match {
  ListingId other;
  double score = 0;
  double distance_m = 0;
  bool operator==(const Match&) const = default;
};

struct NearbyQuery {
  GeoPoint at;  // snapped by the engine before use, like every stored position
  uint32_t radius_m = 5000;
  std::optional<CategoryId> category;  // with its ancestors and descendants
  std::optional<Side> side;
  Words words{};
  std::size_t k = 20;
  int64_t now_s = 0;                  // listings whose window ended are left out
  std::optional<MemberIndex> viewer;  // whose own listings are left out
};

enum class UpsertOutcome {
  inserted,
  replaced,
  removed,     // the listing is no longer active: it left the index
  not_active,  // an inactive listing that was not indexed: nothing to do
  rejected_category,
  rejected_position,
  rejected_reach,
  rejected_member,
};

class Engine {
 public:
  explicit Engine(std::vector<CategoryId> category_parents);

  UpsertOutcome upsert(const Listing& listing);
  bool remove(ListingId id);
  // Replaces the whole index; returns the number of listings indexed.
  std::size_t build(const std::vector<Listing>& listings);

  // Compatible listings of the other side, best first (score, then id), at most k.
  std::vector<Match> top_matches(ListingId id, std::size_t k, int64_t now_s) const;
  std::vector<Match> top_matches(const Listing& listing, std::size_t k, int64_t now_s) const;
  std::vector<Match> nearby(const NearbyQuery& query) const;

  void set_reliability(MemberIndex member, double reliability);
  void set_recent_proposals(MemberIndex member, uint32_t proposals);
  void record_proposal(MemberIndex member);

  std::size_t size() const { return size_; }
  std::size_t memory_bytes() const;

 private:
  struct Probe;   // one query, whatever asked it: defined in engine.cpp
  struct Entry {  // what a cell keeps of a listing: enough to reject it by distance alone
    int32_t lat_fixed;
    int32_t lon_fixed;
    uint32_t reach_m;
    uint32_t slot;
  };
  struct Partition {  // the occupied cells of one (category, side), sorted by cell key
    std::vector<uint64_t> keys;
    std::vector<uint32_t> cells;
  };
  struct CellVisit {
    double lower_m;
    uint32_t cell;
  };

  UpsertOutcome validate(const Listing& listing) const;
  void insert(const Listing& listing);
  void erase_slot(uint32_t slot);
  uint32_t allocate_slot();
  uint32_t cell_for(std::size_t partition, int32_t lat_fixed, int32_t lon_fixed);
  void clear();

  std::vector<Match> search(const Probe& probe) const;
  std::vector<CellVisit> cells_to_visit(const Probe& probe) const;
  bool passes_rules(const Probe& probe, uint32_t slot) const;
  // What the listing itself brings to its score (words, age) with the best member part.
  ScoreInputs listing_inputs(const Probe& probe, uint32_t slot, double lower_m) const;
  void add_member_inputs(uint32_t slot, ScoreInputs& inputs) const;
  struct Candidate {
    double score;
    ListingId id;
    double distance_m;
  };
  void consider(const Probe& probe, const Entry& entry, std::vector<Candidate>& heap) const;
  Listing listing_at(uint32_t slot) const;
  Probe match_probe(const Listing& listing, GeoPoint handover, std::size_t k, int64_t now_s) const;

  CategoryTree categories_;
  std::vector<Partition> partitions_;  // index category * 2 + side
  std::vector<std::vector<Entry>> cells_;

  // Slots: one listing each, struct of arrays so that a scan reads only what it needs.
  std::vector<ListingId> ids_;
  std::vector<MemberIndex> members_;
  std::vector<CategoryId> category_of_;
  std::vector<uint8_t> flags_;  // side | mode << 1 | kind << 3; kFreeSlot when unused
  std::vector<int64_t> from_s_;
  std::vector<int64_t> until_s_;
  std::vector<int64_t> created_s_;
  std::vector<Words> words_;  // sorted, distinct, zeros last
  std::vector<uint32_t> cell_of_;
  std::vector<uint32_t> index_in_cell_;
  std::vector<uint32_t> free_slots_;
  IdMap id_map_;
  std::size_t size_ = 0;

  std::vector<double> reliability_;               // by member; kDefaultReliability beyond the end
  double reliability_max_ = kDefaultReliability;  // never below any member's: a score bound
  std::vector<uint32_t> recent_proposals_;
};

}  // namespace maillon::matching
