// Federation inside one installation (issue 23): agreements between community administrators,
// transfers paid across a link in two legs through mirror clearing accounts, limits per
// direction, idempotent retries and the reconciliation. Real PostgreSQL and Redis; every answer
// is checked against schemas/openapi.yaml by the harness.
#include <map>
#include <pqxx/pqxx>
#include <set>

#include "federation_world.hpp"

namespace maillon::testing {
namespace {

class Federation : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { w = new FederationWorld("fed" + unique_suffix()); }
  static void TearDownTestSuite() {
    delete w;
    w = nullptr;
  }
  static FederationWorld* w;

  static const FedCommunity& a() { return w->communities[0]; }
  static const FedCommunity& b() { return w->communities[1]; }
  static const FedCommunity& c() { return w->communities[2]; }

  // Each community's books sum to zero and its clearing accounts mirror their partners'.
  static void expect_books_hold(const FedCommunity& community) {
    const Json audit = w->audit(community);
    EXPECT_EQ(audit.value("sum_balances_minutes", int64_t{-1}), 0) << audit.dump();
    EXPECT_TRUE(audit["violations"].empty()) << audit.dump();
  }

  static Json hold_data(const std::string& id, const MemberInfo& from, const MemberInfo& to,
                        int64_t minutes, const std::string& payee_community) {
    return {{"transfer_id", id},
            {"from_member_id", from.id},
            {"to_member_id", to.id},
            {"minutes", minutes},
            {"kind", "exchange"},
            {"ref", "exchange:" + id},
            {"payee_community_id", payee_community}};
  }

  // The reason of the transfer.rejected answering `transfer_id`, once published ("" if none).
  static std::string rejection_of(const std::string& transfer_id) {
    std::string reason;
    eventually(
        [&] {
          const auto rejected = w->events_of("transfer.rejected", "transfer_id", transfer_id);
          if (rejected.empty()) return false;
          reason = rejected.front()["data"]["reason"];
          return true;
        },
        10000);
    return reason;
  }

  static Json pay_body(const FedCommunity& to_community, const MemberInfo& to, int64_t minutes,
                       const std::string& id = new_uuid()) {
    return {{"id", id},
            {"payee_community_id", to_community.id},
            {"to_member_id", to.id},
            {"minutes", minutes},
            {"memo", "Perceuse prêtée"}};
  }
};
FederationWorld* Federation::w = nullptr;

TEST_F(Federation, admins_agree_on_a_link_and_either_suspends_it) {
  FedCommunity x = w->community("agree-x" + unique_suffix());
  FedCommunity y = w->community("agree-y" + unique_suffix());
  const Json body = {{"community_id", x.id},
                     {"partner", {{"community_id", y.id}}},
                     {"debit_limit_minutes", 300},
                     {"credit_limit_minutes", 200}};
  // Only the community's administrators (or the platform's) propose.
  EXPECT_EQ(w->anonymous().post("/v1/federation/links", body).status, 401);
  EXPECT_EQ(w->client(x.members[0]).post("/v1/federation/links", body).status, 403);
  EXPECT_EQ(w->client(x.staff).post("/v1/federation/links", body).status, 403);
  EXPECT_EQ(w->client(y.admin).post("/v1/federation/links", body).status, 403);
  const auto proposed = w->client(x.admin).post("/v1/federation/links", body);
  ASSERT_EQ(proposed.status, 201) << proposed.body;
  const std::string id = proposed.json()["id"];
  EXPECT_EQ(proposed.json()["state"], "proposed");
  EXPECT_EQ(proposed.json()["rate"], 1);
  // A second link between the same pair, either way round, is a conflict.
  EXPECT_EQ(w->client(x.admin).post("/v1/federation/links", body).status, 409);
  Json reverse = body;
  reverse["community_id"] = y.id;
  reverse["partner"]["community_id"] = x.id;
  EXPECT_EQ(w->client(y.admin).post("/v1/federation/links", reverse).status, 409);

  // The partner's admin accepts, with limits of its own; the proposer cannot.
  EXPECT_EQ(w->client(x.admin).post("/v1/federation/links/" + id + "/accept").json()["code"],
            "own-proposal");
  EXPECT_EQ(w->client(y.members[0]).post("/v1/federation/links/" + id + "/accept").status, 403);
  EXPECT_EQ(w->client(y.staff).post("/v1/federation/links/" + id + "/accept").status, 403);
  const auto accepted =
      w->client(y.admin).post("/v1/federation/links/" + id + "/accept",
                              {{"debit_limit_minutes", 150}, {"credit_limit_minutes", 250}});
  ASSERT_EQ(accepted.status, 200) << accepted.body;
  EXPECT_EQ(accepted.json()["state"], "active");
  EXPECT_EQ(accepted.json()["debit_limit_minutes"], 150);
  EXPECT_EQ(w->client(y.admin).post("/v1/federation/links/" + id + "/accept").status, 200);

  // Each side sees the link from where it stands; admins and staff only.
  const Json seen_by_x = w->link_seen_by(x, id);
  ASSERT_FALSE(seen_by_x.is_null());
  EXPECT_EQ(seen_by_x["state"], "active");
  EXPECT_EQ(seen_by_x["partner"]["community_id"], y.id);
  EXPECT_EQ(seen_by_x["debit_limit_minutes"], 300);
  EXPECT_EQ(seen_by_x["balance_minutes"], 0);
  EXPECT_EQ(w->client(x.staff).get("/v1/federation/links?community_id=" + x.id).status, 200);
  EXPECT_EQ(w->platform_admin().get("/v1/federation/links?community_id=" + x.id).status, 200);
  EXPECT_EQ(w->client(x.members[0]).get("/v1/federation/links?community_id=" + x.id).status, 403);
  EXPECT_EQ(w->client(y.staff).get("/v1/federation/links?community_id=" + x.id).status, 403);
  EXPECT_EQ(w->anonymous().get("/v1/federation/links?community_id=" + x.id).status, 401);

  // Either admin suspends; a member cannot; suspending again changes nothing.
  EXPECT_EQ(w->client(x.members[0]).post("/v1/federation/links/" + id + "/suspend").status, 403);
  EXPECT_EQ(w->client(c().admin).post("/v1/federation/links/" + id + "/suspend").status, 404);
  const auto suspended = w->client(y.admin).post("/v1/federation/links/" + id + "/suspend");
  ASSERT_EQ(suspended.status, 200) << suspended.body;
  EXPECT_EQ(suspended.json()["state"], "suspended");
  EXPECT_EQ(w->link_seen_by(x, id)["state"], "suspended");
  EXPECT_EQ(w->client(x.admin).post("/v1/federation/links/" + id + "/suspend").status, 200);
  EXPECT_EQ(w->client(y.admin).post("/v1/federation/links/" + id + "/accept").status, 409);

  // federation.link.updated per side: proposed, active, suspended (one each, twice).
  const bool published = eventually(
      [&] { return w->events_of("federation.link.updated", "link_id", id).size() >= 6; }, 10000);
  ASSERT_TRUE(published);
  std::map<std::string, std::vector<std::string>> states;
  for (const auto& e : w->events_of("federation.link.updated", "link_id", id)) {
    EXPECT_EQ(e["community_id"], e["data"]["community_id"]);
    states[e["data"]["community_id"]].push_back(e["data"]["state"]);
  }
  const std::vector<std::string> expected = {"proposed", "active", "suspended"};
  EXPECT_EQ(states[x.id], expected);
  EXPECT_EQ(states[y.id], expected);
}

TEST_F(Federation, a_proposal_is_refused_clearly) {
  const auto admin = w->client(a().admin);
  const auto self = admin.post("/v1/federation/links", {{"community_id", a().id},
                                                        {"partner", {{"community_id", a().id}}},
                                                        {"debit_limit_minutes", 10},
                                                        {"credit_limit_minutes", 10}});
  EXPECT_EQ(self.status, 422);
  EXPECT_EQ(self.json()["code"], "same-community");
  const auto unknown =
      admin.post("/v1/federation/links", {{"community_id", a().id},
                                          {"partner", {{"community_id", new_uuid()}}},
                                          {"debit_limit_minutes", 10},
                                          {"credit_limit_minutes", 10}});
  EXPECT_EQ(unknown.status, 404);
  const auto invalid = deliberately_wrong([&] {
    return admin.post("/v1/federation/links", {{"community_id", a().id},
                                               {"partner", {{"community_id", b().id}}},
                                               {"debit_limit_minutes", -1},
                                               {"credit_limit_minutes", 10},
                                               {"rate", 1000}});
  });
  ASSERT_EQ(invalid.status, 400);
  std::set<std::string> fields;
  const Json problem = invalid.json();
  for (const auto& e : problem["errors"]) fields.insert(e["field"].get<std::string>());
  EXPECT_TRUE(fields.contains("debit_limit_minutes")) << invalid.body;
  EXPECT_TRUE(fields.contains("rate")) << invalid.body;
  EXPECT_EQ(w->client(a().admin).post("/v1/federation/links/" + new_uuid() + "/accept").status,
            404);
}

TEST_F(Federation, a_federated_hold_is_posted_or_voided_in_both_ledgers_at_once) {
  FedCommunity x = w->community("hold-x" + unique_suffix());
  FedCommunity y = w->community("hold-y" + unique_suffix());
  const std::string link = w->active_link(x, y, 500, 500);
  const MemberInfo& payer = x.members[0];
  const MemberInfo& payee = y.members[0];

  const std::string first = "exchange:" + new_uuid() + ":1";
  w->send_command(x.id, "ledger.hold", hold_data(first, payer, payee, 30, y.id));
  ASSERT_TRUE(eventually([&] { return w->balance(y, payee).pending_credit == 30; }, 10000));
  EXPECT_EQ(w->balance(x, x.members[0]), (LedgerBalance{120, 30, 0, 90}));
  EXPECT_EQ(w->balance(y, payee), (LedgerBalance{120, 0, 30, 120}));
  Json ours = w->link_seen_by(x, link);
  Json theirs = w->link_seen_by(y, link);
  EXPECT_EQ(ours["pending_credit_minutes"], 30);
  EXPECT_EQ(theirs["pending_debit_minutes"], 30);
  EXPECT_EQ(ours["balance_minutes"], 0);
  expect_books_hold(x);
  expect_books_hold(y);
  // Both legs answered, each in its own community, under the saga's transfer id.
  ASSERT_TRUE(eventually(
      [&] { return w->events_of("transfer.pending", "transfer_id", first).size() == 2; }, 10000));

  w->send_command(x.id, "ledger.post", {{"transfer_id", first}, {"payee_community_id", y.id}});
  ASSERT_TRUE(eventually([&] { return w->balance(y, payee).balance == 150; }, 10000));
  EXPECT_EQ(w->balance(x, payer), (LedgerBalance{90, 0, 0, 90}));
  EXPECT_EQ(w->balance(y, payee), (LedgerBalance{150, 0, 0, 150}));
  ours = w->link_seen_by(x, link);
  theirs = w->link_seen_by(y, link);
  EXPECT_EQ(ours["balance_minutes"], 30);  // y owes x: x's members paid across
  EXPECT_EQ(theirs["balance_minutes"], -30);
  EXPECT_EQ(ours["pending_credit_minutes"], 0);
  expect_books_hold(x);
  expect_books_hold(y);

  const std::string second = "exchange:" + new_uuid() + ":1";
  w->send_command(x.id, "ledger.hold", hold_data(second, payer, payee, 20, y.id));
  ASSERT_TRUE(eventually([&] { return w->balance(y, payee).pending_credit == 20; }, 10000));
  EXPECT_EQ(w->balance(x, payer), (LedgerBalance{90, 20, 0, 70}));
  w->send_command(x.id, "ledger.void", {{"transfer_id", second}, {"payee_community_id", y.id}});
  ASSERT_TRUE(eventually([&] { return w->balance(y, payee).pending_credit == 0; }, 10000));
  EXPECT_EQ(w->balance(x, payer), (LedgerBalance{90, 0, 0, 90}));
  EXPECT_EQ(w->balance(y, payee), (LedgerBalance{150, 0, 0, 150}));
  ours = w->link_seen_by(x, link);
  theirs = w->link_seen_by(y, link);
  EXPECT_EQ(ours["balance_minutes"], 30);
  EXPECT_EQ(ours["pending_credit_minutes"], 0);
  EXPECT_EQ(theirs["pending_debit_minutes"], 0);
  expect_books_hold(x);
  expect_books_hold(y);
  ASSERT_TRUE(eventually(
      [&] { return w->events_of("transfer.voided", "transfer_id", second).size() == 2; }, 10000));
}

TEST_F(Federation, a_limit_stops_trade_in_its_direction_only_until_it_rebalances) {
  FedCommunity x = w->community("limit-x" + unique_suffix());
  FedCommunity y = w->community("limit-y" + unique_suffix());
  // x's members may be owed 50 by y (x's credit limit), and owe y 100.
  w->active_link(x, y, 100, 50);
  const auto pay_xy = w->client(x.members[0]);
  ASSERT_EQ(pay_xy.post("/v1/federation/transfers", pay_body(y, y.members[0], 40)).status, 201);
  const auto refused = pay_xy.post("/v1/federation/transfers", pay_body(y, y.members[0], 20));
  EXPECT_EQ(refused.status, 422);
  EXPECT_EQ(refused.json()["code"], "federation-limit");
  // The saga's hold is refused the same way, with the reason on ledger.events.
  const std::string hold = "exchange:" + new_uuid() + ":1";
  w->send_command(x.id, "ledger.hold", hold_data(hold, x.members[1], y.members[0], 20, y.id));
  EXPECT_EQ(rejection_of(hold), "federation-limit");
  EXPECT_EQ(w->balance(x, x.members[1]), (LedgerBalance{120, 0, 0, 120}));

  // The other direction still trades, and rebalances the first.
  const auto paid_back =
      w->client(y.members[1]).post("/v1/federation/transfers", pay_body(x, x.members[1], 30));
  ASSERT_EQ(paid_back.status, 201) << paid_back.body;
  EXPECT_EQ(pay_xy.post("/v1/federation/transfers", pay_body(y, y.members[0], 20)).status, 201);
  EXPECT_EQ(w->balance(x, x.members[0]).balance, 120 - 40 - 20);
  EXPECT_EQ(w->balance(y, y.members[0]).balance, 120 + 40 + 20);
  expect_books_hold(x);
  expect_books_hold(y);
}

TEST_F(Federation, a_payment_across_needs_an_active_link_and_members_on_both_sides) {
  // c has no link with a.
  const auto no_link =
      w->client(a().members[0]).post("/v1/federation/transfers", pay_body(c(), c().members[0], 5));
  EXPECT_EQ(no_link.status, 422);
  EXPECT_EQ(no_link.json()["code"], "no-federation-link");
  const std::string hold = "exchange:" + new_uuid() + ":1";
  w->send_command(a().id, "ledger.hold",
                  hold_data(hold, a().members[0], c().members[0], 5, c().id));
  EXPECT_EQ(rejection_of(hold), "no-federation-link");
  // What a community prints stays at home: no bonus, and no community account, across.
  const std::string bonus = "exchange:" + new_uuid() + ":1";
  Json bonus_data = hold_data(bonus, a().members[0], c().members[0], 5, c().id);
  bonus_data["kind"] = "bonus";
  w->send_command(a().id, "ledger.hold", bonus_data);
  EXPECT_EQ(rejection_of(bonus), "invalid-command");
  const std::string printed = "exchange:" + new_uuid() + ":1";
  Json printed_data = hold_data(printed, a().members[0], c().members[0], 5, c().id);
  printed_data["from_member_id"] = nullptr;
  w->send_command(a().id, "ledger.hold", printed_data);
  EXPECT_EQ(rejection_of(printed), "invalid-command");
  // Nobody names a clearing account as a member.
  const std::string drain = "exchange:" + new_uuid() + ":1";
  w->send_command(a().id, "ledger.grant",
                  {{"transfer_id", drain},
                   {"from_member_id", "clearing:" + a().id + ":" + b().id},
                   {"to_member_id", a().members[0].id},
                   {"minutes", 5},
                   {"kind", "exchange"}});
  EXPECT_EQ(rejection_of(drain), "invalid-command");
}

TEST_F(Federation, a_suspended_link_takes_no_new_hold_but_settles_the_ones_it_has) {
  FedCommunity x = w->community("susp-x" + unique_suffix());
  FedCommunity y = w->community("susp-y" + unique_suffix());
  const std::string link = w->active_link(x, y, 500, 500);
  const std::string held = "exchange:" + new_uuid() + ":1";
  w->send_command(x.id, "ledger.hold", hold_data(held, x.members[0], y.members[0], 25, y.id));
  ASSERT_TRUE(eventually([&] { return w->balance(y, y.members[0]).pending_credit == 25; }, 10000));
  ASSERT_EQ(w->client(x.admin).post("/v1/federation/links/" + link + "/suspend").status, 200);
  const std::string late = "exchange:" + new_uuid() + ":1";
  w->send_command(x.id, "ledger.hold", hold_data(late, x.members[1], y.members[0], 5, y.id));
  EXPECT_EQ(rejection_of(late), "no-federation-link");
  w->send_command(x.id, "ledger.post", {{"transfer_id", held}, {"payee_community_id", y.id}});
  ASSERT_TRUE(eventually([&] { return w->balance(y, y.members[0]).balance == 145; }, 10000));
  EXPECT_EQ(w->balance(x, x.members[0]), (LedgerBalance{95, 0, 0, 95}));
  EXPECT_EQ(w->link_seen_by(x, link)["balance_minutes"], 25);
  expect_books_hold(x);
  expect_books_hold(y);
}

// Resuming (POST /v1/federation/links/{id}/resume): each side withdraws only its own
// suspension; the link is active again, with its clearing accounts as they were, once every
// side that suspended it has resumed it.
TEST_F(Federation, a_suspended_link_resumes_once_each_side_that_suspended_it_resumes) {
  FedCommunity x = w->community("resume-x" + unique_suffix());
  FedCommunity y = w->community("resume-y" + unique_suffix());
  const std::string link = w->active_link(x, y, 500, 500);
  const std::string path = "/v1/federation/links/" + link;
  const auto paid =
      w->client(x.members[0]).post("/v1/federation/transfers", pay_body(y, y.members[0], 10));
  ASSERT_EQ(paid.status, 201) << paid.body;

  // An active link is not resumed; only the two communities' admins resume it.
  const auto active = w->client(x.admin).post(path + "/resume");
  EXPECT_EQ(active.status, 409) << active.body;
  EXPECT_EQ(active.json()["code"], "link-not-suspended");
  ASSERT_EQ(w->client(x.admin).post(path + "/suspend").status, 200);
  EXPECT_EQ(w->client(x.members[0]).post(path + "/resume").status, 403);
  EXPECT_EQ(w->client(x.staff).post(path + "/resume").status, 403);
  EXPECT_EQ(w->client(c().admin).post(path + "/resume").status, 404);
  EXPECT_EQ(w->client(x.admin).post("/v1/federation/links/" + new_uuid() + "/resume").status, 404);
  EXPECT_EQ(w->anonymous().post(path + "/resume").status, 401);

  // x suspended it: y's admin cannot undo that alone.
  const auto by_y = w->client(y.admin).post(path + "/resume");
  ASSERT_EQ(by_y.status, 200) << by_y.body;
  EXPECT_EQ(by_y.json()["state"], "suspended");
  EXPECT_EQ(by_y.json()["suspended_by_partner"], true);
  EXPECT_EQ(by_y.json()["suspended_by_us"], false);
  EXPECT_EQ(w->link_seen_by(x, link)["state"], "suspended");
  EXPECT_EQ(w->link_seen_by(x, link)["suspended_by_us"], true);
  const auto refused =
      w->client(y.members[0]).post("/v1/federation/transfers", pay_body(x, x.members[0], 5));
  EXPECT_EQ(refused.status, 422);
  EXPECT_EQ(refused.json()["code"], "no-federation-link");

  // x resumes: active on both sides, the clearing accounts as they were; trade crosses again.
  const auto by_x = w->client(x.admin).post(path + "/resume");
  ASSERT_EQ(by_x.status, 200) << by_x.body;
  EXPECT_EQ(by_x.json()["state"], "active");
  EXPECT_EQ(by_x.json()["suspended_by_us"], false);
  EXPECT_EQ(by_x.json()["suspended_by_partner"], false);
  EXPECT_EQ(by_x.json()["balance_minutes"], 10);
  EXPECT_EQ(w->link_seen_by(y, link)["state"], "active");
  EXPECT_EQ(w->client(x.admin).post(path + "/resume").json()["code"], "link-not-suspended");
  const auto across =
      w->client(y.members[0]).post("/v1/federation/transfers", pay_body(x, x.members[0], 4));
  ASSERT_EQ(across.status, 201) << across.body;
  EXPECT_EQ(w->link_seen_by(x, link)["balance_minutes"], 6);

  // Both suspend: both must resume, in either order; a retry changes nothing.
  ASSERT_EQ(w->client(y.admin).post(path + "/suspend").status, 200);
  ASSERT_EQ(w->client(x.admin).post(path + "/suspend").status, 200);
  const auto first = w->client(y.admin).post(path + "/resume");
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(first.json()["state"], "suspended");
  EXPECT_EQ(first.json()["suspended_by_us"], false);
  EXPECT_EQ(first.json()["suspended_by_partner"], true);
  EXPECT_EQ(w->client(y.admin).post(path + "/resume").json()["state"], "suspended");
  EXPECT_EQ(w->link_seen_by(x, link)["state"], "suspended");
  const auto second = w->client(x.admin).post(path + "/resume");
  ASSERT_EQ(second.status, 200) << second.body;
  EXPECT_EQ(second.json()["state"], "active");
  EXPECT_EQ(w->link_seen_by(y, link)["state"], "active");
  const auto again =
      w->client(x.members[1]).post("/v1/federation/transfers", pay_body(y, y.members[1], 3));
  ASSERT_EQ(again.status, 201) << again.body;
  expect_books_hold(x);
  expect_books_hold(y);

  // federation.link.updated for each change of state, per side: proposed, active, then
  // suspended and active twice (the resumptions that left it suspended emitted nothing).
  const std::vector<std::string> expected = {"proposed", "active",    "suspended",
                                             "active",   "suspended", "active"};
  const bool published = eventually(
      [&] { return w->events_of("federation.link.updated", "link_id", link).size() >= 12; }, 10000);
  ASSERT_TRUE(published);
  std::map<std::string, std::vector<std::string>> states;
  for (const auto& e : w->events_of("federation.link.updated", "link_id", link))
    states[e["data"]["community_id"]].push_back(e["data"]["state"]);
  EXPECT_EQ(states[x.id], expected);
  EXPECT_EQ(states[y.id], expected);
}

// A link suspended before its partner accepted it is proposed again when resumed: resuming
// never stands in for the partner's acceptance.
TEST_F(Federation, a_link_suspended_while_proposed_resumes_as_proposed) {
  FedCommunity x = w->community("rprop-x" + unique_suffix());
  FedCommunity y = w->community("rprop-y" + unique_suffix());
  const auto proposed =
      w->client(x.admin).post("/v1/federation/links", {{"community_id", x.id},
                                                       {"partner", {{"community_id", y.id}}},
                                                       {"debit_limit_minutes", 100},
                                                       {"credit_limit_minutes", 100}});
  ASSERT_EQ(proposed.status, 201) << proposed.body;
  const std::string path = "/v1/federation/links/" + std::string(proposed.json()["id"]);
  EXPECT_EQ(w->client(x.admin).post(path + "/resume").json()["code"], "link-not-suspended");
  ASSERT_EQ(w->client(x.admin).post(path + "/suspend").status, 200);
  const auto resumed = w->client(x.admin).post(path + "/resume");
  ASSERT_EQ(resumed.status, 200) << resumed.body;
  EXPECT_EQ(resumed.json()["state"], "proposed");
  const auto paid =
      w->client(x.members[0]).post("/v1/federation/transfers", pay_body(y, y.members[0], 5));
  EXPECT_EQ(paid.status, 422);
  const auto accepted = w->client(y.admin).post(path + "/accept");
  ASSERT_EQ(accepted.status, 200) << accepted.body;
  EXPECT_EQ(accepted.json()["state"], "active");
}

TEST_F(Federation, retries_move_credits_once) {
  FedCommunity x = w->community("retry-x" + unique_suffix());
  FedCommunity y = w->community("retry-y" + unique_suffix());
  w->active_link(x, y, 500, 500);
  // The same hold command twice (a saga's retry: another event, the same data).
  const std::string id = "exchange:" + new_uuid() + ":1";
  const Json data = hold_data(id, x.members[0], y.members[0], 10, y.id);
  w->send_command(x.id, "ledger.hold", data);
  w->send_command(x.id, "ledger.hold", data);
  w->send_command(x.id, "ledger.post", {{"transfer_id", id}, {"payee_community_id", y.id}});
  w->send_command(x.id, "ledger.post", {{"transfer_id", id}, {"payee_community_id", y.id}});
  ASSERT_TRUE(eventually([&] { return w->balance(y, y.members[0]).balance == 130; }, 10000));
  // The second post answers already-posted, nothing moves again.
  EXPECT_EQ(rejection_of(id), "already-posted");
  EXPECT_EQ(w->balance(x, x.members[0]), (LedgerBalance{110, 0, 0, 110}));
  EXPECT_EQ(w->events_of("transfer.posted", "transfer_id", id).size(), 2u);

  // A member's payment across, sent twice: 201 then 200 with the same transfer.
  const Json body = pay_body(y, y.members[1], 15);
  const auto first = w->client(x.members[1]).post("/v1/federation/transfers", body);
  ASSERT_EQ(first.status, 201) << first.body;
  EXPECT_EQ(first.json()["payee_amount_minutes"], 15);
  const auto again = w->client(x.members[1]).post("/v1/federation/transfers", body);
  EXPECT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(again.json()["id"], first.json()["id"]);
  Json other = body;
  other["minutes"] = 16;
  EXPECT_EQ(w->client(x.members[1]).post("/v1/federation/transfers", other).status, 409);
  EXPECT_EQ(w->balance(y, y.members[1]).balance, 135);
  EXPECT_EQ(w->balance(x, x.members[1]).balance, 105);
  expect_books_hold(x);
  expect_books_hold(y);
}

TEST_F(Federation, the_reconciliation_compares_the_mirror_accounts_transfer_by_transfer) {
  FedCommunity x = w->community("rec-x" + unique_suffix());
  FedCommunity y = w->community("rec-y" + unique_suffix());
  const std::string link = w->active_link(x, y, 500, 500);
  ASSERT_EQ(w->client(x.members[0])
                .post("/v1/federation/transfers", pay_body(y, y.members[0], 12))
                .status,
            201);
  ASSERT_EQ(
      w->client(y.members[0]).post("/v1/federation/transfers", pay_body(x, x.members[1], 5)).status,
      201);
  const std::string held = "exchange:" + new_uuid() + ":1";
  w->send_command(x.id, "ledger.hold", hold_data(held, x.members[0], y.members[1], 7, y.id));
  ASSERT_TRUE(eventually([&] { return w->balance(y, y.members[1]).pending_credit == 7; }, 10000));

  const auto r = w->client(x.admin).get("/v1/federation/links/" + link + "/reconciliation");
  ASSERT_EQ(r.status, 200) << r.body;
  const Json j = r.json();
  EXPECT_EQ(j["community_id"], x.id);
  EXPECT_EQ(j["ours"]["balance_minutes"], 7);
  EXPECT_EQ(j["theirs"]["balance_minutes"], -7);
  EXPECT_EQ(j["ours"]["pending_credit_minutes"], 7);
  EXPECT_EQ(j["theirs"]["pending_debit_minutes"], 7);
  EXPECT_TRUE(j["differences"].empty()) << r.body;
  const auto from_y = w->client(y.admin).get("/v1/federation/links/" + link + "/reconciliation");
  ASSERT_EQ(from_y.status, 200);
  EXPECT_EQ(from_y.json()["ours"]["balance_minutes"], -7);
  EXPECT_EQ(w->client(x.staff).get("/v1/federation/links/" + link + "/reconciliation").status, 403);
  EXPECT_EQ(w->client(x.members[0]).get("/v1/federation/links/" + link + "/reconciliation").status,
            403);
}

TEST_F(Federation, a_rate_converts_each_payment_with_the_payers_rate) {
  FedCommunity x = w->community("rate-x" + unique_suffix());
  FedCommunity y = w->community("rate-y" + unique_suffix());
  const auto proposed =
      w->client(x.admin).post("/v1/federation/links", {{"community_id", x.id},
                                                       {"partner", {{"community_id", y.id}}},
                                                       {"debit_limit_minutes", 500},
                                                       {"credit_limit_minutes", 500},
                                                       {"rate", 1.5}});
  ASSERT_EQ(proposed.status, 201) << proposed.body;
  const std::string link = proposed.json()["id"];
  ASSERT_EQ(w->client(y.admin).post("/v1/federation/links/" + link + "/accept").status, 200);
  // 15 of x's minutes are 22.5 of y's: 22 (rounded down, so that no payment across and back
  // gains anything).
  const auto paid =
      w->client(x.members[0]).post("/v1/federation/transfers", pay_body(y, y.members[0], 15));
  ASSERT_EQ(paid.status, 201) << paid.body;
  EXPECT_EQ(paid.json()["payee_amount_minutes"], 22);
  EXPECT_EQ(w->balance(y, y.members[0]).balance, 142);
  // y's rate is the inverse (0.666666): 9 of y's minutes are 5.99 of x's, so 5.
  ASSERT_EQ(
      w->client(y.members[1]).post("/v1/federation/transfers", pay_body(x, x.members[1], 9)).status,
      201);
  EXPECT_EQ(w->balance(x, x.members[1]).balance, 125);
  expect_books_hold(x);
  expect_books_hold(y);
  const auto r = w->client(y.admin).get("/v1/federation/links/" + link + "/reconciliation");
  ASSERT_EQ(r.status, 200);
  EXPECT_TRUE(r.json()["differences"].empty()) << r.body;
}

TEST_F(Federation, the_exchange_reads_the_headroom_left_in_each_direction) {
  FedCommunity x = w->community("room-x" + unique_suffix());
  FedCommunity y = w->community("room-y" + unique_suffix());
  w->active_link(x, y, 100, 50);  // y may owe x 50 at most, x may owe y 100
  ASSERT_EQ(w->client(x.members[0])
                .post("/v1/federation/transfers", pay_body(y, y.members[0], 20))
                .status,
            201);
  pqxx::connection sql(w->world.database);
  pqxx::work tx(sql);
  auto headroom = [&](const std::string& from, const std::string& to) {
    return tx.exec_params(
        "SELECT state, headroom_minutes FROM ledger.federation_headroom($1::uuid, $2::uuid)", from,
        to);
  };
  const auto xy = headroom(x.id, y.id);
  ASSERT_EQ(xy.size(), 1u);
  EXPECT_EQ(std::string(xy[0][0].c_str()), "active");
  EXPECT_EQ(xy[0][1].as<int64_t>(), 30);  // 50 - 20 on both sides
  const auto yx = headroom(y.id, x.id);
  ASSERT_EQ(yx.size(), 1u);
  EXPECT_EQ(yx[0][1].as<int64_t>(), 120);  // 100 + the 20 y owes back
  EXPECT_TRUE(headroom(x.id, c().id).empty());
}

TEST_F(Federation, both_legs_of_a_hold_expire_together) {
  FedCommunity x = w->community("exp-x" + unique_suffix());
  FedCommunity y = w->community("exp-y" + unique_suffix());
  const std::string link = w->active_link(x, y, 500, 500);
  const std::string id = "exchange:" + new_uuid() + ":1";
  Json data = hold_data(id, x.members[0], y.members[0], 40, y.id);
  data["timeout_s"] = 60;
  w->send_command(x.id, "ledger.hold", data);
  ASSERT_TRUE(eventually([&] { return w->balance(y, y.members[0]).pending_credit == 40; }, 10000));
  w->clock.advance_s(120);
  ASSERT_TRUE(eventually(
      [&] { return w->events_of("transfer.voided", "transfer_id", id).size() == 2; }, 10000));
  for (const auto& e : w->events_of("transfer.voided", "transfer_id", id))
    EXPECT_EQ(e["data"]["reason"], "expired");
  EXPECT_EQ(w->balance(x, x.members[0]), (LedgerBalance{120, 0, 0, 120}));
  EXPECT_EQ(w->balance(y, y.members[0]), (LedgerBalance{120, 0, 0, 120}));
  EXPECT_EQ(w->link_seen_by(x, link)["pending_credit_minutes"], 0);
  expect_books_hold(x);
  expect_books_hold(y);
}

TEST_F(Federation, the_audit_and_the_reconciliation_name_a_leg_that_disagrees) {
  FedCommunity x = w->community("bad-x" + unique_suffix());
  FedCommunity y = w->community("bad-y" + unique_suffix());
  const std::string link = w->active_link(x, y, 500, 500);
  const std::string id = new_uuid();
  ASSERT_EQ(w->client(x.members[0])
                .post("/v1/federation/transfers", pay_body(y, y.members[0], 10, id))
                .status,
            201);
  {
    // What a bug or a hand in the database could do: y's leg no longer the conversion of x's.
    pqxx::connection sql(w->world.database);
    pqxx::work tx(sql);
    tx.exec_params(
        "UPDATE ledger.transfers SET amount_minutes = 11, posted_minutes = 11 "
        "WHERE community_id = $1::uuid AND id = $2",
        y.id, id);
    tx.commit();
  }
  const Json audit = w->audit(y);
  ASSERT_EQ(audit["violations"].size(), 1u) << audit.dump();
  EXPECT_EQ(audit["violations"][0]["check"], "mirror_mismatch");
  EXPECT_EQ(audit["sum_balances_minutes"], 0);
  const auto r = w->client(x.admin).get("/v1/federation/links/" + link + "/reconciliation");
  ASSERT_EQ(r.status, 200);
  const Json differences = r.json()["differences"];
  ASSERT_EQ(differences.size(), 1u) << r.body;
  EXPECT_EQ(differences[0]["transfer_id"], id);
  EXPECT_EQ(differences[0]["kind"], "amount");
  EXPECT_EQ(differences[0]["theirs"]["amount_minutes"], 11);
}

TEST_F(Federation, a_settlement_that_names_no_payee_community_still_settles_both_legs) {
  FedCommunity x = w->community("leg-x" + unique_suffix());
  FedCommunity y = w->community("leg-y" + unique_suffix());
  w->active_link(x, y, 500, 500);
  const std::string voided = "exchange:" + new_uuid() + ":1";
  w->send_command(x.id, "ledger.hold", hold_data(voided, x.members[0], y.members[0], 8, y.id));
  ASSERT_TRUE(eventually([&] { return w->balance(y, y.members[0]).pending_credit == 8; }, 10000));
  w->send_command(x.id, "ledger.void", {{"transfer_id", voided}});
  ASSERT_TRUE(eventually(
      [&] { return w->events_of("transfer.voided", "transfer_id", voided).size() == 2; }, 10000));
  // From the payee's side as well (the envelope names the payee's community).
  const std::string posted = "exchange:" + new_uuid() + ":1";
  w->send_command(x.id, "ledger.hold", hold_data(posted, x.members[0], y.members[0], 9, y.id));
  ASSERT_TRUE(eventually([&] { return w->balance(y, y.members[0]).pending_credit == 9; }, 10000));
  w->send_command(y.id, "ledger.post", {{"transfer_id", posted}});
  ASSERT_TRUE(eventually([&] { return w->balance(y, y.members[0]).balance == 129; }, 10000));
  EXPECT_EQ(w->balance(x, x.members[0]), (LedgerBalance{111, 0, 0, 111}));
  expect_books_hold(x);
  expect_books_hold(y);
}

// A listing that crosses, at the point every one of these tests hands over at.
Json crossing_listing(const std::string& title) {
  return {{"kind", "good"},
          {"mode", "lend"},
          {"category", "perceuses"},
          {"title", title},
          {"location", {{"lat", 50.63}, {"lon", 3.07}}},
          {"reach_km", 2},
          {"visibility", "federation"}};
}

// match.proposed events on the matches stream naming this offer and request.
int proposed_events(const std::string& prefix, const std::string& offer_id,
                    const std::string& request_id) {
  Redis redis(redis_url());
  const auto r = redis.command({"XRANGE", prefix + ":matches", "-", "+"});
  int count = 0;
  for (std::size_t i = 0; r && r->type == REDIS_REPLY_ARRAY && i < r->elements; ++i) {
    const redisReply* fields = r->element[i]->element[1];
    const Json e = Json::parse(std::string(fields->element[1]->str, fields->element[1]->len));
    if (e.value("type", "") == "match.proposed" && e["data"].value("offer_id", "") == offer_id &&
        e["data"].value("request_id", "") == request_id)
      ++count;
  }
  return count;
}

// A request of x and an offer of y, both posted (and read by matching) before any link: the
// link's activation pairs them, once although two replicas of matching see it; its suspension
// takes the proposal away.
TEST_F(Federation, listings_posted_before_a_link_are_matched_once_it_is_active) {
  FedCommunity x = w->community("match-x" + unique_suffix());
  FedCommunity y = w->community("match-y" + unique_suffix());
  ServiceProcess offers("offers", w->world.env()), requests("requests", w->world.env());
  ServiceProcess first("matching", w->world.env()), second("matching", w->world.env());
  for (ServiceProcess* p : {&offers, &requests, &first, &second}) p->start();
  const MemberInfo& asker = x.members[0];
  const MemberInfo& lender = y.members[0];
  const auto request = Client(requests.url(), asker.token)
                           .post("/v1/requests", crossing_listing("Cherche une perceuse"));
  ASSERT_EQ(request.status, 201) << request.body;
  const auto offer =
      Client(offers.url(), lender.token).post("/v1/offers", crossing_listing("Perceuse"));
  ASSERT_EQ(offer.status, 201) << offer.body;
  const std::string request_id = request.json()["id"], offer_id = offer.json()["id"];

  // Both read by matching (its answer for a listing it does not hold is 404), and not paired.
  const auto matches_of_request = [&](const ServiceProcess& replica) {
    const auto r =
        Client(replica.url(), asker.token).get("/v1/matches?listing=request:" + request_id);
    return r.status == 200 ? r.json()["items"] : Json();
  };
  const auto matches_of_offer = [&](const ServiceProcess& replica) {
    const auto r = Client(replica.url(), lender.token).get("/v1/matches?listing=offer:" + offer_id);
    return r.status == 200 ? r.json()["items"] : Json();
  };
  ASSERT_TRUE(eventually([&] { return matches_of_request(first).is_array(); }, 10000));
  ASSERT_TRUE(eventually([&] { return matches_of_offer(first).is_array(); }, 10000));
  EXPECT_TRUE(matches_of_request(first).empty());
  EXPECT_TRUE(matches_of_offer(second).empty());
  // Both replicas start again from the read model: no later write brings either listing back
  // through the index feed, only the link can pair them now.
  for (ServiceProcess* replica : {&first, &second}) {
    replica->terminate();
    replica->start();
  }

  const std::string link = w->active_link(x, y, 500, 500);
  // Each replica's index learns the link (the offer shows near the asker on both) and pairs
  // what stood on either side.
  const std::string near = "/v1/nearby?lat=50.63&lon=3.07&radius_km=5&kind=offer";
  for (const ServiceProcess* replica : {&first, &second}) {
    EXPECT_TRUE(eventually(
        [&] {
          const auto r = Client(replica->url(), asker.token).get(near);
          return r.status == 200 && r.body.find(offer_id) != std::string::npos;
        },
        10000));
  }
  for (const ServiceProcess* replica : {&first, &second}) {
    ASSERT_TRUE(eventually([&] { return matches_of_request(*replica).size() == 1; }, 10000))
        << matches_of_request(*replica).dump();
  }
  const Json match = matches_of_request(second)[0];
  EXPECT_EQ(match["offer_id"], offer_id);
  EXPECT_EQ(match["request_id"], request_id);
  ASSERT_EQ(matches_of_offer(first).size(), 1u);
  EXPECT_EQ(matches_of_offer(first)[0]["id"], match["id"]);
  // One proposal, although both replicas saw the link become active.
  ASSERT_TRUE(eventually(
      [&] { return proposed_events(w->world.prefix, offer_id, request_id) >= 1; }, 10000));
  EXPECT_EQ(proposed_events(w->world.prefix, offer_id, request_id), 1);

  // Suspended: the pair is no longer proposed, on either replica.
  ASSERT_EQ(w->client(y.admin).post("/v1/federation/links/" + link + "/suspend").status, 200);
  for (const ServiceProcess* replica : {&first, &second}) {
    EXPECT_TRUE(eventually([&] { return matches_of_request(*replica) == Json::array(); }, 10000))
        << matches_of_request(*replica).dump();
    EXPECT_TRUE(eventually([&] { return matches_of_offer(*replica) == Json::array(); }, 10000));
  }
  EXPECT_EQ(proposed_events(w->world.prefix, offer_id, request_id), 1);
}

}  // namespace
}  // namespace maillon::testing
