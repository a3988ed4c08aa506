// Related categories are precomputed once: queries then only read a short list.
#include "matching/category_tree.hpp"

#include "exchange/invariant.hpp"

namespace maillon::matching {

CategoryTree::CategoryTree(std::vector<CategoryId> parents) : parents_(std::move(parents)) {
  MAILLON_INVARIANT(parents_.size() <= kMaxCategories, "no more categories than the engine holds");
  related_.resize(parents_.size());
  for (std::size_t c = 0; c < parents_.size(); ++c) {
    MAILLON_INVARIANT(parents_[c] == kNoParent || parents_[c] < parents_.size(),
                      "a parent is a known category");
    for (std::size_t other = 0; other < parents_.size(); ++other) {
      const auto a = static_cast<CategoryId>(c);
      const auto b = static_cast<CategoryId>(other);
      if (a == b || is_ancestor(a, b) || is_ancestor(b, a)) related_[c].push_back(b);
    }
  }
}

bool CategoryTree::is_ancestor(CategoryId ancestor, CategoryId category) const {
  CategoryId current = parents_[category];
  // A tree of n nodes has no chain longer than n: bounds the walk even on a bad input.
  for (std::size_t steps = 0; current != kNoParent && steps < parents_.size(); ++steps) {
    if (current == ancestor) return true;
    current = parents_[current];
  }
  return false;
}

bool CategoryTree::is_related(CategoryId a, CategoryId b) const {
  return a == b || is_ancestor(a, b) || is_ancestor(b, a);
}

std::size_t CategoryTree::memory_bytes() const {
  std::size_t bytes = parents_.capacity() * sizeof(CategoryId);
  for (const auto& list : related_) {
    bytes += sizeof(decltype(related_)::value_type) + list.capacity() * sizeof(CategoryId);
  }
  return bytes;
}

}  // namespace maillon::matching
