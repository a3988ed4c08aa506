// Impact figures: item events folded into one row per site and UTC day, by hand-counted
// example.
#include <gtest/gtest.h>

#include <vector>

#include "depot_builders.hpp"

namespace maillon::test {
namespace {

TEST(DepotImpact, a_scripted_fortnight_adds_up_to_the_hand_counted_rows) {
  using K = ItemEventKind;
  const std::vector<ItemEvent> events = {
      {K::intake, "site-b", kT0 + 9 * kHour, 1'000, {}},
      {K::intake, "site-a", kT0 + 10 * kHour, 2'000, {}},
      {K::intake, "site-a", kT0 + 11 * kHour, 500, {}},
      {K::collected, "site-a", kT0 + kDay - 1, 2'000, {}},
      {K::lent, "site-a", kT0 + kDay, 3'000, {}},
      {K::returned, "site-a", kT0 + kDay + 5, 3'000, {}},
      {K::redirected, "site-a", kT0 + kDay + 6, 500, RedirectOutlet::recycle},
      {K::redirected, "site-a", kT0 + kDay + 7, 700, RedirectOutlet::waste},
      {K::redirected, "site-a", kT0 + kDay + 8, 300, RedirectOutlet::reuse},
      {K::collected, "site-b", kT0 + 14 * kDay, 1'000, {}},
  };
  const std::vector<ImpactRow> rows = aggregate_impact(events);
  const std::vector<ImpactRow> expected = {
      {"site-a", kT0, {2, 1, 2'000, 0, 0, 0, 0}},
      {"site-a", kT0 + kDay, {0, 0, 0, 300, 500, 700, 1}},
      {"site-b", kT0, {1, 0, 0, 0, 0, 0, 0}},
      {"site-b", kT0 + 14 * kDay, {0, 1, 1'000, 0, 0, 0, 0}},
  };
  EXPECT_EQ(rows, expected);
}

TEST(DepotImpact, no_events_no_rows) {
  EXPECT_TRUE(aggregate_impact({}).empty());
}

TEST(DepotImpact, transitions_emit_the_events_the_figures_need) {
  DepotItem item = taken_in();
  std::vector<ItemEvent> events = {
      *intake_item(intake(), categories(), CommunityPolicy{}, kT0).impact};
  events.push_back(*collect_item(item, "member-1", kT0 + kHour).impact);
  const std::vector<ImpactRow> rows = aggregate_impact(events);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].figures.items_in, 1);
  EXPECT_EQ(rows[0].figures.items_reused, 1);
  EXPECT_EQ(rows[0].figures.reused_g, 2'500);
}

}  // namespace
}  // namespace maillon::test
