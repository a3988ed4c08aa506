// What the ledger does on its own: the monthly allowance (once per active member per month, however
// many replicas run the job and however often), and the erasure of a member (history kept under a
// pseudonym, balances untouched, books still balanced).
#include <ctime>
#include <thread>

#include "ledger_world.hpp"

namespace maillon::testing {
namespace {

int64_t sql_count(const LedgerWorld& w, const std::string& sql, const std::string& param) {
  auto conn = w.sql();
  pqxx::work tx(*conn);
  return tx.exec_params(sql, param)[0][0].as<int64_t>();
}

int64_t allowances_of(const LedgerWorld& w, const std::string& member_id) {
  return sql_count(w,
                   "SELECT count(*) FROM transfers WHERE to_account_id = $1 AND kind = 'allowance'",
                   member_id);
}

int64_t balance_of(const LedgerWorld& w, const std::string& member_id) {
  const auto r = w.client(w.staff).get("/v1/ledger/accounts/" + member_id);
  EXPECT_EQ(r.status, 200) << r.body;
  return r.json().value("balance_minutes", int64_t{0});
}

void expect_audit_ok(const LedgerWorld& w) {
  const auto audit = w.client(w.staff).get("/v1/ledger/audit?community_id=" + w.community);
  ASSERT_EQ(audit.status, 200) << audit.body;
  const Json report = audit.json();
  EXPECT_EQ(report["sum_balances_minutes"], 0);
  EXPECT_TRUE(report["violations"].empty()) << report["violations"].dump(1);
}

// The month the allowance job pays, as it names it ("2026-05").
std::string this_month_utc() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[16];
  std::strftime(text, sizeof text, "%Y-%m", &utc);
  return text;
}

TEST(LedgerJobs, ledger_pays_the_monthly_allowance_once_per_active_member_even_from_two_replicas) {
  // Both replicas run the job every 100 ms: dozens of runs while the test waits.
  LedgerWorld w("allowance", 3, 2, {{"MAILLON_LEDGER_ALLOWANCE_INTERVAL_MS", "100"}});
  const std::string payer = w.members[0].id, payee = w.members[1].id, idle = w.members[2].id;
  // The payment takes the id the payee's allowance was once named with (anyone could compute
  // it): the allowance is paid all the same, under an id no client can create.
  const std::string month = this_month_utc();
  Json payment = transfer_to(payee, 10);
  payment["id"] = uuid_from_name("allowance:" + payee + ":" + month);
  ASSERT_EQ(w.client(w.members[0]).post("/v1/ledger/transfers", payment).status, 201);
  ASSERT_TRUE(eventually(
      [&] { return allowances_of(w, payer) >= 1 && allowances_of(w, payee) >= 1; }, 10000));
  // Let both replicas run the job many more times before looking again.
  const int64_t runs[] = {job_runs(w.ledgers[0]->url(), "monthly-allowance"),
                          job_runs(w.ledgers[1]->url(), "monthly-allowance")};
  ASSERT_TRUE(eventually(
      [&] {
        return job_runs(w.ledgers[0]->url(), "monthly-allowance") >= runs[0] + 5 &&
               job_runs(w.ledgers[1]->url(), "monthly-allowance") >= runs[1] + 5;
      },
      10000));
  EXPECT_EQ(allowances_of(w, payer), 1);
  EXPECT_EQ(allowances_of(w, payee), 1);
  EXPECT_EQ(allowances_of(w, idle), 0) << "a member without activity gets no allowance";
  EXPECT_EQ(sql_count(w, "SELECT count(*) FROM transfers WHERE id = $1 AND kind = 'allowance'",
                      "allowance:" + payee + ":" + month),
            1);
  const int64_t allowance = tight_policy()["monthly_allowance"];
  const int64_t bonus = tight_policy()["signup_bonus"];
  EXPECT_EQ(balance_of(w, payer), bonus - 10 + allowance);
  EXPECT_EQ(balance_of(w, payee), bonus + 10 + allowance);
  EXPECT_EQ(balance_of(w, idle), bonus);
  expect_audit_ok(w);
}

TEST(LedgerJobs, ledger_keeps_an_erased_members_entries_under_a_pseudonym) {
  LedgerWorld w("erasure", 2);
  const MemberInfo& leaving = w.members[0];
  const MemberInfo& staying = w.members[1];
  ASSERT_EQ(w.client(leaving).post("/v1/ledger/transfers", transfer_to(staying.id, 30)).status,
            201);
  const int64_t leaving_balance = balance_of(w, leaving.id);
  const int64_t staying_balance = balance_of(w, staying.id);
  const int64_t leaving_entries =
      sql_count(w, "SELECT count(*) FROM entries WHERE account_id = $1", leaving.id);

  const auto erased = Client(w.world.members->url(), leaving.token)
                          .call("DELETE", "/v1/me", R"({"password":"mot-de-passe-1"})");
  ASSERT_EQ(erased.status, 202) << erased.body;
  const std::string pseudonym = "membre-" + leaving.id.substr(0, 8);
  ASSERT_TRUE(eventually(
      [&] {
        return sql_count(w, "SELECT count(*) FROM accounts WHERE id = $1 AND pseudonym IS NOT NULL",
                         leaving.id) == 1;
      },
      10000));

  // The counterparty now reads the pseudonym, never the erased member's id.
  const auto entries = w.client(staying).get("/v1/ledger/accounts/" + staying.id + "/entries");
  ASSERT_EQ(entries.status, 200) << entries.body;
  const Json items = entries.json()["items"];
  ASSERT_FALSE(items.empty());
  EXPECT_EQ(items[0]["counterparty"], pseudonym);
  EXPECT_EQ(entries.body.find(leaving.id), std::string::npos);
  // History and balances stay as they were; the books still balance.
  EXPECT_EQ(sql_count(w, "SELECT count(*) FROM entries WHERE account_id = $1", leaving.id),
            leaving_entries);
  EXPECT_EQ(balance_of(w, leaving.id), leaving_balance);
  EXPECT_EQ(balance_of(w, staying.id), staying_balance);
  expect_audit_ok(w);
}

}  // namespace
}  // namespace maillon::testing
