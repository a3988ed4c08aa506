#include "services/common/category_file.hpp"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace maillon {
namespace {

// Depth first: a parent always comes before its children.
void add_children(const nlohmann::json& node, const std::string& parent,
                  std::vector<CategoryRecord>& out, std::size_t depth) {
  if (!node.is_array() || depth > kCategoryDepthMax) {
    throw std::invalid_argument("categories.json: children must be arrays, at most 8 levels");
  }
  for (const auto& c : node) {
    if (!c.is_object() || !c.value("slug", nlohmann::json()).is_string() ||
        !c.value("label", nlohmann::json()).is_string() ||
        !parse_listing_kind(c.value("kind", std::string()))) {
      throw std::invalid_argument("categories.json: each entry needs slug, label and kind");
    }
    out.push_back({c["slug"].get<std::string>(), c["label"].get<std::string>(),
                   *parse_listing_kind(c["kind"].get<std::string>()), parent});
    if (out.size() > kCategoryCountMax) throw std::invalid_argument("categories.json: too many");
    add_children(c.value("children", nlohmann::json::array()), c["slug"].get<std::string>(), out,
                 depth + 1);
  }
}

}  // namespace

CategoryTree load_category_tree(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::invalid_argument("cannot read the category file " + path);
  std::stringstream text;
  text << in.rdbuf();
  auto nested = nlohmann::json::parse(text.str(), nullptr, false);
  if (nested.is_discarded()) throw std::invalid_argument(path + " is not JSON");
  std::vector<CategoryRecord> records;
  add_children(nested, "", records, 0);
  CategoryTreeBuild built = CategoryTree::build(records);
  if (!built.tree) {
    const FieldError& first = built.errors.front();
    throw std::invalid_argument(path + ": " + first.field + " " + first.message);
  }
  return std::move(*built.tree);
}

}  // namespace maillon
