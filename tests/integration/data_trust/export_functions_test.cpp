// exchange.member_export and ledger.member_export, the published functions the members service
// calls for GET /v1/me/export, on data made through the real services' HTTP APIs: an exchange
// proposed, accepted, talked about, completed and rated, next to another one between other
// people that must not leak into the export.
#include <gtest/gtest.h>

#include <pqxx/pqxx>
#include <set>

#include "harness.hpp"
#include "services/common/ids.hpp"

namespace maillon::testing {
namespace {

constexpr int kSagaTimeoutMs = 20000;

class ExportFunctions : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    world = new MembersWorld(
        "export", {{"MAILLON_LOGIN_RATE_PER_MIN", "100000"}, {"MAILLON_LOGIN_BURST", "100000"}});
    community = world->create_community(
        "Cambrésis", {{"min_balance", 0}, {"signup_bonus", 120}, {"monthly_allowance", 0}});
    site = world->create_site(community, "Tiers-lieu de Cambrai", 50.17, 3.23);
    offers = new ServiceProcess("offers", world->env());
    requests = new ServiceProcess("requests", world->env());
    ledger = new ServiceProcess("ledger", world->env());
    exchange = new ServiceProcess("exchange", world->env());
    notify = new ServiceProcess("notify", world->env());  // the in-app inbox
    for (auto* p : {offers, requests, ledger, exchange, notify}) p->start();
  }
  static void TearDownTestSuite() {
    for (auto* p : {notify, exchange, ledger, requests, offers}) delete p;
    delete world;
  }

  static MemberInfo member(const std::string& name) {
    MemberInfo m = world->register_member(community, name, site);
    EXPECT_TRUE(eventually([&] { return balance_of(m).balance == 120; }, kSagaTimeoutMs))
        << name << " never got the signup bonus";
    return m;
  }
  static LedgerBalance balance_of(const MemberInfo& m) {
    return ledger_balance(Client(ledger->url(), m.token), m.id);
  }
  static Client ex(const MemberInfo& m) { return Client(exchange->url(), m.token); }
  static Client inbox(const MemberInfo& m) { return Client(notify->url(), m.token); }
  static std::string state_of(const MemberInfo& m, const std::string& id) {
    return ex(m).get("/v1/exchanges/" + id).json().value("state", "");
  }

  // An exchange of `minutes` on the provider's offer, completed by both parties.
  static std::string completed_exchange(const MemberInfo& provider, const MemberInfo& receiver,
                                        int64_t minutes, const std::string& message) {
    Json body = {{"kind", "service"},
                 {"mode", "service"},
                 {"category", "aide-aux-devoirs"},
                 {"title", "Aide aux devoirs"},
                 {"duration_minutes", 60},
                 {"price_minutes", minutes},
                 {"site_id", site}};
    auto offer = Client(offers->url(), provider.token).post("/v1/offers", body);
    EXPECT_EQ(offer.status, 201) << offer.body;
    HttpResult created;
    eventually(
        [&] {
          created = ex(receiver).post("/v1/exchanges", {{"offer_id", offer.json()["id"]}});
          return created.status == 201;
        },
        kSagaTimeoutMs);
    EXPECT_EQ(created.status, 201) << created.body;
    const std::string id = created.json().value("id", "");
    EXPECT_EQ(ex(provider).post("/v1/exchanges/" + id + "/accept").status, 202);
    EXPECT_TRUE(eventually([&] { return state_of(provider, id) == "accepted"; }, kSagaTimeoutMs));
    EXPECT_EQ(ex(receiver).post("/v1/exchanges/" + id + "/messages", {{"body", message}}).status,
              201);
    EXPECT_EQ(ex(provider).post("/v1/exchanges/" + id + "/messages", {{"body", "Entendu."}}).status,
              201);
    ex(provider).post("/v1/exchanges/" + id + "/complete");
    ex(receiver).post("/v1/exchanges/" + id + "/complete");
    EXPECT_TRUE(eventually([&] { return state_of(receiver, id) == "completed"; }, kSagaTimeoutMs))
        << state_of(receiver, id);
    return id;
  }

  static Json exported(const std::string& schema, const std::string& member_id) {
    pqxx::connection db(world->database);
    pqxx::nontransaction tx(db);
    return Json::parse(
        tx.exec_params("SELECT " + schema + ".member_export($1)::text", member_id)[0][0].c_str());
  }

  static inline MembersWorld* world = nullptr;
  static inline ServiceProcess *offers = nullptr, *requests = nullptr, *ledger = nullptr,
                               *exchange = nullptr, *notify = nullptr;
  static inline std::string community, site;
};

TEST_F(ExportFunctions, exchange_and_ledger_exports_hold_the_members_data_and_no_one_elses) {
  MemberInfo karim = member("Karim"), lucie = member("Lucie"), marc = member("Marc");
  const std::string ours = completed_exchange(karim, lucie, 45, "Mercredi 17 h ?");
  ASSERT_EQ(ex(lucie)
                .post("/v1/exchanges/" + ours + "/rating", {{"stars", 5}, {"comment", "Top"}})
                .status,
            201);
  ASSERT_EQ(ex(karim).post("/v1/exchanges/" + ours + "/rating", {{"stars", 4}}).status, 201);
  // Between other people: Karim and Marc.
  const std::string theirs = completed_exchange(karim, marc, 30, "Secret de Marc");
  ASSERT_EQ(ex(marc)
                .post("/v1/exchanges/" + theirs + "/rating", {{"stars", 2}, {"comment", "Bof"}})
                .status,
            201);
  ASSERT_TRUE(eventually(
      [&] { return !inbox(lucie).get("/v1/notifications?limit=100").json()["items"].empty(); }));

  const Json x = exported("exchange", lucie.id);
  ASSERT_EQ(x["exchanges"].size(), 1u) << x.dump();
  const Json& e = x["exchanges"][0];
  EXPECT_EQ(e["id"], ours);
  EXPECT_EQ(e["role"], "receiver");
  EXPECT_EQ(e["counterpart_id"], karim.id);
  EXPECT_EQ(e["state"], "completed");
  EXPECT_EQ(e["minutes"], 45);
  EXPECT_FALSE(e["history"].empty());
  ASSERT_EQ(x["messages"].size(), 2u);
  EXPECT_EQ(x["messages"][0]["body"], "Mercredi 17 h ?");
  EXPECT_EQ(x["messages"][0]["mine"], true);
  EXPECT_EQ(x["messages"][1]["author_id"], karim.id);
  EXPECT_EQ(x["messages"][1]["mine"], false);
  ASSERT_EQ(x["ratings_given"].size(), 1u);
  EXPECT_EQ(x["ratings_given"][0]["stars"], 5);
  EXPECT_EQ(x["ratings_given"][0]["comment"], "Top");
  EXPECT_EQ(x["ratings_given"][0]["rated_id"], karim.id);
  ASSERT_EQ(x["ratings_received"].size(), 1u);
  EXPECT_EQ(x["ratings_received"][0]["stars"], 4);
  // The inbox is the notify service's: its export holds Lucie's notifications, about her
  // exchange only.
  const Json told = exported("notify", lucie.id);
  EXPECT_FALSE(told["notifications"].empty()) << told.dump();
  std::set<std::string> about;
  for (const auto& n : told["notifications"]) about.insert(n["exchange_id"].get<std::string>());
  EXPECT_EQ(about, std::set<std::string>{ours});
  EXPECT_EQ(told["truncated"], false);
  EXPECT_EQ(x["truncated"], false);
  const std::string text = x.dump();
  for (const std::string& other : {theirs, marc.id, std::string("Secret de Marc"),
                                   std::string("Bof"), karim.email, std::string("Karim")}) {
    EXPECT_EQ(text.find(other), std::string::npos) << other;
  }

  const Json l = exported("ledger", lucie.id);
  EXPECT_EQ(l["account"]["id"], lucie.id);
  const LedgerBalance now = balance_of(lucie);
  EXPECT_EQ(l["account"]["balance_minutes"], now.balance);
  EXPECT_EQ(now.balance, 120 - 45);
  // The signup bonus and the exchange's payment, each an entry and a transfer.
  ASSERT_EQ(l["entries"].size(), 2u) << l.dump();
  EXPECT_EQ(l["entries"][0]["amount_minutes"], 120);
  EXPECT_EQ(l["entries"][1]["amount_minutes"], -45);
  EXPECT_EQ(l["entries"][1]["counterparty_account_id"], karim.id);
  EXPECT_EQ(l["entries"][1]["balance_after_minutes"], 75);
  ASSERT_EQ(l["transfers"].size(), 2u) << l.dump();
  EXPECT_EQ(l["transfers"][1]["from_account_id"], lucie.id);
  EXPECT_EQ(l["transfers"][1]["to_account_id"], karim.id);
  EXPECT_EQ(l["transfers"][1]["state"], "posted");
  EXPECT_EQ(l["truncated"], false);
  EXPECT_EQ(l.dump().find(marc.id), std::string::npos);
  EXPECT_TRUE(exported("ledger", marc.id)["account"]["id"] == marc.id);
  EXPECT_TRUE(exported("exchange", new_uuid())["exchanges"].empty());
}

}  // namespace
}  // namespace maillon::testing
