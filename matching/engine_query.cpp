// The engine's queries: best matches of a listing, listings near a point. Both build a Probe
// and share one search (nearest cells first, bounded top-k, exact haversine when it matters).
#include <algorithm>
#include <cmath>

#include "matching/engine.hpp"
#include "matching/engine_internal.hpp"

namespace maillon::matching {
using namespace detail;

namespace {

bool better(double a_score, ListingId a_id, double b_score, ListingId b_id) {
  return a_score > b_score || (a_score == b_score && a_id < b_id);
}

void set_point(GeoPoint snapped, std::vector<std::size_t>& partitions, auto& probe) {
  probe.point = snapped;
  probe.lat_fixed = to_fixed(snapped.lat);
  probe.lon_fixed = to_fixed(snapped.lon);
  probe.metres_per_fixed_lon = kMetresPerFixed * std::cos(snapped.lat * kDegToRad);
  probe.partitions = std::move(partitions);
}

void set_word_hashes(auto& probe) {
  for (uint32_t i = 0; i < probe.word_count; ++i) probe.word_hashes[i] = word_hash(probe.words[i]);
}

}  // namespace

Listing Engine::listing_at(uint32_t slot) const {
  Listing l;
  l.id = ids_[slot];
  l.side = static_cast<Side>(flags_[slot] & 1);
  l.mode = static_cast<Mode>((flags_[slot] >> 1) & 3);
  l.kind = static_cast<Kind>((flags_[slot] >> 3) & 1);
  l.member = members_[slot];
  l.category = category_of_[slot];
  const Entry& entry = cells_[cell_of_[slot]][index_in_cell_[slot]];
  l.position = GeoPoint{from_fixed(entry.lat_fixed), from_fixed(entry.lon_fixed)};
  l.reach_m = entry.reach_m;
  l.available_from_s = from_s_[slot];
  l.available_until_s = until_s_[slot];
  l.created_at_s = created_s_[slot];
  l.words = words_[slot];
  return l;
}

Engine::Probe Engine::match_probe(const Listing& listing, GeoPoint handover, std::size_t k,
                                  int64_t now_s) const {
  Probe probe;
  const Side other = listing.side == Side::offer ? Side::request : Side::offer;
  std::vector<std::size_t> partitions;
  for (CategoryId c : categories_.related(listing.category)) {
    partitions.push_back(partition_of(c, other));
  }
  set_point(handover, partitions, probe);
  probe.radius_m = listing.reach_m;
  probe.limit_by_candidate_reach = true;
  probe.check_pairing = true;
  probe.side = listing.side;
  probe.mode = listing.mode;
  probe.excluded_member = listing.member;
  probe.from_s = listing.available_from_s;
  probe.until_s = listing.available_until_s;
  probe.now_s = now_s;
  probe.words = normalized(listing.words);
  probe.word_count = word_count(probe.words);
  probe.word_bits = word_bits(probe.words);
  set_word_hashes(probe);
  probe.k = std::min(k, kMaxResults);
  return probe;
}

std::vector<Match> Engine::top_matches(ListingId id, std::size_t k, int64_t now_s) const {
  const uint32_t slot = id_map_.find(id, ids_);
  if (slot == IdMap::kNone) return {};
  const Listing listing = listing_at(slot);
  if (listing.available_until_s <= now_s) return {};
  return search(match_probe(listing, listing.position, k, now_s));
}

std::vector<Match> Engine::top_matches(const Listing& listing, std::size_t k, int64_t now_s) const {
  if (listing.status != Status::active || validate(listing) != UpsertOutcome::inserted) return {};
  if (listing.available_until_s <= now_s) return {};
  return search(match_probe(listing, handover_point(listing), k, now_s));
}

std::vector<Match> Engine::nearby(const NearbyQuery& query) const {
  if (!valid_point(query.at)) return {};
  if (query.category && *query.category >= categories_.size()) return {};
  std::vector<std::size_t> partitions;
  auto add_category = [&](CategoryId c) {
    for (Side side : {Side::offer, Side::request}) {
      if (!query.side || *query.side == side) partitions.push_back(partition_of(c, side));
    }
  };
  if (query.category) {
    for (CategoryId c : categories_.related(*query.category)) add_category(c);
  } else {
    for (std::size_t c = 0; c < categories_.size(); ++c) add_category(static_cast<CategoryId>(c));
  }
  Probe probe;
  set_point(snap_to_grid(query.at), partitions, probe);
  probe.radius_m = std::min(query.radius_m, kMaxReachM);
  probe.limit_by_candidate_reach = query.within_candidate_reach;
  probe.excluded_member = query.viewer;
  probe.now_s = query.now_s;
  probe.words = normalized(query.words);
  probe.word_count = word_count(probe.words);
  probe.word_bits = word_bits(probe.words);
  set_word_hashes(probe);
  probe.k = std::min(query.k, kMaxResults);
  return search(probe);
}

std::optional<bool> Engine::pair_holds(ListingId a, ListingId b, int64_t now_s) const {
  const uint32_t a_slot = id_map_.find(a, ids_);
  const uint32_t b_slot = id_map_.find(b, ids_);
  if (a_slot == IdMap::kNone || b_slot == IdMap::kNone) return std::nullopt;
  const Listing first = listing_at(a_slot);
  const Listing second = listing_at(b_slot);
  if (first.side == second.side || first.member == second.member) return false;
  if (!categories_.is_related(first.category, second.category)) return false;
  const Listing& offer = first.side == Side::offer ? first : second;
  const Listing& request = first.side == Side::offer ? second : first;
  if (!modes_compatible(offer.mode, request.mode)) return false;
  if (!windows_overlap(first.available_from_s, first.available_until_s, second.available_from_s,
                       second.available_until_s)) {
    return false;
  }
  if (first.available_until_s <= now_s || second.available_until_s <= now_s) return false;
  // listing_at gives the snapped handover points: the same distance as the search's.
  return haversine_m(first.position, second.position) <= std::min(first.reach_m, second.reach_m);
}

// ---- the shared search ----

void Engine::cells_to_visit(const Probe& probe, std::vector<CellVisit>& visits) const {
  // Rows: a great circle of length d spans at most d / R radians of latitude (exact bound).
  const int64_t lat_span_fixed = static_cast<int64_t>(probe.radius_m / kMetresPerFixed) + 1;
  // Columns: the widest longitude span is at the band's most polar latitude; the projection
  // margin covers the great circle's shortcut towards the pole.
  const double polar_lat = std::min(89.0, std::abs(probe.point.lat) + lat_span_fixed / 1e7);
  const double lon_span_m_per_fixed = kMetresPerFixed * std::cos(polar_lat * kDegToRad);
  const auto lon_span_fixed =
      static_cast<int64_t>(probe.radius_m / (lon_span_m_per_fixed * kLowerRatio)) + 1;
  const int64_t row_lo = floor_div(probe.lat_fixed - lat_span_fixed, kCellLatFixed);
  const int64_t row_hi = floor_div(probe.lat_fixed + lat_span_fixed, kCellLatFixed);
  const int64_t col_lo = floor_div(probe.lon_fixed - lon_span_fixed, kCellLonFixed);
  const int64_t col_hi = floor_div(probe.lon_fixed + lon_span_fixed, kCellLonFixed);
  auto gap = [](int64_t q, int64_t lo, int64_t step) {
    return std::max({0L, lo - q, q - lo - step});
  };
  visits.clear();
  for (std::size_t partition : probe.partitions) {
    const Partition& p = partitions_[partition];
    for (int64_t row = row_lo; row <= row_hi; ++row) {
      const double dy =
          double(gap(probe.lat_fixed, row * kCellLatFixed, kCellLatFixed)) * kMetresPerFixed;
      auto it = std::lower_bound(p.keys.begin(), p.keys.end(), cell_key(row, col_lo));
      for (; it != p.keys.end() && *it <= cell_key(row, col_hi); ++it) {
        const int64_t col = static_cast<int64_t>(*it & 0xFFFFFFFFu) - (int64_t{1} << 31);
        const double dx = double(gap(probe.lon_fixed, col * kCellLonFixed, kCellLonFixed)) *
                          probe.metres_per_fixed_lon;
        const double lower_m = std::sqrt(dy * dy + dx * dx) * kLowerRatio;
        const uint32_t cell = p.cells[static_cast<std::size_t>(it - p.keys.begin())];
        if (lower_m <= probe.radius_m && !cells_[cell].empty()) visits.push_back({lower_m, cell});
      }
    }
  }
  std::sort(visits.begin(), visits.end(),
            [](const CellVisit& a, const CellVisit& b) { return a.lower_m < b.lower_m; });
}

bool Engine::passes_rules(const Probe& probe, uint32_t slot) const {
  if (until_s_[slot] <= probe.now_s) return false;
  if (probe.excluded_member && members_[slot] == *probe.excluded_member) return false;
  if (!probe.check_pairing) return true;
  const auto mode = static_cast<Mode>((flags_[slot] >> 1) & 3);
  const bool modes_ok = probe.side == Side::offer ? modes_compatible(probe.mode, mode)
                                                  : modes_compatible(mode, probe.mode);
  return modes_ok && windows_overlap(probe.from_s, probe.until_s, from_s_[slot], until_s_[slot]);
}

ScoreInputs Engine::listing_inputs(const Probe& probe, uint32_t slot, double lower_m) const {
  const Words& words = words_[slot];
  const uint32_t count = word_count(words);
  ScoreInputs inputs;
  inputs.distance_m = lower_m;
  inputs.shared_words = shared_words(probe.words, probe.word_count, words, count);
  inputs.fewer_words = std::min(probe.word_count, count);
  inputs.age_s = probe.now_s - created_s_[slot];
  inputs.reliability = reliability_max_;
  inputs.recent_proposals = 0;
  return inputs;
}

void Engine::add_member_inputs(uint32_t slot, ScoreInputs& inputs) const {
  const MemberIndex member = members_[slot];
  inputs.reliability = member < reliability_.size() ? reliability_[member] : kDefaultReliability;
  inputs.recent_proposals = member < recent_proposals_.size() ? recent_proposals_[member] : 0;
}

bool Engine::cell_may_share_word(const Probe& probe, const CellSummary& cell) const {
  if (probe.word_count == 0) return false;
  const uint64_t* filter = filter_pool_.data() + cell.filter_at;
  const uint8_t log2 = cell.filter_log2;
  for (uint32_t i = 0; i < probe.word_count; ++i) {
    const uint64_t bit = filter_bit_index(probe.word_hashes[i], log2);
    if ((filter[bit >> 6] >> (bit & 63)) & 1) return true;
  }
  return false;
}

bool Engine::shares_word(const Probe& probe, uint32_t slot) const {
  for (uint32_t word : words_[slot]) {
    if (word == 0) return false;
    if ((probe.word_bits & word_bit(word)) == 0) continue;
    const auto end = probe.words.begin() + probe.word_count;
    if (std::binary_search(probe.words.begin(), end, word)) return true;
  }
  return false;
}

Engine::Cutoff Engine::cutoff_for(const std::vector<Candidate>& heap, std::size_t k,
                                  bool words_possible, int64_t age_s_min) const {
  Cutoff cutoff;
  if (heap.size() < k) return cutoff;
  const auto squared = [](double m) { return m < 0 ? -1.0 : m * m; };
  const double kth_score = heap.front().score;
  cutoff.plain_m2 = squared(distance_limit_m(kth_score, false, reliability_max_, age_s_min));
  cutoff.words_m2 = words_possible
                        ? squared(distance_limit_m(kth_score, true, reliability_max_, age_s_min))
                        : cutoff.plain_m2;
  return cutoff;
}

bool Engine::consider(const Probe& probe, const Entry& entry, const Cutoff& cutoff,
                      std::vector<Candidate>& heap) const {
  const double dy = double(entry.lat_fixed - probe.lat_fixed) * kMetresPerFixed;
  const double dx = double(int64_t{entry.lon_fixed} - probe.lon_fixed) * probe.metres_per_fixed_lon;
  const double lower_m2 = (dy * dy + dx * dx) * (kLowerRatio * kLowerRatio);
  const double limit_m = probe.limit_by_candidate_reach
                             ? double(std::min(probe.radius_m, entry.reach_m))
                             : double(probe.radius_m);
  if (lower_m2 > limit_m * limit_m) return false;
  // Most candidates of a dense area stop here, on their position and words alone: too far to
  // beat the k-th best unless they share a word with the query, and sharing none.
  if (lower_m2 > cutoff.plain_m2 &&
      (lower_m2 > cutoff.words_m2 || !shares_word(probe, entry.slot))) {
    return false;
  }
  const double lower_m = std::sqrt(lower_m2);
  // A bound from the listing's own data first (the slot arrays are read in cell order), before
  // the rules and the member data (random reads).
  ScoreInputs inputs = listing_inputs(probe, entry.slot, lower_m);
  if (heap.size() == probe.k && score(inputs) < heap.front().score) return false;
  if (!passes_rules(probe, entry.slot)) return false;
  add_member_inputs(entry.slot, inputs);
  const ListingId id = ids_[entry.slot];
  const auto worse_than_kth = [&](double s) {
    return heap.size() == probe.k && !better(s, id, heap.front().score, heap.front().id);
  };
  if (worse_than_kth(score(inputs))) return false;
  inputs.distance_m =
      haversine_m(probe.point, GeoPoint{from_fixed(entry.lat_fixed), from_fixed(entry.lon_fixed)});
  if (inputs.distance_m > limit_m) return false;
  const double s = score(inputs);
  if (worse_than_kth(s)) return false;
  const auto worse_at_top = [](const Candidate& a, const Candidate& b) {
    return better(a.score, a.id, b.score, b.id);
  };
  if (heap.size() == probe.k) {
    std::pop_heap(heap.begin(), heap.end(), worse_at_top);
    heap.pop_back();
  }
  heap.push_back(Candidate{s, id, inputs.distance_m});
  std::push_heap(heap.begin(), heap.end(), worse_at_top);
  return true;
}

std::vector<Match> Engine::search(const Probe& probe) const {
  if (probe.k == 0) return {};
  // Reused by the queries of one thread: no allocation per query once warm.
  thread_local std::vector<CellVisit> visits;
  cells_to_visit(probe, visits);
  std::vector<Candidate> heap;
  heap.reserve(probe.k);
  for (std::size_t v = 0; v < visits.size(); ++v) {
    const CellVisit& visit = visits[v];
    // The cells of a query are scattered in memory: ask for the summaries and vector headers
    // four cells ahead, and for the word filter two cells ahead, while this one is read.
    if (v + 4 < visits.size()) {
      __builtin_prefetch(&summaries_[visits[v + 4].cell]);
      __builtin_prefetch(&cells_[visits[v + 4].cell]);
    }
    if (v + 2 < visits.size()) {  // its summary was asked for two cells ago
      __builtin_prefetch(filter_pool_.data() + summaries_[visits[v + 2].cell].filter_at);
    }
    const bool full = heap.size() == probe.k;
    // Cells come nearest first: once even a perfect candidate there would not enter the top k,
    // no farther cell can hold one either.
    const double bound = score_bound(visit.lower_m, probe.word_count > 0, reliability_max_);
    if (full && bound < heap.front().score) break;
    // This cell's own summary may rule it out where a farther one still needs reading: its
    // newest listing first, then (only when a shared word could make the difference) its
    // word filter, which is one more read from memory.
    const CellSummary& summary = summaries_[visit.cell];
    const int64_t age_s_min = std::max<int64_t>(0, probe.now_s - summary.created_max_s);
    bool words_possible = false;
    if (!full ||
        score_bound(visit.lower_m, false, reliability_max_, age_s_min) >= heap.front().score) {
      words_possible = cell_may_share_word(probe, summary);  // sets the cutoff for words
    } else if (probe.word_count == 0 ||
               score_bound(visit.lower_m, true, reliability_max_, age_s_min) < heap.front().score ||
               !cell_may_share_word(probe, summary)) {
      continue;
    } else {
      words_possible = true;
    }
    if (v + 1 < visits.size()) {
      // The entries of the next cell, while this one's are read.
      const auto& next = cells_[visits[v + 1].cell];
      const char* at = reinterpret_cast<const char*>(next.data());
      const std::size_t bytes = std::min<std::size_t>(next.size() * sizeof(Entry), 256);
      for (std::size_t b = 0; b < bytes; b += 64) __builtin_prefetch(at + b);
    }
    Cutoff cutoff = cutoff_for(heap, probe.k, words_possible, age_s_min);
    for (const Entry& entry : cells_[visit.cell]) {
      if (consider(probe, entry, cutoff, heap)) {
        cutoff = cutoff_for(heap, probe.k, words_possible, age_s_min);
      }
    }
  }
  std::sort(heap.begin(), heap.end(), [](const Candidate& a, const Candidate& b) {
    return better(a.score, a.id, b.score, b.id);
  });
  std::vector<Match> matches;
  matches.reserve(heap.size());
  for (const Candidate& c : heap) matches.push_back(Match{c.id, c.score, c.distance_m});
  return matches;
}

}  // namespace maillon::matching
