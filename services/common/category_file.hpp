// The category file (schemas/categories.json): nested {slug, label, kind, children} objects,
// read into the tree every service that knows categories shares.
#pragma once

#include <string>

#include "exchange/categories.hpp"

namespace maillon {

// Throws std::invalid_argument naming what is wrong (unreadable file, not JSON, an entry
// without slug, label or kind, too deep, too many, or what CategoryTree::build refuses).
CategoryTree load_category_tree(const std::string& path);

}  // namespace maillon
