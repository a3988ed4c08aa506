// Federation across communities of one installation, end to end through the gateway (issue 23):
// the admins of two communities agree a link, a member of one finds the other's listings that
// cross (visibility federation or public) near them, and pays across: a service and a loan with
// its deposit, each community's ledger still summing to zero and the two clearing accounts
// mirroring each other. A listing kept to its community never crosses; a limit reached refuses
// with 422 federation-limit; a suspended link stops new exchanges, and its resumption lets them
// cross again.
#include <gtest/gtest.h>

#include <ctime>

#include "e2e/e2e_suite.hpp"
#include "services/common/time.hpp"

namespace maillon::testing {
namespace {

// Where every listing of these tests is handed over, and where the readers search from.
constexpr double kLat = 50.63, kLon = 3.07;

// Two communities side by side and the link their admins agreed.
struct Partners {
  StaffedCommunity home, away;
  std::string link_id;
};

class E2eFederationTest : public E2eSuite {
 protected:
  // Both communities, then the link: proposed by home's admin, accepted by away's (the
  // installation's administrator is admin of both), with the same limits each way.
  static Partners partners(const std::string& name, int64_t limit_minutes) {
    Partners p{staffed_community(name + " Nord"), staffed_community(name + " Sud"), ""};
    auto proposed =
        admin().post("/v1/federation/links", {{"community_id", p.home.id},
                                              {"partner", {{"community_id", p.away.id}}},
                                              {"debit_limit_minutes", limit_minutes},
                                              {"credit_limit_minutes", limit_minutes}});
    EXPECT_EQ(proposed.status, 201) << proposed.body;
    p.link_id = proposed.json().value("id", "");
    EXPECT_EQ(proposed.json().value("state", ""), "proposed");
    auto accepted = admin().post(
        "/v1/federation/links/" + p.link_id + "/accept",
        {{"debit_limit_minutes", limit_minutes}, {"credit_limit_minutes", limit_minutes}});
    EXPECT_EQ(accepted.status, 200) << accepted.body;
    return p;
  }

  static Json service(int64_t minutes, const std::string& visibility) {
    Json body = service_offer(minutes);
    body["visibility"] = visibility;
    return body;
  }
  static std::string post_offer(const MemberInfo& owner, const Json& body) {
    auto r = as(owner).post("/v1/offers", body);
    EXPECT_EQ(r.status, 201) << r.body;
    return r.json().value("id", "");
  }

  // GET /v1/offers near the shared point, as `who`: the ids found.
  static std::vector<std::string> offers_near(const MemberInfo& who, double radius_km = 5) {
    auto r = unless_busy([&] {
      return as(who).get("/v1/offers?near=" + std::to_string(kLat) + "," + std::to_string(kLon) +
                         "&radius_km=" + std::to_string(radius_km));
    });
    std::vector<std::string> ids;
    if (r.status != 200) return ids;
    const Json page = r.json();  // the range below must not outlive a temporary
    for (const auto& item : page["items"]) ids.push_back(item.value("id", ""));
    return ids;
  }
  static std::vector<std::string> nearby(const MemberInfo& who) {
    auto r = unless_busy([&] {
      return as(who).get("/v1/nearby?lat=" + std::to_string(kLat) + "&lon=" + std::to_string(kLon) +
                         "&radius_km=5&kind=offer");
    });
    std::vector<std::string> ids;
    if (r.status != 200) return ids;
    const Json page = r.json();  // the range below must not outlive a temporary
    for (const auto& item : page["items"]) ids.push_back(item.value("id", ""));
    return ids;
  }
  static bool contains(const std::vector<std::string>& ids, const std::string& id) {
    return std::find(ids.begin(), ids.end(), id) != ids.end();
  }
  static bool found_near(const MemberInfo& who, const std::string& id) {
    return poll_until([&] { return contains(offers_near(who), id); });
  }

  // The link as `community_id`'s admin sees it: what the partner owes that community.
  static std::optional<int64_t> link_balance(const std::string& community_id,
                                             const std::string& link_id) {
    auto r = admin().get("/v1/federation/links?community_id=" + community_id);
    if (r.status != 200) return std::nullopt;
    const Json page = r.json();
    for (const auto& link : page["items"]) {
      if (link.value("id", "") == link_id) return link.value("balance_minutes", int64_t{0});
    }
    return std::nullopt;
  }
  static bool link_balance_becomes(const std::string& community_id, const std::string& link_id,
                                   int64_t expected) {
    return poll_until([&] { return link_balance(community_id, link_id) == expected; });
  }
  // Every community's ledger sums to zero, the clearing accounts included.
  static void expect_ledger_sums_to_zero(const std::string& community_id) {
    auto audit = admin().get("/v1/ledger/audit?community_id=" + community_id);
    ASSERT_EQ(audit.status, 200) << audit.body;
    EXPECT_EQ(audit.json().value("sum_balances_minutes", int64_t{-1}), 0) << audit.body;
    EXPECT_TRUE(audit.json()["violations"].empty()) << audit.body;
  }

  static std::string at(int64_t from_now_s) {
    return format_rfc3339(std::time(nullptr) + from_now_s);
  }
};

TEST_F(E2eFederationTest, a_federation_service_is_found_across_and_paid_through_the_clearing) {
  const Partners p = partners("Fives", 500);
  const MemberInfo provider = member(p.home, "karim"), receiver = member(p.away, "lucie");
  const std::string shared = post_offer(provider, service(60, "federation"));
  const std::string kept = post_offer(provider, service(30, "community"));

  // Found by the other community's member near the point, with the same privacy as at home.
  ASSERT_TRUE(found_near(receiver, shared)) << "never found across";
  EXPECT_FALSE(contains(offers_near(receiver), kept));
  auto seen = as(receiver).get("/v1/offers/" + shared);
  ASSERT_EQ(seen.status, 200) << seen.body;
  EXPECT_EQ(seen.json()["visibility"], "federation");
  EXPECT_FALSE(seen.json().contains("location")) << "another member's exact spot";
  EXPECT_TRUE(seen.json().contains("area"));
  EXPECT_EQ(as(receiver).get("/v1/offers/" + kept).status, 404);
  EXPECT_TRUE(poll_until([&] { return contains(nearby(receiver), shared); }));
  EXPECT_FALSE(contains(nearby(receiver), kept));

  // A community listing is not proposable across; the federation one is.
  auto refused = as(receiver).post("/v1/exchanges", {{"offer_id", kept}});
  EXPECT_EQ(refused.status, 422) << refused.body;
  EXPECT_EQ(refused.json().value("code", ""), "unknown-listing");
  auto created = propose(receiver, {{"offer_id", shared}});
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.json()["community_id"], p.home.id);  // the listing's: its policy applies
  EXPECT_EQ(created.json()["partner_community_id"], p.away.id);
  const std::string id = created.json()["id"], path = "/v1/exchanges/" + id;

  ASSERT_EQ(as(provider).post(path + "/accept").status, 202);
  ASSERT_TRUE(state_becomes(receiver, id, "accepted")) << exchange_of(receiver, id).dump();
  EXPECT_TRUE(balance_becomes(receiver, {120, 60, 0, 60})) << balance_of(receiver);
  EXPECT_TRUE(balance_becomes(provider, {120, 0, 60, 120})) << balance_of(provider);
  ASSERT_EQ(as(provider).post(path + "/complete").status, 200);
  ASSERT_EQ(as(receiver).post(path + "/complete").status, 200);
  ASSERT_TRUE(state_becomes(receiver, id, "completed")) << exchange_of(receiver, id).dump();
  EXPECT_TRUE(balance_becomes(receiver, {60, 0, 0, 60})) << balance_of(receiver);
  EXPECT_TRUE(balance_becomes(provider, {180, 0, 0, 180})) << balance_of(provider);

  // Home's members received 60 across: away owes home... seen from each side, mirrored.
  EXPECT_TRUE(link_balance_becomes(p.home.id, p.link_id, -60))
      << *link_balance(p.home.id, p.link_id);
  EXPECT_TRUE(link_balance_becomes(p.away.id, p.link_id, 60))
      << *link_balance(p.away.id, p.link_id);
  expect_ledger_sums_to_zero(p.home.id);
  expect_ledger_sums_to_zero(p.away.id);
}

TEST_F(E2eFederationTest, a_match_across_closes_both_listings_once_the_gift_is_paid) {
  const Partners p = partners("Moulins", 500);
  const MemberInfo giver = member(p.home, "samir"), taker = member(p.away, "lea");
  Json wanted = {{"kind", "good"},
                 {"mode", "give"},
                 {"category", "perceuses"},
                 {"title", "Cherche une perceuse"},
                 {"location", {{"lat", kLat}, {"lon", kLon}}},
                 {"visibility", "federation"}};
  auto request = as(taker).post("/v1/requests", wanted);
  ASSERT_EQ(request.status, 201) << request.body;
  const std::string request_id = request.json()["id"];
  Json given = gift_offer(30);
  given["visibility"] = "federation";
  const std::string offer_id = post_offer(giver, given);

  // Matched across (both listings cross), seen by the taker among their matches.
  std::string match_id;
  ASSERT_TRUE(poll_until([&] {
    auto r = as(taker).get("/v1/matches?listing=request:" + request_id);
    if (r.status != 200) return false;
    const Json page = r.json();
    for (const auto& m : page["items"]) {
      if (m.value("offer_id", "") == offer_id) match_id = m.value("id", "");
    }
    return !match_id.empty();
  })) << "never matched across";
  auto created = propose(taker, {{"match_id", match_id}});
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.json()["community_id"], p.home.id);
  const std::string id = created.json()["id"], path = "/v1/exchanges/" + id;
  ASSERT_EQ(as(giver).post(path + "/accept").status, 202);
  ASSERT_TRUE(state_becomes(taker, id, "accepted")) << exchange_of(taker, id).dump();
  ASSERT_EQ(as(giver).post(path + "/complete").status, 200);
  ASSERT_EQ(as(taker).post(path + "/complete").status, 200);
  ASSERT_TRUE(state_becomes(taker, id, "completed")) << exchange_of(taker, id).dump();
  EXPECT_TRUE(balance_becomes(taker, {90, 0, 0, 90})) << balance_of(taker);
  EXPECT_TRUE(balance_becomes(giver, {150, 0, 0, 150})) << balance_of(giver);
  // Each listing closes in its own community: the offer here, the request over there.
  EXPECT_TRUE(poll_until([&] {
    return as(giver).get("/v1/offers/" + offer_id).json().value("status", "") == "closed";
  }));
  EXPECT_TRUE(poll_until([&] {
    return as(taker).get("/v1/requests/" + request_id).json().value("status", "") == "closed";
  }));
  expect_ledger_sums_to_zero(p.home.id);
  expect_ledger_sums_to_zero(p.away.id);
}

TEST_F(E2eFederationTest, a_public_loan_with_its_deposit_crosses_under_the_owners_policy) {
  const Partners p = partners("Lomme", 500);
  const MemberInfo owner = member(p.home, "yanis"), borrower = member(p.away, "chloe");
  const std::string offer_id = post_offer(owner, {{"kind", "good"},
                                                  {"mode", "lend"},
                                                  {"category", "perceuses"},
                                                  {"title", "Perceuse à percussion"},
                                                  {"location", {{"lat", kLat}, {"lon", kLon}}},
                                                  {"deposit_minutes", 40},
                                                  {"visibility", "public"}});
  ASSERT_TRUE(found_near(borrower, offer_id));
  auto created = propose(
      borrower, {{"offer_id", offer_id}, {"starts_at", at(kHourS)}, {"due_at", at(3 * kDayS)}});
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id = created.json()["id"], path = "/v1/exchanges/" + id;
  const int64_t cost = created.json()["minutes"];  // the owner's community's loan_cost
  ASSERT_EQ(as(owner).post(path + "/accept").status, 202);
  ASSERT_TRUE(poll_until([&] {
    return exchange_of(owner, id).value("deposit_state", "") == "held";
  })) << exchange_of(owner, id).dump();
  ASSERT_TRUE(state_becomes(owner, id, "accepted"));
  EXPECT_TRUE(balance_becomes(borrower, {120, cost + 40, 0, 120 - cost - 40}))
      << balance_of(borrower);
  ASSERT_EQ(as(borrower).post(path + "/handover").status, 200);
  ASSERT_EQ(as(owner).post(path + "/handover").status, 200);
  ASSERT_TRUE(state_becomes(owner, id, "handed_over")) << state_of(owner, id);
  EXPECT_TRUE(balance_becomes(borrower, {120 - cost, 40, 0, 120 - cost - 40}))
      << balance_of(borrower);
  EXPECT_TRUE(balance_becomes(owner, {120 + cost, 0, 40, 120 + cost})) << balance_of(owner);
  ASSERT_EQ(as(borrower).post(path + "/return").status, 200);
  ASSERT_EQ(as(owner).post(path + "/return").status, 200);
  EXPECT_TRUE(state_becomes(owner, id, "completed")) << state_of(owner, id);
  EXPECT_TRUE(balance_becomes(borrower, {120 - cost, 0, 0, 120 - cost})) << balance_of(borrower);
  EXPECT_TRUE(balance_becomes(owner, {120 + cost, 0, 0, 120 + cost})) << balance_of(owner);
  EXPECT_TRUE(link_balance_becomes(p.home.id, p.link_id, -cost));
  EXPECT_TRUE(link_balance_becomes(p.away.id, p.link_id, cost));
  expect_ledger_sums_to_zero(p.home.id);
  expect_ledger_sums_to_zero(p.away.id);
}

TEST_F(E2eFederationTest, a_payment_past_the_links_limit_is_refused_with_federation_limit) {
  const Partners p = partners("Hellemmes", 50);
  const MemberInfo provider = member(p.home, "sami"), receiver = member(p.away, "elodie");
  const std::string small = post_offer(provider, service(30, "federation"));
  const std::string big = post_offer(provider, service(60, "federation"));
  ASSERT_TRUE(found_near(receiver, big));
  auto refused = propose(receiver, {{"offer_id", big}});
  ASSERT_EQ(refused.status, 422) << refused.body;
  EXPECT_EQ(refused.json().value("code", ""), "federation-limit");
  EXPECT_NE(refused.json().value("detail", "").find("limite"), std::string::npos)
      << "a French detail: " << refused.body;
  auto within = propose(receiver, {{"offer_id", small}});
  EXPECT_EQ(within.status, 201) << within.body;
  EXPECT_EQ(balance_of(receiver), (Balance{120, 0, 0, 120}));
}

TEST_F(E2eFederationTest, a_community_listing_stays_home_until_its_owner_lets_it_cross) {
  const Partners p = partners("Wazemmes", 500);
  const MemberInfo owner = member(p.home, "paul"), neighbour = member(p.home, "zoe");
  const MemberInfo across = member(p.away, "tom");
  const std::string id = post_offer(owner, service(20, "community"));
  ASSERT_TRUE(found_near(neighbour, id));
  EXPECT_FALSE(contains(offers_near(across), id));
  EXPECT_EQ(as(across).get("/v1/offers/" + id).status, 404);
  auto refused = as(across).post("/v1/exchanges", {{"offer_id", id}});
  EXPECT_EQ(refused.json().value("code", ""), "unknown-listing") << refused.body;

  auto bad = as(owner).wrong().patch("/v1/offers/" + id, {{"visibility", "monde"}});
  ASSERT_EQ(bad.status, 400) << bad.body;
  EXPECT_EQ(bad.json()["errors"][0]["field"], "visibility") << bad.body;
  EXPECT_EQ(bad.json()["errors"][0]["message"],
            "doit valoir « community », « federation » ou « public »");
  auto opened = as(owner).patch("/v1/offers/" + id, {{"visibility", "federation"}});
  ASSERT_EQ(opened.status, 200) << opened.body;
  EXPECT_EQ(opened.json()["visibility"], "federation");
  EXPECT_TRUE(found_near(across, id));
  // Out of the listing's own reach (5 km by default), a reader's larger radius finds nothing.
  auto far = unless_busy([&] { return as(across).get("/v1/offers?near=50.70,3.07&radius_km=20"); });
  ASSERT_EQ(far.status, 200) << far.body;
  const Json far_page = far.json();
  for (const auto& item : far_page["items"]) EXPECT_NE(item.value("id", ""), id);
}

TEST_F(E2eFederationTest, a_suspended_link_stops_new_exchanges_and_listings_crossing) {
  const Partners p = partners("Roubaix", 500);
  const MemberInfo provider = member(p.home, "marc"), receiver = member(p.away, "ines");
  const std::string id = post_offer(provider, service(30, "federation"));
  ASSERT_TRUE(found_near(receiver, id));
  auto suspended =
      admin().post("/v1/federation/links/" + p.link_id + "/suspend?community_id=" + p.away.id);
  ASSERT_EQ(suspended.status, 200) << suspended.body;
  auto refused = as(receiver).post("/v1/exchanges", {{"offer_id", id}});
  EXPECT_EQ(refused.status, 422) << refused.body;
  EXPECT_EQ(refused.json().value("code", ""), "no-federation-link") << refused.body;
  EXPECT_TRUE(poll_until([&] { return !contains(offers_near(receiver), id); }));
  EXPECT_TRUE(poll_until([&] { return as(receiver).get("/v1/offers/" + id).status == 404; }));

  // Resumed by the side that suspended it: the listing crosses again and so does an exchange.
  auto resumed =
      admin().post("/v1/federation/links/" + p.link_id + "/resume?community_id=" + p.away.id);
  ASSERT_EQ(resumed.status, 200) << resumed.body;
  EXPECT_EQ(resumed.json().value("state", ""), "active") << resumed.body;
  EXPECT_TRUE(poll_until([&] { return as(receiver).get("/v1/offers/" + id).status == 200; }));
  EXPECT_TRUE(found_near(receiver, id));
  auto proposed = as(receiver).post("/v1/exchanges", {{"offer_id", id}});
  EXPECT_EQ(proposed.status, 201) << proposed.body;
}

}  // namespace
}  // namespace maillon::testing
