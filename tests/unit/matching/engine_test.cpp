// The engine's index over time: inserts, updates, removals, bulk builds, and the ranking
// signals (distance, words, freshness, reliability, spread) pulling in the documented direction.
#include <gtest/gtest.h>

#include "unit/matching/builders.hpp"

namespace maillon::matching {
namespace {
using namespace testing;

std::vector<ListingId> matches_of(const Engine& engine, const Listing& probe) {
  return ids_of(engine.top_matches(probe, 20, kNow));
}

TEST(MatchingEngine, upsert_of_a_known_id_replaces_it) {
  Engine engine(small_tree());
  EXPECT_EQ(engine.upsert(offer(2)), UpsertOutcome::inserted);
  EXPECT_EQ(engine.upsert(offer(2).at(moved(kLille, 50'000))), UpsertOutcome::replaced);
  EXPECT_EQ(engine.size(), 1u);
  EXPECT_TRUE(matches_of(engine, request(1)).empty());
  EXPECT_EQ(matches_of(engine, request(9).at(moved(kLille, 50'000))), std::vector{id(2)});
}

TEST(MatchingEngine, pausing_a_listing_removes_it) {
  Engine engine(small_tree());
  engine.upsert(offer(2));
  EXPECT_EQ(engine.upsert(offer(2).status(Status::paused)), UpsertOutcome::removed);
  EXPECT_EQ(engine.size(), 0u);
  EXPECT_TRUE(matches_of(engine, request(1)).empty());
}

TEST(MatchingEngine, remove_forgets_only_that_listing) {
  Engine engine(small_tree());
  for (uint64_t n = 2; n < 12; ++n) engine.upsert(offer(n));
  EXPECT_TRUE(engine.remove(id(5)));
  EXPECT_FALSE(engine.remove(id(5)));
  const auto found = matches_of(engine, request(1));
  EXPECT_EQ(found.size(), 9u);
  EXPECT_EQ(std::count(found.begin(), found.end(), id(5)), 0);
  EXPECT_TRUE(engine.top_matches(id(5), 20, kNow).empty());
}

TEST(MatchingEngine, slots_freed_by_removal_are_reused_without_confusion) {
  Engine engine(small_tree());
  for (uint64_t n = 2; n < 50; ++n) engine.upsert(offer(n));
  for (uint64_t n = 2; n < 50; n += 2) engine.remove(id(n));
  for (uint64_t n = 100; n < 124; ++n) engine.upsert(offer(n).mode(Mode::swap));
  EXPECT_EQ(engine.size(), 48u);
  EXPECT_EQ(matches_of(engine, request(1).mode(Mode::swap)).size(), 20u);
  EXPECT_EQ(engine.top_matches(id(3), 100, kNow).size(), 0u);  // offers do not match offers
}

TEST(MatchingEngine, build_replaces_the_index_and_keeps_the_last_duplicate) {
  Engine engine(small_tree());
  engine.upsert(offer(99));
  const std::vector<Listing> listings{offer(2), offer(3).status(Status::closed),
                                      offer(2).at(moved(kLille, 50'000))};
  EXPECT_EQ(engine.build(listings), 1u);
  EXPECT_TRUE(matches_of(engine, request(1)).empty());
  EXPECT_EQ(matches_of(engine, request(9).at(moved(kLille, 50'000))), std::vector{id(2)});
}

TEST(MatchingEngine, top_matches_by_id_uses_the_indexed_listing) {
  Engine engine(small_tree());
  engine.upsert(offer(2));
  engine.upsert(request(1));
  const auto found = engine.top_matches(id(1), 20, kNow);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].other, id(2));
  EXPECT_EQ(found[0].distance_m, 0.0);
}

TEST(MatchingEngine, closer_offers_rank_first) {
  Engine engine(small_tree());
  engine.upsert(offer(2).at(moved(kLille, 2500)));
  engine.upsert(offer(3).at(moved(kLille, 600)));
  engine.upsert(offer(4).at(moved(kLille, 1500)));
  EXPECT_EQ(matches_of(engine, request(1)), (std::vector{id(3), id(4), id(2)}));
}

TEST(MatchingEngine, shared_words_fresher_listings_and_reliable_members_rank_first) {
  Engine engine(small_tree());
  engine.upsert(offer(2).words({11, 12}));
  engine.upsert(offer(3).words({11, 13}));
  EXPECT_EQ(matches_of(engine, request(1).words({12})).front(), id(2));
  engine.upsert(offer(2).created(kNow - 60 * kDay));
  EXPECT_EQ(matches_of(engine, request(1)).front(), id(3));
  engine.set_reliability(2, 1.0);
  engine.set_reliability(3, 0.0);
  EXPECT_EQ(matches_of(engine, request(1)).front(), id(2));
}

TEST(MatchingEngine, providers_with_many_recent_proposals_are_spread) {
  Engine engine(small_tree());
  engine.upsert(offer(2));
  engine.upsert(offer(3));
  EXPECT_EQ(matches_of(engine, request(1)).front(), id(2));  // tie broken by id
  for (int i = 0; i < 3; ++i) engine.record_proposal(2);
  EXPECT_EQ(matches_of(engine, request(1)).front(), id(3));
}

TEST(MatchingEngine, k_bounds_the_answer) {
  Engine engine(small_tree());
  for (uint64_t n = 2; n < 200; ++n) engine.upsert(offer(n));
  EXPECT_EQ(engine.top_matches(request(1).build(), 5, kNow).size(), 5u);
  EXPECT_EQ(engine.top_matches(request(1).build(), 1000, kNow).size(), kMaxResults);
  EXPECT_TRUE(engine.top_matches(request(1).build(), 0, kNow).empty());
}

TEST(MatchingEngine, nearby_filters_by_radius_category_side_and_viewer) {
  Engine engine(small_tree());
  engine.upsert(offer(2).category(1).at(moved(kLille, 900)));
  engine.upsert(offer(3).category(3).at(moved(kLille, 900)));
  engine.upsert(request(4).category(2).at(moved(kLille, 900)));
  engine.upsert(offer(5).category(1).at(moved(kLille, 4000)));
  NearbyQuery q{.at = kLille, .radius_m = 2000, .now_s = kNow};
  EXPECT_EQ(ids_of(engine.nearby(q)), (std::vector{id(2), id(3), id(4)}));
  q.category = 1;
  EXPECT_EQ(ids_of(engine.nearby(q)), (std::vector{id(2), id(4)}));
  q.side = Side::offer;
  EXPECT_EQ(ids_of(engine.nearby(q)), std::vector{id(2)});
  q.viewer = 2;
  EXPECT_TRUE(engine.nearby(q).empty());
}

TEST(MatchingEngine, memory_is_accounted_and_grows_with_listings) {
  Engine engine(small_tree());
  const std::size_t empty_bytes = engine.memory_bytes();
  for (uint64_t n = 1; n < 1000; ++n) engine.upsert(offer(n).at(moved(kLille, double(n) * 10)));
  EXPECT_GT(engine.memory_bytes(), empty_bytes + 999 * 80);
}

}  // namespace
}  // namespace maillon::matching

namespace maillon::matching {
namespace {
using namespace testing;

// A request and an offer that meet, indexed together: the pair the service has stored.
Engine engine_with_pair(const Listing& asked, const Listing& offered) {
  Engine engine(small_tree());
  engine.upsert(asked);
  engine.upsert(offered);
  return engine;
}

TEST(MatchingPairCheck, a_proposed_pair_holds_both_ways) {
  const Engine engine = engine_with_pair(request(1), offer(2));
  EXPECT_EQ(engine.pair_holds(id(1), id(2), kNow), true);
  EXPECT_EQ(engine.pair_holds(id(2), id(1), kNow), true);
}

TEST(MatchingPairCheck, pair_stops_holding_when_a_listing_changes_category) {
  Engine engine = engine_with_pair(request(1), offer(2));
  engine.upsert(offer(2).category(3));  // jardin: unrelated to perceuses
  EXPECT_EQ(engine.pair_holds(id(1), id(2), kNow), false);
  engine.upsert(offer(2).category(0));  // back under a parent: related again
  EXPECT_EQ(engine.pair_holds(id(1), id(2), kNow), true);
}

TEST(MatchingPairCheck, pair_stops_holding_when_a_listing_moves_out_of_reach_or_changes_mode) {
  Engine engine = engine_with_pair(request(1), offer(2));
  engine.upsert(offer(2).at(moved(kLille, 4000)));  // reach is 3 km on both sides
  EXPECT_EQ(engine.pair_holds(id(1), id(2), kNow), false);
  engine.upsert(offer(2).mode(Mode::swap));
  EXPECT_EQ(engine.pair_holds(id(1), id(2), kNow), false);
  engine.upsert(offer(2));
  EXPECT_EQ(engine.pair_holds(id(1), id(2), kNow), true);
}

TEST(MatchingPairCheck, pair_with_an_unindexed_listing_is_left_undecided) {
  Engine engine = engine_with_pair(request(1), offer(2));
  engine.upsert(offer(2).status(Status::paused));
  EXPECT_EQ(engine.pair_holds(id(1), id(2), kNow), std::nullopt);
  EXPECT_EQ(engine.pair_holds(id(1), id(99), kNow), std::nullopt);
}

TEST(MatchingPairCheck, same_side_or_same_member_never_holds) {
  Engine engine = engine_with_pair(request(1), offer(2).member(1));
  engine.upsert(request(3));
  EXPECT_EQ(engine.pair_holds(id(1), id(2), kNow), false);
  EXPECT_EQ(engine.pair_holds(id(1), id(3), kNow), false);
}

}  // namespace
}  // namespace maillon::matching
