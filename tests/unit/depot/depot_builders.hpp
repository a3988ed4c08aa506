// Builders for depot tests: a small category tree, an intake form and items already taken in.
#pragma once

#include <cstdint>
#include <string>

#include "exchange/categories.hpp"
#include "exchange/depot.hpp"

namespace maillon::test {

inline constexpr int64_t kT0 = 1'700'006'400;  // 2023-11-15T00:00:00Z, a midnight UTC
inline constexpr int64_t kHour = 3600;
inline constexpr int64_t kDay = 24 * kHour;

inline const CategoryTree& categories() {
  static const CategoryTree tree =
      *CategoryTree::build({{"bricolage", "Bricolage", ListingKind::good, ""},
                            {"perceuses", "Perceuses", ListingKind::good, "bricolage"},
                            {"cours", "Cours", ListingKind::service, ""}})
           .tree;
  return tree;
}

inline ItemIntake intake(std::string mode = "give", std::string id = "item-1") {
  ItemIntake in;
  in.id = std::move(id);
  in.site_id = "site-1";
  in.category = "perceuses";
  in.title = "Perceuse à percussion";
  in.condition = "good";
  in.weight_g = 2'500;
  in.mode = std::move(mode);
  in.dropped_by_member_id = "depositor-1";
  in.photos = {"3f2504e0-4f89-41d3-9a0c-0305e82c3301"};
  return in;
}

inline DepotItem taken_in(std::string mode = "give", int64_t at_s = kT0) {
  return intake_item(intake(std::move(mode)), categories(), CommunityPolicy{}, at_s).item;
}

inline DepotItem reserved_by(const std::string& member_id, std::string mode = "give") {
  DepotItem item = taken_in(std::move(mode));
  reserve_item(item, member_id, {}, CommunityPolicy{}, kT0 + kHour);
  return item;
}

inline DepotItem lent_to(const std::string& member_id, int64_t due_at_s = kT0 + 8 * kDay) {
  DepotItem item = taken_in("lend");
  lend_item(item, member_id, due_at_s, {}, CommunityPolicy{}, kT0 + kHour);
  return item;
}

}  // namespace maillon::test
