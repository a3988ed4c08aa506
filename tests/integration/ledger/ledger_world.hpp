// Builders shared by the ledger's integration tests: a community with members and staff, ledger
// replicas started against the same database, transfer bodies, and direct reads of its tables.
#pragma once

#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <map>
#include <memory>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "harness.hpp"
#include "services/common/ids.hpp"
#include "services/common/redis.hpp"
#include "test_clock.hpp"

namespace maillon::testing {

// A tight policy so that limits are hit often: members may owe 3 h 20 and hold at most 10 h.
inline Json tight_policy() {
  return {{"min_balance", -200},
          {"max_balance", 600},
          {"signup_bonus", 120},
          {"monthly_allowance", 60}};
}

struct LedgerWorld {
  // `ledger_env` is added to the ledger replicas' environment only.
  explicit LedgerWorld(const std::string& label, int members_count, int replicas = 1,
                       const std::map<std::string, std::string>& ledger_env = {})
      : world(label, {{"MAILLON_LOGIN_RATE_PER_MIN", "100000"},
                      {"MAILLON_LOGIN_BURST", "100000"},
                      {"MAILLON_LEDGER_EXPIRE_INTERVAL_MS", "200"},
                      {"MAILLON_WORKERS", "16"}}) {
    community = world.create_community("Ledger " + label, tight_policy());
    site = world.create_site(community, "Tiers-lieu " + label, 50.63, 3.07);
    std::map<std::string, std::string> env = ledger_env;
    env.insert(clock.env());
    for (int i = 0; i < replicas; ++i) {
      ledgers.push_back(std::make_unique<ServiceProcess>("ledger", world.env(env)));
      ledgers.back()->start();
    }
    for (int i = 0; i < members_count; ++i)
      members.push_back(world.register_member(community, "m" + std::to_string(i), site));
    staff = world.register_member(community, "staff", site);
    world.make_staff(site, staff.id);
    for (auto* m : all_members()) wait_for_account(*m);
  }

  std::vector<MemberInfo*> all_members() {
    std::vector<MemberInfo*> all;
    for (auto& m : members) all.push_back(&m);
    all.push_back(&staff);
    return all;
  }
  Client client(const MemberInfo& m, std::size_t replica = 0) const {
    return Client(ledgers[replica % ledgers.size()]->url(), m.token);
  }
  void wait_for_account(const MemberInfo& m) const {
    const bool opened = eventually(
        [&] { return client(m).get("/v1/ledger/accounts/" + m.id).status == 200; }, 10000);
    if (!opened) throw std::runtime_error("the ledger never opened the account of " + m.id);
  }
  std::unique_ptr<pqxx::connection> sql() const {
    auto c = std::make_unique<pqxx::connection>(world.database);
    pqxx::work tx(*c);
    tx.exec("SET search_path TO ledger");
    tx.commit();
    return c;
  }

  TestClock clock;  // the ledger replicas' time: tests move it instead of sleeping
  MembersWorld world;
  std::string community;
  std::string site;
  std::vector<std::unique_ptr<ServiceProcess>> ledgers;
  std::vector<MemberInfo> members;
  MemberInfo staff;
};

// A transfer body with a fresh client id.
inline Json transfer_to(const std::string& to_member_id, int64_t minutes) {
  return {{"id", new_uuid()}, {"to_member_id", to_member_id}, {"minutes", minutes}};
}
inline Json hold_to(const std::string& to_member_id, int64_t minutes, int64_t timeout_s = 0) {
  Json body = transfer_to(to_member_id, minutes);
  body["pending"] = true;
  if (timeout_s > 0) body["timeout_s"] = timeout_s;
  return body;
}

inline Json with_from(Json body, const std::string& from_member_id) {
  body["from_member_id"] = from_member_id;
  return body;
}

// POST /v1/ledger/transfers/batch with these items.
inline HttpResult post_batch(const Client& client, const std::vector<Json>& items) {
  return client.post("/v1/ledger/transfers/batch", {{"transfers", items}});
}

inline std::string problem_code(const HttpResult& r) {
  const Json j = r.json();
  return j.value("code", std::string());
}

// An event as another service publishes it on one of the world's streams (members,
// ledger.commands): the envelope around `data`, for `community`.
inline Json event_envelope(const std::string& community, const std::string& type,
                           const Json& data) {
  return {{"id", new_uuid()},
          {"type", type},
          {"version", 1},
          {"occurred_at", "2026-05-01T10:00:00Z"},
          {"community_id", community},
          {"data", data}};
}
inline void publish(const LedgerWorld& w, const std::string& stream, const Json& event) {
  Redis redis(redis_url());
  redis.command({"XADD", w.world.prefix + ":" + stream, "*", "event", event.dump()});
}
// Every event of a stream so far, oldest first.
inline std::vector<Json> stream_events(const LedgerWorld& w, const std::string& stream) {
  Redis redis(redis_url());
  const auto reply = redis.command({"XRANGE", w.world.prefix + ":" + stream, "-", "+"});
  std::vector<Json> out;
  for (std::size_t i = 0; i < reply->elements; ++i) {
    const redisReply* fields = reply->element[i]->element[1];
    out.push_back(Json::parse(std::string(fields->element[1]->str, fields->element[1]->len)));
  }
  return out;
}

}  // namespace maillon::testing
