// What every end-to-end test does through the nginx gateway (MAILLON_TEST_GATEWAY_URL): log the
// administrator in, open a community with one site, register members there, and poll gently —
// every call comes from the gateway's address, so all of them share one rate-limit bucket.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include "harness.hpp"

namespace maillon::testing {

inline constexpr int kGatewayTimeoutMs = 20000;
inline constexpr int kGatewayPollIntervalMs = 100;

inline bool poll_until(const std::function<bool()>& check, int timeout_ms = kGatewayTimeoutMs) {
  return eventually(check, timeout_ms, kGatewayPollIntervalMs);
}

// A community of its own, so that scenarios never see each other's members or listings.
struct GatewayCommunity {
  std::string id;
  std::string site;
};

// Sends again while the answer is 429: the password lane (login, register) refuses beyond its
// queue and asks the client to retry in a moment. Suites run side by side against one stack, so
// their set-up logins and registrations may fill that queue; the tests that check the 429 itself
// call the service directly.
inline HttpResult unless_busy(const std::function<HttpResult()>& send) {
  HttpResult r = send();
  poll_until([&] { return r.status != 429 || (r = send()).status != 429; });
  return r;
}

class Gateway {
 public:
  Gateway() : url_(required_env("MAILLON_TEST_GATEWAY_URL")) {
    const Json login = {{"email", required_env("MAILLON_TEST_ADMIN_EMAIL")},
                        {"password", required_env("MAILLON_TEST_ADMIN_PASSWORD")}};
    auto r = unless_busy([&] { return Client(url_).post("/v1/auth/login", login); });
    EXPECT_EQ(r.status, 200) << "admin login through the gateway: " << r.body;
    admin_token_ = r.status == 200 ? r.json().value("token", "") : "";
  }

  const std::string& url() const { return url_; }
  Client anonymous() const { return Client(url_); }
  Client admin() const { return Client(url_, admin_token_); }
  Client as(const MemberInfo& m) const { return Client(url_, m.token); }

  GatewayCommunity community(const std::string& name, const Json& policy,
                             const std::string& site_kind = "tiers_lieu") const {
    auto c = admin().post("/v1/communities",
                          {{"name", name + " " + unique_suffix()}, {"policy", policy}});
    EXPECT_EQ(c.status, 201) << c.body;
    GatewayCommunity out{c.json().value("id", ""), ""};
    auto s = admin().post("/v1/sites", {{"community_id", out.id},
                                        {"name", "Lieu de " + name},
                                        {"kind", site_kind},
                                        {"location", {{"lat", 50.6297}, {"lon", 3.0917}}},
                                        {"address", name + ", Hauts-de-France"}});
    EXPECT_EQ(s.status, 201) << s.body;
    out.site = s.json().value("id", "");
    return out;
  }

  // Registers a member at the community's site (the ledger opens the account afterwards, from
  // the member.registered event). As the administrator: anonymous sign-ups are limited per
  // client address, and every e2e test registers from the same one.
  MemberInfo member(const GatewayCommunity& c, const std::string& name) const {
    const std::string email = name + "." + unique_suffix() + "@e2e.maillon.test";
    const Json body = {{"email", email},
                       {"password", "mot-de-passe-1"},
                       {"display_name", name},
                       {"community_id", c.id},
                       {"home_site_id", c.site}};
    auto r = unless_busy([&] { return admin().post("/v1/auth/register", body); });
    // Through a gateway whose replicas are being killed (the bank test), a sign-up may meet one
    // as it dies (503). It is sent again; if the first one had been taken after all, the address
    // is taken now (409) and the member signs in instead.
    poll_until([&] {
      if (r.status != 503) return true;
      r = unless_busy([&] { return admin().post("/v1/auth/register", body); });
      if (r.status == 409) {
        r = unless_busy([&] {
          return Client(url_).post("/v1/auth/login",
                                   {{"email", email}, {"password", "mot-de-passe-1"}});
        });
      }
      return r.status != 503;
    });
    EXPECT_TRUE(r.status == 201 || r.status == 200) << r.status << " " << r.body;
    const Json j = r.json();
    return MemberInfo{j["member"].value("id", ""), j.value("token", ""), email};
  }

  void make_staff(const GatewayCommunity& c, const MemberInfo& m) const {
    auto r = admin().post("/v1/sites/" + c.site + "/staff", {{"member_id", m.id}});
    EXPECT_EQ(r.status, 204) << r.body;
  }

 private:
  std::string url_;
  std::string admin_token_;
};

}  // namespace maillon::testing
