// Builders for the federation tests inside one installation: two communities (and a third with
// no link) with members, staff and community administrators, one ledger, and the reads the tests
// check (balances, links seen from a side, the audit, the events of ledger.events).
#pragma once

#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <memory>
#include <string>
#include <vector>

#include "harness.hpp"
#include "services/common/ids.hpp"
#include "services/common/redis.hpp"
#include "test_clock.hpp"

namespace maillon::testing {

// Members may owe 3 h 20 and hold at most 10 h; a bonus of 2 h; no allowance (it would move
// balances while a test reads them).
inline Json federation_policy() {
  return {
      {"min_balance", -200}, {"max_balance", 600}, {"signup_bonus", 120}, {"monthly_allowance", 0}};
}

struct FedCommunity {
  std::string id;
  std::string site;
  std::vector<MemberInfo> members;
  MemberInfo staff;
  MemberInfo admin;  // the community's administrator
};

struct FederationWorld {
  explicit FederationWorld(const std::string& label)
      : world(label, {{"MAILLON_LOGIN_RATE_PER_MIN", "100000"},
                      {"MAILLON_LOGIN_BURST", "100000"},
                      {"MAILLON_LEDGER_EXPIRE_INTERVAL_MS", "200"}}) {
    ledger = std::make_unique<ServiceProcess>("ledger", world.env({clock.env()}));
    ledger->start();
    for (const char* name : {"A", "B", "C"}) communities.push_back(community(label + name));
  }

  FedCommunity community(const std::string& name) {
    FedCommunity c;
    c.id = world.create_community("Tiers-lieu " + name, federation_policy());
    c.site = world.create_site(c.id, "Site " + name, 50.63, 3.07);
    for (int i = 0; i < 2; ++i)
      c.members.push_back(world.register_member(c.id, "m" + std::to_string(i), c.site));
    c.staff = world.register_member(c.id, "staff", c.site);
    world.make_staff(c.site, c.staff.id);
    c.admin = world.register_member(c.id, "cadmin", c.site);
    const auto r =
        world.admin().post("/v1/communities/" + c.id + "/admins", {{"member_id", c.admin.id}});
    if (r.status != 204) throw std::runtime_error("community admin: " + r.body);
    c.admin.token = login(c.admin);
    for (const auto& m : c.members) wait_for_account(m);
    wait_for_account(c.staff);
    return c;
  }

  std::string login(const MemberInfo& m) const {
    const auto r =
        Client(world.members->url())
            .post("/v1/auth/login", {{"email", m.email}, {"password", "mot-de-passe-1"}});
    if (r.status != 200) throw std::runtime_error("login: " + r.body);
    return r.json()["token"];
  }

  Client client(const MemberInfo& m) const { return Client(ledger->url(), m.token); }
  Client platform_admin() const { return Client(ledger->url(), world.admin_token); }
  Client anonymous() const { return Client(ledger->url()); }

  void wait_for_account(const MemberInfo& m) const {
    const bool opened = eventually(
        [&] { return client(m).get("/v1/ledger/accounts/" + m.id).status == 200; }, 10000);
    if (!opened) throw std::runtime_error("the ledger never opened the account of " + m.id);
  }

  // A link proposed by a's admin and accepted by b's, with these limits on a's side (b's side
  // takes the mirror); its id.
  std::string active_link(const FedCommunity& a, const FedCommunity& b, int64_t debit_limit,
                          int64_t credit_limit) const {
    const auto proposed =
        client(a.admin).post("/v1/federation/links", {{"community_id", a.id},
                                                      {"partner", {{"community_id", b.id}}},
                                                      {"debit_limit_minutes", debit_limit},
                                                      {"credit_limit_minutes", credit_limit}});
    if (proposed.status != 201) throw std::runtime_error("propose: " + proposed.body);
    const std::string id = proposed.json()["id"];
    const auto accepted = client(b.admin).post("/v1/federation/links/" + id + "/accept");
    if (accepted.status != 200) throw std::runtime_error("accept: " + accepted.body);
    return id;
  }

  // The link as `c` sees it in its list (null when absent).
  Json link_seen_by(const FedCommunity& c, const std::string& link_id) const {
    const auto r = client(c.admin).get("/v1/federation/links?community_id=" + c.id);
    if (r.status != 200) return nullptr;
    const Json list = r.json();
    for (const auto& item : list["items"])
      if (item["id"] == link_id) return item;
    return nullptr;
  }

  Json audit(const FedCommunity& c) const {
    return client(c.staff).get("/v1/ledger/audit?community_id=" + c.id).json();
  }

  LedgerBalance balance(const FedCommunity& c, const MemberInfo& m) const {
    return ledger_balance(client(c.staff), m.id);
  }

  // A command as another service (the exchange saga) publishes it on ledger.commands.
  void send_command(const std::string& payer_community, const std::string& type, const Json& data,
                    const std::string& event_id = new_uuid()) const {
    const Json event = {{"id", event_id},
                        {"type", type},
                        {"version", 1},
                        {"occurred_at", "2026-05-01T10:00:00Z"},
                        {"community_id", payer_community},
                        {"data", data}};
    Redis redis(redis_url());
    redis.command({"XADD", world.prefix + ":ledger.commands", "*", "event", event.dump()});
  }

  std::vector<Json> events() const {
    Redis redis(redis_url());
    const auto reply = redis.command({"XRANGE", world.prefix + ":ledger.events", "-", "+"});
    std::vector<Json> out;
    for (std::size_t i = 0; i < reply->elements; ++i) {
      const redisReply* fields = reply->element[i]->element[1];
      out.push_back(Json::parse(std::string(fields->element[1]->str, fields->element[1]->len)));
    }
    return out;
  }
  std::vector<Json> events_of(const std::string& type, const std::string& key,
                              const std::string& value) const {
    std::vector<Json> found;
    for (auto& e : events())
      if (e["type"] == type && e["data"].value(key, "") == value) found.push_back(e);
    return found;
  }

  TestClock clock;
  MembersWorld world;
  std::unique_ptr<ServiceProcess> ledger;
  std::vector<FedCommunity> communities;
};

}  // namespace maillon::testing
