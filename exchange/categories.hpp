// The category tree shared by offers, requests, search and matching: slugs clients rely on,
// French labels, and the ancestor relation that makes "perceuses" match "outils-et-bricolage".
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "exchange/validation.hpp"

namespace maillon {

// Whether a listing (and its category) is about an object or about someone's time.
enum class ListingKind { good, service };

std::string_view to_string(ListingKind kind);
std::optional<ListingKind> parse_listing_kind(std::string_view text);

// One row of the flat list the service reads from schemas/categories.json.
// An empty parent_slug marks a root.
struct CategoryRecord {
  std::string slug;
  std::string label;
  ListingKind kind = ListingKind::good;
  std::string parent_slug;
  bool operator==(const CategoryRecord&) const = default;
};

struct Category {
  std::string slug;
  std::string label;
  ListingKind kind = ListingKind::good;
  std::string parent_slug;  // empty for a root
  std::vector<std::string> children;
};

// Bounds: a tree is configuration, not user data, but it is still bounded.
inline constexpr std::size_t kCategoryCountMax = 1000;
inline constexpr std::size_t kCategorySlugLengthMax = 64;
inline constexpr std::size_t kCategoryDepthMax = 8;

struct CategoryTreeBuild;

// Immutable once built; lookups of unknown slugs answer "nothing" rather than failing.
class CategoryTree {
 public:
  // Validates unique slugs matching [a-z0-9-]+, known parents, no cycles, a kind equal to
  // the parent's, non-empty labels; keeps the records' order for children and roots.
  static CategoryTreeBuild build(const std::vector<CategoryRecord>& records);

  const Category* find(std::string_view slug) const;
  std::optional<ListingKind> kind_of(std::string_view slug) const;
  // True when `ancestor` is `slug` itself or lies on the path from `slug` to its root.
  bool is_ancestor_or_self(std::string_view ancestor, std::string_view slug) const;
  // Same category, or one is an ancestor of the other: the matching engine's compatibility.
  bool related(std::string_view a, std::string_view b) const;
  // Child slugs in file order; empty for a leaf or an unknown slug.
  const std::vector<std::string>& children(std::string_view slug) const;
  const std::vector<std::string>& roots() const { return roots_; }
  // `slug` followed by all its descendants (depth first): a search filter on a category
  // also finds listings filed under its children. Empty for an unknown slug.
  std::vector<std::string> self_and_descendants(std::string_view slug) const;
  std::size_t size() const { return categories_.size(); }

 private:
  CategoryTree() = default;
  void append_subtree(std::size_t index, std::vector<std::string>& out) const;

  std::vector<Category> categories_;
  std::map<std::string, std::size_t, std::less<>> index_by_slug_;
  std::vector<std::string> roots_;
};

struct CategoryTreeBuild {
  std::optional<CategoryTree> tree;  // set only when errors is empty
  FieldErrors errors;                // fields are "categories[i].slug", ".parent_slug", ...
};

}  // namespace maillon
