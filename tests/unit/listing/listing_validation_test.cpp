// Validation of a new listing: each rule of the contract refuses with the field it names.
#include <gtest/gtest.h>

#include <cmath>

#include "unit/listing/listing_builders.hpp"

namespace maillon {
namespace {

using testing::fields_of;
using testing::good_draft;
using testing::kDayS;
using testing::kNowS;
using testing::service_draft;
using Fields = std::vector<std::string>;

Fields refused_fields(const ListingDraft& draft) {
  static const CategoryTree tree = testing::small_tree();
  return fields_of(validate_new_listing(draft, tree, kNowS));
}

TEST(ListingValidation, valid_good_and_service_drafts_pass) {
  EXPECT_EQ(refused_fields(good_draft()), Fields{});
  EXPECT_EQ(refused_fields(service_draft()), Fields{});
}

TEST(ListingValidation, missing_required_fields_are_each_named) {
  ListingDraft d;
  d.site_id = testing::kSiteId;
  EXPECT_EQ(refused_fields(d), (Fields{"kind", "mode", "category", "title"}));
}

TEST(ListingValidation, title_shorter_than_three_characters_after_trim_is_refused) {
  ListingDraft d = good_draft();
  d.title = "   ab   ";
  EXPECT_EQ(refused_fields(d), Fields{"title"});
}

TEST(ListingValidation, title_length_counts_characters_not_bytes) {
  ListingDraft d = good_draft();
  d.title = "éàü";  // 3 characters, 6 bytes
  EXPECT_EQ(refused_fields(d), Fields{});
  std::string accented;
  for (int i = 0; i < 120; ++i) accented += "é";  // 240 bytes
  d.title = accented;
  EXPECT_EQ(refused_fields(d), Fields{});
  d.title = accented + "é";
  EXPECT_EQ(refused_fields(d), Fields{"title"});
}

TEST(ListingValidation, title_with_invalid_utf8_or_control_characters_is_refused) {
  ListingDraft d = good_draft();
  d.title = "Perceuse \xC3";
  EXPECT_EQ(refused_fields(d), Fields{"title"});
  d.title = "Perceuse\nà prêter";
  EXPECT_EQ(refused_fields(d), Fields{"title"});
}

TEST(ListingValidation, description_above_4000_characters_is_refused) {
  ListingDraft d = good_draft();
  d.description = std::string(4000, 'a');
  EXPECT_EQ(refused_fields(d), Fields{});
  d.description = std::string(4001, 'a');
  EXPECT_EQ(refused_fields(d), Fields{"description"});
}

TEST(ListingValidation, more_than_ten_tags_are_refused) {
  ListingDraft d = good_draft();
  d.tags = std::vector<std::string>(11, "x");
  EXPECT_EQ(refused_fields(d), Fields{"tags"});
}

TEST(ListingValidation, empty_long_or_repeated_tag_is_named_by_index) {
  ListingDraft d = good_draft();
  d.tags = std::vector<std::string>{"ok", "  ", std::string(31, 'a'), "ok"};
  EXPECT_EQ(refused_fields(d), (Fields{"tags[1]", "tags[2]", "tags[3]"}));
}

TEST(ListingValidation, unknown_category_is_refused) {
  ListingDraft d = good_draft();
  d.category = "fusees";
  EXPECT_EQ(refused_fields(d), Fields{"category"});
}

TEST(ListingValidation, category_of_the_other_kind_is_refused) {
  ListingDraft d = good_draft();
  d.category = "services-bricolage";
  EXPECT_EQ(refused_fields(d), Fields{"category"});
  ListingDraft s = service_draft();
  s.category = "outils-et-bricolage";
  EXPECT_EQ(refused_fields(s), Fields{"category"});
}

TEST(ListingValidation, unknown_kind_or_mode_value_is_refused) {
  ListingDraft d = good_draft();
  d.kind = "object";
  d.mode = "sell";
  EXPECT_EQ(refused_fields(d), (Fields{"kind", "mode"}));
}

TEST(ListingValidation, good_with_service_mode_is_refused_on_mode) {
  ListingDraft d = good_draft();
  d.mode = "service";
  EXPECT_EQ(refused_fields(d), Fields{"mode"});
}

TEST(ListingValidation, service_with_a_goods_mode_is_refused_on_mode) {
  ListingDraft d = service_draft();
  d.mode = "give";
  EXPECT_EQ(refused_fields(d), Fields{"mode"});
}

TEST(ListingValidation, service_without_duration_is_refused) {
  ListingDraft d = service_draft();
  d.duration_minutes.reset();
  EXPECT_EQ(refused_fields(d), Fields{"duration_minutes"});
}

TEST(ListingValidation, duration_outside_15_to_1440_minutes_is_refused) {
  ListingDraft d = service_draft();
  for (int64_t ok : {15, 1440}) {
    d.duration_minutes = ok;
    EXPECT_EQ(refused_fields(d), Fields{}) << ok;
  }
  for (int64_t bad : {14, 1441, -60}) {
    d.duration_minutes = bad;
    EXPECT_EQ(refused_fields(d), Fields{"duration_minutes"}) << bad;
  }
}

TEST(ListingValidation, negative_or_unbounded_price_is_refused) {
  ListingDraft d = good_draft();
  for (int64_t ok : {int64_t{0}, kPriceMinutesMax}) {
    d.price_minutes = ok;
    EXPECT_EQ(refused_fields(d), Fields{}) << ok;
  }
  for (int64_t bad : {int64_t{-1}, kPriceMinutesMax + 1}) {
    d.price_minutes = bad;
    EXPECT_EQ(refused_fields(d), Fields{"price_minutes"}) << bad;
  }
}

TEST(ListingValidation, reach_outside_a_tenth_to_fifty_km_is_refused) {
  ListingDraft d = good_draft();
  for (double ok : {0.1, 50.0}) {
    d.reach_km = ok;
    EXPECT_EQ(refused_fields(d), Fields{}) << ok;
  }
  for (double bad : {0.0, 50.5, std::nan("")}) {
    d.reach_km = bad;
    EXPECT_EQ(refused_fields(d), Fields{"reach_km"}) << bad;
  }
}

TEST(ListingValidation, latitude_and_longitude_out_of_range_are_named_apart) {
  ListingDraft d = good_draft();
  d.location = ListingLocation{90.5, 3.0};
  EXPECT_EQ(refused_fields(d), Fields{"location.lat"});
  d.location = ListingLocation{50.6, -180.5};
  EXPECT_EQ(refused_fields(d), Fields{"location.lon"});
  d.location = ListingLocation{std::nan(""), INFINITY};
  EXPECT_EQ(refused_fields(d), (Fields{"location.lat", "location.lon"}));
}

TEST(ListingValidation, listing_without_location_or_site_is_refused) {
  ListingDraft d = good_draft();
  d.location.reset();
  EXPECT_EQ(refused_fields(d), Fields{"location"});
  d.site_id = testing::kSiteId;
  EXPECT_EQ(refused_fields(d), Fields{});
}

TEST(ListingValidation, site_id_that_is_not_a_uuid_is_refused) {
  ListingDraft d = service_draft();
  d.site_id = "hellemmes";
  EXPECT_EQ(refused_fields(d), Fields{"site_id"});
}

TEST(ListingValidation, availability_window_must_be_ordered) {
  ListingDraft d = good_draft();
  d.available_from_s = kNowS + 10 * kDayS;
  d.available_until_s = kNowS + 10 * kDayS;
  EXPECT_EQ(refused_fields(d), Fields{"available_until"});
}

TEST(ListingValidation, availability_ending_in_the_past_is_refused) {
  ListingDraft d = good_draft();
  d.available_from_s.reset();
  d.available_until_s = kNowS;
  EXPECT_EQ(refused_fields(d), Fields{"available_until"});
}

TEST(ListingValidation, availability_beyond_two_years_is_refused) {
  ListingDraft d = good_draft();
  d.available_until_s = kNowS + 800 * kDayS;
  EXPECT_EQ(refused_fields(d), Fields{"available_until"});
  d.available_until_s.reset();
  d.available_from_s = kNowS + 800 * kDayS;
  EXPECT_EQ(refused_fields(d), Fields{"available_from"});
}

TEST(ListingValidation, more_than_six_photos_are_refused) {
  ListingDraft d = good_draft();
  d.photos = std::vector<std::string>(7, "3f2504e0-4f89-41d3-9a0c-0305e82c3301");
  EXPECT_EQ(refused_fields(d), Fields{"photos"});
}

// Photos are the ids POST /v1/photos gives (canonical lower-case UUIDs), never URLs.
TEST(ListingValidation, photo_that_is_not_a_photo_id_is_named_by_index) {
  ListingDraft d = good_draft();
  d.photos = std::vector<std::string>{
      "3f2504e0-4f89-41d3-9a0c-0305e82c3301",
      "https://photos.example.org/b.jpg",
      "3F2504E0-4F89-41D3-9A0C-0305E82C3301",
      "3f2504e0-4f89-41d3-9a0c-0305e82c330",
      "../../etc/passwd",
  };
  EXPECT_EQ(refused_fields(d), (Fields{"photos[1]", "photos[2]", "photos[3]", "photos[4]"}));
}

TEST(ListingValidation, messages_are_in_french) {
  ListingDraft d = good_draft();
  d.title.reset();
  FieldErrors errors = validate_new_listing(d, testing::small_tree(), kNowS);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].message, "est obligatoire");
}

TEST(ListingValidation, utf8_code_points_refuses_malformed_sequences) {
  EXPECT_EQ(utf8_code_points("vélo"), 4u);
  EXPECT_EQ(utf8_code_points("🚲"), 1u);
  EXPECT_EQ(utf8_code_points(""), 0u);
  EXPECT_EQ(utf8_code_points("\xC0\xAF"), std::nullopt);          // overlong '/'
  EXPECT_EQ(utf8_code_points("\xED\xA0\x80"), std::nullopt);      // surrogate
  EXPECT_EQ(utf8_code_points("\xF4\x90\x80\x80"), std::nullopt);  // past U+10FFFF
  EXPECT_EQ(utf8_code_points("\xE2\x82"), std::nullopt);          // truncated
  EXPECT_EQ(utf8_code_points("\x80"), std::nullopt);              // lone continuation
}

TEST(ListingCreate, create_listing_trims_and_applies_defaults) {
  ListingDraft d = service_draft();
  d.title = "  Aide aux devoirs  ";
  d.tags = std::vector<std::string>{" maths "};
  Listing l = create_listing(d, {"id-1", ListingSide::request, "m-1", "c-1"}, kNowS);
  EXPECT_EQ(l.title, "Aide aux devoirs");
  EXPECT_EQ(l.tags, std::vector<std::string>{"maths"});
  EXPECT_EQ(l.side, ListingSide::request);
  EXPECT_EQ(l.status, ListingStatus::active);
  EXPECT_EQ(l.kind, ListingKind::service);
  EXPECT_EQ(l.mode, ListingMode::service);
  EXPECT_DOUBLE_EQ(l.reach_km, kReachKmDefault);
  EXPECT_EQ(l.price_minutes, 0);
  EXPECT_EQ(l.description, "");
  EXPECT_EQ(l.created_at_s, kNowS);
  EXPECT_EQ(l.updated_at_s, kNowS);
  EXPECT_EQ(l.member_id, "m-1");
}

}  // namespace
}  // namespace maillon
