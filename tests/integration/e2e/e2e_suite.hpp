// The fixture and builders the end-to-end suites share (tests/integration/e2e*/): one gateway
// session per suite, a community trading from the signup bonus with a staff member at its desk,
// members funded with that bonus, offers, proposals and accepted exchanges, and the polls that
// wait for what the services settle asynchronously.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>

#include "e2e_gateway.hpp"
#include "harness.hpp"
#include "listing_bodies.hpp"

namespace maillon::testing {

using Balance = LedgerBalance;

// A community of its own, with the staff member who runs its site's desk.
struct StaffedCommunity : GatewayCommunity {
  MemberInfo staff;
};

class E2eSuite : public ::testing::Test {
 protected:
  static constexpr int64_t kSignupBonus = 120;

  static void SetUpTestSuite() { gateway = new Gateway(); }
  static void TearDownTestSuite() {
    delete gateway;
    gateway = nullptr;
  }
  static inline Gateway* gateway = nullptr;

  static Client admin() { return gateway->admin(); }
  static Client as(const MemberInfo& m) { return gateway->as(m); }

  // min_balance 0 and no allowance: a member holds exactly the signup bonus until they trade.
  static Json trading_policy() {
    return {{"min_balance", 0}, {"signup_bonus", kSignupBonus}, {"monthly_allowance", 0}};
  }

  // A community under trading_policy() whose member `staff_name` runs the desk of its site.
  static StaffedCommunity staffed_community(const std::string& name,
                                            const std::string& site_kind = "tiers_lieu",
                                            const std::string& staff_name = "nadia") {
    StaffedCommunity out{gateway->community(name, trading_policy(), site_kind), {}};
    out.staff = member(out, staff_name);
    gateway->make_staff(out, out.staff);
    return out;
  }

  // Registers a member at the community's site and waits for the signup bonus (the ledger opens
  // the account asynchronously, from member.registered).
  static MemberInfo member(const GatewayCommunity& c, const std::string& name) {
    MemberInfo m = gateway->member(c, name);
    EXPECT_TRUE(poll_until([&] { return balance_of(m).balance == kSignupBonus; }))
        << name << " never got the signup bonus: " << balance_of(m);
    return m;
  }

  // A new session of the member, e.g. to carry roles granted since (roles are read at login).
  static HttpResult login(const MemberInfo& m) {
    return unless_busy([&] {
      return gateway->anonymous().post("/v1/auth/login",
                                       {{"email", m.email}, {"password", "mot-de-passe-1"}});
    });
  }

  static Balance balance_of(const MemberInfo& m) { return ledger_balance(as(m), m.id); }
  static bool balance_becomes(const MemberInfo& m, const Balance& expected) {
    return poll_until([&] { return balance_of(m) == expected; });
  }

  // A one-hour service handed over at `at_site`, or near Lille when there is none.
  static std::string offer(const MemberInfo& owner, int64_t price_minutes,
                           const std::optional<std::string>& at_site = std::nullopt) {
    auto r = as(owner).post("/v1/offers", service_offer(price_minutes, at_site));
    EXPECT_EQ(r.status, 201) << r.body;
    return r.json().value("id", "");
  }

  // Proposes once the exchange service has heard of the listing (it learns it from the stream).
  static HttpResult propose(const MemberInfo& who, const Json& body) {
    HttpResult r;
    poll_until([&] {
      r = as(who).post("/v1/exchanges", body);
      return !(r.status == 422 && r.json().value("code", "") == "unknown-listing");
    });
    return r;
  }

  // The exchange as `who` reads it. Every call comes from the gateway's address: a read refused
  // as too many (429) is read again.
  static Json exchange_of(const MemberInfo& who, const std::string& id) {
    return unless_busy([&] { return as(who).get("/v1/exchanges/" + id); }).json();
  }
  static std::string state_of(const MemberInfo& who, const std::string& id) {
    return exchange_of(who, id).value("state", "");
  }
  static bool state_becomes(const MemberInfo& who, const std::string& id,
                            const std::string& state) {
    return poll_until([&] { return state_of(who, id) == state; });
  }

  // The receiver proposes on the provider's offer of `minutes` (at `at_site` when given); the
  // provider accepts; the hold is in place once the exchange reads `accepted`. The offer's id
  // goes to `offer_id` when asked for.
  static std::string accepted_exchange(const MemberInfo& provider, const MemberInfo& receiver,
                                       int64_t minutes,
                                       const std::optional<std::string>& at_site = std::nullopt,
                                       std::string* offer_id = nullptr) {
    const std::string listing = offer(provider, minutes, at_site);
    if (offer_id) *offer_id = listing;
    auto created = propose(receiver, {{"offer_id", listing}});
    EXPECT_EQ(created.status, 201) << created.body;
    const std::string id = created.json().value("id", "");
    auto accepted = as(provider).post("/v1/exchanges/" + id + "/accept");
    EXPECT_EQ(accepted.status, 202) << accepted.body;
    EXPECT_TRUE(state_becomes(provider, id, "accepted")) << exchange_of(provider, id).dump();
    return id;
  }
};

}  // namespace maillon::testing
