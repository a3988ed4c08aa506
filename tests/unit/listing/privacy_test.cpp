// Privacy rounding of distances, and properties that no input crashes validation.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <cmath>

#include "unit/listing/listing_builders.hpp"

namespace maillon {
namespace {

TEST(DistanceBucket, rounds_up_to_100_m_below_one_km) {
  EXPECT_EQ(distance_bucket_m(0), 100);
  EXPECT_EQ(distance_bucket_m(-0.001), 100);
  EXPECT_EQ(distance_bucket_m(1), 100);
  EXPECT_EQ(distance_bucket_m(100), 100);
  EXPECT_EQ(distance_bucket_m(100.01), 200);
  EXPECT_EQ(distance_bucket_m(250), 300);
  EXPECT_EQ(distance_bucket_m(999.2), 1000);
  EXPECT_EQ(distance_bucket_m(1000), 1000);
}

TEST(DistanceBucket, rounds_up_to_500_m_from_one_km) {
  EXPECT_EQ(distance_bucket_m(1000.5), 1500);
  EXPECT_EQ(distance_bucket_m(1001), 1500);
  EXPECT_EQ(distance_bucket_m(1500), 1500);
  EXPECT_EQ(distance_bucket_m(1501), 2000);
  EXPECT_EQ(distance_bucket_m(12'345), 12'500);
}

rc::Gen<double> distances_m() {
  // Mostly short (where the steps change), sometimes up to the Earth's half girth.
  return rc::gen::oneOf(
      rc::gen::map(rc::gen::inRange(0, 3'000'000), [](int tenth_mm) { return tenth_mm / 1000.0; }),
      rc::gen::map(rc::gen::inRange(0, 20'000'000), [](int m) { return m + 0.5; }));
}

RC_GTEST_PROP(DistanceBucket, is_at_least_the_exact_distance_and_monotonic, ()) {
  double a = *distances_m();
  double b = *distances_m();
  if (a > b) std::swap(a, b);
  RC_ASSERT(static_cast<double>(distance_bucket_m(a)) >= a);
  RC_ASSERT(distance_bucket_m(a) <= distance_bucket_m(b));
  RC_ASSERT(distance_bucket_m(a) % 100 == 0);
}

// Any combination of valid, absent and hostile values yields field errors, never a crash.
// Each field keeps the valid draft's value half of the time, so valid drafts occur too.
template <class T>
std::optional<T> draw_field(const std::optional<T>& valid, const rc::Gen<T>& hostile) {
  int pick = *rc::gen::inRange(0, 4);
  if (pick < 2) return valid;
  if (pick == 2) return std::nullopt;
  return *hostile;
}

rc::Gen<std::string> texts() {
  return rc::gen::oneOf(
      rc::gen::arbitrary<std::string>(),
      rc::gen::element<std::string>("good", "service", "give", "lend", "swap", "perceuses",
                                    "aide-aux-devoirs", "biens", testing::kSiteId, "é", "\xF0\x9F",
                                    "https://x.org/p.jpg"));
}

rc::Gen<double> doubles() {
  return rc::gen::oneOf(
      rc::gen::arbitrary<double>(),
      rc::gen::element(std::nan(""), INFINITY, -INFINITY, 0.0, 5.0, -90.0, 180.0));
}

RC_GTEST_PROP(ListingValidationProperty, never_crashes_and_valid_drafts_build, ()) {
  static const CategoryTree tree = testing::small_tree();
  const ListingDraft valid = *rc::gen::element(testing::good_draft(), testing::service_draft());
  const auto tag_lists = rc::gen::container<std::vector<std::string>>(texts());
  const auto integers = rc::gen::arbitrary<int64_t>();
  ListingDraft d;
  d.kind = draw_field(valid.kind, texts());
  d.mode = draw_field(valid.mode, texts());
  d.category = draw_field(valid.category, texts());
  d.title = draw_field(valid.title, texts());
  d.description = draw_field(valid.description, texts());
  d.tags = draw_field(valid.tags, tag_lists);
  auto lat = draw_field<double>(valid.location ? std::optional(valid.location->lat) : std::nullopt,
                                doubles());
  auto lon = draw_field<double>(valid.location ? std::optional(valid.location->lon) : std::nullopt,
                                doubles());
  d.location = lat && lon ? std::optional(ListingLocation{*lat, *lon}) : std::nullopt;
  d.site_id = draw_field(valid.site_id, texts());
  d.reach_km = draw_field(valid.reach_km, doubles());
  d.price_minutes = draw_field(valid.price_minutes, integers);
  d.duration_minutes = draw_field(valid.duration_minutes, integers);
  d.available_from_s = draw_field(valid.available_from_s, integers);
  d.available_until_s = draw_field(valid.available_until_s, integers);
  d.photos = draw_field(valid.photos, tag_lists);
  int64_t now_s = testing::kNowS + *rc::gen::inRange<int64_t>(-testing::kDayS, testing::kDayS);

  FieldErrors errors = validate_new_listing(d, tree, now_s);
  for (const FieldError& e : errors) RC_ASSERT(!e.field.empty() && !e.message.empty());
  RC_CLASSIFY(errors.empty(), "valid");
  if (errors.empty()) {
    Listing l = create_listing(d, {"id", ListingSide::offer, "m", "c"}, now_s);
    RC_ASSERT(l.status == ListingStatus::active);
    RC_ASSERT(tree.kind_of(l.category) == l.kind);
  }
}

}  // namespace
}  // namespace maillon
