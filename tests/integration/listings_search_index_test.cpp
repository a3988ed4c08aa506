// The in-memory search read model of the listing services against PostgreSQL itself: on random
// listings written through the real offers service, every random query (text, filters, near,
// statuses, pages) answers the same rows in the same order as the SQL search, and writes of
// another process reach the model through the change feed.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "harness.hpp"
#include "matching/geo.hpp"
#include "services/common/db.hpp"
#include "services/offers/context.hpp"
#include "services/offers/search_index.hpp"

namespace maillon::testing {
namespace {

using listings::ListingRow;
using listings::ListQuery;

const std::vector<std::string> kTitles = {
    "Perceuse à percussion",     "Vélo de ville",       "Machine à coudre Singer",
    "Escabeau alu 5 marches",    "Tondeuse électrique", "Perceuse visseuse sans fil",
    "Vélo enfant 16 pouces",     "Scie sauteuse",       "Cours de cuisine du monde",
    "Aide aux devoirs en maths", "Montage de meubles",  "Machine à pain"};
const std::vector<std::string> kQueryTexts = {"perceuse",
                                              "velo",
                                              "Vélo",
                                              "\"machine à coudre\"",
                                              "machine -pain",
                                              "perceuse or velo",
                                              "le la les",
                                              "électrique",
                                              "cours cuisine",
                                              "\"perceuse visseuse\"",
                                              "scie or escabeau -alu",
                                              "devoirs"};
const std::vector<std::string> kGoods = {"perceuses",
                                         "outillage-a-main",
                                         "echelles-et-escabeaux",
                                         "tondeuses",
                                         "velos",
                                         "petit-electromenager-cuisine"};
const std::vector<std::string> kServices = {"aide-aux-devoirs", "montage-de-meubles",
                                            "cours-de-cuisine"};
const std::vector<std::string> kQueryCategories = {
    "outils-et-bricolage", "velo", "perceuses", "services", "biens", "cuisine-service"};

class SearchIndexTest : public ::testing::Test {
 protected:
  std::mt19937 rng{20261129};

  template <class T>
  const T& pick(const std::vector<T>& from) {
    return from[std::uniform_int_distribution<std::size_t>(0, from.size() - 1)(rng)];
  }
  double uniform(double lo, double hi) { return std::uniform_real_distribution<>(lo, hi)(rng); }
  bool chance(double p) { return std::bernoulli_distribution(p)(rng); }

  Json random_listing(const std::string& site) {
    bool service = chance(0.25);
    Json body = {{"kind", service ? "service" : "good"},
                 {"mode", service ? "service" : pick<std::string>({"give", "lend", "swap"})},
                 {"category", service ? pick(kServices) : pick(kGoods)},
                 {"title", pick(kTitles) + " " + std::to_string(rng() % 1000)},
                 {"description", chance(0.5) ? "Bon état, " + pick(kTitles) : ""}};
    if (service) body["duration_minutes"] = 60;
    if (chance(0.2)) {
      body["site_id"] = site;
    } else {
      body["location"] = {{"lat", uniform(50.55, 50.72)}, {"lon", uniform(2.95, 3.2)}};
    }
    return body;
  }

  ListQuery random_query(const std::string& community, const std::vector<std::string>& members,
                         const CategoryTree& tree) {
    ListQuery q;
    q.community_id = community;
    q.status = chance(0.8) ? "active" : pick<std::string>({"paused", "reserved", "closed"});
    if (chance(0.6)) q.text = pick(kQueryTexts);
    if (chance(0.3)) q.categories = tree.self_and_descendants(pick(kQueryCategories));
    if (chance(0.15)) q.kind = pick<std::string>({"good", "service"});
    if (chance(0.15)) q.mode = pick<std::string>({"give", "lend", "swap", "service"});
    if (chance(0.15)) q.member_id = pick(members);
    if (chance(0.5)) {
      matching::GeoPoint p = matching::snap_to_grid({uniform(50.58, 50.7), uniform(3.0, 3.15)});
      q.near = ListingLocation{p.lat, p.lon};
      q.radius_m = pick<double>({500, 2000, 5000, 20000});
    }
    q.limit = static_cast<int>(rng() % 25) + 2;
    return q;
  }
};

std::vector<std::pair<std::string, long>> shape(const std::vector<ListingRow>& rows) {
  std::vector<std::pair<std::string, long>> out;
  for (const auto& r : rows) out.emplace_back(r.listing.id, std::lround(r.distance_m.value_or(-1)));
  return out;
}

std::vector<std::pair<std::string, long>> shape(const std::vector<listings::SearchHit>& hits) {
  std::vector<std::pair<std::string, long>> out;
  for (const auto& h : hits) {
    EXPECT_NE(h.community_json->find(h.row->listing.id), std::string::npos);
    out.emplace_back(h.row->listing.id, std::lround(h.distance_m.value_or(-1)));
  }
  return out;
}

TEST_F(SearchIndexTest, answers_every_query_like_postgresql_and_follows_other_writers) {
  MembersWorld world("search_index");
  std::string community = world.create_community("Métropole Européenne de Lille");
  std::string site = world.create_site(community, "Tiers-lieu de Fives", 50.6297, 3.0917);
  std::vector<MemberInfo> members;
  for (const char* name : {"Alice", "Bruno", "Chloé", "David"})
    members.push_back(world.register_member(community, name, site));
  ServiceProcess offers("offers", world.env());
  offers.start();
  for (int i = 0; i < 160; ++i) {
    const MemberInfo& m = members[i % members.size()];
    // The offers service learns the site from the members stream once it has started: a listing
    // posted before that is refused as at an unknown site, and posted again.
    HttpResult created;
    ASSERT_TRUE(eventually([&] {
      created = Client(offers.url(), m.token).post("/v1/offers", random_listing(site));
      return created.status != 400 || created.body.find("site_id") == std::string::npos;
    }));
    ASSERT_EQ(created.status, 201) << created.body;
    if (chance(0.15)) {
      Client(offers.url(), m.token)
          .patch("/v1/offers/" + created.json()["id"].get<std::string>(), {{"status", "paused"}});
    } else if (chance(0.1)) {
      Client(offers.url(), m.token).del("/v1/offers/" + created.json()["id"].get<std::string>());
    }
  }

  Db db(world.database, 2, "offers");
  listings::SearchIndex index(db, std::chrono::milliseconds(50));
  index.start();
  CategoryTree tree =
      listings::load_category_tree(std::string(MAILLON_SOURCE_DIR) + "/schemas/categories.json");
  std::vector<std::string> member_ids;
  for (const auto& m : members) member_ids.push_back(m.id);

  int served = 0, pages = 0, non_empty = 0;
  for (int i = 0; i < 300; ++i) {
    ListQuery q = random_query(community, member_ids, tree);
    for (int page = 0; page < 4; ++page) {  // follow the cursor for a few pages
      ++pages;
      auto memory = index.search(q);
      auto sql =
          read_only(db, [&](pqxx::transaction_base& tx) { return listings::list_listings(tx, q); });
      if (!memory) {
        EXPECT_EQ(q.status, "closed") << "only closed listings are left to PostgreSQL here";
        break;
      }
      ++served;
      if (!sql.empty()) ++non_empty;
      ASSERT_EQ(shape(*memory), shape(sql))
          << "query " << i << " page " << page << " text " << q.text.value_or("-");
      if (sql.size() < static_cast<std::size_t>(q.limit)) break;
      q.after = std::pair{sql.back().created_at_us, sql.back().listing.id};
    }
  }
  EXPECT_GT(served, 200);
  EXPECT_GT(non_empty, 100);  // the comparison is about rows, not only empty pages
  std::printf("compared %d pages: %d served from memory, %d not empty\n", pages, served, non_empty);

  // Another process writes: the feed brings it in, and a close takes it out.
  HttpResult fresh = Client(offers.url(), members[0].token)
                         .post("/v1/offers", {{"kind", "good"},
                                              {"mode", "give"},
                                              {"category", "tondeuses"},
                                              {"title", "Tondeuse hélicoïdale unique"},
                                              {"site_id", site}});
  ASSERT_EQ(fresh.status, 201);
  std::string id = fresh.json()["id"];
  ListQuery q;
  q.community_id = community;
  q.text = "helicoidale";
  auto found = [&] {
    auto rows = index.search(q);
    return rows && rows->size() == 1 && rows->front().row->listing.id == id;
  };
  EXPECT_TRUE(eventually(found, 3000));
  ASSERT_EQ(Client(offers.url(), members[0].token).del("/v1/offers/" + id).status, 204);
  EXPECT_TRUE(eventually([&] { return index.search(q).value().empty(); }, 3000));
  index.stop();
}

}  // namespace
}  // namespace maillon::testing
