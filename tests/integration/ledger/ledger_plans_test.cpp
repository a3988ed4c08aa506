// The ledger's look-ups by id stay probes of an index whatever PostgreSQL's statistics know. A
// community created after the tables were last analyzed is, for the planner, a community of one
// row: written `community_id = $1 AND id = ANY($2)`, a look-up then read every transfer (or
// account) of that community and filtered them, so each batch slowed down as the community grew
// until the next automatic ANALYZE (#22). Checked on the plans PostgreSQL runs (EXPLAIN ANALYZE of
// the service's own statement texts, prepared as the service prepares them), not on timings.
#include <pqxx/pqxx>

#include "ledger_world.hpp"
#include "services/ledger/federation_repository_sql.hpp"
#include "services/ledger/repository_sql.hpp"

namespace maillon::testing {
namespace {

namespace lrepo = maillon::ledger::repo;
namespace frepo = maillon::ledger::federation::repo;

constexpr int kRows = 3000;  // of the new community: enough for a scan to show

class LedgerPlans : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    w_ = new LedgerWorld("plans", 1);
    fresh_ = new_uuid();
    auto c = w_->sql();
    pqxx::work tx(*c);
    // The statistics know the tables before the new community exists, as in a network that
    // grows: then its accounts and transfers arrive.
    tx.exec("ANALYZE accounts");
    tx.exec("ANALYZE transfers");
    tx.exec_params(
        "INSERT INTO accounts (id, community_id, member_id, is_community) "
        "SELECT $1 || g, $2::uuid, gen_random_uuid(), false FROM generate_series(1, $3) g",
        prefix(), fresh_, kRows);
    tx.exec_params(
        "INSERT INTO transfers (community_id, id, from_account_id, to_account_id, amount_minutes, "
        "pending, kind, state, created_at_us) "
        "SELECT $2::uuid, 't' || g, $1 || g, $1 || (g % $3 + 1), 5, true, 'exchange', 'pending', 1 "
        "FROM generate_series(1, $3) g",
        prefix(), fresh_, kRows);
    tx.commit();
  }
  static void TearDownTestSuite() {
    delete w_;
    w_ = nullptr;
  }
  static std::string prefix() { return "plans-" + fresh_.substr(0, 8) + "-"; }

  // The plan of `sql` run as a prepared statement with these arguments, as JSON.
  template <class... Args>
  static Json plan_of(const std::string& sql, Args&&... args) {
    auto c = w_->sql();
    pqxx::work tx(*c);
    tx.exec("PREPARE probe AS " + sql);
    // The service's statements are prepared on its connections: EXPLAIN EXECUTE shows the plan
    // they get (a custom one for the first executions, planned with these very values).
    std::string call = "EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE probe(";
    std::vector<std::string> texts = {tx.quote(std::forward<Args>(args))...};
    for (std::size_t i = 0; i < texts.size(); ++i) call += (i ? ", " : "") + texts[i];
    call += ")";
    const Json plan = Json::parse(tx.exec(call)[0][0].c_str());
    tx.abort();  // an UPDATE's EXPLAIN ANALYZE runs it: nothing of it stays
    return plan;
  }
  // Rows that some node of the plan read and then threw away, over all nodes and loops.
  static double rows_filtered(const Json& node) {
    double n = 0;
    for (const char* key : {"Rows Removed by Filter", "Rows Removed by Join Filter"}) {
      if (node.contains(key)) n += node[key].get<double>() * node.value("Actual Loops", 1.0);
    }
    if (node.contains("Plans")) {
      for (const auto& child : node["Plans"]) n += rows_filtered(child);
    }
    return n;
  }
  static double rows_filtered_in(const Json& explain) {
    return rows_filtered(explain.at(0).at("Plan"));
  }

  static LedgerWorld* w_;
  static std::string fresh_;
};
LedgerWorld* LedgerPlans::w_ = nullptr;
std::string LedgerPlans::fresh_;

TEST_F(LedgerPlans, transfers_of_a_community_newer_than_the_statistics_are_found_by_probes) {
  const Json plan = plan_of(lrepo::kSelectTransfers, fresh_, "{t17,t2999,t17,nowhere}");
  EXPECT_LT(rows_filtered_in(plan), 10) << plan.dump(1);
  EXPECT_EQ(plan.at(0).at("Plan").value("Actual Rows", 0.0), 2) << plan.dump(1);
}

TEST_F(LedgerPlans, accounts_of_a_community_newer_than_the_statistics_are_found_by_probes) {
  const Json plan = plan_of(lrepo::kSelectAccounts, fresh_,
                            "{" + prefix() + "5," + prefix() + "2000," + prefix() + "5}");
  EXPECT_LT(rows_filtered_in(plan), 10) << plan.dump(1);
  EXPECT_EQ(plan.at(0).at("Plan").value("Actual Rows", 0.0), 2) << plan.dump(1);
}

TEST_F(LedgerPlans, holds_of_a_community_newer_than_the_statistics_are_resolved_by_probes) {
  const Json plan =
      plan_of(lrepo::kUpdateTransfers, fresh_, "{t10,t11}", "{posted,voided}", "{5,0}", "{2,2}");
  EXPECT_LT(rows_filtered_in(plan), 10) << plan.dump(1);
  // Both holds changed (the UPDATE node's input), and nothing else.
  EXPECT_EQ(plan.at(0).at("Plan").at("Plans").at(0).value("Actual Rows", 0.0), 2) << plan.dump(1);
}

TEST_F(LedgerPlans, mirror_legs_of_a_community_newer_than_the_statistics_are_found_by_probes) {
  const Json plan = plan_of(frepo::kMirrorLegs, fresh_, "{t1,t2,t3}");
  // None of these is a federation's leg: found by their keys, then set aside by the clearing test.
  EXPECT_LT(rows_filtered_in(plan), 10) << plan.dump(1);
}

TEST_F(LedgerPlans, the_probes_answer_what_the_plain_statements_answered) {
  auto c = w_->sql();
  pqxx::work tx(*c);
  const std::string ids = "{t1,t42,t42,t3000,nowhere}";
  const auto plain = tx.exec_params(
      "SELECT id, state FROM transfers WHERE community_id = $1::uuid AND id = ANY($2::text[]) "
      "ORDER BY id",
      fresh_, ids);
  const auto probed = tx.exec_params(
      "SELECT id, state FROM (" + std::string(lrepo::kSelectTransfers) + ") AS p ORDER BY id",
      fresh_, ids);
  ASSERT_EQ(probed.size(), plain.size());
  ASSERT_EQ(plain.size(), 3U);
  for (std::size_t i = 0; i < plain.size(); ++i) {
    EXPECT_EQ(std::string(probed[i][0].c_str()), plain[i][0].c_str());
    EXPECT_EQ(std::string(probed[i][1].c_str()), plain[i][1].c_str());
  }
  // Another community's id is not found through this one.
  EXPECT_TRUE(tx.exec_params(lrepo::kSelectTransfers, w_->community, "{t1}").empty());
}

}  // namespace
}  // namespace maillon::testing
