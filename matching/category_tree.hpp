// The category tree as the engine receives it (each category's parent), and for each category
// the list of related ones: itself, its ancestors and its descendants.
#pragma once

#include <cstdint>
#include <vector>

#include "matching/listing.hpp"

namespace maillon::matching {

inline constexpr CategoryId kNoParent = UINT16_MAX;
inline constexpr std::size_t kMaxCategories = 4096;

class CategoryTree {
 public:
  CategoryTree() = default;
  // parents[c] is c's parent or kNoParent. A cycle or an out-of-range parent is a bug of the
  // caller (the tree comes from the service's own table) and is asserted.
  explicit CategoryTree(std::vector<CategoryId> parents);

  std::size_t size() const { return parents_.size(); }
  const std::vector<CategoryId>& related(CategoryId category) const { return related_[category]; }
  bool is_related(CategoryId a, CategoryId b) const;
  std::size_t memory_bytes() const;

 private:
  bool is_ancestor(CategoryId ancestor, CategoryId category) const;

  std::vector<CategoryId> parents_;
  std::vector<std::vector<CategoryId>> related_;
};

}  // namespace maillon::matching
