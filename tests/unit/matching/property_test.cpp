// Property: on random listings around Lille (built in bulk, then upserted, updated and
// removed), every query of the engine answers exactly what a brute-force haversine scan with
// the same rules answers: same listings, same order, same scores, same distances.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "unit/matching/brute_force.hpp"
#include "unit/matching/builders.hpp"

namespace maillon::matching {
namespace {
using namespace testing;

// 0 maison > 1 outils > {2 perceuses, 3 scies}; 0 > 4 cuisine; 5 jardin > 6 tondeuses; 7 alone.
const std::vector<CategoryId> kTree{kNoParent, 0, 1, 1, 0, kNoParent, 5, kNoParent};

// Positions within ~50 km of Lille; a third of them on a few shared spots, so that equal
// distances (and equal scores, broken by id) actually occur.
GeoPoint random_point() {
  if (*rc::gen::inRange(0, 3) == 0) {
    const int spot = *rc::gen::inRange(0, 4);
    return moved(kLille, spot * 700.0, spot * 300.0);
  }
  return moved(kLille, *rc::gen::inRange(-45'000, 45'000), *rc::gen::inRange(-45'000, 45'000));
}

Words random_words() {
  Words words{};
  const int count = *rc::gen::inRange(0, int(kMaxWords) + 1);
  for (int i = 0; i < count; ++i) words[std::size_t(i)] = uint32_t(*rc::gen::inRange(0, 12));
  return words;
}

Listing random_listing(uint64_t n) {
  Listing l;
  l.id = ListingId{uint64_t(*rc::gen::inRange(0, 3)), n};  // ids not in insertion order
  l.side = *rc::gen::element(Side::offer, Side::request);
  l.member = MemberIndex(*rc::gen::inRange(0, 40));
  l.category = CategoryId(*rc::gen::inRange(0, int(kTree.size())));
  l.mode = *rc::gen::element(Mode::give, Mode::lend, Mode::swap, Mode::service);
  l.kind = l.mode == Mode::service ? Kind::service : Kind::good;
  l.position = random_point();
  if (*rc::gen::inRange(0, 5) == 0) l.site = random_point();
  l.reach_m = uint32_t(*rc::gen::element(0, 500, 2000, 5000, 15'000, 40'000, 100'000));
  l.reach_m = *rc::gen::inRange(0, 2) ? l.reach_m : uint32_t(*rc::gen::inRange(0, 30'000));
  l.available_from_s = kNow + *rc::gen::inRange(-30, 30) * kDay;
  l.available_until_s = l.available_from_s + *rc::gen::inRange(0, 60) * kDay;
  l.status = *rc::gen::inRange(0, 6) == 0 ? Status::paused : Status::active;
  l.created_at_s = kNow - *rc::gen::element(0, 1, 7, 30) * kDay;
  l.words = random_words();
  return l;
}

NearbyQuery random_nearby() {
  NearbyQuery q;
  q.at = random_point();
  q.radius_m = uint32_t(*rc::gen::inRange(0, 60'000));
  if (*rc::gen::inRange(0, 3)) q.category = CategoryId(*rc::gen::inRange(0, int(kTree.size())));
  if (*rc::gen::inRange(0, 2)) q.side = *rc::gen::element(Side::offer, Side::request);
  q.words = random_words();
  q.k = std::size_t(*rc::gen::element(1, 5, 20, 150));
  q.now_s = kNow + *rc::gen::inRange(0, 20) * kDay;
  if (*rc::gen::inRange(0, 2)) q.viewer = MemberIndex(*rc::gen::inRange(0, 40));
  return q;
}

// Builds the engine and the reference alike: bulk build, then upserts, updates, removals.
void populate(Engine& engine, BruteForce& reference) {
  const int listing_count = *rc::gen::inRange(0, 400);
  std::vector<Listing> all;
  for (int i = 0; i < listing_count; ++i) all.push_back(random_listing(uint64_t(i)));
  const std::size_t bulk = std::size_t(*rc::gen::inRange(0, listing_count + 1));
  engine.build(std::vector<Listing>(all.begin(), all.begin() + std::ptrdiff_t(bulk)));
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (i >= bulk) engine.upsert(all[i]);
    reference.upsert(all[i]);
  }
  const int changes = *rc::gen::inRange(0, 60);
  for (int c = 0; c < changes && listing_count > 0; ++c) {
    const uint64_t n = uint64_t(*rc::gen::inRange(0, listing_count));
    Listing changed = random_listing(n);
    changed.id = all[n].id;
    if (*rc::gen::inRange(0, 3) == 0) {
      engine.remove(changed.id);
      reference.remove(changed.id);
    } else {
      engine.upsert(changed);
      reference.upsert(changed);
    }
  }
  for (MemberIndex m = 0; m < 40; m += MemberIndex(*rc::gen::inRange(1, 4))) {
    const double r = *rc::gen::inRange(0, 101) / 100.0;
    const uint32_t p = uint32_t(*rc::gen::inRange(0, 12));
    engine.set_reliability(m, r);
    reference.set_reliability(m, r);
    engine.set_recent_proposals(m, p);
    reference.set_recent_proposals(m, p);
  }
}

RC_GTEST_PROP(MatchingProperty, engine_equals_brute_force_haversine_scan, ()) {
  Engine engine(kTree);
  BruteForce reference(kTree);
  populate(engine, reference);
  RC_ASSERT(engine.size() == reference.listings().size());
  const int64_t now_s = kNow + *rc::gen::inRange(0, 20) * kDay;
  for (const auto& [id, listing] : reference.listings()) {
    const std::size_t k = std::size_t(*rc::gen::element(1, 3, 20, 150));
    const auto found = engine.top_matches(id, k, now_s);
    RC_ASSERT(found == reference.top_matches(listing, k, now_s));
    // Every pair the search proposes is one that the pair check keeps.
    for (const Match& m : found) RC_ASSERT(engine.pair_holds(id, m.other, now_s) == true);
  }
  for (int q = 0; q < 20; ++q) {
    const Listing outsider = random_listing(10'000 + uint64_t(q));
    RC_ASSERT(engine.top_matches(outsider, 20, now_s) ==
              reference.top_matches(outsider, 20, now_s));
    const NearbyQuery query = random_nearby();
    RC_ASSERT(engine.nearby(query) == reference.nearby(query));
  }
}

}  // namespace
}  // namespace maillon::matching
