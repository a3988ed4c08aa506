// A brute-force reference for the engine: a map of listings scanned in full with haversine,
// applying the pairing rules as the contract states them, written independently of the index.
// Only the scoring formula and the privacy snap are shared (they are the rules themselves).
#pragma once

#include <algorithm>
#include <map>
#include <set>
#include <vector>

#include "matching/engine.hpp"

namespace maillon::matching::testing {

class BruteForce {
 public:
  explicit BruteForce(std::vector<CategoryId> parents) : parents_(std::move(parents)) {}

  void upsert(const Listing& l) {
    if (l.status == Status::active) {
      listings_[l.id] = l;
    } else {
      listings_.erase(l.id);
    }
  }
  void remove(ListingId id) { listings_.erase(id); }
  void set_reliability(MemberIndex m, double r) { reliability_[m] = r; }
  void set_recent_proposals(MemberIndex m, uint32_t n) { proposals_[m] = n; }
  const std::map<ListingId, Listing>& listings() const { return listings_; }

  std::vector<Match> top_matches(const Listing& probe, std::size_t k, int64_t now_s) const {
    std::vector<Match> out;
    if (probe.status != Status::active || probe.available_until_s <= now_s) return out;
    const GeoPoint from = handover_point(probe);
    for (const auto& [id, c] : listings_) {
      if (c.side == probe.side || !related(probe.category, c.category)) continue;
      const Listing& offer = probe.side == Side::offer ? probe : c;
      const Listing& request = probe.side == Side::offer ? c : probe;
      if (!mode_table(offer.mode, request.mode) || c.member == probe.member) continue;
      if (c.available_until_s <= now_s) continue;
      if (!(probe.available_from_s < c.available_until_s &&
            c.available_from_s < probe.available_until_s)) {
        continue;
      }
      const double d = haversine_m(from, handover_point(c));
      if (d > std::min(probe.reach_m, c.reach_m)) continue;
      out.push_back(Match{id, score_of(c, d, probe.words, now_s), d});
    }
    return best(out, k);
  }

  std::vector<Match> nearby(const NearbyQuery& q) const {
    std::vector<Match> out;
    const GeoPoint from = snap_to_grid(q.at);
    for (const auto& [id, c] : listings_) {
      if (q.category && !related(*q.category, c.category)) continue;
      if (q.side && *q.side != c.side) continue;
      if (c.available_until_s <= q.now_s || (q.viewer && *q.viewer == c.member)) continue;
      const double d = haversine_m(from, handover_point(c));
      if (d > std::min(q.radius_m, kMaxReachM)) continue;
      out.push_back(Match{id, score_of(c, d, q.words, q.now_s), d});
    }
    return best(out, q.k);
  }

 private:
  static bool mode_table(Mode offer, Mode request) {
    switch (request) {
      case Mode::lend:
        return offer == Mode::lend || offer == Mode::give;
      case Mode::give:
        return offer == Mode::give;
      case Mode::swap:
        return offer == Mode::swap;
      case Mode::service:
        return offer == Mode::service;
    }
    return false;
  }

  bool descends(CategoryId c, CategoryId ancestor) const {
    for (CategoryId p = parents_[c]; p != kNoParent; p = parents_[p]) {
      if (p == ancestor) return true;
    }
    return false;
  }
  bool related(CategoryId a, CategoryId b) const {
    return a == b || descends(a, b) || descends(b, a);
  }

  double score_of(const Listing& c, double d, const Words& words, int64_t now_s) const {
    std::set<uint32_t> mine(words.begin(), words.end());
    std::set<uint32_t> theirs(c.words.begin(), c.words.end());
    mine.erase(0);
    theirs.erase(0);
    uint32_t shared = 0;
    for (uint32_t w : mine) shared += theirs.count(w) ? 1 : 0;
    ScoreInputs in;
    in.distance_m = d;
    in.shared_words = shared;
    in.fewer_words = static_cast<uint32_t>(std::min(mine.size(), theirs.size()));
    in.age_s = now_s - c.created_at_s;
    auto r = reliability_.find(c.member);
    in.reliability = r == reliability_.end() ? kDefaultReliability : r->second;
    auto p = proposals_.find(c.member);
    in.recent_proposals = p == proposals_.end() ? 0 : p->second;
    return score(in);
  }

  static std::vector<Match> best(std::vector<Match> all, std::size_t k) {
    std::sort(all.begin(), all.end(), [](const Match& a, const Match& b) {
      return a.score > b.score || (a.score == b.score && a.other < b.other);
    });
    all.resize(std::min({all.size(), k, kMaxResults}));
    return all;
  }

  std::vector<CategoryId> parents_;
  std::map<ListingId, Listing> listings_;
  std::map<MemberIndex, double> reliability_;
  std::map<MemberIndex, uint32_t> proposals_;
};

}  // namespace maillon::matching::testing
