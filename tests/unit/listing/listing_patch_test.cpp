// PATCH of a listing: the same rules on the merged result, the status field, the fields a
// client may send, and the merged listing apply_patch produces.
#include <gtest/gtest.h>

#include "unit/listing/listing_builders.hpp"

namespace maillon {
namespace {

using testing::fields_of;
using testing::good_draft;
using testing::kDayS;
using testing::kNowS;
using testing::service_draft;
using testing::stored;
using Fields = std::vector<std::string>;
using Outcome = ListingTransitionOutcome;

Fields refused_patch_fields(const Listing& current, const ListingPatch& patch) {
  static const CategoryTree tree = testing::small_tree();
  return fields_of(validate_patch(current, patch, tree, kNowS + kDayS));
}

TEST(ListingPatch, empty_patch_of_a_valid_listing_passes) {
  EXPECT_EQ(refused_patch_fields(stored(good_draft()), {}), Fields{});
}

TEST(ListingPatch, patch_is_checked_on_the_merged_listing) {
  Listing current = stored(good_draft());
  ListingPatch patch;
  patch.kind = "service";  // a drill lent as a "service" with no duration nor service category
  EXPECT_EQ(refused_patch_fields(current, patch), (Fields{"mode", "duration_minutes", "category"}));
  patch.mode = "service";
  patch.category = "services-bricolage";
  patch.duration_minutes = std::optional<int64_t>{90};
  EXPECT_EQ(refused_patch_fields(current, patch), Fields{});
}

TEST(ListingPatch, clearing_the_only_place_is_refused) {
  ListingPatch patch;
  patch.location = std::optional<ListingLocation>{};
  EXPECT_EQ(refused_patch_fields(stored(good_draft()), patch), Fields{"location"});
}

TEST(ListingPatch, clearing_a_service_duration_is_refused) {
  ListingPatch patch;
  patch.duration_minutes = std::optional<int64_t>{};
  EXPECT_EQ(refused_patch_fields(stored(service_draft()), patch), Fields{"duration_minutes"});
}

TEST(ListingPatch, short_title_in_a_patch_is_refused) {
  ListingPatch patch;
  patch.title = "ab";
  EXPECT_EQ(refused_patch_fields(stored(good_draft()), patch), Fields{"title"});
}

TEST(ListingPatch, status_may_only_be_paused_or_active) {
  Listing current = stored(good_draft());
  for (const char* ok : {"paused", "active"}) {
    ListingPatch patch;
    patch.status = ok;
    EXPECT_EQ(refused_patch_fields(current, patch), Fields{}) << ok;
  }
  for (const char* bad : {"closed", "reserved", "expired", "deleted"}) {
    ListingPatch patch;
    patch.status = bad;
    EXPECT_EQ(refused_patch_fields(current, patch), Fields{"status"}) << bad;
  }
}

TEST(ListingPatch, pausing_a_reserved_listing_is_a_conflict) {
  Listing current = stored(good_draft());
  current.status = ListingStatus::reserved;
  ListingPatch patch;
  patch.status = "paused";
  EXPECT_EQ(patch_transition(current, patch).outcome, Outcome::rejected);
}

TEST(ListingPatch, editing_a_closed_listing_is_a_conflict) {
  Listing current = stored(good_draft());
  current.status = ListingStatus::closed;
  ListingPatch patch;
  patch.title = "Perceuse sans fil";
  EXPECT_EQ(patch_transition(current, patch).outcome, Outcome::rejected);
}

TEST(ListingPatch, expired_listing_resumes_when_its_window_is_extended) {
  Listing current = stored(good_draft());
  current.status = ListingStatus::expired;
  current.available_until_s = kNowS - kDayS;
  ListingPatch patch;
  patch.status = "active";
  EXPECT_EQ(refused_patch_fields(current, patch), Fields{"available_until"});
  patch.available_until_s = std::optional<int64_t>{kNowS + 7 * kDayS};
  EXPECT_EQ(refused_patch_fields(current, patch), Fields{});
  EXPECT_EQ(patch_transition(current, patch),
            (ListingTransitionResult{Outcome::changed, ListingStatus::active}));
  EXPECT_EQ(apply_patch(current, patch, kNowS).status, ListingStatus::active);
}

TEST(ListingPatch, apply_patch_merges_keeps_identity_and_stamps_update) {
  Listing current = stored(good_draft(), ListingSide::request);
  ListingPatch patch;
  patch.title = "  Perceuse sans fil ";
  patch.site_id = std::optional<std::string>{testing::kSiteId};
  patch.location = std::optional<ListingLocation>{};
  patch.available_until_s = std::optional<int64_t>{};
  patch.status = "paused";
  Listing next = apply_patch(current, patch, kNowS + 60);

  Listing expected = current;
  expected.title = "Perceuse sans fil";
  expected.site_id = testing::kSiteId;
  expected.location.reset();
  expected.available_until_s.reset();
  expected.status = ListingStatus::paused;
  expected.updated_at_s = kNowS + 60;
  EXPECT_EQ(next, expected);
}

TEST(ListingFields, member_id_and_status_on_create_are_refused_as_read_only) {
  std::vector<std::string> keys = {"title", "member_id", "status", "id", "created_at"};
  FieldErrors errors = refuse_unsettable_fields(keys, ListingWrite::create);
  EXPECT_EQ(fields_of(errors), (Fields{"member_id", "status", "id", "created_at"}));
  EXPECT_EQ(errors[0].message, "ne peut pas être défini par le client");
}

TEST(ListingFields, unknown_field_is_refused) {
  std::vector<std::string> keys = {"colour"};
  FieldErrors errors = refuse_unsettable_fields(keys, ListingWrite::create);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0], (FieldError{"colour", "champ inconnu"}));
}

TEST(ListingFields, status_is_settable_on_patch_but_member_id_is_not) {
  std::vector<std::string> keys = {"status", "title", "member_id"};
  EXPECT_EQ(fields_of(refuse_unsettable_fields(keys, ListingWrite::patch)), Fields{"member_id"});
}

TEST(ListingFields, every_contract_body_field_is_creatable) {
  std::vector<std::string> keys = {"kind",
                                   "mode",
                                   "category",
                                   "title",
                                   "description",
                                   "tags",
                                   "location",
                                   "site_id",
                                   "reach_km",
                                   "price_minutes",
                                   "duration_minutes",
                                   "available_from",
                                   "available_until",
                                   "photos",
                                   "deposit_minutes",
                                   "capacity",
                                   "visibility"};
  EXPECT_TRUE(refuse_unsettable_fields(keys, ListingWrite::create).empty());
  EXPECT_EQ(creatable_fields().size(), keys.size());
  EXPECT_EQ(patchable_fields().size(), keys.size() + 1);
}

}  // namespace
}  // namespace maillon
