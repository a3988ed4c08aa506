// The ledger's answers that the OpenAPI file promises and a validating proxy once saw broken: a
// memo holding a NUL byte is refused as invalid input (400 problem), never a 500; the transfers
// the system mints carry ids of the forms TransferId describes. Every exchange here is also held
// to schemas/openapi.yaml by the harness (expect_contract).
#include <gtest/gtest.h>

#include "harness.hpp"
#include "ledger/ledger_world.hpp"

namespace maillon::testing {
namespace {

TEST(LedgerContract, a_memo_holding_a_nul_byte_is_a_400_problem_not_a_500) {
  LedgerWorld w("contract", 2);
  Json body = transfer_to(w.members[1].id, 5);
  body["memo"] = std::string("merci\0pour tout", 15);
  // Against the file's memo rule (no NUL): sent wrong on purpose, the answer must be a problem.
  auto r = w.client(w.members[0]).wrong().post("/v1/ledger/transfers", body);
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(r.headers["content-type"], "application/problem+json");
  EXPECT_EQ(problem_code(r), "invalid-input") << r.body;
  EXPECT_EQ(ledger_balance(w.client(w.members[0]), w.members[0].id).balance, 120);
}

TEST(LedgerContract, the_signup_bonus_is_listed_under_a_system_transfer_id) {
  LedgerWorld w("contract", 1);
  const auto& m = w.members[0];
  auto r = w.client(m).get("/v1/ledger/accounts/" + m.id + "/entries");
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_FALSE(r.json()["items"].empty()) << r.body;
  EXPECT_EQ(r.json()["items"][0].value("transfer_id", ""), "bonus:" + m.id) << r.body;
}

}  // namespace
}  // namespace maillon::testing
