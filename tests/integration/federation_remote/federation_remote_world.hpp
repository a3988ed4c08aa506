// Two Maillon installations on one machine for the federation tests: each its own database,
// stream prefix, members service and ledger (the door /federation/v1/messages is the ledger's,
// so each ledger's own address is what the other installation calls). Both ledgers share one
// test clock (the protocol's sent_at is checked against each side's clock) and each has a fault
// file: a crash point written there kills that ledger with SIGKILL when it gets there.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <memory>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "harness.hpp"
#include "services/common/ids.hpp"
#include "test_clock.hpp"

namespace maillon::testing {

inline Json federation_policy() {
  // No monthly allowance: a restarted ledger pays it at once, which would blur the balances.
  return {{"min_balance", -600},
          {"max_balance", 6000},
          {"signup_bonus", 120},
          {"monthly_allowance", 0}};
}

struct Installation {
  // `ledger_env` adds to (or overrides) the ledger's settings.
  Installation(const std::string& label, const TestClock& clock, int members_count = 3,
               const Json& policy = federation_policy(),
               const std::map<std::string, std::string>& ledger_env = {})
      : world(label, {{"MAILLON_LOGIN_RATE_PER_MIN", "100000"}, {"MAILLON_LOGIN_BURST", "100000"}}),
        fault_path("/tmp/maillon-fault-" + unique_suffix()) {
    disarm();
    community = world.create_community("Communauté " + label, policy);
    site = world.create_site(community, "Tiers-lieu " + label, 50.63, 3.07);
    std::map<std::string, std::string> settings = {clock.env(),
                                                   {"MAILLON_FEDERATION_FAULT_FILE", fault_path},
                                                   {"MAILLON_FEDERATION_RETRY_MAX_MS", "300"},
                                                   {"MAILLON_FEDERATION_SEND_INTERVAL_MS", "20"},
                                                   {"MAILLON_WORKERS", "16"}};
    for (const auto& [name, value] : ledger_env) settings[name] = value;
    ledger = std::make_unique<ServiceProcess>("ledger", world.env(settings));
    ledger->start();
    for (int i = 0; i < members_count; ++i)
      members.push_back(world.register_member(community, label + std::to_string(i), site));
    for (const auto& m : members) {
      const bool opened =
          eventually([&] { return as(m).get("/v1/ledger/accounts/" + m.id).status == 200; }, 15000);
      if (!opened) throw std::runtime_error("the ledger never opened the account of " + m.id);
    }
  }
  ~Installation() { std::remove(fault_path.c_str()); }

  Client admin() const { return Client(ledger->url(), world.admin_token); }
  Client as(const MemberInfo& m) const { return Client(ledger->url(), m.token); }

  // The ledger kills itself at `point` from now on (until disarmed).
  void arm(const std::string& point) { std::ofstream(fault_path) << point << '\n'; }
  void disarm() { std::ofstream(fault_path) << '\n'; }
  bool died() const { return !ledger->alive(); }
  // After a crash: started again on the same port (the partner installation knows this address).
  void restart() {
    disarm();
    ledger->kill9();
    ledger->start();
  }

  pqxx::result query(const std::string& sql, const std::string& param = "") const {
    pqxx::connection c(world.database);
    pqxx::work tx(c);
    pqxx::result r = param.empty() ? tx.exec(sql) : tx.exec_params(sql, param);
    tx.commit();
    return r;
  }
  // The saga's state on this side ("" when this side has none).
  std::string saga_state(const std::string& transfer_id) const {
    const auto r =
        query("SELECT state FROM ledger.federation_remote_transfers WHERE id = $1", transfer_id);
    return r.empty() ? std::string() : std::string(r[0][0].c_str());
  }
  int64_t sum_balances() const {
    return query(
               "SELECT COALESCE(sum(balance_minutes), 0)::bigint FROM ledger.accounts "
               "WHERE community_id = $1",
               community)[0][0]
        .as<int64_t>();
  }
  int64_t clearing_balance(const std::string& partner_community_id) const {
    const auto r = query("SELECT balance_minutes FROM ledger.accounts WHERE id = $1",
                         "clearing:" + community + ":" + partner_community_id);
    return r.empty() ? 0 : r[0][0].as<int64_t>();
  }
  int64_t pending_sum() const {
    return query(
               "SELECT COALESCE(sum(pending_debit_minutes + pending_credit_minutes), 0)::bigint "
               "FROM ledger.accounts WHERE community_id = $1",
               community)[0][0]
        .as<int64_t>();
  }
  std::string secret_key_base64() const {
    // PostgreSQL's base64 breaks lines every 76 characters.
    return query(
               "SELECT translate(encode(secret_key, 'base64'), E'\\n', '') "
               "FROM ledger.federation_installation")[0][0]
        .c_str();
  }

  MembersWorld world;
  std::string fault_path;
  std::string community;
  std::string site;
  std::unique_ptr<ServiceProcess> ledger;
  std::vector<MemberInfo> members;
};

// `proposer` proposes a link to `acceptor`'s community, whose admin accepts it once the proposal
// arrived; returns the link id once both sides are active.
inline std::string agree(Installation& proposer, Installation& acceptor, int64_t proposer_limit,
                         int64_t acceptor_debit_limit) {
  const HttpResult proposed = proposer.admin().post(
      "/v1/federation/links",
      {{"community_id", proposer.community},
       {"partner", {{"url", acceptor.ledger->url()}, {"community_id", acceptor.community}}},
       {"debit_limit_minutes", proposer_limit},
       {"credit_limit_minutes", proposer_limit}});
  if (proposed.status != 201) throw std::runtime_error("propose: " + proposed.body);
  const std::string link_id = proposed.json()["id"];
  auto state_of = [&](Installation& side) {
    const auto r =
        side.query("SELECT state FROM ledger.federation_links WHERE id = '" + link_id + "'::uuid");
    return r.empty() ? std::string() : std::string(r[0][0].c_str());
  };
  if (!eventually([&] { return state_of(acceptor) == "proposed"; }, 20000))
    throw std::runtime_error("the proposal never reached the partner installation");
  const HttpResult accepted = acceptor.admin().post(
      "/v1/federation/links/" + link_id + "/accept",
      {{"debit_limit_minutes", acceptor_debit_limit}, {"credit_limit_minutes", proposer_limit}});
  if (accepted.status != 200) throw std::runtime_error("accept: " + accepted.body);
  if (!eventually([&] { return state_of(proposer) == "active"; }, 20000))
    throw std::runtime_error("the acceptance never reached the proposing installation");
  return link_id;
}

}  // namespace maillon::testing
