// Visibility across communities (issue 23): a listing crosses to a linked community only when it
// says so, is active, the link is active and the reader is within both sides' reach.
#include <gtest/gtest.h>

#include "unit/listing/listing_builders.hpp"

namespace maillon {
namespace {

using testing::fields_of;
using testing::good_draft;
using testing::kNowS;
using Fields = std::vector<std::string>;

const std::string kHome = "11111111-1111-4111-8111-111111111111";
const std::string kPartner = "22222222-2222-4222-8222-222222222222";

Listing listing_of(const ListingDraft& draft) {
  return create_listing(draft, {"l-1", ListingSide::offer, "m-1", kHome}, kNowS);
}

Listing with_visibility(ListingVisibility visibility) {
  Listing l = listing_of(good_draft());  // reach 3 km
  l.visibility = visibility;
  return l;
}

TEST(ListingVisibility, names_round_trip_and_unknown_is_refused) {
  for (auto v :
       {ListingVisibility::community, ListingVisibility::federation, ListingVisibility::public_}) {
    EXPECT_EQ(parse_listing_visibility(to_string(v)), v);
  }
  EXPECT_EQ(to_string(ListingVisibility::public_), "public");
  EXPECT_EQ(parse_listing_visibility("monde"), std::nullopt);
}

TEST(ListingVisibility, a_new_listing_stays_in_its_community_by_default) {
  EXPECT_EQ(listing_of(good_draft()).visibility, ListingVisibility::community);
  ListingDraft d = good_draft();
  d.visibility = "federation";
  EXPECT_EQ(listing_of(d).visibility, ListingVisibility::federation);
}

TEST(ListingVisibility, an_unknown_value_is_refused_in_french_on_create_and_patch) {
  static const CategoryTree tree = testing::small_tree();
  ListingDraft d = good_draft();
  d.visibility = "everyone";
  FieldErrors errors = validate_new_listing(d, tree, kNowS);
  ASSERT_EQ(fields_of(errors), Fields{"visibility"});
  EXPECT_EQ(errors[0].message, "doit valoir « community », « federation » ou « public »");
  ListingPatch p;
  p.visibility = "Public";
  EXPECT_EQ(fields_of(validate_patch(listing_of(good_draft()), p, tree, kNowS)),
            Fields{"visibility"});
}

TEST(ListingVisibility, a_patch_changes_the_visibility_and_keeps_it_otherwise) {
  static const CategoryTree tree = testing::small_tree();
  ListingPatch p;
  p.visibility = "public";
  Listing current = listing_of(good_draft());
  ASSERT_EQ(fields_of(validate_patch(current, p, tree, kNowS)), Fields{});
  Listing next = apply_patch(current, p, kNowS + 10);
  EXPECT_EQ(next.visibility, ListingVisibility::public_);
  ListingPatch title_only;
  title_only.title = "Perceuse sans fil";
  EXPECT_EQ(apply_patch(next, title_only, kNowS + 20).visibility, ListingVisibility::public_);
}

TEST(ListingVisibility, its_own_community_always_sees_it) {
  Listing l = with_visibility(ListingVisibility::community);
  EXPECT_TRUE(visible_to_community(l, kHome, false, std::nullopt, 0));
}

TEST(ListingVisibility, a_community_listing_never_crosses_even_when_linked_and_near) {
  Listing l = with_visibility(ListingVisibility::community);
  EXPECT_FALSE(visible_to_community(l, kPartner, true, 100.0, 5000));
}

TEST(ListingVisibility, federation_and_public_cross_an_active_link_within_both_reaches) {
  for (auto v : {ListingVisibility::federation, ListingVisibility::public_}) {
    Listing l = with_visibility(v);
    EXPECT_TRUE(visible_to_community(l, kPartner, true, 2500.0, 5000));
    EXPECT_FALSE(visible_to_community(l, kPartner, false, 2500.0, 5000)) << "no active link";
    EXPECT_FALSE(visible_to_community(l, kPartner, true, 2500.0, 2000)) << "reader's reach";
    EXPECT_FALSE(visible_to_community(l, kPartner, true, 3500.0, 5000)) << "listing's reach";
    EXPECT_FALSE(visible_to_community(l, kPartner, true, std::nullopt, 5000)) << "no point";
  }
}

TEST(ListingVisibility, only_an_active_listing_crosses) {
  Listing l = with_visibility(ListingVisibility::federation);
  for (auto status : {ListingStatus::paused, ListingStatus::reserved, ListingStatus::closed,
                      ListingStatus::expired}) {
    l.status = status;
    EXPECT_FALSE(visible_to_community(l, kPartner, true, 100.0, 5000)) << to_string(status);
  }
}

}  // namespace
}  // namespace maillon
