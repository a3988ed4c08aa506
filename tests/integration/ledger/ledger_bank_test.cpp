// The bank test: concurrent clients move credits at random between members through two ledger
// replicas (transfers, holds, posts, voids, replays); afterwards the books must hold: sums are 0,
// balances are the sums of entries, no limit was crossed, and every accepted transfer is there
// exactly once. A second run kills one replica with SIGKILL in the middle and restarts it. The
// same two runs again with half the clients sending their creates through the batch endpoint.
#include <atomic>
#include <iostream>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "ledger_world.hpp"

namespace maillon::testing {
namespace {

constexpr int kMembers = 20;
constexpr int kClients = 8;
constexpr auto kRunTime = std::chrono::seconds(10);
// A request whose answer was lost is sent again, same id and body, for this long at most.
constexpr int kNoAnswerTimeoutMs = 10'000;
// A replica is killed once the clients sent this many requests, and restarted once they sent
// this many more (some of them to the dead replica).
constexpr int kRequestsBeforeKill = 300;
constexpr int kRequestsWhileDead = 100;

struct Hold {
  std::string id;
  int payer = 0;
  int payee = 0;
  int64_t minutes = 0;
};

// What the clients were told: the facts the books must show afterwards.
struct Told {
  std::mutex mutex;
  std::set<std::string> created;          // 2xx on create
  std::map<std::string, int64_t> posted;  // transfer -> minutes that must have moved
  std::set<std::string> voided;           // 200 on void
  std::atomic<int> server_errors{0};
  std::atomic<int> requests{0};
};

class BankClient {
 public:
  BankClient(LedgerWorld& w, Told& told, int index, bool batches)
      : w_(w), told_(told), index_(index), batches_(batches), rng_(7919u * (index + 1)) {}

  void run(std::chrono::steady_clock::time_point until) {
    while (std::chrono::steady_clock::now() < until) step();
  }

 private:
  LedgerWorld& w_;
  Told& told_;
  int index_;
  bool batches_;
  std::mt19937 rng_;
  std::vector<Hold> holds_;
  Json last_body_;
  int last_payer_ = 0;
  std::size_t turn_ = 0;

  int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }

  // Sends until an answer arrives, spreading over the replicas; a lost answer is retried as is.
  HttpResult send(int member, const std::string& path, const Json& body, bool* retried) {
    HttpResult r;
    const bool answered = eventually(
        [&] {
          r = w_.client(w_.members[member], turn_++).post(path, body);
          ++told_.requests;
          if (r.status != 0 && r.status != 503) return true;
          *retried = true;
          return false;
        },
        kNoAnswerTimeoutMs);
    if (!answered) throw std::runtime_error("no ledger replica answered");
    if (r.status >= 500) ++told_.server_errors;
    return r;
  }

  void create(int payer, Json body) {
    bool retried = false;
    const auto r = send(payer, "/v1/ledger/transfers", body, &retried);
    last_body_ = body;
    last_payer_ = payer;
    record_created(payer, body, r.status);
  }

  // Up to 8 creates in one request (with the occasional replay of an earlier item); a lost
  // answer sends the same batch again, and each item must answer as if sent once.
  void create_batch(int payer) {
    std::vector<Json> items;
    const int count = 1 + pick(8);
    for (int i = 0; i < count; ++i) {
      int payee = pick(kMembers - 1);
      if (payee >= payer) ++payee;
      const int64_t minutes = 1 + pick(150);
      const int dice = pick(100);
      if (dice < 60) {
        items.push_back(transfer_to(w_.members[payee].id, minutes));
      } else if (dice < 90) {
        items.push_back(hold_to(w_.members[payee].id, minutes, pick(4) == 0 ? 1 : 0));
      } else if (!items.empty()) {
        items.push_back(items[static_cast<std::size_t>(pick(static_cast<int>(items.size())))]);
      }
    }
    if (items.empty()) return;
    bool retried = false;
    const auto r = send(payer, "/v1/ledger/transfers/batch", {{"transfers", items}}, &retried);
    if (r.status != 200) return;
    const Json answer = r.json();
    const Json& results = answer["results"];
    if (results.size() != items.size()) {
      ADD_FAILURE() << "one result per item expected: " << r.body;
      return;
    }
    for (std::size_t i = 0; i < items.size(); ++i) {
      record_created(payer, items[i], results[i]["status"].get<int>());
    }
  }

  void record_created(int payer, const Json& body, int status) {
    if (status != 200 && status != 201) return;
    const std::string id = body["id"];
    std::lock_guard lock(told_.mutex);
    told_.created.insert(id);
    // Only a new hold joins the list: a replayed one (200) is already there, and resolving it
    // twice would make "already-posted after a lost answer" ambiguous.
    if (!body.value("pending", false))
      told_.posted[id] = body["minutes"];
    else if (status == 201)
      holds_.push_back({id, payer, 0, body["minutes"]});
  }

  void resolve(bool post) {
    if (holds_.empty()) return;
    const std::size_t at = static_cast<std::size_t>(pick(static_cast<int>(holds_.size())));
    const Hold hold = holds_[at];
    holds_.erase(holds_.begin() + static_cast<std::ptrdiff_t>(at));
    const int64_t minutes = 1 + pick(static_cast<int>(hold.minutes));
    bool retried = false;
    const auto r = send(hold.payer, "/v1/ledger/transfers/" + hold.id + (post ? "/post" : "/void"),
                        post ? Json{{"minutes", minutes}} : Json::object(), &retried);
    const std::string code = r.status == 409 ? problem_code(r) : "";
    // After a lost answer, "already done" means the first attempt went through.
    const bool done =
        r.status == 200 || (retried && code == (post ? "already-posted" : "already-voided"));
    if (!done) return;
    std::lock_guard lock(told_.mutex);
    if (post)
      told_.posted[hold.id] = minutes;
    else
      told_.voided.insert(hold.id);
  }

  void step() {
    const int payer = pick(kMembers);
    int payee = pick(kMembers - 1);
    if (payee >= payer) ++payee;
    const int64_t minutes = 1 + pick(150);
    const int dice = pick(100);
    if (batches_ && dice < 70) {
      create_batch(payer);
    } else if (dice < 45) {
      create(payer, transfer_to(w_.members[payee].id, minutes));
    } else if (dice < 70) {
      create(payer, hold_to(w_.members[payee].id, minutes, pick(4) == 0 ? 1 : 0));
    } else if (dice < 82) {
      resolve(true);
    } else if (dice < 90) {
      resolve(false);
    } else if (!last_body_.is_null()) {
      // A replay with the same id: with the same body, or with another one (must be refused).
      Json body = last_body_;
      if (dice >= 96) body["minutes"] = body["minutes"].get<int64_t>() + 1;
      create(last_payer_, body);
    }
  }
};

class LedgerBank : public ::testing::Test {
 protected:
  // With `batches`, the odd-numbered clients send their creates through the batch endpoint.
  void run_bank(LedgerWorld& w, const std::function<void()>& in_the_middle, bool batches = false) {
    std::vector<std::thread> clients;
    const auto until = std::chrono::steady_clock::now() + kRunTime;
    for (int i = 0; i < kClients; ++i) {
      clients.emplace_back([&, i] {
        try {
          BankClient(w, told_, i, batches && i % 2 == 1).run(until);
        } catch (const std::exception& e) {
          ADD_FAILURE() << "client " << i << ": " << e.what();
        }
      });
    }
    in_the_middle();
    for (auto& c : clients) c.join();
  }

  // Kills replica 0 with SIGKILL while the clients run, and starts it again while they still run:
  // waits on the clients' progress, not on time.
  void kill_and_restart_in_the_middle(LedgerWorld& w) {
    eventually([&] { return told_.requests.load() >= kRequestsBeforeKill; }, 6000);
    w.ledgers[0]->kill9();
    const int at_kill = told_.requests.load();
    eventually([&] { return told_.requests.load() >= at_kill + kRequestsWhileDead; }, 3000);
    w.ledgers[0]->start();
  }

  void expect_books_hold(LedgerWorld& w) {
    EXPECT_EQ(told_.server_errors.load(), 0);
    EXPECT_GT(told_.created.size(), 100u) << "the bank test barely ran";
    const auto audit = w.client(w.staff).get("/v1/ledger/audit?community_id=" + w.community);
    ASSERT_EQ(audit.status, 200) << audit.body;
    const Json report = audit.json();
    EXPECT_EQ(report["sum_balances_minutes"], 0);
    EXPECT_TRUE(report["violations"].empty()) << report["violations"].dump(1);
    expect_transfers_match(w);
  }

  void expect_transfers_match(LedgerWorld& w) {
    auto conn = w.sql();
    pqxx::work tx(*conn);
    const auto rows = tx.exec(
        "SELECT t.id, t.state, t.posted_minutes, count(e.id), COALESCE(sum(e.amount_minutes), 0), "
        "COALESCE(sum(abs(e.amount_minutes)), 0) FROM transfers t LEFT JOIN entries e "
        "ON e.transfer_id = t.id AND e.account_id IN (t.from_account_id, t.to_account_id) "
        "GROUP BY t.id, t.state, t.posted_minutes");
    std::map<std::string, std::pair<std::string, int64_t>> stored;
    for (const auto& row : rows) {
      const std::string id = row[0].c_str();
      const std::string state = row[1].c_str();
      const int64_t posted = row[2].as<int64_t>();
      stored[id] = {state, posted};
      const int64_t entries = row[3].as<int64_t>();
      EXPECT_EQ(entries, state == "posted" ? 2 : 0) << id;
      EXPECT_EQ(row[4].as<int64_t>(), 0) << id;
      EXPECT_EQ(row[5].as<int64_t>(), 2 * posted) << id;
    }
    for (const auto& id : told_.created)
      EXPECT_TRUE(stored.contains(id)) << "accepted transfer lost: " << id;
    for (const auto& [id, minutes] : told_.posted) {
      EXPECT_EQ(stored[id], (std::pair<std::string, int64_t>{"posted", minutes})) << id;
    }
    for (const auto& id : told_.voided) EXPECT_EQ(stored[id].first, "voided") << id;
    const auto crossed = tx.exec(
        "SELECT count(*) FROM entries e JOIN accounts a ON a.id = e.account_id "
        "WHERE NOT a.is_community AND (e.balance_after_minutes < -200 OR e.balance_after_minutes > "
        "600)");
    EXPECT_EQ(crossed[0][0].as<int64_t>(), 0) << "a balance went past a limit";
    const auto entries_total = tx.exec("SELECT count(*) FROM entries");
    RecordProperty("entries", entries_total[0][0].c_str());
    std::cout << "bank: requests=" << told_.requests
              << " accepted_transfers=" << told_.created.size() << " posted=" << told_.posted.size()
              << " voided=" << told_.voided.size() << " entries=" << entries_total[0][0].c_str()
              << "\n";
  }

  Told told_;
};

TEST_F(LedgerBank, ledger_keeps_the_books_under_concurrent_random_transfers) {
  LedgerWorld w("bank", kMembers, 2);
  run_bank(w, [] {});
  expect_books_hold(w);
}

TEST_F(LedgerBank, ledger_keeps_the_books_when_a_replica_is_killed_in_the_middle) {
  LedgerWorld w("bankkill", kMembers, 2);
  run_bank(w, [&] { kill_and_restart_in_the_middle(w); });
  expect_books_hold(w);
}

TEST_F(LedgerBank, ledger_keeps_the_books_with_batch_clients) {
  LedgerWorld w("bankbatch", kMembers, 2);
  run_bank(
      w, [] {}, true);
  expect_books_hold(w);
}

TEST_F(LedgerBank, ledger_keeps_the_books_with_batch_clients_when_a_replica_is_killed) {
  LedgerWorld w("bankbatchkill", kMembers, 2);
  run_bank(
      w, [&] { kill_and_restart_in_the_middle(w); }, true);
  expect_books_hold(w);
}

}  // namespace
}  // namespace maillon::testing
