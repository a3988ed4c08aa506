// The category tree: validation of the flat list, the ancestor relation matching relies on,
// search's descendant expansion, and the shipped schemas/categories.json itself.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "unit/listing/listing_builders.hpp"

namespace maillon {
namespace {

using testing::fields_of;
using testing::small_tree;
using testing::small_tree_records;
using K = ListingKind;
using Fields = std::vector<std::string>;

Fields refused_tree_fields(const std::vector<CategoryRecord>& records) {
  CategoryTreeBuild build = CategoryTree::build(records);
  EXPECT_EQ(build.tree.has_value(), build.errors.empty());
  return fields_of(build.errors);
}

TEST(CategoryTree, small_tree_builds) {
  EXPECT_EQ(refused_tree_fields(small_tree_records()), Fields{});
  EXPECT_EQ(small_tree().size(), small_tree_records().size());
}

TEST(CategoryTree, duplicate_slug_is_refused) {
  auto records = small_tree_records();
  records.push_back({"jardin", "Jardin bis", K::good, "biens"});
  EXPECT_EQ(refused_tree_fields(records), Fields{"categories[8].slug"});
}

TEST(CategoryTree, slug_outside_lowercase_ascii_digits_and_dashes_is_refused) {
  for (const char* bad : {"Jardin", "vélo", "a_b", "", "a b"}) {
    auto records = small_tree_records();
    records.push_back({bad, "X", K::good, "biens"});
    EXPECT_EQ(refused_tree_fields(records), Fields{"categories[8].slug"}) << bad;
  }
}

TEST(CategoryTree, empty_label_is_refused) {
  auto records = small_tree_records();
  records[2].label = "";
  EXPECT_EQ(refused_tree_fields(records), Fields{"categories[2].label"});
}

TEST(CategoryTree, unknown_parent_is_refused) {
  auto records = small_tree_records();
  records.push_back({"velo", "Vélo", K::good, "vehicules"});
  EXPECT_EQ(refused_tree_fields(records), Fields{"categories[8].parent_slug"});
}

TEST(CategoryTree, cycle_is_refused) {
  std::vector<CategoryRecord> records = {
      {"a", "A", K::good, "b"},
      {"b", "B", K::good, "a"},
      {"c", "C", K::good, "c"},
  };
  EXPECT_EQ(refused_tree_fields(records),
            (Fields{"categories[0].parent_slug", "categories[1].parent_slug",
                    "categories[2].parent_slug"}));
}

TEST(CategoryTree, child_of_another_kind_than_its_parent_is_refused) {
  auto records = small_tree_records();
  records.push_back({"couture", "Couture", K::service, "biens"});
  EXPECT_EQ(refused_tree_fields(records), Fields{"categories[8].kind"});
}

TEST(CategoryTree, lookups_answer_kind_children_and_roots) {
  CategoryTree tree = small_tree();
  ASSERT_NE(tree.find("perceuses"), nullptr);
  EXPECT_EQ(tree.find("perceuses")->label, "Perceuses et visseuses");
  EXPECT_EQ(tree.find("perceuses")->parent_slug, "outils-et-bricolage");
  EXPECT_EQ(tree.find("fusees"), nullptr);
  EXPECT_EQ(tree.kind_of("aide-aux-devoirs"), K::service);
  EXPECT_EQ(tree.kind_of("fusees"), std::nullopt);
  EXPECT_EQ(tree.roots(), (Fields{"biens", "services"}));
  EXPECT_EQ(tree.children("outils-et-bricolage"), (Fields{"perceuses", "echelles"}));
  EXPECT_TRUE(tree.children("perceuses").empty());
  EXPECT_TRUE(tree.children("fusees").empty());
}

TEST(CategoryTree, related_holds_for_same_ancestor_or_descendant_only) {
  CategoryTree tree = small_tree();
  EXPECT_TRUE(tree.related("perceuses", "perceuses"));
  EXPECT_TRUE(tree.related("perceuses", "outils-et-bricolage"));
  EXPECT_TRUE(tree.related("outils-et-bricolage", "perceuses"));
  EXPECT_TRUE(tree.related("biens", "perceuses"));
  EXPECT_FALSE(tree.related("perceuses", "echelles"));  // siblings
  EXPECT_FALSE(tree.related("perceuses", "jardin"));
  EXPECT_FALSE(tree.related("perceuses", "services-bricolage"));
  EXPECT_FALSE(tree.related("perceuses", "fusees"));
  EXPECT_TRUE(tree.is_ancestor_or_self("biens", "perceuses"));
  EXPECT_FALSE(tree.is_ancestor_or_self("perceuses", "biens"));
}

TEST(CategoryTree, search_filter_on_a_category_includes_its_descendants) {
  CategoryTree tree = small_tree();
  EXPECT_EQ(tree.self_and_descendants("outils-et-bricolage"),
            (Fields{"outils-et-bricolage", "perceuses", "echelles"}));
  EXPECT_EQ(tree.self_and_descendants("biens"),
            (Fields{"biens", "outils-et-bricolage", "perceuses", "echelles", "jardin"}));
  EXPECT_EQ(tree.self_and_descendants("jardin"), Fields{"jardin"});
  EXPECT_TRUE(tree.self_and_descendants("fusees").empty());
}

// The shipped file, flattened the way the service will do it.
void flatten(const nlohmann::json& nodes, const std::string& parent,
             std::vector<CategoryRecord>& out) {
  for (const auto& node : nodes) {
    auto kind = parse_listing_kind(node.at("kind").get<std::string>());
    ASSERT_TRUE(kind.has_value()) << node.at("slug");
    out.push_back({node.at("slug"), node.at("label"), *kind, parent});
    flatten(node.at("children"), node.at("slug"), out);
  }
}

TEST(CategoryTree, shipped_french_tree_is_valid_and_holds_the_contract_slugs) {
  auto path = std::filesystem::path(__FILE__).parent_path() / "../../../schemas/categories.json";
  std::ifstream file(path);
  ASSERT_TRUE(file.good()) << path;
  std::vector<CategoryRecord> records;
  flatten(nlohmann::json::parse(file), "", records);
  CategoryTreeBuild build = CategoryTree::build(records);
  ASSERT_EQ(fields_of(build.errors), Fields{});
  const CategoryTree& tree = *build.tree;
  EXPECT_GE(tree.size(), 45u);
  EXPECT_EQ(tree.roots(), (Fields{"biens", "services"}));
  for (const char* good :
       {"outils-et-bricolage", "perceuses", "jardin", "cuisine", "electromenager", "mobilier",
        "vetements", "enfants", "puericulture", "jouets", "sport-et-loisirs", "livres-et-jeux",
        "velo", "informatique"}) {
    EXPECT_EQ(tree.kind_of(good), K::good) << good;
  }
  for (const char* service :
       {"aide-aux-devoirs", "services-bricolage", "jardinage", "couture", "cuisine-service",
        "accompagnement-numerique", "demenagement", "garde-animaux", "reparation-velo"}) {
    EXPECT_EQ(tree.kind_of(service), K::service) << service;
  }
  EXPECT_EQ(tree.find("electromenager")->label, "Électroménager");
  EXPECT_TRUE(tree.related("outils-et-bricolage", "perceuses"));
}

}  // namespace
}  // namespace maillon
