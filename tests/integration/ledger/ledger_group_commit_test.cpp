// POST /v1/ledger/transfers from many clients at once: the single requests share the writer's
// commits (the group commit counts them: maillon_ledger_batch_*_total on /metrics), while each
// answer is still its own (a refusal among acceptances, a replay answered with the first
// result), given once the commit is done, with its event; and a writer whose cache another
// replica made stale still decides on the true balances.
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <map>
#include <set>
#include <thread>

#include "ledger_world.hpp"

namespace maillon::testing {
namespace {

// Members 0 to kRingMembers - 1 pay each other; the two after them serve the stale-cache test.
constexpr int kRingMembers = 8;

class LedgerGroupCommit : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { w_ = new LedgerWorld("groupcommit", kRingMembers + 2, 2); }
  static void TearDownTestSuite() {
    delete w_;
    w_ = nullptr;
  }

  static LedgerWorld& w() { return *w_; }
  static const std::string& id_of(int i) { return w().members[static_cast<std::size_t>(i)].id; }
  static Client member(int i, std::size_t replica = 0) {
    return w().client(w().members[static_cast<std::size_t>(i)], replica);
  }
  static int64_t balance(int i) {
    const auto r = w().client(w().staff).get("/v1/ledger/accounts/" + id_of(i));
    EXPECT_EQ(r.status, 200) << r.body;
    return r.json().value("balance_minutes", int64_t{0});
  }
  // The request id of each transfer's events on ledger.events so far, by transfer id ("" for
  // an event with none; two different ones would show as "several").
  static std::map<std::string, std::string> event_request_ids() {
    std::map<std::string, std::string> ids;
    for (const auto& e : stream_events(w(), "ledger.events")) {
      if (!e.contains("data") || !e["data"].contains("transfer_id")) continue;
      const std::string rid = e.value("request_id", "");
      const auto [it, added] = ids.try_emplace(e["data"]["transfer_id"].get<std::string>(), rid);
      if (!added && it->second != rid) it->second = "several";
    }
    return ids;
  }

  static LedgerWorld* w_;
};
LedgerWorld* LedgerGroupCommit::w_ = nullptr;

// One request per thread, all let go at once, each under a request id of its own.
struct SingleCall {
  Client client;
  Json body;
  HttpResult answer{};
  std::string request_id = "groupcommit-" + unique_suffix() + unique_suffix();
};
void send_all_at_once(std::vector<SingleCall>& calls) {
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (auto& call : calls) {
    threads.emplace_back([&] {
      ++ready;
      while (!go.load()) std::this_thread::yield();
      call.answer = http_request(
          call.client.base(), "POST", "/v1/ledger/transfers", call.body.dump(),
          {{"Authorization", "Bearer " + call.client.token()}, {"X-Request-Id", call.request_id}});
    });
  }
  while (ready.load() < static_cast<int>(calls.size())) std::this_thread::yield();
  go = true;
  for (auto& t : threads) t.join();
}

// Two replicas write the same accounts in turn: each one's cache is stale after the other's
// batch, and its limits are checked on the balances the other left, not on its memory. First:
// after a replayed id (the next test) the writer reads ids for a while, and its cache with them.
TEST_F(LedgerGroupCommit, ledger_writer_cache_made_stale_by_another_replica_is_not_trusted) {
  const int payer = kRingMembers, payee = kRingMembers + 1;
  const int64_t room = balance(payer) + 200;  // min_balance -200 (tight_policy)
  ASSERT_GE(room, 200);
  const int64_t part = room / 4;
  // Replica 0 learns the payer's balance, then replica 1 spends twice from it.
  EXPECT_EQ(member(payer, 0).post("/v1/ledger/transfers", transfer_to(id_of(payee), part)).status,
            201);
  EXPECT_EQ(member(payer, 1).post("/v1/ledger/transfers", transfer_to(id_of(payee), part)).status,
            201);
  EXPECT_EQ(member(payer, 1).post("/v1/ledger/transfers", transfer_to(id_of(payee), part)).status,
            201);
  // Replica 0's memory would leave room for 2 more parts; the books leave room for one and less.
  const int64_t left = room - 3 * part;
  const auto over =
      member(payer, 0).post("/v1/ledger/transfers", transfer_to(id_of(payee), left + 1));
  EXPECT_EQ(over.status, 422) << over.body;
  EXPECT_EQ(problem_code(over), "insufficient-credits");
  // The rest fits exactly, through either replica.
  EXPECT_EQ(member(payer, 0).post("/v1/ledger/transfers", transfer_to(id_of(payee), left)).status,
            201);
  EXPECT_EQ(balance(payer), -200);
  const auto audit = w().client(w().staff).get("/v1/ledger/audit?community_id=" + w().community);
  ASSERT_EQ(audit.status, 200) << audit.body;
  EXPECT_TRUE(audit.json()["violations"].empty()) << audit.body;
}

TEST_F(LedgerGroupCommit, ledger_single_transfers_share_commits_and_keep_their_own_answers) {
  const ServiceProcess& ledger = *w().ledgers[0];
  // A transfer made first, replayed in every wave: answered 200 with it, never applied again.
  const Json replayed = transfer_to(id_of(1), 3);
  const auto first = member(0).post("/v1/ledger/transfers", replayed);
  ASSERT_EQ(first.status, 201) << first.body;
  std::vector<int64_t> before;
  for (int i = 0; i < kRingMembers; ++i) before.push_back(balance(i));
  std::vector<int64_t> expected = before;

  const double commits = metric_value(ledger.url(), "maillon_ledger_batch_commits_total");
  const double requests = metric_value(ledger.url(), "maillon_ledger_batched_requests_total");
  std::map<std::string, std::string> created;  // transfer id -> the request that created it
  // Each member pays the next one 2 minutes.
  const auto ring = [&] {
    std::vector<SingleCall> calls;
    for (int i = 0; i < kRingMembers; ++i) {
      calls.push_back({member(i), transfer_to(id_of((i + 1) % kRingMembers), 2)});
    }
    return calls;
  };
  const auto check_ring = [&](const std::vector<SingleCall>& calls) {
    for (int i = 0; i < kRingMembers; ++i) {
      const HttpResult& r = calls[static_cast<std::size_t>(i)].answer;
      ASSERT_EQ(r.status, 201) << r.body;
      const Json t = r.json();
      EXPECT_EQ(t["id"], calls[static_cast<std::size_t>(i)].body["id"]);
      EXPECT_EQ(t["to_member_id"], id_of((i + 1) % kRingMembers));
      EXPECT_EQ(t["minutes"], 2);
      EXPECT_EQ(t["state"], "posted");
      created.emplace(t["id"].get<std::string>(), calls[static_cast<std::size_t>(i)].request_id);
      expected[static_cast<std::size_t>(i)] -= 2;
      expected[static_cast<std::size_t>((i + 1) % kRingMembers)] += 2;
    }
  };
  // Two plain waves: the first one's batches read the accounts, the next ones find them in the
  // writer's cache.
  for (int wave = 0; wave < 2; ++wave) {
    auto calls = ring();
    send_all_at_once(calls);
    check_ring(calls);
  }
  // Waves with a refusal and replays among the acceptances.
  constexpr int kMixedWaves = 4;
  for (int wave = 0; wave < kMixedWaves; ++wave) {
    std::vector<SingleCall> calls = ring();
    // ...member 2 also asks for more than its floor allows (refused, alone)...
    calls.push_back({member(2), transfer_to(id_of(3), expected[2] + 200 + 5)});
    // ...the earlier transfer comes again, and one new id is sent twice at once.
    calls.push_back({member(0), replayed});
    const Json twice = transfer_to(id_of(5), 1);
    calls.push_back({member(4), twice});
    calls.push_back({member(4), twice});
    send_all_at_once(calls);
    check_ring(calls);
    const HttpResult& refused = calls[kRingMembers].answer;
    EXPECT_EQ(refused.status, 422) << refused.body;
    EXPECT_EQ(problem_code(refused), "insufficient-credits");
    const HttpResult& replay = calls[kRingMembers + 1].answer;
    EXPECT_EQ(replay.status, 200) << replay.body;
    EXPECT_EQ(replay.json(), first.json()) << "a replay answers the first result";
    const HttpResult& one = calls[kRingMembers + 2].answer;
    const HttpResult& other = calls[kRingMembers + 3].answer;
    EXPECT_EQ(std::multiset<int>({one.status, other.status}), std::multiset<int>({200, 201}))
        << one.body << other.body;
    EXPECT_EQ(one.json(), other.json()) << "both answers name the same transfer";
    created.emplace(
        twice["id"].get<std::string>(),
        (one.status == 201 ? calls[kRingMembers + 2] : calls[kRingMembers + 3]).request_id);
    expected[4] -= 1;
    expected[5] += 1;
  }
  const double shared_commits =
      metric_value(ledger.url(), "maillon_ledger_batch_commits_total") - commits;
  const double shared_requests =
      metric_value(ledger.url(), "maillon_ledger_batched_requests_total") - requests;
  // Every request reached the writer (the refused and replayed ones too).
  EXPECT_EQ(shared_requests, 2 * kRingMembers + kMixedWaves * (kRingMembers + 4));
  EXPECT_GT(shared_commits, 0);
  EXPECT_LT(shared_commits, shared_requests) << "concurrent single transfers shared commits";

  // Each answer came after its commit: the balances hold every accepted transfer, once.
  for (int i = 0; i < kRingMembers; ++i)
    EXPECT_EQ(balance(i), expected[static_cast<std::size_t>(i)]);
  // And each created transfer's event was written with it, under the id of the request that
  // created it, not the one of the request whose thread led the shared commit.
  std::map<std::string, std::string> seen;
  EXPECT_TRUE(eventually(
      [&] {
        seen = event_request_ids();
        return std::all_of(created.begin(), created.end(),
                           [&](const auto& c) { return seen.count(c.first) != 0; });
      },
      10000));
  for (const auto& [transfer_id, request_id] : created) {
    EXPECT_EQ(seen[transfer_id], request_id) << transfer_id;
  }
  const auto audit = w().client(w().staff).get("/v1/ledger/audit?community_id=" + w().community);
  ASSERT_EQ(audit.status, 200) << audit.body;
  EXPECT_TRUE(audit.json()["violations"].empty()) << audit.body;
}

}  // namespace
}  // namespace maillon::testing
