// The world of the loans tests (tests/integration/loans/, tests/integration/holds/): real
// members, offers, ledger, exchange and depot services on PostgreSQL and Redis, one community
// with its objetothèque and a staff member, and the steps of a loan between two members. The
// services' clock is moved (TestClock), never waited for.
#pragma once

#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <ctime>
#include <set>
#include <string>
#include <vector>

#include "harness.hpp"
#include "services/common/redis.hpp"
#include "services/common/time.hpp"
#include "test_clock.hpp"

namespace maillon::testing {

constexpr int kSagaTimeoutMs = 15000;
constexpr int64_t kLoanCost = 30;

using Balance = LedgerBalance;

class LoanWorld : public ::testing::Test {
 protected:
  // `label` names the world; `policy` the community's (loans cost kLoanCost); `more`: services
  // started after the loans' own (offers, ledger, exchange, depot), e.g. notify.
  static void start_world(const std::string& label, Json policy,
                          const std::vector<std::string>& more = {}) {
    clock = new TestClock();
    world = new MembersWorld(label, {{"MAILLON_RATE_LIMIT", "100000"},
                                     {"MAILLON_RATE_BURST", "100000"},
                                     {"MAILLON_CLOCK_OFFSET_FILE", clock->path()},
                                     {"MAILLON_EXCHANGE_EXPIRY_INTERVAL_MS", "100"},
                                     {"MAILLON_DEPOT_JOB_INTERVAL_MS", "100"}});
    policy.update({{"signup_bonus", 120}, {"monthly_allowance", 0}, {"loan_cost", kLoanCost}});
    community = world->create_community("Objets de Fives", policy);
    site = world->create_site(community, "Objetothèque de Fives", 50.6297, 3.0917, "objetotheque");
    offers = new ServiceProcess("offers", world->env());
    ledger = new ServiceProcess("ledger", world->env());
    exchange = new ServiceProcess("exchange", world->env());
    depot = new ServiceProcess("depot", world->env());
    for (auto* p : {offers, ledger, exchange, depot}) p->start();
    for (const std::string& name : more) {
      extra.push_back(
          new ServiceProcess(name, world->env({{"MAILLON_NOTIFY_JOB_INTERVAL_MS", "50"}})));
      extra.back()->start();
    }
    staff = world->register_member(community, "Nadia", site);
    world->make_staff(site, staff.id);
  }
  static void stop_world() {
    for (auto* p : extra) delete p;
    extra.clear();
    for (auto* p : {depot, exchange, ledger, offers}) delete p;
    delete world;
    delete clock;
  }

  static inline TestClock* clock = nullptr;
  static inline MembersWorld* world = nullptr;
  static inline ServiceProcess *offers = nullptr, *ledger = nullptr, *exchange = nullptr,
                               *depot = nullptr;
  static inline std::vector<ServiceProcess*> extra;  // started by start_world(..., more)
  static inline std::string community, site;
  static inline MemberInfo staff;

  static int64_t now_s() { return static_cast<int64_t>(std::time(nullptr) + clock->offset_s()); }
  static std::string at(int64_t seconds_from_now) {
    return format_rfc3339(now_s() + seconds_from_now);
  }

  static MemberInfo member(const std::string& name) {
    MemberInfo m = world->register_member(community, name, site);
    EXPECT_TRUE(eventually([&] { return balance_of(m).balance == 120; }, kSagaTimeoutMs))
        << name << " never got the signup bonus";
    return m;
  }
  static Client ex(const MemberInfo& m) { return Client(exchange->url(), m.token); }
  static Balance balance_of(const MemberInfo& m) {
    return ledger_balance(Client(ledger->url(), m.token), m.id);
  }
  static bool balance_becomes(const MemberInfo& m, const Balance& expected) {
    return eventually([&] { return balance_of(m) == expected; }, kSagaTimeoutMs);
  }

  // A drill to lend, with its deposit.
  static std::string lend_offer(const MemberInfo& owner, int64_t deposit_minutes,
                                bool at_site = false) {
    Json body = {{"kind", "good"},
                 {"mode", "lend"},
                 {"category", "perceuses"},
                 {"title", "Perceuse à percussion"}};
    if (at_site) {
      body["site_id"] = site;  // handed over at the desk: its staff see the loan
    } else {
      body["location"] = {{"lat", 50.63}, {"lon", 3.07}};
    }
    if (deposit_minutes > 0) body["deposit_minutes"] = deposit_minutes;
    auto r = Client(offers->url(), owner.token).post("/v1/offers", body);
    EXPECT_EQ(r.status, 201) << r.body;
    EXPECT_EQ(r.json().value("deposit_minutes", Json()).dump(),
              deposit_minutes > 0 ? std::to_string(deposit_minutes) : "null");
    return r.json().value("id", "");
  }

  // Proposes once the exchange service has heard of the listing.
  static HttpResult propose(const MemberInfo& who, const Json& body) {
    HttpResult r;
    eventually(
        [&] {
          r = ex(who).post("/v1/exchanges", body);
          return !(r.status == 422 && r.json().value("code", "") == "unknown-listing");
        },
        kSagaTimeoutMs);
    return r;
  }
  static Json loan_body(const std::string& offer_id, int64_t from_s, int64_t to_s) {
    return {{"offer_id", offer_id}, {"starts_at", at(from_s)}, {"due_at", at(to_s)}};
  }

  static Json get(const MemberInfo& who, const std::string& id) {
    return ex(who).get("/v1/exchanges/" + id).json();
  }
  static bool becomes(const MemberInfo& who, const std::string& id, const std::string& field,
                      const std::string& value) {
    return eventually([&] { return get(who, id).value(field, "") == value; }, kSagaTimeoutMs);
  }

  // A loan proposed by the borrower and accepted by the owner, its deposit held.
  static std::string accepted_loan(const MemberInfo& owner, const MemberInfo& borrower,
                                   const std::string& offer_id, int64_t from_s, int64_t to_s) {
    auto created = propose(borrower, loan_body(offer_id, from_s, to_s));
    EXPECT_EQ(created.status, 201) << created.body;
    const std::string id = created.json().value("id", "");
    auto accepted = ex(owner).post("/v1/exchanges/" + id + "/accept");
    EXPECT_EQ(accepted.status, 202) << accepted.body;
    EXPECT_TRUE(becomes(owner, id, "state", "accepted")) << get(owner, id).dump();
    const Json loan = get(owner, id);
    if (loan.value("deposit_minutes", 0) > 0) {
      EXPECT_TRUE(becomes(owner, id, "deposit_state", "held")) << get(owner, id).dump();
    }
    return id;
  }
  static std::string handed_over_loan(const MemberInfo& owner, const MemberInfo& borrower,
                                      const std::string& offer_id, int64_t from_s, int64_t to_s) {
    const std::string id = accepted_loan(owner, borrower, offer_id, from_s, to_s);
    EXPECT_EQ(ex(borrower).post("/v1/exchanges/" + id + "/handover").status, 200);
    EXPECT_EQ(ex(owner).post("/v1/exchanges/" + id + "/handover").status, 200);
    EXPECT_TRUE(becomes(owner, id, "state", "handed_over")) << get(owner, id).dump();
    return id;
  }
  static void return_both(const MemberInfo& owner, const MemberInfo& borrower,
                          const std::string& id) {
    EXPECT_EQ(ex(borrower).post("/v1/exchanges/" + id + "/return").status, 200);
    EXPECT_EQ(ex(owner).post("/v1/exchanges/" + id + "/return").status, 200);
    EXPECT_EQ(get(owner, id).value("state", ""), "completed");
  }

  static std::vector<Json> stream_events(const std::string& stream) {
    Redis redis(redis_url());
    std::vector<Json> events;
    auto entries = redis.command({"XRANGE", world->prefix + ":" + stream, "-", "+"});
    for (std::size_t i = 0; i < entries->elements; ++i) {
      events.push_back(Json::parse(reply_string(entries->element[i]->element[1]->element[1])));
    }
    return events;
  }
  static std::set<std::string> types_of(const std::string& exchange_id) {
    std::set<std::string> types;
    for (const Json& e : stream_events("exchanges")) {
      if (e["data"].value("exchange_id", "") == exchange_id) types.insert(e["type"]);
    }
    return types;
  }
};

}  // namespace maillon::testing
