// One test per pairing rule of the engine: categories, modes, reach of both sides, handover
// sites, windows, same member, status and expiry.
#include <gtest/gtest.h>

#include "unit/matching/builders.hpp"

namespace maillon::matching {
namespace {
using namespace testing;

// Returns whether `probe` (already indexed or not) finds `candidate` once the latter is indexed.
bool meets(const Listing& probe, const Listing& candidate, int64_t now_s = kNow) {
  Engine engine(small_tree());
  EXPECT_EQ(engine.upsert(candidate), UpsertOutcome::inserted);
  return ids_of(engine.top_matches(probe, 20, now_s)) == std::vector<ListingId>{candidate.id};
}

TEST(MatchingRules, same_category_matches) {
  EXPECT_TRUE(meets(request(1).category(1), offer(2).category(1)));
}

TEST(MatchingRules, parent_and_child_categories_match_both_ways) {
  EXPECT_TRUE(meets(request(1).category(1), offer(2).category(0)));
  EXPECT_TRUE(meets(request(1).category(0), offer(2).category(1)));
  EXPECT_TRUE(meets(request(1).category(2), offer(2).category(0)));  // grand-parent
}

TEST(MatchingRules, unrelated_and_sibling_categories_do_not_match) {
  EXPECT_FALSE(meets(request(1).category(1), offer(2).category(3)));
  Engine engine({kNoParent, 0, 0});  // 1 and 2 are siblings
  engine.upsert(offer(2).category(2));
  EXPECT_TRUE(engine.top_matches(request(1).category(1).build(), 20, kNow).empty());
}

TEST(MatchingRules, borrow_request_meets_lend_and_give_offers_only) {
  EXPECT_TRUE(meets(request(1).mode(Mode::lend), offer(2).mode(Mode::lend)));
  EXPECT_TRUE(meets(request(1).mode(Mode::lend), offer(2).mode(Mode::give)));
  EXPECT_FALSE(meets(request(1).mode(Mode::lend), offer(2).mode(Mode::swap)));
  EXPECT_FALSE(meets(request(1).mode(Mode::lend), offer(2).mode(Mode::service)));
}

TEST(MatchingRules, give_request_meets_give_offers_only) {
  EXPECT_TRUE(meets(request(1).mode(Mode::give), offer(2).mode(Mode::give)));
  EXPECT_FALSE(meets(request(1).mode(Mode::give), offer(2).mode(Mode::lend)));
  EXPECT_FALSE(meets(request(1).mode(Mode::give), offer(2).mode(Mode::swap)));
}

TEST(MatchingRules, swap_meets_swap_and_service_meets_service_only) {
  EXPECT_TRUE(meets(request(1).mode(Mode::swap), offer(2).mode(Mode::swap)));
  EXPECT_FALSE(meets(request(1).mode(Mode::swap), offer(2).mode(Mode::give)));
  EXPECT_TRUE(meets(request(1).mode(Mode::service), offer(2).mode(Mode::service)));
  EXPECT_FALSE(meets(request(1).mode(Mode::service), offer(2).mode(Mode::give)));
}

TEST(MatchingRules, offer_side_probe_finds_requests_with_the_same_mode_rule) {
  EXPECT_TRUE(meets(offer(1).mode(Mode::give), request(2).mode(Mode::lend)));
  EXPECT_FALSE(meets(offer(1).mode(Mode::lend), request(2).mode(Mode::give)));
}

TEST(MatchingRules, two_offers_never_match) {
  EXPECT_FALSE(meets(offer(1), offer(2)));
}

TEST(MatchingRules, distance_must_be_within_the_reach_of_both_sides) {
  const GeoPoint two_km_north = moved(kLille, 2000);
  EXPECT_TRUE(meets(request(1).reach(3000), offer(2).at(two_km_north).reach(3000)));
  EXPECT_FALSE(meets(request(1).reach(1000), offer(2).at(two_km_north).reach(5000)));
  EXPECT_FALSE(meets(request(1).reach(5000), offer(2).at(two_km_north).reach(1000)));
}

TEST(MatchingRules, a_listing_at_a_site_is_placed_at_the_site) {
  const GeoPoint home_far = moved(kLille, 20'000);
  const GeoPoint site_near = moved(kLille, 1000);
  EXPECT_FALSE(meets(request(1).reach(3000), offer(2).at(home_far).reach(3000)));
  EXPECT_TRUE(meets(request(1).reach(3000), offer(2).at(home_far).site(site_near).reach(3000)));
}

TEST(MatchingRules, windows_must_overlap) {
  const Listing probe = request(1).window(kNow, kNow + 2 * kDay);
  EXPECT_TRUE(meets(probe, offer(2).window(kNow + kDay, kNow + 5 * kDay)));
  EXPECT_FALSE(meets(probe, offer(2).window(kNow + 2 * kDay, kNow + 5 * kDay)));  // half-open
}

TEST(MatchingRules, expired_windows_never_match) {
  EXPECT_FALSE(meets(request(1), offer(2).window(kNow - 5 * kDay, kNow)));
  EXPECT_FALSE(meets(request(1).window(kNow - 5 * kDay, kNow), offer(2)));
}

TEST(MatchingRules, never_the_same_member) {
  EXPECT_FALSE(meets(request(1).member(7), offer(2).member(7)));
}

TEST(MatchingRules, inactive_listings_are_not_indexed_and_do_not_search) {
  Engine engine(small_tree());
  for (Status s : {Status::paused, Status::reserved, Status::closed, Status::expired}) {
    EXPECT_EQ(engine.upsert(offer(2).status(s)), UpsertOutcome::not_active);
    EXPECT_TRUE(engine.top_matches(request(1).status(s).build(), 20, kNow).empty());
  }
  EXPECT_EQ(engine.size(), 0u);
}

TEST(MatchingRules, invalid_listings_are_rejected_with_a_reason) {
  Engine engine(small_tree());
  EXPECT_EQ(engine.upsert(offer(1).category(9)), UpsertOutcome::rejected_category);
  EXPECT_EQ(engine.upsert(offer(1).at({80.0, 3.0})), UpsertOutcome::rejected_position);
  EXPECT_EQ(engine.upsert(offer(1).reach(kMaxReachM + 1)), UpsertOutcome::rejected_reach);
  EXPECT_EQ(engine.size(), 0u);
}

}  // namespace
}  // namespace maillon::matching
