// Communities and sites changed after their creation, end to end through the gateway
// (MAILLON_TEST_GATEWAY_URL): PATCH /v1/communities/{id} and PATCH /v1/sites/{id} answer the
// whole thing, and what they change reaches the other services through the members stream
// (community.updated, site.updated) and every service's directory: the ledger pays and caps with
// the new policy, the listing services place a listing at the site where it now is.
#include <gtest/gtest.h>

#include <cmath>

#include "e2e/e2e_suite.hpp"
#include "services/common/ids.hpp"

namespace maillon::testing {
namespace {

class E2eDirectoryTest : public E2eSuite {
 protected:
  static HttpResult transfer(const MemberInfo& from, const MemberInfo& to, int64_t minutes) {
    return as(from).post("/v1/ledger/transfers",
                         {{"id", new_uuid()}, {"to_member_id", to.id}, {"minutes", minutes}});
  }
};

TEST_F(E2eDirectoryTest, a_policy_changed_by_patch_is_the_one_the_ledger_applies) {
  const GatewayCommunity c = gateway->community("Lomme", trading_policy());
  const MemberInfo payer = member(c, "sacha"), payee = member(c, "ines");

  const auto patched = admin().patch("/v1/communities/" + c.id,
                                     {{"policy", {{"signup_bonus", 45}, {"max_balance", 150}}}});
  ASSERT_EQ(patched.status, 200) << patched.body;
  const Json policy = patched.json()["policy"];
  EXPECT_EQ(policy["signup_bonus"], 45);
  EXPECT_EQ(policy["max_balance"], 150);
  EXPECT_EQ(policy["min_balance"], 0) << "a field the patch leaves out keeps its value";
  EXPECT_EQ(as(payer).get("/v1/communities/" + c.id).json()["policy"], policy);

  // Registered after the change: the ledger pays the new bonus. The members stream is read in
  // order, so from then on the ledger holds the new policy.
  const MemberInfo newcomer = gateway->member(c, "noe");
  ASSERT_TRUE(poll_until([&] { return balance_of(newcomer).balance == 45; }))
      << balance_of(newcomer);

  // The payee holds 120: 60 more would pass the new cap of 150, 30 reaches it.
  const auto capped = transfer(payer, payee, 60);
  EXPECT_EQ(capped.status, 422) << capped.body;
  EXPECT_EQ(capped.json().value("code", ""), "balance-cap");
  EXPECT_EQ(transfer(payer, payee, 30).status, 201);
  EXPECT_EQ(balance_of(payee).balance, 150);
}

TEST_F(E2eDirectoryTest, a_community_admin_renames_their_community_and_a_bad_policy_is_refused) {
  const GatewayCommunity c = gateway->community("Hellemmes", trading_policy());
  const MemberInfo chief = member(c, "yasmine"), plain = member(c, "theo");
  ASSERT_EQ(admin().post("/v1/communities/" + c.id + "/admins", {{"member_id", chief.id}}).status,
            204);
  const Client as_chief = as(chief);

  const auto renamed = as_chief.patch("/v1/communities/" + c.id, {{"name", "Hellemmes-Lille"}});
  ASSERT_EQ(renamed.status, 200) << renamed.body;
  EXPECT_EQ(renamed.json()["name"], "Hellemmes-Lille");
  EXPECT_EQ(renamed.json()["policy"]["signup_bonus"], kSignupBonus);

  // The bonus may not pass the cap (checked on the policy that would result).
  const auto refused =
      as_chief.patch("/v1/communities/" + c.id, {{"policy", {{"max_balance", 100}}}});
  EXPECT_EQ(refused.status, 400) << refused.body;
  EXPECT_NE(refused.body.find("signup_bonus"), std::string::npos) << refused.body;
  EXPECT_EQ(as(plain).get("/v1/communities/" + c.id).json()["policy"]["max_balance"], 6000);

  EXPECT_EQ(as(plain).patch("/v1/communities/" + c.id, {{"name", "Chez moi"}}).status, 403);
  const GatewayCommunity other = gateway->community("Ronchin", trading_policy());
  EXPECT_EQ(as_chief.patch("/v1/communities/" + other.id, {{"name", "Annexée"}}).status, 403);
  EXPECT_EQ(admin().patch("/v1/communities/" + new_uuid(), {{"name", "Nulle part"}}).status, 404);
}

TEST_F(E2eDirectoryTest, a_site_changed_by_its_staff_shows_its_new_name_and_place_everywhere) {
  const StaffedCommunity c = staffed_community("Saint-Maurice");
  const MemberInfo owner = member(c, "louise");
  const Client staff = as(c.staff);
  const Json moved = {{"lat", 50.7237}, {"lon", 3.1611}};  // from Lille to Tourcoing

  const auto patched =
      staff.patch("/v1/sites/" + c.site, {{"name", "La Fabrique"}, {"location", moved}});
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(patched.json()["name"], "La Fabrique");
  EXPECT_EQ(patched.json()["location"], moved);
  EXPECT_EQ(patched.json()["kind"], "tiers_lieu") << "what the patch leaves out stays";
  const Json read = gateway->anonymous().get("/v1/sites/" + c.site).json();
  EXPECT_EQ(read["name"], "La Fabrique");
  EXPECT_EQ(read["location"], moved);

  // The offers service places a listing handed over at the site where the site now is.
  Json area;
  ASSERT_TRUE(poll_until([&] {
    const auto created = as(owner).post("/v1/offers", service_offer(30, c.site));
    area = created.json()["area"];
    return created.status == 201 && std::abs(area["lat"].get<double>() - 50.72) < 0.006;
  })) << area;
  EXPECT_NEAR(area["lon"].get<double>(), 3.16, 0.006);

  EXPECT_EQ(as(owner).patch("/v1/sites/" + c.site, {{"name", "Chez Louise"}}).status, 403);
  EXPECT_EQ(admin().patch("/v1/sites/" + new_uuid(), {{"name", "Nulle part"}}).status, 404);
  EXPECT_EQ(gateway->anonymous().patch("/v1/sites/" + c.site, {{"name", "Anonyme"}}).status, 401);
}

}  // namespace
}  // namespace maillon::testing
