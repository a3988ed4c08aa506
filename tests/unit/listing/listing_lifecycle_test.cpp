// The listing status lifecycle: every (status, event) pair against the expected result,
// expiry, and the names the API and the events use.
#include <gtest/gtest.h>

#include "unit/listing/listing_builders.hpp"

namespace maillon {
namespace {

using S = ListingStatus;
using E = ListingEvent;
using O = ListingTransitionOutcome;

struct Row {
  S from;
  E event;
  O outcome;
  S to;
};

// The whole table: 5 statuses x 8 events.
const std::vector<Row> kTable = {
    {S::active, E::owner_pause, O::changed, S::paused},
    {S::active, E::owner_resume, O::unchanged, S::active},
    {S::active, E::owner_close, O::changed, S::closed},
    {S::active, E::staff_close, O::changed, S::closed},
    {S::active, E::expire, O::changed, S::expired},
    {S::active, E::exchange_reserved, O::changed, S::reserved},
    {S::active, E::exchange_released, O::unchanged, S::active},
    {S::active, E::exchange_completed, O::changed, S::closed},
    {S::paused, E::owner_pause, O::unchanged, S::paused},
    {S::paused, E::owner_resume, O::changed, S::active},
    {S::paused, E::owner_close, O::changed, S::closed},
    {S::paused, E::staff_close, O::changed, S::closed},
    {S::paused, E::expire, O::changed, S::expired},
    {S::paused, E::exchange_reserved, O::changed, S::reserved},
    {S::paused, E::exchange_released, O::unchanged, S::paused},
    {S::paused, E::exchange_completed, O::changed, S::closed},
    {S::reserved, E::owner_pause, O::rejected, S::reserved},
    {S::reserved, E::owner_resume, O::rejected, S::reserved},
    {S::reserved, E::owner_close, O::rejected, S::reserved},
    {S::reserved, E::staff_close, O::changed, S::closed},
    {S::reserved, E::expire, O::rejected, S::reserved},
    {S::reserved, E::exchange_reserved, O::unchanged, S::reserved},
    {S::reserved, E::exchange_released, O::changed, S::active},
    {S::reserved, E::exchange_completed, O::changed, S::closed},
    {S::closed, E::owner_pause, O::rejected, S::closed},
    {S::closed, E::owner_resume, O::rejected, S::closed},
    {S::closed, E::owner_close, O::unchanged, S::closed},
    {S::closed, E::staff_close, O::unchanged, S::closed},
    {S::closed, E::expire, O::rejected, S::closed},
    {S::closed, E::exchange_reserved, O::rejected, S::closed},
    {S::closed, E::exchange_released, O::rejected, S::closed},
    {S::closed, E::exchange_completed, O::unchanged, S::closed},
    {S::expired, E::owner_pause, O::rejected, S::expired},
    {S::expired, E::owner_resume, O::changed, S::active},
    {S::expired, E::owner_close, O::changed, S::closed},
    {S::expired, E::staff_close, O::changed, S::closed},
    {S::expired, E::expire, O::unchanged, S::expired},
    {S::expired, E::exchange_reserved, O::changed, S::reserved},
    {S::expired, E::exchange_released, O::unchanged, S::expired},
    {S::expired, E::exchange_completed, O::changed, S::closed},
};

TEST(ListingLifecycle, every_status_and_event_follows_the_table) {
  ASSERT_EQ(kTable.size(), 5u * 8u);
  for (const Row& row : kTable) {
    ListingTransitionResult result = transition(row.from, row.event);
    EXPECT_EQ(result, (ListingTransitionResult{row.outcome, row.to}))
        << to_string(row.from) << " + " << to_string(row.event);
  }
}

TEST(ListingLifecycle, resuming_a_closed_listing_is_rejected) {
  EXPECT_EQ(transition(S::closed, E::owner_resume).outcome, O::rejected);
}

TEST(ListingLifecycle, pausing_a_reserved_listing_is_rejected) {
  EXPECT_EQ(transition(S::reserved, E::owner_pause).outcome, O::rejected);
}

TEST(ListingLifecycle, cancelled_exchange_puts_the_listing_back_to_active) {
  EXPECT_EQ(transition(S::reserved, E::exchange_released).status, S::active);
}

TEST(ListingLifecycle, an_offered_service_is_neither_reserved_nor_closed_by_its_exchanges) {
  const Listing service = testing::stored(testing::service_draft());
  EXPECT_EQ(listing_event_of_exchange(service, E::exchange_reserved), std::nullopt);
  // One reserved before services stayed open is freed by its exchange, whatever the outcome.
  EXPECT_EQ(listing_event_of_exchange(service, E::exchange_released), E::exchange_released);
  EXPECT_EQ(listing_event_of_exchange(service, E::exchange_completed), E::exchange_released);
  EXPECT_EQ(transition(S::active, E::exchange_released).outcome, O::unchanged);
}

TEST(ListingLifecycle, other_listings_follow_their_exchanges) {
  ListingDraft given = testing::good_draft();
  given.mode = "give";
  const Listing gift = testing::stored(given);
  const Listing wanted_service =
      testing::stored(testing::service_draft(), ListingSide::request);  // a need, met once
  for (const Listing& l : {gift, wanted_service}) {
    for (E outcome : {E::exchange_reserved, E::exchange_released, E::exchange_completed}) {
      EXPECT_EQ(listing_event_of_exchange(l, outcome), outcome) << to_string(outcome);
    }
  }
}

TEST(ListingLifecycle, listing_expires_once_available_until_has_passed) {
  Listing l = testing::stored(testing::good_draft());
  l.available_until_s = testing::kNowS + 10;
  EXPECT_FALSE(is_expired(l, testing::kNowS + 9));
  EXPECT_TRUE(is_expired(l, testing::kNowS + 10));
  l.available_until_s.reset();
  EXPECT_FALSE(is_expired(l, testing::kNowS + 1'000'000'000));
  l.status = S::expired;
  EXPECT_TRUE(is_expired(l, testing::kNowS));
}

TEST(ListingNames, statuses_modes_sides_and_kinds_round_trip_through_their_names) {
  for (S s : {S::active, S::paused, S::reserved, S::closed, S::expired}) {
    EXPECT_EQ(parse_listing_status(to_string(s)), s);
  }
  for (ListingMode m :
       {ListingMode::give, ListingMode::lend, ListingMode::swap, ListingMode::service}) {
    EXPECT_EQ(parse_listing_mode(to_string(m)), m);
  }
  EXPECT_EQ(to_string(ListingSide::offer), "offer");
  EXPECT_EQ(to_string(ListingSide::request), "request");
  EXPECT_EQ(parse_listing_side("request"), ListingSide::request);
  EXPECT_EQ(parse_listing_kind(to_string(ListingKind::service)), ListingKind::service);
  EXPECT_EQ(parse_listing_status("Active"), std::nullopt);
  EXPECT_EQ(parse_listing_mode(""), std::nullopt);
}

}  // namespace
}  // namespace maillon
