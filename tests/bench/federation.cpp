// Federation between installations (issue 23): cross-installation transfers per second (a member
// of one installation pays a member of another: hold here, signed transfer.hold there, post here,
// signed transfer.post there, each a PostgreSQL transaction and a retried, idempotent message)
// against the same run's single-ledger transfers on the payer's installation (the anchor: one
// POST /v1/ledger/transfers per payment), from the same clients over the same kind of
// connection. Two installations on one machine, each its own database and services, sharing the
// PostgreSQL server and the cores. A cross transfer counts once posted on both sides.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include "federation_remote/federation_remote_world.hpp"

namespace {

using namespace maillon::testing;
using Clock = std::chrono::steady_clock;

constexpr int kMembers = 8;  // payers on each side, one client each
constexpr auto kSlice = std::chrono::seconds(5);
constexpr int kRounds = 2;  // ours and the anchor take turns, so drift weighs on both alike
constexpr int kSettleMs = 120'000;

Json bench_policy() {
  return {{"min_balance", -60000},
          {"max_balance", 60000},
          {"signup_bonus", 0},
          {"monthly_allowance", 0}};
}

int64_t posted_across(const Installation& payee_side) {
  return payee_side
      .query("SELECT count(*) FROM ledger.federation_remote_transfers WHERE state = 'posted'")[0][0]
      .as<int64_t>();
}

// Each client sends one payment after the other for one slice, until the slice's end (each
// client watches the clock itself, nobody sleeps); returns the payments accepted.
template <class Pay>
long run_clients(Pay pay) {
  std::atomic<long> accepted{0};
  std::vector<std::thread> threads;
  const Clock::time_point end = Clock::now() + kSlice;
  for (int i = 0; i < kMembers; ++i) {
    threads.emplace_back([&, i] {
      while (Clock::now() < end) accepted += pay(i) ? 1 : 0;
    });
  }
  for (auto& t : threads) t.join();
  return accepted.load();
}

}  // namespace

int main() {
  TestClock clock;
  Installation north("bench-nord", clock, kMembers, bench_policy());
  Installation south("bench-sud", clock, kMembers, bench_policy());
  agree(north, south, 6'000'000, 6'000'000);

  double ours_total = 0, anchor_total = 0;
  for (int round = 0; round < kRounds; ++round) {
    // Ours: counted once the payee's side posted each of them (the sender drains its queue).
    const int64_t posted_before = posted_across(south);
    const auto start = Clock::now();
    const long sent = run_clients([&](int i) {
      const HttpResult r =
          north.as(north.members[i])
              .post("/v1/federation/transfers", {{"id", maillon::new_uuid()},
                                                 {"payee_community_id", south.community},
                                                 {"to_member_id", south.members[i].id},
                                                 {"minutes", 1}});
      return r.status == 202;
    });
    const bool drained =
        eventually([&] { return posted_across(south) - posted_before >= sent; }, kSettleMs, 20);
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    if (!drained) std::fprintf(stderr, "federation: not every transfer settled in time\n");
    const double ours = static_cast<double>(posted_across(south) - posted_before) / seconds;
    // The anchor: the same clients, one transfer each between two members of one ledger.
    const long local = run_clients([&](int i) {
      const HttpResult r =
          north.as(north.members[i])
              .post("/v1/ledger/transfers", {{"id", maillon::new_uuid()},
                                             {"to_member_id", north.members[(i + 1) % kMembers].id},
                                             {"minutes", 1}});
      return r.status == 201;
    });
    const double anchor =
        static_cast<double>(local) / std::chrono::duration<double>(kSlice).count();
    std::fprintf(stderr, "round %d: cross-installation %.0f/s (%ld sent), single ledger %.0f/s\n",
                 round + 1, ours, sent, anchor);
    ours_total += ours;
    anchor_total += anchor;
  }
  const double ours = ours_total / kRounds, anchor = anchor_total / kRounds;
  std::printf("BENCH federation.cross_installation ours=%.0f anchor=%.0f ratio=%.2f\n", ours,
              anchor, anchor > 0 ? ours / anchor : 0.0);
  return 0;
}
