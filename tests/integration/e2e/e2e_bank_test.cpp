// The ledger's bank test through the gateway, as clients on the network see it: members send one
// another random transfers (direct, or held then posted or voided) from several threads, retrying
// with the same transfer id whenever the gateway or a service fails them (5xx, 429, a dropped
// connection). Afterwards every balance equals what the answers said, nothing is left pending and
// the audit finds no violation. script/test also runs it against two replicas of every service,
// killing one of each while it runs.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "e2e_gateway.hpp"
#include "harness.hpp"
#include "services/common/ids.hpp"

namespace maillon::testing {
namespace {

constexpr int kThreads = 4;
// MAILLON_E2E_BANK_TRANSFERS lengthens the run (script/test kills replicas while it runs).
int transfers_per_thread() {
  const char* text = std::getenv("MAILLON_E2E_BANK_TRANSFERS");
  return text && *text ? std::max(1, std::atoi(text)) : 25;
}
constexpr int64_t kBonus = 120;

std::atomic<int> retried{0};
constexpr int kUntilAnsweredMs = 30'000;  // then the last answer, whatever it is  // answers that
                                          // were failures of the way there, then retried

bool retryable(int status) {
  return status == 0 || status == 429 || status >= 500;
}

// The same request until an answer that is not a failure of the way there; the ledger answers a
// repeated id with the first result, so a retry never moves credits twice.
HttpResult until_answered(const std::function<HttpResult()>& send) {
  HttpResult r = send();
  poll_until(
      [&] {
        if (!retryable(r.status)) return true;
        ++retried;
        r = send();
        return !retryable(r.status);
      },
      kUntilAnsweredMs);
  return r;
}

struct Books {
  std::mutex mutex;
  std::map<std::string, int64_t> expected;  // member id → balance the answers imply
  struct Settled {
    std::string id, state;
    const MemberInfo* payer;
  };
  std::vector<Settled> settled;
  int refused = 0;

  void moved(const MemberInfo& from, const std::string& to, int64_t minutes, const std::string& id,
             const std::string& state) {
    std::lock_guard lock(mutex);
    if (state == "posted") {
      expected[from.id] -= minutes;
      expected[to] += minutes;
    }
    settled.push_back({id, state, &from});
  }
};

class E2eBankTest : public ::testing::Test {
 protected:
  Gateway gateway;

  int64_t balance_of(const MemberInfo& m, const char* field = "balance_minutes") {
    auto r = until_answered([&] { return gateway.as(m).get("/v1/ledger/accounts/" + m.id); });
    return r.status == 200 ? r.json().value(field, int64_t{-1}) : -1;
  }

  // One random operation from `payer`: a direct transfer, or a hold then its post or void.
  void operate(std::mt19937& rng, const MemberInfo& payer, const MemberInfo& payee, Books& books) {
    const int64_t minutes = 5 + static_cast<int64_t>(rng() % 36);
    const bool held = rng() % 10 < 3;
    const std::string id = new_uuid();
    Json body = {{"id", id}, {"to_member_id", payee.id}, {"minutes", minutes}};
    if (held) body["pending"] = true;
    auto created =
        until_answered([&] { return gateway.as(payer).post("/v1/ledger/transfers", body); });
    if (created.status == 422) {
      std::lock_guard lock(books.mutex);
      ++books.refused;
      return;
    }
    ASSERT_TRUE(created.status == 201 || created.status == 200) << created.body;
    std::string state = created.json().value("state", "");
    if (held) {
      ASSERT_EQ(state, "pending");
      const std::string action = rng() % 2 ? "post" : "void";
      int attempts = 0;
      auto settled = until_answered([&] {
        ++attempts;
        return gateway.as(payer).post("/v1/ledger/transfers/" + id + "/" + action, Json::object());
      });
      // A retry after an answer lost on the way (a replica killed mid-request) finds its own
      // settlement done: the contract's 409 already-posted / already-voided, which tells the
      // client that what it asked is what happened. Without a retry, only 200 will do.
      const std::string done = action == "post" ? "posted" : "voided";
      if (attempts > 1 && settled.status == 409 &&
          settled.json().value("code", "") == "already-" + done) {
        state = done;
      } else {
        ASSERT_EQ(settled.status, 200) << settled.body;
        state = settled.json().value("state", "");
      }
    }
    books.moved(payer, payee.id, minutes, id, state);
  }
};

TEST_F(E2eBankTest, concurrent_random_transfers_keep_the_books_whatever_fails_on_the_way) {
  const Json policy = {{"min_balance", 0}, {"signup_bonus", kBonus}, {"monthly_allowance", 0}};
  const GatewayCommunity community = gateway.community("Banque du temps", policy);
  std::vector<MemberInfo> members;
  Books books;
  for (const char* name : {"ada", "basile", "chloe", "damien", "elsa", "farid"}) {
    members.push_back(gateway.member(community, name));
    books.expected[members.back().id] = kBonus;
  }
  for (const auto& m : members) {
    ASSERT_TRUE(poll_until([&] { return balance_of(m) == kBonus; })) << m.email;
  }

  std::vector<std::thread> clients;
  for (int t = 0; t < kThreads; ++t) {
    clients.emplace_back([&, t] {
      std::mt19937 rng(1000 + t);
      for (int i = 0; i < transfers_per_thread(); ++i) {
        const std::size_t from = rng() % members.size();
        const std::size_t to = (from + 1 + rng() % (members.size() - 1)) % members.size();
        operate(rng, members[from], members[to], books);
      }
    });
  }
  for (auto& c : clients) c.join();

  EXPECT_GT(books.settled.size(), static_cast<std::size_t>(kThreads * transfers_per_thread() / 2));
  for (const auto& m : members) {
    EXPECT_EQ(balance_of(m), books.expected[m.id]) << m.email;
    EXPECT_EQ(balance_of(m, "pending_debit_minutes"), 0) << m.email;
    EXPECT_EQ(balance_of(m, "pending_credit_minutes"), 0) << m.email;
  }
  // Every transfer a client was told about is stored once, in the state it was told.
  for (const auto& t : books.settled) {
    auto r =
        until_answered([&] { return gateway.as(*t.payer).get("/v1/ledger/transfers/" + t.id); });
    ASSERT_EQ(r.status, 200) << t.id;
    EXPECT_EQ(r.json().value("state", ""), t.state) << t.id;
  }
  auto audit = until_answered(
      [&] { return gateway.admin().get("/v1/ledger/audit?community_id=" + community.id); });
  ASSERT_EQ(audit.status, 200) << audit.body;
  EXPECT_EQ(audit.json().value("sum_balances_minutes", int64_t{-1}), 0);
  EXPECT_TRUE(audit.json()["violations"].empty()) << audit.body;
  std::printf("[ bank ] %zu transfers settled, %d refused for lack of credits, %d retries\n",
              books.settled.size(), books.refused, retried.load());
}

}  // namespace
}  // namespace maillon::testing
