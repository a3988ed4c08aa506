// Fixtures for the listing tests: a small category tree, valid drafts of each kind, and a
// helper that lists the fields a refusal names.
#pragma once

#include <string>
#include <vector>

#include "exchange/categories.hpp"
#include "exchange/listing.hpp"

namespace maillon::testing {

inline constexpr int64_t kNowS = 1'750'000'000;  // June 2025
inline constexpr int64_t kDayS = 24 * 3600;
inline const std::string kSiteId = "3f2a9c1e-5b7d-4e21-9a0f-1c2d3e4f5a6b";

inline std::vector<CategoryRecord> small_tree_records() {
  using K = ListingKind;
  return {
      {"biens", "Biens", K::good, ""},
      {"outils-et-bricolage", "Outils et bricolage", K::good, "biens"},
      {"perceuses", "Perceuses et visseuses", K::good, "outils-et-bricolage"},
      {"echelles", "Échelles", K::good, "outils-et-bricolage"},
      {"jardin", "Jardin", K::good, "biens"},
      {"services", "Services", K::service, ""},
      {"aide-aux-devoirs", "Aide aux devoirs", K::service, "services"},
      {"services-bricolage", "Bricolage", K::service, "services"},
  };
}

inline CategoryTree small_tree() {
  CategoryTreeBuild build = CategoryTree::build(small_tree_records());
  return std::move(*build.tree);
}

// "Perceuse à prêter à Lille": every optional field set to a valid value.
inline ListingDraft good_draft() {
  ListingDraft d;
  d.kind = "good";
  d.mode = "lend";
  d.category = "perceuses";
  d.title = "Perceuse à percussion";
  d.description = "Bosch 750 W, avec mèches.\nÀ rendre propre.";
  d.tags = std::vector<std::string>{"perceuse", "béton"};
  d.location = ListingLocation{50.6292, 3.0573};
  d.reach_km = 3;
  d.price_minutes = 30;
  d.available_from_s = kNowS - kDayS;
  d.available_until_s = kNowS + 30 * kDayS;
  d.photos = std::vector<std::string>{"3f2504e0-4f89-41d3-9a0c-0305e82c3301"};
  return d;
}

// "Aide aux devoirs" handed over at a site, with only the required fields.
inline ListingDraft service_draft() {
  ListingDraft d;
  d.kind = "service";
  d.mode = "service";
  d.category = "aide-aux-devoirs";
  d.title = "Aide aux devoirs de maths";
  d.duration_minutes = 60;
  d.site_id = kSiteId;
  return d;
}

inline Listing stored(const ListingDraft& draft, ListingSide side = ListingSide::offer) {
  return create_listing(draft, {"listing-1", side, "member-1", "community-1"}, kNowS);
}

inline std::vector<std::string> fields_of(const FieldErrors& errors) {
  std::vector<std::string> fields;
  for (const FieldError& e : errors) fields.push_back(e.field);
  return fields;
}

}  // namespace maillon::testing
