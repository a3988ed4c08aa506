// The directory (services/common/directory.hpp) on real PostgreSQL: what the members stream says
// of communities and sites lands in the reading service's own schema through the one shared
// migration, rows recorded before that migration survive it, an older description never
// overwrites a newer one, and an event that cannot be read is refused with its reason.
#include "services/common/directory.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "harness.hpp"
#include "services/common/db.hpp"
#include "services/common/events.hpp"
#include "services/common/events_members.hpp"
#include "services/common/ids.hpp"
#include "services/common/policy_json.hpp"
#include "services/common/typed_events.hpp"

namespace maillon::testing {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

const std::string kSchemas = std::string(MAILLON_SOURCE_DIR) + "/schemas";

struct ThrowawayDatabase {
  std::string url = create_database("directory");
  ~ThrowawayDatabase() { drop_database(url); }
};

Event event(const std::string& type, const std::string& at, Json data) {
  Event e;
  e.id = new_uuid();
  e.type = type;
  e.occurred_at = at;
  e.data = std::move(data);
  return e;
}

Json community_data(const std::string& id, const std::string& name, Json policy) {
  return {{"community_id", id}, {"name", name}, {"policy", std::move(policy)}};
}

Json site_data(const std::string& id, const std::string& community, const std::string& name,
               double lat) {
  return {{"id", id},
          {"community_id", community},
          {"name", name},
          {"kind", "ressourcerie"},
          {"location", {{"lat", lat}, {"lon", 3.06}}},
          {"address", "12 rue Gambetta, Lille"},
          {"opening_hours", nullptr}};
}

// A copy of schemas/<schema>/ holding only the migrations before `below`: the schema as it was.
fs::path schemas_before(const std::string& schema, int below) {
  const fs::path dir = fs::temp_directory_path() / ("maillon-directory-" + new_uuid());
  fs::create_directories(dir / schema);
  for (const auto& entry : fs::directory_iterator(fs::path(kSchemas) / schema)) {
    const std::string name = entry.path().filename().string();
    if (std::stoi(name.substr(0, name.find('_'))) < below)
      fs::copy_file(fs::canonical(entry.path()), dir / schema / name);
  }
  return dir;
}

TEST(Directory, every_reading_schema_links_the_one_shared_migration) {
  for (const char* schema : {"depot", "exchange", "ledger", "offers", "requests"}) {
    const fs::path link = fs::path(kSchemas) / schema / "050_directory.sql";
    ASSERT_TRUE(fs::is_symlink(link)) << link;
    EXPECT_EQ(fs::canonical(link), fs::canonical(fs::path(kSchemas) / "shared/050_directory.sql"));
  }
}

TEST(Directory, rows_recorded_before_the_migration_survive_it_in_each_schema) {
  ThrowawayDatabase database;
  const std::string community = new_uuid(), site = new_uuid();
  const Json policy = policy_to_json(CommunityPolicy{});
  for (const char* schema : {"depot", "exchange", "ledger", "offers"}) {
    SCOPED_TRACE(schema);
    Db db(database.url, 2, schema);
    const fs::path before = schemas_before(schema, 50);
    migrate(db, before.string());
    fs::remove_all(before);
    db.transact([&](pqxx::work& tx) {
      if (std::string(schema) != "offers") {  // the listing services kept no communities
        tx.exec_params("INSERT INTO communities (id, policy) VALUES ($1, $2::jsonb)", community,
                       policy.dump());
      }
      if (std::string(schema) == "offers") {
        tx.exec_params("INSERT INTO sites (id, community_id, lat, lon) VALUES ($1, $2, 50.6, 3.1)",
                       site, community);
      } else if (std::string(schema) != "ledger") {
        tx.exec_params("INSERT INTO sites (id, community_id, name) VALUES ($1, $2, 'La Source')",
                       site, community);
      }
    });
    migrate(db, kSchemas);
    db.transact([&](pqxx::work& tx) {
      if (std::string(schema) != "offers") {
        ASSERT_TRUE(directory::policy_of(tx, community));
        EXPECT_EQ(*directory::policy_of(tx, community), CommunityPolicy{});
      }
      if (std::string(schema) == "ledger") return;
      const auto found = directory::site(tx, site);
      ASSERT_TRUE(found);
      EXPECT_EQ(found->community_id, community);
      if (std::string(schema) == "offers") {
        ASSERT_TRUE(found->location);
        EXPECT_DOUBLE_EQ(found->location->lat, 50.6);
      } else {
        EXPECT_EQ(found->name, "La Source");
        EXPECT_FALSE(found->location) << "no position was ever received there";
      }
    });
  }
}

TEST(Directory, applies_communities_and_sites_and_keeps_the_newer_description) {
  ThrowawayDatabase database;
  Db db(database.url, 2, "exchange");
  migrate(db, kSchemas);
  const std::string community = new_uuid(), site = new_uuid();
  db.transact([&](pqxx::work& tx) {
    EXPECT_TRUE(
        directory::apply(tx, event("community.created", "2026-12-01T10:00:00.000000Z",
                                   community_data(community, "Fives", {{"max_balance", 3000}}))));
    EXPECT_TRUE(directory::apply(tx, event("site.created", "2026-12-01T10:00:01.000000Z",
                                           site_data(site, community, "La Source", 50.63))));
    EXPECT_FALSE(
        directory::apply(tx, event("member.approved", "2026-12-01T10:00:02.000000Z",
                                   {{"member_id", new_uuid()}, {"community_id", community}})));
  });
  db.transact([&](pqxx::work& tx) {
    const auto c = directory::community(tx, community);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->name, "Fives");
    EXPECT_EQ(c->policy.max_balance, 3000);
    EXPECT_EQ(c->policy.min_balance, CommunityPolicy{}.min_balance) << "defaults filled in";
    const auto s = directory::site(tx, site);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->name, "La Source");
    EXPECT_EQ(s->kind, "ressourcerie");
    ASSERT_TRUE(s->location);
    EXPECT_DOUBLE_EQ(s->location->lat, 50.63);
  });

  // Updated, then the creation delivered again (a redelivery, another replica): the update stays.
  db.transact([&](pqxx::work& tx) {
    directory::apply(tx, event("community.updated", "2026-12-02T09:00:00.000000Z",
                               community_data(community, "Fives-Cail", {{"max_balance", 1500}})));
    directory::apply(tx, event("site.updated", "2026-12-02T09:00:01.000000Z",
                               site_data(site, community, "La Source (halle)", 50.64)));
    directory::apply(tx, event("community.created", "2026-12-01T10:00:00.000000Z",
                               community_data(community, "Fives", {{"max_balance", 3000}})));
    directory::apply(tx, event("site.created", "2026-12-01T10:00:01.000000Z",
                               site_data(site, community, "La Source", 50.63)));
  });
  db.transact([&](pqxx::work& tx) {
    EXPECT_EQ(directory::community(tx, community)->name, "Fives-Cail");
    EXPECT_EQ(directory::policy_of(tx, community)->max_balance, 1500);
    EXPECT_EQ(directory::site(tx, site)->name, "La Source (halle)");
    EXPECT_DOUBLE_EQ(directory::site(tx, site)->location->lat, 50.64);
    EXPECT_EQ(directory::community_ids(tx), std::vector<std::string>{community});
  });
}

TEST(Directory, an_event_it_cannot_read_is_refused_with_its_reason_and_changes_nothing) {
  ThrowawayDatabase database;
  Db db(database.url, 2, "depot");
  migrate(db, kSchemas);
  const std::string community = new_uuid();
  const auto refusal = [&](const Event& e) -> std::string {
    try {
      db.transact([&](pqxx::work& tx) { directory::apply(tx, e); });
    } catch (const BadEvent& bad) {
      return bad.what();
    }
    return "";
  };
  EXPECT_EQ(refusal(event("community.created", "2026-12-01T10:00:00Z",
                          community_data(community, "Wazemmes", {{"max_balance", "beaucoup"}}))),
            "invalid policy.max_balance: doit être un nombre entier");
  Json no_location = site_data(new_uuid(), community, "Le Hangar", 50.6);
  no_location.erase("location");
  EXPECT_EQ(refusal(event("site.updated", "2026-12-01T10:00:00Z", no_location)),
            "missing field location");
  Json bad_kind = site_data(new_uuid(), community, "Le Hangar", 50.6);
  bad_kind["kind"] = "entrepot";
  EXPECT_EQ(refusal(event("site.created", "2026-12-01T10:00:00Z", bad_kind)),
            "unknown kind \"entrepot\"");
  db.transact([&](pqxx::work& tx) { EXPECT_FALSE(directory::community(tx, community)); });
}

TEST(Directory, the_typed_writers_write_what_the_readers_read) {
  CommunityDescribed c{CommunityDescribed::Type::updated, new_uuid(), "Moulins", CommunityPolicy{}};
  c.policy.signup_bonus = 45;
  const auto back = CommunityDescribed::read(event(c.type_name(), "", c.data()));
  ASSERT_TRUE(back) << back.reason();
  EXPECT_EQ(back->type, CommunityDescribed::Type::updated);
  EXPECT_EQ(back->policy, c.policy);
  const SiteDescribed s{
      SiteDescribed::Type::updated, new_uuid(), c.community_id, "La Halle", "tiers_lieu", 50.6, 3.1,
      "1 place du Marché",          "Le samedi"};
  const auto site = SiteDescribed::read(event(s.type_name(), "", s.data()));
  ASSERT_TRUE(site) << site.reason();
  EXPECT_EQ(site->name, "La Halle");
  EXPECT_EQ(site->opening_hours, "Le samedi");
  EXPECT_FALSE(SiteDescribed::read(event("community.updated", "", s.data())));
}

}  // namespace
}  // namespace maillon::testing
