// The index and its queries.
//
// Layout (figures from tests/bench/matching_engine.cpp, 1M listings over the Hauts-de-France:
// ~145 B per listing, build ~2-3 s, exact results equal to a brute-force scan):
// - partitions by (category, side): a query reads only the partitions of related categories
//   on the side it wants, never the others;
// - inside a partition, a uniform grid of 0.01° x 0.015° cells (about 1.1 x 1.07 km at 50°N),
//   kept as a sorted vector of occupied cell keys: a query binary-searches each grid row of
//   its bounding box, so an empty area costs nothing and a 5 km query touches ~10 rows. A
//   cell holds 24-byte entries (fixed-point position, reach, slot, a 64-bit filter of the
//   listing's words) so that most candidates are rejected on distance and words without
//   touching anything else, and a summary (newest creation time, union of the word filters)
//   so that a whole cell can be skipped. A bulk-loaded R-tree would answer the same queries
//   but needs rebuilding on updates; a grid takes inserts and removals in O(1).
// - listings' other fields live in slot arrays (struct of arrays); build() assigns slots in
//   cell order so that a cell's listings are contiguous there too.
//
// Queries visit cells nearest first and keep the best k in a heap; the score is bounded above
// by a function of distance alone (score_bound), so once the k-th best beats the bound of the
// next cell, the rest is skipped; a cell whose summary cannot beat it is skipped alone. Inside
// a cell the k-th score becomes two distances (distance_limit_m): past the first only a
// listing sharing a word can enter, past the second none can. Distances are first estimated
// in a local equirectangular projection; the exact haversine (the rule) is only computed for
// candidates that may still enter the top k, using a bound on the projection's error.
// Limit: with query words the bound must assume full word overlap (weight 0.20), so in the
// densest areas, when few candidates share a word, every cell of a 5 km query on a parent
// category is read (~8k entries in central Lille): cheap per entry, but ~0.3 ms of CPU at p99.
// An inverted index of words per partition would cut that to the sharers, at ~25 B a listing.
#include "matching/engine.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <tuple>

#include "exchange/invariant.hpp"
#include "matching/engine_internal.hpp"

namespace maillon::matching {
using namespace detail;

Engine::Engine(std::vector<CategoryId> category_parents)
    : categories_(std::move(category_parents)), partitions_(categories_.size() * 2) {}

// ---- updates ----

UpsertOutcome Engine::validate(const Listing& listing) const {
  if (listing.category >= categories_.size()) return UpsertOutcome::rejected_category;
  if (!valid_point(listing.position) || (listing.site && !valid_point(*listing.site))) {
    return UpsertOutcome::rejected_position;
  }
  if (listing.reach_m > kMaxReachM) return UpsertOutcome::rejected_reach;
  if (listing.member >= kMaxMembers) return UpsertOutcome::rejected_member;
  return UpsertOutcome::inserted;
}

UpsertOutcome Engine::upsert(const Listing& listing) {
  const uint32_t existing = id_map_.find(listing.id, ids_);
  if (listing.status != Status::active) {
    if (existing == IdMap::kNone) return UpsertOutcome::not_active;
    erase_slot(existing);
    return UpsertOutcome::removed;
  }
  const UpsertOutcome verdict = validate(listing);
  if (verdict != UpsertOutcome::inserted) return verdict;
  if (existing != IdMap::kNone) erase_slot(existing);
  insert(listing);
  return existing == IdMap::kNone ? UpsertOutcome::inserted : UpsertOutcome::replaced;
}

bool Engine::remove(ListingId id) {
  const uint32_t slot = id_map_.find(id, ids_);
  if (slot == IdMap::kNone) return false;
  erase_slot(slot);
  return true;
}

uint32_t Engine::allocate_slot() {
  if (!free_slots_.empty()) {
    const uint32_t slot = free_slots_.back();
    free_slots_.pop_back();
    return slot;
  }
  MAILLON_INVARIANT(ids_.size() < IdMap::kNone, "slots stay below the free marker");
  ids_.emplace_back();
  members_.push_back(0);
  category_of_.push_back(0);
  flags_.push_back(kFreeSlot);
  from_s_.push_back(0);
  until_s_.push_back(0);
  created_s_.push_back(0);
  words_.emplace_back();
  cell_of_.push_back(0);
  index_in_cell_.push_back(0);
  return static_cast<uint32_t>(ids_.size() - 1);
}

uint32_t Engine::cell_for(std::size_t partition, int32_t lat_fixed, int32_t lon_fixed) {
  Partition& p = partitions_[partition];
  const uint64_t key =
      cell_key(floor_div(lat_fixed, kCellLatFixed), floor_div(lon_fixed, kCellLonFixed));
  auto it = std::lower_bound(p.keys.begin(), p.keys.end(), key);
  const auto at = it - p.keys.begin();
  if (it != p.keys.end() && *it == key) return p.cells[static_cast<std::size_t>(at)];
  MAILLON_INVARIANT(cells_.size() < UINT32_MAX, "cells are numbered in 32 bits");
  const auto cell = static_cast<uint32_t>(cells_.size());
  cells_.emplace_back();
  summaries_.push_back(CellSummary{std::numeric_limits<int64_t>::min(),
                                   static_cast<uint32_t>(filter_pool_.size()), 0});
  filter_pool_.push_back(0);
  p.keys.insert(it, key);
  p.cells.insert(p.cells.begin() + at, cell);
  return cell;
}

void Engine::insert(const Listing& listing) {
  const uint32_t slot = allocate_slot();
  const GeoPoint point = handover_point(listing);
  const int32_t lat_fixed = to_fixed(point.lat);
  const int32_t lon_fixed = to_fixed(point.lon);
  ids_[slot] = listing.id;
  members_[slot] = listing.member;
  category_of_[slot] = listing.category;
  flags_[slot] = flags_of(listing);
  from_s_[slot] = listing.available_from_s;
  until_s_[slot] = listing.available_until_s;
  created_s_[slot] = listing.created_at_s;
  words_[slot] = normalized(listing.words);
  const uint32_t cell =
      cell_for(partition_of(listing.category, listing.side), lat_fixed, lon_fixed);
  cell_of_[slot] = cell;
  index_in_cell_[slot] = static_cast<uint32_t>(cells_[cell].size());
  cells_[cell].push_back(Entry{lat_fixed, lon_fixed, listing.reach_m, slot});
  add_to_summary(cell, cells_[cell].back());
  id_map_.insert(listing.id, slot, ids_);
  ++size_;
}

void Engine::erase_slot(uint32_t slot) {
  MAILLON_INVARIANT(flags_[slot] != kFreeSlot, "the slot holds a listing");
  std::vector<Entry>& cell = cells_[cell_of_[slot]];
  const uint32_t index = index_in_cell_[slot];
  cell[index] = cell.back();
  index_in_cell_[cell[index].slot] = index;
  cell.pop_back();
  id_map_.erase(ids_[slot], ids_);
  flags_[slot] = kFreeSlot;
  free_slots_.push_back(slot);
  --size_;
  recompute_summary(cell_of_[slot]);
}

namespace {
constexpr uint8_t kFilterLog2Max = 6;  // 64 words: 4096 bits

uint8_t filter_log2_for(std::size_t listings) {
  uint8_t log2 = 0;
  while (log2 < kFilterLog2Max && (std::size_t{1} << log2) < listings) ++log2;
  return log2;
}
}  // namespace

void Engine::set_filter_bits(uint32_t cell, const Words& words) {
  uint64_t* filter = filter_pool_.data() + summaries_[cell].filter_at;
  for (uint32_t word : words) {
    if (word == 0) break;
    const uint64_t bit = filter_bit_index(word_hash(word), summaries_[cell].filter_log2);
    filter[bit >> 6] |= uint64_t{1} << (bit & 63);
  }
}

void Engine::add_to_summary(uint32_t cell, const Entry& entry) {
  CellSummary& summary = summaries_[cell];
  summary.created_max_s = std::max(summary.created_max_s, created_s_[entry.slot]);
  const uint8_t wanted = filter_log2_for(cells_[cell].size());
  if (wanted > summary.filter_log2) {
    // Outgrown: a filter twice as large (or more) at the end of the pool, refilled.
    summary.filter_at = static_cast<uint32_t>(filter_pool_.size());
    summary.filter_log2 = wanted;
    filter_pool_.resize(filter_pool_.size() + (std::size_t{1} << wanted), 0);
    for (const Entry& e : cells_[cell]) set_filter_bits(cell, words_[e.slot]);
    return;
  }
  set_filter_bits(cell, words_[entry.slot]);
}

// A cell holds tens of listings at most in the densest areas: recounting is cheap, and keeps
// the summary tight after the newest or a rare-word listing leaves.
void Engine::recompute_summary(uint32_t cell) {
  CellSummary& summary = summaries_[cell];
  summary.created_max_s = std::numeric_limits<int64_t>::min();
  std::fill_n(filter_pool_.begin() + summary.filter_at, std::size_t{1} << summary.filter_log2, 0);
  for (const Entry& entry : cells_[cell]) {
    summary.created_max_s = std::max(summary.created_max_s, created_s_[entry.slot]);
    set_filter_bits(cell, words_[entry.slot]);
  }
}

// One filter per cell, back to back, each the size its cell needs now.
void Engine::compact_filters() {
  std::vector<uint64_t> pool;
  std::size_t words = 0;
  for (const auto& cell : cells_) words += std::size_t{1} << filter_log2_for(cell.size());
  pool.reserve(words);
  for (uint32_t cell = 0; cell < cells_.size(); ++cell) {
    summaries_[cell].filter_at = static_cast<uint32_t>(pool.size());
    summaries_[cell].filter_log2 = filter_log2_for(cells_[cell].size());
    pool.resize(pool.size() + (std::size_t{1} << summaries_[cell].filter_log2), 0);
  }
  filter_pool_ = std::move(pool);
  for (uint32_t cell = 0; cell < cells_.size(); ++cell) {
    for (const Entry& e : cells_[cell]) set_filter_bits(cell, words_[e.slot]);
  }
}

void Engine::clear() {
  for (Partition& p : partitions_) p = Partition{};
  for (auto* v : {&members_, &cell_of_, &index_in_cell_, &free_slots_}) *v = {};
  for (auto* v : {&from_s_, &until_s_, &created_s_}) *v = {};
  cells_ = {};
  summaries_ = {};
  filter_pool_ = {};
  ids_ = {};
  category_of_ = {};
  flags_ = {};
  words_ = {};
  id_map_.clear_and_reserve(0);
  size_ = 0;
}

std::size_t Engine::build(const std::vector<Listing>& listings) {
  clear();
  struct Order {
    std::size_t partition;
    uint64_t key;
    std::size_t index;
  };
  std::vector<Order> order;
  order.reserve(listings.size());
  for (std::size_t i = 0; i < listings.size(); ++i) {
    const Listing& l = listings[i];
    if (l.status != Status::active || validate(l) != UpsertOutcome::inserted) continue;
    const GeoPoint p = handover_point(l);
    order.push_back(Order{partition_of(l.category, l.side),
                          cell_key(floor_div(to_fixed(p.lat), kCellLatFixed),
                                   floor_div(to_fixed(p.lon), kCellLonFixed)),
                          i});
  }
  std::sort(order.begin(), order.end(), [](const Order& a, const Order& b) {
    return std::tie(a.partition, a.key, a.index) < std::tie(b.partition, b.key, b.index);
  });
  for (auto* v : {&members_, &cell_of_, &index_in_cell_}) v->reserve(order.size());
  for (auto* v : {&from_s_, &until_s_, &created_s_}) v->reserve(order.size());
  ids_.reserve(order.size());
  category_of_.reserve(order.size());
  flags_.reserve(order.size());
  words_.reserve(order.size());
  id_map_.clear_and_reserve(order.size());
  // The last occurrence of an id in the input wins, as if upserted in order.
  std::vector<std::size_t> input_index_of_slot(order.size());
  for (const Order& o : order) {
    const uint32_t existing = id_map_.find(listings[o.index].id, ids_);
    if (existing != IdMap::kNone && input_index_of_slot[existing] > o.index) continue;
    if (existing != IdMap::kNone) erase_slot(existing);
    insert(listings[o.index]);
    input_index_of_slot[id_map_.find(listings[o.index].id, ids_)] = o.index;
  }
  for (auto& cell : cells_) cell.shrink_to_fit();
  compact_filters();
  return size_;
}

void Engine::set_reliability(MemberIndex member, double reliability) {
  MAILLON_INVARIANT(member < kMaxMembers, "no more members than the engine holds");
  if (member >= reliability_.size()) reliability_.resize(member + 1, kDefaultReliability);
  reliability_[member] = std::isfinite(reliability) ? std::clamp(reliability, 0.0, 1.0) : 0.0;
  reliability_max_ = std::max(reliability_max_, reliability_[member]);
}

void Engine::set_recent_proposals(MemberIndex member, uint32_t proposals) {
  MAILLON_INVARIANT(member < kMaxMembers, "no more members than the engine holds");
  if (member >= recent_proposals_.size()) recent_proposals_.resize(member + 1, 0);
  recent_proposals_[member] = proposals;
}

void Engine::record_proposal(MemberIndex member) {
  MAILLON_INVARIANT(member < kMaxMembers, "no more members than the engine holds");
  if (member >= recent_proposals_.size()) recent_proposals_.resize(member + 1, 0);
  if (recent_proposals_[member] < UINT32_MAX) ++recent_proposals_[member];
}

std::size_t Engine::memory_bytes() const {
  std::size_t bytes = categories_.memory_bytes() + id_map_.memory_bytes();
  for (const Partition& p : partitions_) bytes += bytes_of(p.keys) + bytes_of(p.cells);
  bytes += bytes_of(partitions_) + bytes_of(cells_);
  bytes += bytes_of(summaries_) + bytes_of(filter_pool_);
  for (const auto& cell : cells_) bytes += bytes_of(cell);
  bytes += bytes_of(ids_) + bytes_of(members_) + bytes_of(category_of_) + bytes_of(flags_);
  bytes += bytes_of(from_s_) + bytes_of(until_s_) + bytes_of(created_s_) + bytes_of(words_);
  bytes += bytes_of(cell_of_) + bytes_of(index_in_cell_) + bytes_of(free_slots_);
  return bytes + bytes_of(reliability_) + bytes_of(recent_proposals_);
}

}  // namespace maillon::matching
