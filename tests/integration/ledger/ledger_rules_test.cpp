// The ledger's contract through HTTP: idempotent client ids, limits, two-phase transfers,
// who may see what, pagination and the audit.
#include <thread>

#include "ledger_world.hpp"

namespace maillon::testing {
namespace {

class LedgerRules : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { w = new LedgerWorld("rules", 4); }
  static void TearDownTestSuite() {
    delete w;
    w = nullptr;
  }
  static LedgerWorld* w;
  static MemberInfo& alice() { return w->members[0]; }
  static MemberInfo& bob() { return w->members[1]; }
  static MemberInfo& carol() { return w->members[2]; }
  static MemberInfo& dan() { return w->members[3]; }
  static Json account(const MemberInfo& m) {
    return w->client(m).get("/v1/ledger/accounts/" + m.id).json();
  }
};
LedgerWorld* LedgerRules::w = nullptr;

TEST_F(LedgerRules, ledger_opens_accounts_with_the_joining_bonus) {
  const Json a = account(dan());
  EXPECT_EQ(a["min_balance"], -200);
  EXPECT_EQ(a["max_balance"], 600);
  const Json entries = w->client(dan()).get("/v1/ledger/accounts/" + dan().id + "/entries").json();
  ASSERT_EQ(entries["items"].size(), 1u);
  EXPECT_EQ(entries["items"][0]["kind"], "bonus");
  EXPECT_EQ(entries["items"][0]["amount_minutes"], 120);
  EXPECT_EQ(entries["items"][0]["counterparty"], "community");
}

TEST_F(LedgerRules, ledger_answers_a_replay_with_the_first_result_and_moves_nothing) {
  const int64_t before = account(alice())["balance_minutes"];
  const Json body = transfer_to(bob().id, 15);
  const auto first = w->client(alice()).post("/v1/ledger/transfers", body);
  ASSERT_EQ(first.status, 201) << first.body;
  EXPECT_EQ(first.json()["state"], "posted");
  const auto again = w->client(alice()).post("/v1/ledger/transfers", body);
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(again.json()["created_at"], first.json()["created_at"]);
  EXPECT_EQ(account(alice())["balance_minutes"], before - 15);
}

TEST_F(LedgerRules, ledger_refuses_the_same_id_with_another_body) {
  Json body = transfer_to(bob().id, 5);
  ASSERT_EQ(w->client(alice()).post("/v1/ledger/transfers", body).status, 201);
  body["minutes"] = 6;
  const auto r = w->client(alice()).post("/v1/ledger/transfers", body);
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(problem_code(r), "exists-with-different-body");
}

TEST_F(LedgerRules, ledger_refuses_a_transfer_below_min_balance) {
  const int64_t available = account(carol())["available_minutes"];
  const auto r =
      w->client(carol()).post("/v1/ledger/transfers", transfer_to(dan().id, available + 201));
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(problem_code(r), "insufficient-credits");
  EXPECT_EQ(account(carol())["available_minutes"], available);
}

TEST_F(LedgerRules, ledger_refuses_a_transfer_above_the_payees_max_balance) {
  // Staff grant from the community account, which has no floor: only the payee's cap can refuse.
  // So large a grant waits for a second pair of eyes first (grant_review_minutes), here an
  // administrator's, and the approval answers the refusal.
  const Json large = transfer_to(dan().id, 5000);
  const auto asked = w->client(w->staff).post("/v1/ledger/transfers", large);
  ASSERT_EQ(asked.status, 202) << asked.body;
  const Client admin(w->ledgers[0]->url(), w->world.admin_token);
  const auto r = admin.post("/v1/ledger/grants/" + large["id"].get<std::string>() + "/approve");
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(problem_code(r), "balance-cap");
  const auto ok = w->client(w->staff).post("/v1/ledger/transfers", transfer_to(dan().id, 30));
  ASSERT_EQ(ok.status, 201) << ok.body;
  EXPECT_EQ(ok.json()["kind"], "manual");
  EXPECT_TRUE(ok.json()["from_member_id"].is_null());
}

TEST_F(LedgerRules, ledger_posts_part_of_a_hold_and_releases_the_rest) {
  const Json before = account(alice());
  const Json hold = hold_to(bob().id, 40);
  const auto created = w->client(alice()).post("/v1/ledger/transfers", hold);
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.json()["state"], "pending");
  EXPECT_EQ(account(alice())["pending_debit_minutes"],
            before["pending_debit_minutes"].get<int64_t>() + 40);
  const std::string path = "/v1/ledger/transfers/" + hold["id"].get<std::string>();
  const auto posted = w->client(alice()).post(path + "/post", {{"minutes", 25}});
  ASSERT_EQ(posted.status, 200) << posted.body;
  EXPECT_EQ(posted.json()["state"], "posted");
  EXPECT_EQ(posted.json()["posted_minutes"], 25);
  const Json after = account(alice());
  EXPECT_EQ(after["balance_minutes"], before["balance_minutes"].get<int64_t>() - 25);
  EXPECT_EQ(after["pending_debit_minutes"], before["pending_debit_minutes"]);
}

TEST_F(LedgerRules, ledger_refuses_to_post_or_void_twice) {
  const Json posted_hold = hold_to(bob().id, 10);
  ASSERT_EQ(w->client(alice()).post("/v1/ledger/transfers", posted_hold).status, 201);
  const std::string posted = "/v1/ledger/transfers/" + posted_hold["id"].get<std::string>();
  ASSERT_EQ(w->client(alice()).post(posted + "/post").status, 200);
  auto r = w->client(alice()).post(posted + "/post");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(problem_code(r), "already-posted");
  EXPECT_EQ(problem_code(w->client(bob()).post(posted + "/void")), "already-posted");

  const Json voided_hold = hold_to(bob().id, 10);
  ASSERT_EQ(w->client(alice()).post("/v1/ledger/transfers", voided_hold).status, 201);
  const std::string voided = "/v1/ledger/transfers/" + voided_hold["id"].get<std::string>();
  ASSERT_EQ(w->client(bob()).post(voided + "/void").status, 200);
  r = w->client(alice()).post(voided + "/void");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(problem_code(r), "already-voided");
  EXPECT_EQ(problem_code(w->client(alice()).post(voided + "/post")), "already-voided");
}

TEST_F(LedgerRules, ledger_refuses_to_post_after_the_timeout) {
  const Json hold = hold_to(bob().id, 10, 1);
  ASSERT_EQ(w->client(alice()).post("/v1/ledger/transfers", hold).status, 201);
  w->clock.advance_s(2);  // past the hold's 1 s timeout
  const auto r =
      w->client(alice()).post("/v1/ledger/transfers/" + hold["id"].get<std::string>() + "/post");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(problem_code(r), "expired");
  const auto seen = w->client(alice()).get("/v1/ledger/transfers/" + hold["id"].get<std::string>());
  EXPECT_EQ(seen.json()["state"], "expired");
}

TEST_F(LedgerRules, ledger_refuses_to_post_more_than_the_hold) {
  const Json hold = hold_to(bob().id, 10);
  ASSERT_EQ(w->client(alice()).post("/v1/ledger/transfers", hold).status, 201);
  const auto r = w->client(alice()).post(
      "/v1/ledger/transfers/" + hold["id"].get<std::string>() + "/post", {{"minutes", 11}});
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(problem_code(r), "exceeds-pending");
}

TEST_F(LedgerRules, ledger_hides_other_members_transfers_and_accounts) {
  const Json body = transfer_to(bob().id, 3);
  ASSERT_EQ(w->client(alice()).post("/v1/ledger/transfers", body).status, 201);
  const std::string path = "/v1/ledger/transfers/" + body["id"].get<std::string>();
  EXPECT_EQ(w->client(bob()).get(path).status, 200);
  EXPECT_EQ(w->client(carol()).get(path).status, 404);
  EXPECT_EQ(w->client(carol()).post(path + "/void").status, 404);
  EXPECT_EQ(w->client(carol()).get("/v1/ledger/accounts/" + alice().id).status, 404);
  EXPECT_EQ(w->client(carol()).get("/v1/ledger/accounts/" + alice().id + "/entries").status, 404);
  EXPECT_EQ(w->client(w->staff).get("/v1/ledger/accounts/" + alice().id).status, 200);
  const auto paying_for_other = w->client(carol()).post(
      "/v1/ledger/transfers", with_from(transfer_to(bob().id, 3), alice().id));
  EXPECT_EQ(paying_for_other.status, 403);
}

TEST_F(LedgerRules, ledger_pages_entries_newest_first) {
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(w->client(carol()).post("/v1/ledger/transfers", transfer_to(dan().id, 1)).status,
              201);
  }
  const Json first =
      w->client(carol()).get("/v1/ledger/accounts/" + carol().id + "/entries?limit=2").json();
  ASSERT_EQ(first["items"].size(), 2u);
  ASSERT_TRUE(first["next_cursor"].is_string());
  const Json second = w->client(carol())
                          .get("/v1/ledger/accounts/" + carol().id +
                               "/entries?limit=2&cursor=" + first["next_cursor"].get<std::string>())
                          .json();
  ASSERT_GE(second["items"].size(), 1u);
  EXPECT_NE(second["items"][0]["transfer_id"], first["items"][1]["transfer_id"]);
  EXPECT_EQ(first["items"][0]["balance_after_minutes"].get<int64_t>() + 1,
            first["items"][1]["balance_after_minutes"].get<int64_t>());
}

TEST_F(LedgerRules, ledger_audit_proves_the_books_and_is_for_staff) {
  const std::string path = "/v1/ledger/audit?community_id=" + w->community;
  EXPECT_EQ(w->client(alice()).get(path).status, 403);
  const auto r = w->client(w->staff).get(path);
  ASSERT_EQ(r.status, 200) << r.body;
  const Json report = r.json();
  EXPECT_EQ(report["sum_balances_minutes"], 0);
  EXPECT_TRUE(report["violations"].empty()) << report.dump();
  EXPECT_GE(report["accounts"].get<int>(), 6);
}

}  // namespace
}  // namespace maillon::testing
