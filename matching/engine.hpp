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
  // Also within each listing's own reach (as matches are): what a linked community's reader may
  // find of a partner's listings (issue 23). Off: the radius alone, as in one community.
  bool within_candidate_reach = false;
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
  // Whether two indexed listings still make a pair by every rule of top_matches (how the stored
  // matches of a listing that changed are re-checked); nullopt when either is not indexed, so
  // that a paused counterpart's matches are left for its own return to decide.
  std::optional<bool> pair_holds(ListingId a, ListingId b, int64_t now_s) const;

  void set_reliability(MemberIndex member, double reliability);
  void set_recent_proposals(MemberIndex member, uint32_t proposals);
  void record_proposal(MemberIndex member);

  std::size_t size() const { return size_; }
  std::size_t memory_bytes() const;

 private:
  struct Probe;   // one query, whatever asked it: defined in engine.cpp
  struct Entry {  // what a cell keeps of a listing: enough to reject most by distance (16 bytes)
    int32_t lat_fixed;
    int32_t lon_fixed;
    uint32_t reach_m;
    uint32_t slot;
  };
  struct CellSummary {  // one cache line holds four: a query reads one per cell it passes
    int64_t created_max_s;
    uint32_t filter_at;
    uint8_t filter_log2;
  };
  struct Partition {  // the occupied cells of one (category, side), sorted by cell key
    std::vector<uint64_t> keys;
    std::vector<uint32_t> cells;
  };
  struct CellVisit {
    double lower_m;
    uint32_t cell;
  };
  struct Cutoff;  // distances past which a candidate cannot enter the top k: engine_internal.hpp

  UpsertOutcome validate(const Listing& listing) const;
  void insert(const Listing& listing);
  void erase_slot(uint32_t slot);
  uint32_t allocate_slot();
  uint32_t cell_for(std::size_t partition, int32_t lat_fixed, int32_t lon_fixed);
  void clear();

  std::vector<Match> search(const Probe& probe) const;
  void cells_to_visit(const Probe& probe, std::vector<CellVisit>& visits) const;
  bool passes_rules(const Probe& probe, uint32_t slot) const;
  // What the listing itself brings to its score (words, age) with the best member part.
  ScoreInputs listing_inputs(const Probe& probe, uint32_t slot, double lower_m) const;
  void add_member_inputs(uint32_t slot, ScoreInputs& inputs) const;
  struct Candidate {
    double score;
    ListingId id;
    double distance_m;
  };
  Cutoff cutoff_for(const std::vector<Candidate>& heap, std::size_t k, bool words_possible,
                    int64_t age_s_min) const;
  bool shares_word(const Probe& probe, uint32_t slot) const;
  bool cell_may_share_word(const Probe& probe, const CellSummary& cell) const;
  void set_filter_bits(uint32_t cell, const Words& words);
  void compact_filters();
  // True when the candidate entered the top k (the cutoff must then be recomputed).
  bool consider(const Probe& probe, const Entry& entry, const Cutoff& cutoff,
                std::vector<Candidate>& heap) const;
  void add_to_summary(uint32_t cell, const Entry& entry);
  void recompute_summary(uint32_t cell);
  Listing listing_at(uint32_t slot) const;
  Probe match_probe(const Listing& listing, GeoPoint handover, std::size_t k, int64_t now_s) const;

  CategoryTree categories_;
  std::vector<Partition> partitions_;  // index category * 2 + side
  std::vector<std::vector<Entry>> cells_;
  // Per cell, bounds on what its listings can bring to a score, so that whole cells are skipped:
  // the newest creation time, and a filter of their words sized to the cell (64 bits per
  // listing, rounded up to a power of two, at most 4096 bits): a cell of a dense town then still
  // says "no word of the query" for most queries, where one 64-bit filter per cell was full.
  // The filters live in one pool (filter_at: first word, filter_log2: log2 of its size);
  // a cell that outgrows its filter takes a new one at the end (build() compacts the pool).
  std::vector<CellSummary> summaries_;
  std::vector<uint64_t> filter_pool_;

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
