// The ledger's trust rules end to end through the nginx gateway (MAILLON_TEST_GATEWAY_URL): an
// exchange's hold belongs to the exchange (no party nor staff settles it over the ledger's API,
// and the provider is paid in full at completion), staff never grant to themselves, and a memo
// holding a NUL byte is a clear 400 after which the ledger goes on, and the depot lends only to a
// member who can pay the loan's cost.
#include <gtest/gtest.h>

#include <chrono>

#include "e2e/e2e_suite.hpp"
#include "services/common/ids.hpp"
#include "services/common/time.hpp"

namespace maillon::testing {
namespace {

class E2eLedgerTrustTest : public E2eSuite {
 protected:
  static StaffedCommunity community(const std::string& name) {
    return staffed_community(name, "tiers_lieu", "staff");
  }

  // The ledger transfer holding the exchange's credits, as the exchange shows it.
  static std::string hold_of(const MemberInfo& who, const std::string& exchange_id) {
    const Json ex = exchange_of(who, exchange_id);
    const auto field = ex.find("transfer_id");
    if (field != ex.end() && field->is_string()) return *field;
    return "exchange:" + exchange_id + ":1";
  }
};

TEST_F(E2eLedgerTrustTest, no_party_settles_an_exchanges_hold_and_the_provider_is_paid_in_full) {
  const StaffedCommunity c = community("Moulins");
  const MemberInfo provider = member(c, "amine"), receiver = member(c, "jeanne");
  const std::string id = accepted_exchange(provider, receiver, 60);
  ASSERT_TRUE(balance_becomes(receiver, {120, 60, 0, 60})) << balance_of(receiver);
  const std::string hold = hold_of(receiver, id);
  ASSERT_FALSE(hold.empty());
  const std::string path = "/v1/ledger/transfers/" + hold;

  // The payer tries to keep the credits: void the hold, or post 1 minute of it.
  for (const auto& [who, client] :
       {std::pair{"payer", as(receiver)}, std::pair{"payee", as(provider)},
        std::pair{"staff", as(c.staff)}, std::pair{"admin", gateway->admin()}}) {
    const auto voided = client.post(path + "/void");
    EXPECT_EQ(voided.status, 403) << who << ": " << voided.body;
    EXPECT_EQ(voided.json().value("code", ""), "owned-by-saga") << who;
    const auto posted = client.post(path + "/post", {{"minutes", 1}});
    EXPECT_EQ(posted.status, 403) << who << ": " << posted.body;
    EXPECT_EQ(posted.json().value("code", ""), "owned-by-saga") << who;
  }
  EXPECT_EQ(balance_of(receiver), (Balance{120, 60, 0, 60}));
  EXPECT_EQ(balance_of(provider), (Balance{120, 0, 60, 120}));

  // Both parties confirm: the exchange completes once the ledger posted the whole hold.
  ASSERT_EQ(as(provider).post("/v1/exchanges/" + id + "/complete").status, 200);
  ASSERT_EQ(as(receiver).post("/v1/exchanges/" + id + "/complete").status, 200);
  ASSERT_TRUE(state_becomes(receiver, id, "completed")) << exchange_of(receiver, id).dump();
  EXPECT_TRUE(balance_becomes(provider, {180, 0, 0, 180})) << balance_of(provider);
  EXPECT_TRUE(balance_becomes(receiver, {60, 0, 0, 60})) << balance_of(receiver);
}

TEST_F(E2eLedgerTrustTest, staff_grant_to_others_but_never_to_themselves) {
  const StaffedCommunity c = community("Vauban");
  const MemberInfo member_a = member(c, "odile");
  const Json self = {{"id", new_uuid()}, {"to_member_id", c.staff.id}, {"minutes", 30}};
  const auto refused = as(c.staff).post("/v1/ledger/transfers", self);
  EXPECT_EQ(refused.status, 403) << refused.body;
  EXPECT_EQ(refused.json().value("code", ""), "self-grant");
  EXPECT_EQ(balance_of(c.staff), (Balance{120, 0, 0, 120}));

  const Json grant = {{"id", new_uuid()}, {"to_member_id", member_a.id}, {"minutes", 30}};
  const auto granted = as(c.staff).post("/v1/ledger/transfers", grant);
  ASSERT_EQ(granted.status, 201) << granted.body;
  EXPECT_TRUE(granted.json()["from_member_id"].is_null());
  EXPECT_EQ(balance_of(member_a), (Balance{150, 0, 0, 150}));
}

TEST_F(E2eLedgerTrustTest, the_depot_lends_only_to_a_member_who_can_pay_the_loan) {
  // A loan costs 150 minutes; members hold their 120-minute bonus, and may not go under 0.
  Json policy = trading_policy();
  policy["loan_cost"] = 150;
  StaffedCommunity c{gateway->community("Wazemmes", policy), {}};
  c.staff = member(c, "staff");
  gateway->make_staff(c, c.staff);
  const MemberInfo short_of = member(c, "basile"), able = member(c, "clara");
  auto intake = as(c.staff).post("/v1/sites/" + c.site + "/items", {{"category", "perceuses"},
                                                                    {"title", "Perceuse"},
                                                                    {"condition", "good"},
                                                                    {"weight_g", 2000},
                                                                    {"mode", "lend"}});
  ASSERT_EQ(intake.status, 201) << intake.body;
  const std::string item = "/v1/items/" + intake.json().value("id", "");
  const auto now_s = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  const auto lend_to = [&](const MemberInfo& m) {
    return as(c.staff).post(item + "/lend",
                            {{"member_id", m.id}, {"due_at", format_rfc3339(now_s + 7 * 86400)}});
  };

  auto refused = lend_to(short_of);
  EXPECT_EQ(refused.status, 422) << refused.body;
  EXPECT_EQ(refused.json().value("code", ""), "insufficient-credits");
  EXPECT_EQ(as(c.staff).get(item).json().value("status", ""), "available");
  EXPECT_EQ(balance_of(short_of), (Balance{120, 0, 0, 120}));

  const Json grant = {{"id", new_uuid()}, {"to_member_id", able.id}, {"minutes", 30}};
  ASSERT_EQ(as(c.staff).post("/v1/ledger/transfers", grant).status, 201);
  auto lent = lend_to(able);
  ASSERT_EQ(lent.status, 200) << lent.body;
  EXPECT_EQ(lent.json().value("status", ""), "on_loan");
  EXPECT_TRUE(balance_becomes(able, {0, 0, 0, 0})) << balance_of(able);
}

TEST_F(E2eLedgerTrustTest, a_nul_in_a_memo_is_a_clear_400_and_the_ledger_goes_on) {
  const StaffedCommunity c = community("Esquermes");
  const MemberInfo payer = member(c, "hugo"), payee = member(c, "lina");
  Json body = {{"id", new_uuid()}, {"to_member_id", payee.id}, {"minutes", 10}};
  body["memo"] = std::string("merci\0", 6);
  const auto refused = as(payer).post("/v1/ledger/transfers", body);
  ASSERT_EQ(refused.status, 400) << refused.body;
  const Json problem = refused.json();
  ASSERT_FALSE(problem["errors"].empty()) << refused.body;
  EXPECT_EQ(problem["errors"][0]["field"], "memo");

  body["memo"] = "merci";
  EXPECT_EQ(as(payer).post("/v1/ledger/transfers", body).status, 201);
  EXPECT_EQ(balance_of(payer), (Balance{110, 0, 0, 110}));
  EXPECT_EQ(balance_of(payee), (Balance{130, 0, 0, 130}));
}

}  // namespace
}  // namespace maillon::testing
