// The category tree: validation of the flat list the service hands over, and the lookups
// search and matching run on every request (a few dozen entries, so a sorted map suffices).
#include "exchange/categories.hpp"

#include <utility>

#include "exchange/invariant.hpp"

namespace maillon {
namespace {

bool is_slug(std::string_view slug) {
  if (slug.empty() || slug.size() > kCategorySlugLengthMax) return false;
  for (char c : slug) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string record_field(std::size_t i, const char* name) {
  return "categories[" + std::to_string(i) + "]." + name;
}

// Checks each record on its own and against the slugs seen before it.
void check_records(const std::vector<CategoryRecord>& records, FieldErrors& errors) {
  std::map<std::string_view, std::size_t, std::less<>> seen;
  for (std::size_t i = 0; i < records.size(); ++i) {
    const CategoryRecord& r = records[i];
    if (!is_slug(r.slug)) {
      errors.push_back(
          {record_field(i, "slug"), "doit contenir de 1 à 64 caractères parmi a-z, 0-9 et « - »"});
    } else if (!seen.emplace(r.slug, i).second) {
      errors.push_back({record_field(i, "slug"), "ce slug est déjà utilisé"});
    }
    if (r.label.empty()) errors.push_back({record_field(i, "label"), "est obligatoire"});
  }
}

// With unique slugs established: every parent exists, shares the kind, and no chain loops.
void check_parents(const std::vector<CategoryRecord>& records,
                   const std::map<std::string, std::size_t, std::less<>>& index,
                   FieldErrors& errors) {
  for (std::size_t i = 0; i < records.size(); ++i) {
    const CategoryRecord& r = records[i];
    if (r.parent_slug.empty()) continue;
    auto parent = index.find(r.parent_slug);
    if (parent == index.end()) {
      errors.push_back({record_field(i, "parent_slug"), "catégorie parente inconnue"});
      continue;
    }
    if (records[parent->second].kind != r.kind) {
      errors.push_back({record_field(i, "kind"), "doit être celui de la catégorie parente"});
    }
    // Walk up at most depth-max steps: a longer chain is either too deep or a cycle.
    std::size_t current = i;
    std::size_t depth = 0;
    while (!records[current].parent_slug.empty() && depth <= kCategoryDepthMax) {
      auto up = index.find(records[current].parent_slug);
      if (up == index.end()) break;
      current = up->second;
      ++depth;
    }
    if (depth > kCategoryDepthMax) {
      errors.push_back(
          {record_field(i, "parent_slug"), "forme un cycle ou une hiérarchie trop profonde"});
    }
  }
}

}  // namespace

std::string_view to_string(ListingKind kind) {
  switch (kind) {
    case ListingKind::good:
      return "good";
    case ListingKind::service:
      return "service";
  }
  MAILLON_INVARIANT(false, "unknown ListingKind");
  return "good";
}

std::optional<ListingKind> parse_listing_kind(std::string_view text) {
  if (text == "good") return ListingKind::good;
  if (text == "service") return ListingKind::service;
  return std::nullopt;
}

CategoryTreeBuild CategoryTree::build(const std::vector<CategoryRecord>& records) {
  CategoryTreeBuild result;
  if (records.size() > kCategoryCountMax) {
    result.errors.push_back({"categories", "trop de catégories (1000 au plus)"});
    return result;
  }
  check_records(records, result.errors);
  if (!result.errors.empty()) return result;

  CategoryTree tree;
  for (std::size_t i = 0; i < records.size(); ++i) {
    const CategoryRecord& r = records[i];
    tree.categories_.push_back({r.slug, r.label, r.kind, r.parent_slug, {}});
    tree.index_by_slug_.emplace(r.slug, i);
  }
  check_parents(records, tree.index_by_slug_, result.errors);
  if (!result.errors.empty()) return result;

  for (const Category& c : tree.categories_) {
    if (c.parent_slug.empty()) {
      tree.roots_.push_back(c.slug);
    } else {
      tree.categories_[tree.index_by_slug_.at(c.parent_slug)].children.push_back(c.slug);
    }
  }
  result.tree = std::move(tree);
  return result;
}

const Category* CategoryTree::find(std::string_view slug) const {
  auto it = index_by_slug_.find(slug);
  return it == index_by_slug_.end() ? nullptr : &categories_[it->second];
}

std::optional<ListingKind> CategoryTree::kind_of(std::string_view slug) const {
  const Category* c = find(slug);
  if (c == nullptr) return std::nullopt;
  return c->kind;
}

bool CategoryTree::is_ancestor_or_self(std::string_view ancestor, std::string_view slug) const {
  const Category* current = find(slug);
  // build() refused cycles and deep chains, so this walk ends within the depth bound.
  for (std::size_t steps = 0; current != nullptr; ++steps) {
    MAILLON_INVARIANT(steps <= kCategoryDepthMax, "the category tree is no deeper than its limit");
    if (current->slug == ancestor) return true;
    if (current->parent_slug.empty()) return false;
    current = find(current->parent_slug);
  }
  return false;
}

bool CategoryTree::related(std::string_view a, std::string_view b) const {
  return is_ancestor_or_self(a, b) || is_ancestor_or_self(b, a);
}

const std::vector<std::string>& CategoryTree::children(std::string_view slug) const {
  static const std::vector<std::string> kNone;
  const Category* c = find(slug);
  return c == nullptr ? kNone : c->children;
}

std::vector<std::string> CategoryTree::self_and_descendants(std::string_view slug) const {
  std::vector<std::string> out;
  auto it = index_by_slug_.find(slug);
  if (it != index_by_slug_.end()) append_subtree(it->second, out);
  return out;
}

void CategoryTree::append_subtree(std::size_t index, std::vector<std::string>& out) const {
  const Category& c = categories_[index];
  out.push_back(c.slug);
  // Recursion depth is bounded by kCategoryDepthMax, checked in build().
  for (const std::string& child : c.children) append_subtree(index_by_slug_.at(child), out);
}

}  // namespace maillon
