// Kill -9 of the exchange service and of the ledger at random points of many sagas, then
// restart: every saga must end in a state the ledger agrees with — no hold without an accepted
// exchange, no completed exchange without its posting, nothing held or paid twice.
#include <gtest/gtest.h>

#include <iostream>
#include <map>
#include <random>

#include "harness.hpp"

namespace maillon::testing {
namespace {

constexpr int kPairs = 6;
constexpr int kSagasPerPair = 2;
constexpr int64_t kMinutes = 10;
constexpr int64_t kBonus = 120;
constexpr int kTimeoutMs = 30000;

// Retries a call until the service answers (it may be down between a kill and its restart).
HttpResult call_until_answered(const std::function<HttpResult()>& call) {
  HttpResult r;
  eventually(
      [&] {
        r = call();
        return r.status != 0 && r.status < 500;
      },
      kTimeoutMs);
  return r;
}

TEST(ExchangeChaos, kill9_of_exchange_and_ledger_leaves_every_saga_consistent_with_the_ledger) {
  MembersWorld world("exchange-chaos", {{"MAILLON_LOGIN_RATE_PER_MIN", "100000"},
                                        {"MAILLON_LOGIN_BURST", "100000"},
                                        {"MAILLON_RATE_LIMIT", "10000"},
                                        {"MAILLON_RATE_BURST", "10000"},
                                        {"MAILLON_RECLAIM_IDLE_MS", "500"},
                                        {"MAILLON_MAX_DELIVERIES", "100"}});
  const std::string community = world.create_community(
      "Hénin-Carvin", {{"min_balance", 0}, {"signup_bonus", kBonus}, {"monthly_allowance", 0}});
  ServiceProcess offers("offers", world.env()), ledger("ledger", world.env()),
      exchange("exchange", world.env());
  for (auto* p : {&offers, &ledger, &exchange}) p->start();

  struct Pair {
    MemberInfo provider, receiver;
  };
  std::vector<Pair> pairs;
  for (int i = 0; i < kPairs; ++i) {
    pairs.push_back({world.register_member(community, "fournisseur" + std::to_string(i)),
                     world.register_member(community, "beneficiaire" + std::to_string(i))});
  }
  auto balance = [&](const MemberInfo& m) {
    auto r = Client(ledger.url(), m.token).get("/v1/ledger/accounts/" + m.id);
    return r.status == 200 ? r.json() : Json::object();
  };
  for (const auto& p : pairs) {
    ASSERT_TRUE(eventually(
        [&] { return balance(p.receiver).value("balance_minutes", 0) == kBonus; }, kTimeoutMs));
  }

  std::mt19937 random(20261129);
  std::map<std::string, int> kills;
  auto maybe_kill = [&] {
    const int dice = static_cast<int>(random() % 6);
    ServiceProcess* victim = dice == 0 ? &exchange : dice == 1 ? &ledger : nullptr;
    if (!victim) return;
    ++kills[victim == &exchange ? "exchange" : "ledger"];
    victim->kill9();
    victim->start();
  };

  struct Saga {
    size_t pair;
    std::string id;
    bool cancel;
  };
  std::vector<Saga> sagas;
  for (int round = 0; round < kSagasPerPair; ++round) {
    for (size_t i = 0; i < pairs.size(); ++i) {
      const Pair& p = pairs[i];
      Json offer = {{"kind", "service"},
                    {"mode", "service"},
                    {"category", "aide-aux-devoirs"},
                    {"title", "Coup de main"},
                    {"duration_minutes", 30},
                    {"price_minutes", kMinutes},
                    {"location", {{"lat", 50.42}, {"lon", 2.95}}}};
      auto posted = Client(offers.url(), p.provider.token).post("/v1/offers", offer);
      ASSERT_EQ(posted.status, 201) << posted.body;
      const std::string offer_id = posted.json()["id"];
      HttpResult created;
      eventually(
          [&] {
            created = Client(exchange.url(), p.receiver.token)
                          .post("/v1/exchanges", {{"offer_id", offer_id}});
            return created.status == 201;
          },
          kTimeoutMs);
      ASSERT_EQ(created.status, 201) << created.body;
      const std::string id = created.json()["id"];
      call_until_answered([&] {
        return Client(exchange.url(), p.provider.token).post("/v1/exchanges/" + id + "/accept");
      });
      maybe_kill();  // the hold may be in the outbox, on the stream or in the ledger
      sagas.push_back({i, id, (i + round) % 3 == 0});
    }
  }
  for (const Saga& saga : sagas) {
    const Pair& p = pairs[saga.pair];
    Client provider(exchange.url(), p.provider.token), receiver(exchange.url(), p.receiver.token);
    ASSERT_TRUE(eventually(
        [&] {
          return provider.get("/v1/exchanges/" + saga.id).json().value("state", "") == "accepted";
        },
        kTimeoutMs))
        << provider.get("/v1/exchanges/" + saga.id).body;
    if (saga.cancel) {
      call_until_answered([&] { return receiver.post("/v1/exchanges/" + saga.id + "/cancel"); });
    } else {
      call_until_answered([&] { return provider.post("/v1/exchanges/" + saga.id + "/complete"); });
      maybe_kill();
      call_until_answered([&] { return receiver.post("/v1/exchanges/" + saga.id + "/complete"); });
    }
    maybe_kill();  // the post or void may be in flight
  }

  // The run killed both services, several times, in the middle of sagas.
  EXPECT_GT(kills["exchange"], 0);
  EXPECT_GT(kills["ledger"], 0);
  std::cout << "kill -9: exchange " << kills["exchange"] << ", ledger " << kills["ledger"]
            << " over " << sagas.size() << " sagas\n";
  // Every saga ended; each member's account says exactly what the exchanges say.
  std::map<std::string, int64_t> expected;
  for (const Saga& saga : sagas) {
    const Pair& p = pairs[saga.pair];
    const std::string want = saga.cancel ? "cancelled" : "completed";
    Json ex;
    // A completion waits for the ledger's post, which a kill may have delayed.
    eventually(
        [&] {
          ex = Client(exchange.url(), p.provider.token).get("/v1/exchanges/" + saga.id).json();
          return ex.value("state", "") == want;
        },
        kTimeoutMs);
    EXPECT_EQ(ex["state"], want) << ex.dump();
    const int64_t paid = ex["state"] == "completed" ? kMinutes : 0;
    expected[p.provider.id] += paid;
    expected[p.receiver.id] -= paid;
  }
  for (const auto& p : pairs) {
    for (const MemberInfo& m : {p.provider, p.receiver}) {
      const int64_t want = kBonus + expected[m.id];
      Json last;
      EXPECT_TRUE(eventually(
          [&] {
            last = balance(m);
            return last.value("balance_minutes", int64_t{-1}) == want &&
                   last.value("pending_debit_minutes", int64_t{-1}) == 0 &&
                   last.value("pending_credit_minutes", int64_t{-1}) == 0;
          },
          kTimeoutMs))
          << m.id << " wants " << want << ", ledger says " << last.dump();
    }
  }
}

}  // namespace
}  // namespace maillon::testing
