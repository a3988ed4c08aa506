// The fast writer against the reference: random sequences of creates (immediate and pending,
// some with timeouts), posts (whole and partial), voids, retries of an id with the same and with
// another body, and expiries go through the ledger service's real path (TransferBatcher and
// apply_batch on PostgreSQL, in this process) and through ReferenceLedger; every answer, every
// balance and hold, and every transfer must agree, and the books must sum to 0.
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <algorithm>
#include <array>
#include <latch>
#include <map>
#include <memory>
#include <numeric>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include "harness.hpp"
#include "reference_ledger.hpp"
#include "services/common/db.hpp"
#include "services/common/directory.hpp"
#include "services/common/events.hpp"
#include "services/common/ids.hpp"
#include "services/common/metrics.hpp"
#include "services/ledger/ledger_service.hpp"
#include "services/ledger/repository.hpp"

namespace maillon::testing {
namespace {

constexpr int64_t kMinBalance = -200;
constexpr int64_t kMaxBalance = 300;  // low, so that grants meet the cap
constexpr int kSlots = 6;             // transfer ids per sequence
constexpr int kAccounts = 7;          // 0 the community's, 1..5 members, 6 an account never opened
constexpr int kUnknownAccount = 6;
constexpr std::size_t kStepsMax = 20;
constexpr std::size_t kCommandsMax = 40;
constexpr int kSequences = 50;
// Past every hold's deadline (timeouts are an hour here, at most a year by contract).
constexpr int64_t kAfterEveryDeadlineUs = 400LL * 24 * 3600 * 1'000'000;

struct Cmd {
  enum Kind { create, post, void_transfer } kind = create;
  int slot = 0;
  int body = 0;                   // create: which of the slot's two bodies
  std::optional<int64_t> amount;  // post: empty posts the whole hold
};

// How the step's commands reach the batcher:
// - one: submitted alone;
// - many: one caller's submit_many, applied in order in one transaction;
// - concurrent: each from its own thread at once, so they may share a writer batch in any
//   order. Generated on distinct ids and disjoint accounts (both bodies of each slot counted),
//   so every order gives the same answers and books: the reference applies them as listed;
// - racing_retry: the same create from several threads at once; exactly which copy wins is
//   the order's, so the answers are compared as a sorted list;
// - expire: the expiry job runs for the slot's hold after every deadline.
struct Step {
  enum Mode { one, many, concurrent, racing_retry, expire } mode = one;
  std::vector<Cmd> cmds;
};

struct Sequence {
  std::vector<std::array<RefBody, 2>> bodies;  // per slot; account ids are indices as text
  std::vector<Step> steps;
};

std::string slot_id(int slot) {
  return "t" + std::to_string(slot);
}

void describe(const Cmd& c, std::ostream& os) {
  switch (c.kind) {
    case Cmd::create:
      os << "create " << slot_id(c.slot) << " body " << c.body;
      break;
    case Cmd::post:
      os << "post " << slot_id(c.slot);
      if (c.amount) os << " " << *c.amount;
      break;
    case Cmd::void_transfer:
      os << "void " << slot_id(c.slot);
      break;
  }
}

void describe(const Sequence& s, std::ostream& os) {
  os << "bodies:\n";
  for (std::size_t i = 0; i < s.bodies.size(); ++i) {
    for (int b = 0; b < 2; ++b) {
      const RefBody& body = s.bodies[i][static_cast<std::size_t>(b)];
      os << "  " << slot_id(static_cast<int>(i)) << "/" << b << ": a" << body.from << " -> a"
         << body.to << " " << body.minutes << " min" << (body.pending ? " pending" : "")
         << (body.timeout_s > 0 ? " timeout" : "") << " kind " << body.kind << " memo '"
         << body.memo << "'\n";
    }
  }
  static const char* const kModes[] = {"one", "many", "concurrent", "racing", "expire"};
  os << "steps (a0 = community account, a6 = never opened):\n";
  for (const Step& step : s.steps) {
    os << "  " << kModes[step.mode] << ":";
    if (step.mode == Step::expire) os << " " << slot_id(step.cmds.front().slot);
    for (const Cmd& c : step.mode == Step::expire ? std::vector<Cmd>{} : step.cmds) {
      os << " [";
      describe(c, os);
      os << "]";
    }
    os << "\n";
  }
}

// RapidCheck prints the minimal counterexample with this.
void showValue(const Sequence& s, std::ostream& os) {
  describe(s, os);
}

template <typename T>
T uniform(T low, T high) {  // whatever RapidCheck's size, which would skew choices low
  return *rc::gen::resize(100, rc::gen::inRange<T>(low, high));
}

RefBody gen_body() {
  RefBody body;
  // The community's account pays often enough that members have credits to move.
  const int from = *rc::gen::weightedElement<int>(
      {{6, 0}, {4, 1}, {4, 2}, {4, 3}, {4, 4}, {4, 5}, {1, kUnknownAccount}});
  const int to = *rc::gen::weightedElement<int>(
      {{2, 0}, {4, 1}, {4, 2}, {4, 3}, {4, 4}, {4, 5}, {1, kUnknownAccount}});
  body.from = std::to_string(from);
  body.to = std::to_string(to);  // now and then the same account, which must be refused
  body.minutes = *rc::gen::weightedOneOf<int64_t>(
      {{30, rc::gen::inRange<int64_t>(1, 400)}, {1, rc::gen::just<int64_t>(0)}});
  body.pending = *rc::gen::arbitrary<bool>();
  // Real time runs on the fast path: a timeout of an hour never lapses during the test, the
  // expire step stands for its deadline passing.
  body.timeout_s = body.pending ? *rc::gen::element<int64_t>(0, 3600) : 0;
  body.kind = *rc::gen::element<std::string>("exchange", "manual");
  body.memo = *rc::gen::element<std::string>("", "jardinage");
  return body;
}

// A slot's second body is mostly its first with one field changed (a client's mistaken retry),
// now and then another transfer altogether.
std::array<RefBody, 2> gen_bodies() {
  const RefBody first = gen_body();
  RefBody second = first;
  switch (*rc::gen::inRange(0, 5)) {
    case 0:
      second.minutes += 1;
      break;
    case 1:
      second.memo += " bis";
      break;
    case 2:
      second.kind = second.kind == "exchange" ? "manual" : "exchange";
      break;
    case 3:
      second.pending = !second.pending;
      second.timeout_s = 0;
      break;
    default:
      second = gen_body();
  }
  return {first, second};
}

Cmd gen_cmd() {
  Cmd c;
  c.kind = *rc::gen::weightedElement<Cmd::Kind>(
      {{6, Cmd::create}, {3, Cmd::post}, {2, Cmd::void_transfer}});
  c.slot = uniform(0, kSlots);
  // Mostly the first body: a create again is then a retry with the same body.
  c.body = *rc::gen::weightedElement<int>({{4, 0}, {1, 1}});
  if (c.kind == Cmd::post && *rc::gen::arbitrary<bool>()) {
    c.amount = *rc::gen::weightedOneOf<int64_t>(
        {{10, rc::gen::inRange<int64_t>(1, 400)}, {1, rc::gen::just<int64_t>(0)}});
  }
  return c;
}

using Bodies = std::vector<std::array<RefBody, 2>>;

std::set<std::string> slot_accounts(const Bodies& bodies, int slot) {
  const auto& pair = bodies[static_cast<std::size_t>(slot)];
  return {pair[0].from, pair[0].to, pair[1].from, pair[1].to};
}

// Keeps the commands whose slot and accounts no earlier kept command shares.
std::vector<Cmd> disjoint(const Bodies& bodies, const std::vector<Cmd>& cmds) {
  std::set<int> slots;
  std::set<std::string> accounts;
  std::vector<Cmd> kept;
  for (const Cmd& c : cmds) {
    const auto mine = slot_accounts(bodies, c.slot);
    const bool shared = slots.contains(c.slot) ||
                        std::any_of(mine.begin(), mine.end(),
                                    [&](const std::string& a) { return accounts.contains(a); });
    if (shared) continue;
    slots.insert(c.slot);
    accounts.insert(mine.begin(), mine.end());
    kept.push_back(c);
  }
  return kept;
}

Step gen_step(const Bodies& bodies) {
  Step step;
  step.mode = *rc::gen::weightedElement<Step::Mode>({{6, Step::one},
                                                     {2, Step::many},
                                                     {2, Step::concurrent},
                                                     {1, Step::racing_retry},
                                                     {2, Step::expire}});
  switch (step.mode) {
    case Step::one:
      step.cmds = {gen_cmd()};
      break;
    case Step::many:
    case Step::concurrent:
      for (int i = uniform(2, 5); i > 0; --i) step.cmds.push_back(gen_cmd());
      if (step.mode == Step::concurrent) step.cmds = disjoint(bodies, step.cmds);
      break;
    case Step::racing_retry: {
      Cmd c = gen_cmd();
      c.kind = Cmd::create;
      step.cmds.assign(static_cast<std::size_t>(uniform(2, 4)), c);
      break;
    }
    case Step::expire:
      step.cmds = {Cmd{Cmd::create, uniform(0, kSlots), 0, std::nullopt}};
      break;
  }
  return step;
}

Sequence gen_sequence() {
  Sequence s;
  for (int i = 0; i < kSlots; ++i) s.bodies.push_back(gen_bodies());
  s.steps =
      *rc::gen::resize(static_cast<int>(kStepsMax),
                       // The bodies by value: RapidCheck runs the generator again while it shrinks.
                       rc::gen::container<std::vector<Step>>(
                           rc::gen::exec([bodies = s.bodies] { return gen_step(bodies); })));
  std::size_t commands = 0;
  for (std::size_t i = 0; i < s.steps.size(); ++i) {
    commands += s.steps[i].cmds.size();
    if (commands > kCommandsMax) {
      s.steps.resize(i);
      break;
    }
  }
  return s;
}

// One database and one batcher for every sequence, as a long-running service would have; each
// sequence gets a community of its own, so the batcher's caches meet new and known communities.
struct ThrowawayDatabase {
  std::string url = create_database("ledgerref");
  ~ThrowawayDatabase() { drop_database(url); }
};

struct FastLedger {
  FastLedger() : db(database.url, 6, "ledger"), outbox("ledgerref") {
    migrate(db, std::string(MAILLON_SOURCE_DIR) + "/schemas");
    ledger::repo::prepare_statements(db);
    batcher = std::make_unique<ledger::TransferBatcher>(db, outbox, policies, ledger::kBatchShards);
  }
  ThrowawayDatabase database;  // dropped last, once the pool is closed
  Db db;
  Outbox outbox;
  ledger::PolicyCache policies;
  std::unique_ptr<ledger::TransferBatcher> batcher;
  // The community's policy as the consumers read it (in their own transaction).
  CommunityPolicy fast_policy(const std::string& community_id) {
    return db.transact([&](pqxx::work& tx) { return policies.get(tx, community_id); });
  }
};

// A community with its account and five members; returns the account id of each index.
std::vector<std::string> open_community(FastLedger& fast, std::string& community_id) {
  community_id = new_uuid();
  std::vector<std::string> ids{ledger::community_account_id(community_id)};
  for (int i = 1; i < kAccounts; ++i) ids.push_back(new_uuid());
  fast.db.transact([&](pqxx::work& tx) {
    Event created;  // as the members stream tells the directory
    created.type = "community.created";
    created.occurred_at = now_rfc3339();
    created.data = {
        {"community_id", community_id},
        {"name", "Référence"},
        {"policy",
         {{"min_balance", kMinBalance}, {"max_balance", kMaxBalance}, {"signup_bonus", 0}}}};
    directory::apply(tx, created);
    for (int i = 1; i < kUnknownAccount; ++i) {
      ledger::repo::open_accounts(tx, community_id, ids[static_cast<std::size_t>(i)]);
    }
  });
  return ids;
}

struct Run {
  FastLedger& fast;
  const Sequence& seq;
  std::string community;
  std::vector<std::string> account_ids;
  ReferenceLedger ref{kMinBalance, kMaxBalance};
  std::ostringstream mismatches;

  RefBody real_body(const Cmd& c) const {
    RefBody body = seq.bodies[static_cast<std::size_t>(c.slot)][static_cast<std::size_t>(c.body)];
    body.from = account_ids[std::stoul(body.from)];
    body.to = account_ids[std::stoul(body.to)];
    return body;
  }

  LedgerCommand fast_command(const Cmd& c) const {
    if (c.kind == Cmd::post) return PostTransfer{slot_id(c.slot), c.amount, 0};
    if (c.kind == Cmd::void_transfer) return VoidTransfer{slot_id(c.slot), 0};
    const RefBody body = real_body(c);
    TransferRequest r;
    r.id = slot_id(c.slot);
    r.from_account_id = body.from;
    r.to_account_id = body.to;
    r.amount_minutes = body.minutes;
    r.pending = body.pending;
    r.timeout_s = body.timeout_s;
    r.kind = *transfer_kind_from_string(body.kind);
    r.memo = body.memo;
    return CreateTransfer{r, 0};
  }

  RefResult reference(const Cmd& c) {
    if (c.kind == Cmd::post) return ref.post(slot_id(c.slot), c.amount);
    if (c.kind == Cmd::void_transfer) return ref.void_transfer(slot_id(c.slot));
    return ref.create(slot_id(c.slot), real_body(c));
  }

  static std::optional<RefTransfer> as_ref(const std::optional<Transfer>& t) {
    if (!t) return std::nullopt;
    const TransferRequest& r = t->request;
    return RefTransfer{RefBody{r.from_account_id, r.to_account_id, r.amount_minutes, r.pending,
                               r.timeout_s, std::string(to_string(r.kind)), r.memo},
                       std::string(to_string(t->state)), t->posted_minutes};
  }

  void compare(std::size_t step, const Cmd& c, const RefResult& want, const TransferResult& got) {
    const std::string got_outcome(to_string(got.outcome));
    bool same = got_outcome == want.outcome;
    // The answer carries the stored transfer when the request stands (201, or 200 for a retry).
    if (same && (want.outcome == "ok" || want.outcome == "exists")) {
      same = as_ref(got.transfer) == want.transfer;
    }
    if (same) return;
    mismatches << "step " << step << " [";
    describe(c, mismatches);
    mismatches << "]: reference " << want.outcome
               << (want.transfer ? " " + want.transfer->state : "") << ", fast " << got_outcome
               << (got.transfer ? " " + std::string(to_string(got.transfer->state)) : "") << "\n";
  }

  // Each command from a thread of its own, released together so that they share batches.
  std::vector<TransferResult> submit_concurrently(const std::vector<Cmd>& cmds) {
    std::vector<TransferResult> results(cmds.size());
    std::vector<std::string> errors(cmds.size());
    std::latch start(static_cast<std::ptrdiff_t>(cmds.size()));
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < cmds.size(); ++i) {
      threads.emplace_back([&, i] {
        const LedgerCommand command = fast_command(cmds[i]);
        start.arrive_and_wait();
        try {
          results[i] = fast.batcher->submit(community, command, "ledgerref");
        } catch (const std::exception& e) {
          errors[i] = e.what();
        }
      });
    }
    for (auto& t : threads) t.join();
    for (const auto& e : errors) {
      if (!e.empty()) throw std::runtime_error("a concurrent submission failed: " + e);
    }
    return results;
  }

  std::vector<Transfer> expire_after_deadline(int slot) {
    return fast.db.transact([&](pqxx::work& tx) {
      // As the expiry job does (services/ledger/consumers.cpp expire_due), once it is due.
      ledger::Batch batch{
          community, {}, {slot_id(slot)}, {}, system_now_us() + kAfterEveryDeadlineUs};
      return ledger::apply_batch(tx, fast.outbox, batch, fast.policies.get(tx, community)).expired;
    });
  }

  void run_step(std::size_t index, const Step& step) {
    switch (step.mode) {
      case Step::one:
        compare(index, step.cmds[0], reference(step.cmds[0]),
                fast.batcher->submit(community, fast_command(step.cmds[0]), "ledgerref"));
        return;
      case Step::many: {
        std::vector<LedgerCommand> commands;
        for (const Cmd& c : step.cmds) commands.push_back(fast_command(c));
        const auto got = fast.batcher->submit_many(community, commands, "ledgerref");
        for (std::size_t i = 0; i < step.cmds.size(); ++i) {
          compare(index, step.cmds[i], reference(step.cmds[i]), got[i]);
        }
        return;
      }
      case Step::concurrent: {
        const auto got = submit_concurrently(step.cmds);
        for (std::size_t i = 0; i < step.cmds.size(); ++i) {
          compare(index, step.cmds[i], reference(step.cmds[i]), got[i]);
        }
        return;
      }
      case Step::racing_retry: {
        const auto got = submit_concurrently(step.cmds);
        std::vector<std::string> want_outcomes, got_outcomes;
        for (const Cmd& c : step.cmds) want_outcomes.push_back(reference(c).outcome);
        for (const auto& r : got) got_outcomes.emplace_back(to_string(r.outcome));
        std::sort(want_outcomes.begin(), want_outcomes.end());
        std::sort(got_outcomes.begin(), got_outcomes.end());
        if (want_outcomes != got_outcomes) {
          mismatches << "step " << index << " racing retries: outcomes differ\n";
        }
        return;
      }
      case Step::expire: {
        const int slot = step.cmds[0].slot;
        const bool want = ref.expire(slot_id(slot));
        const auto got = expire_after_deadline(slot);
        const bool got_one = got.size() == 1 && got[0].request.id == slot_id(slot);
        if (want != got_one || got.size() > 1) {
          mismatches << "step " << index << " expire " << slot_id(slot) << ": reference " << want
                     << ", fast expired " << got.size() << "\n";
        }
        return;
      }
    }
  }

  // Every account and every transfer as PostgreSQL holds them, against the reference; the
  // books sum to 0, holds on both sides match, and each balance is the sum of its entries.
  void compare_books() {
    std::vector<std::string> transfer_ids;
    for (int i = 0; i < kSlots; ++i) transfer_ids.push_back(slot_id(i));
    std::vector<Account> accounts;
    std::vector<Transfer> transfers;
    std::map<AccountId, int64_t> entry_sums;
    fast.db.transact([&](pqxx::work& tx) {
      accounts = ledger::repo::load_accounts(tx, community, account_ids);
      transfers = ledger::repo::load_transfers(tx, community, transfer_ids);
      ledger::repo::audit_accounts(tx, community, entry_sums);
    });
    std::map<std::string, RefAccount> got_accounts;
    int64_t sum = 0, debits = 0, credits = 0;
    for (const Account& a : accounts) {
      got_accounts[a.id] = RefAccount{a.community, a.balance_minutes, a.pending_debit_minutes,
                                      a.pending_credit_minutes};
      sum += a.balance_minutes;
      debits += a.pending_debit_minutes;
      credits += a.pending_credit_minutes;
      if (entry_sums[a.id] != a.balance_minutes) {
        mismatches << "account " << a.id << ": balance " << a.balance_minutes
                   << " but its entries sum to " << entry_sums[a.id] << "\n";
      }
    }
    if (sum != 0 || debits != credits) {
      mismatches << "books: balances sum to " << sum << ", pending debits " << debits
                 << " vs credits " << credits << "\n";
    }
    for (const auto& [id, want] : ref.accounts()) {
      const auto found = got_accounts.find(id);
      if (found == got_accounts.end() || !(found->second == want)) {
        mismatches << "account " << id << ": reference balance " << want.balance << " debit "
                   << want.pending_debit << " credit " << want.pending_credit << ", fast "
                   << (found == got_accounts.end()
                           ? std::string("missing")
                           : std::to_string(found->second.balance) + " debit " +
                                 std::to_string(found->second.pending_debit) + " credit " +
                                 std::to_string(found->second.pending_credit))
                   << "\n";
      }
    }
    if (got_accounts.size() != ref.accounts().size()) mismatches << "account count differs\n";
    std::map<std::string, RefTransfer> got_transfers;
    for (const Transfer& t : transfers) got_transfers[t.request.id] = *as_ref(t);
    if (got_transfers != ref.transfers()) {
      for (int i = 0; i < kSlots; ++i) {
        const auto g = got_transfers.find(slot_id(i));
        const auto w = ref.transfers().find(slot_id(i));
        const bool gh = g != got_transfers.end(), wh = w != ref.transfers().end();
        if (gh != wh || (gh && !(g->second == w->second))) {
          mismatches << "transfer " << slot_id(i) << ": reference "
                     << (wh ? w->second.state + " " + std::to_string(w->second.posted) : "absent")
                     << ", fast "
                     << (gh ? g->second.state + " " + std::to_string(g->second.posted) : "absent")
                     << "\n";
        }
      }
    }
  }
};

void check_sequence(FastLedger& fast, const Sequence& seq) {
  Run run{fast, seq, {}, {}, ReferenceLedger{kMinBalance, kMaxBalance}, {}};
  run.account_ids = open_community(fast, run.community);
  run.ref.open(run.account_ids[0], true);
  for (int i = 1; i < kUnknownAccount; ++i) {
    run.ref.open(run.account_ids[static_cast<std::size_t>(i)], false);
  }
  for (std::size_t i = 0; i < seq.steps.size(); ++i) run.run_step(i, seq.steps[i]);
  run.compare_books();
  const std::string found = run.mismatches.str();
  if (!found.empty()) {
    std::ostringstream text;
    describe(seq, text);
    RC_FAIL("the fast ledger and the reference disagree:\n" + found + "sequence:\n" + text.str());
  }
}

TEST(LedgerReference, ledger_fast_writer_agrees_with_the_reference_on_random_sequences) {
  FastLedger fast;
  rc::detail::TestMetadata metadata;
  metadata.id = "LedgerReference/fast_writer_agrees";
  metadata.description = "the fast ledger writer agrees with the reference";
  // Bounded so that the test stays in tens of seconds; RC_PARAMS may ask for fewer.
  rc::detail::TestParams params = rc::detail::configuration().testParams;
  params.maxSuccess = std::min(params.maxSuccess, kSequences);
  const auto result = rc::detail::checkTestable(
      [&fast] { check_sequence(fast, *rc::gen::exec(gen_sequence)); }, metadata, params);
  if (!result.is<rc::detail::SuccessResult>()) {
    std::ostringstream text;
    rc::detail::printResultMessage(result, text);
    ADD_FAILURE() << text.str();
  }
}

// The writer sends its COMMIT in the same round trip as its writes, so the guards of those writes
// (the balances it read under its lock) must stop the transaction on the server. An account
// changed behind the writer's back (by hand here, as a writer ignoring the lock would) makes the
// batch fail and leave nothing behind; once the account is right again, the same id goes through.
TEST(LedgerReference, ledger_writer_commits_nothing_when_an_account_changed_behind_its_lock) {
  FastLedger fast;
  std::string community;
  const auto ids = open_community(fast, community);
  const auto transfer = [&](const std::string& id) {
    const TransferRequest r{id, ids[1], ids[2], 1, false, 0, TransferKind::exchange, "", ""};
    return fast.batcher->submit(community, CreateTransfer{r, 0}, "ledgerref");
  };
  const auto shift_payee = [&](int64_t minutes) {
    fast.db.transact([&](pqxx::work& tx) {
      tx.exec_params("UPDATE accounts SET balance_minutes = balance_minutes + $2 WHERE id = $1",
                     ids[2], minutes);
    });
  };
  const auto rows_of = [&](const std::string& id) {
    return fast.db.transact([&](pqxx::work& tx) {
      return tx
          .exec_params(
              "SELECT (SELECT count(*) FROM transfers WHERE id = $1) + "
              "(SELECT count(*) FROM entries WHERE transfer_id = $1)",
              id)[0][0]
          .as<int64_t>();
    });
  };
  ASSERT_EQ(transfer(new_uuid()).outcome, LedgerOutcome::ok);  // the writer keeps both balances
  shift_payee(5);
  const std::string id = new_uuid();
  EXPECT_ANY_THROW(transfer(id));
  EXPECT_EQ(rows_of(id), 0);
  shift_payee(-5);
  EXPECT_EQ(transfer(id).outcome, LedgerOutcome::ok);
  EXPECT_EQ(rows_of(id), 3);  // the transfer and its two entries
}

// A small batch's four writes (balances, new transfers, a resolved hold, entries) go in one round
// trip as EXECUTE of statements prepared on the connection, not as texts PostgreSQL parses and
// plans again at every batch (#22). On a one-connection pool, after a create, a hold and its
// post, each of the four is a prepared statement of that connection and has run, and the
// balances are what the reference says.
TEST(LedgerReference, ledger_writer_runs_a_small_batchs_writes_as_statements_prepared_once) {
  FastLedger fast;
  std::string community;
  const auto ids = open_community(fast, community);
  Db one(fast.database.url, 1, "ledger");
  ledger::repo::prepare_statements(one);
  ledger::TransferBatcher batcher(one, fast.outbox, fast.policies, 1);
  const auto create = [&](const std::string& id, bool pending) {
    const TransferRequest r{
        id, ids[1], ids[2], 4, pending, pending ? 3600 : 0, TransferKind::exchange, "", ""};
    return batcher.submit(community, CreateTransfer{r, 0}, "ledgerref").outcome;
  };
  ASSERT_EQ(create(new_uuid(), false), LedgerOutcome::ok);
  const std::string hold = new_uuid();
  ASSERT_EQ(create(hold, true), LedgerOutcome::ok);
  ASSERT_EQ(batcher.submit(community, PostTransfer{hold, 3, 0}, "ledgerref").outcome,
            LedgerOutcome::ok);
  auto prepared = one.transact([&](pqxx::work& tx) {
    std::map<std::string, int64_t> runs;
    for (const auto& row :
         tx.exec("SELECT statement, generic_plans + custom_plans FROM pg_prepared_statements")) {
      const std::string text = row[0].c_str();
      for (const char* part : {"UPDATE accounts", "INSERT INTO transfers", "UPDATE transfers",
                               "INSERT INTO entries"}) {
        if (text.find(part) != std::string::npos) runs[part] += row[1].as<int64_t>();
      }
    }
    return runs;
  });
  EXPECT_GE(prepared["UPDATE accounts"], 3);
  EXPECT_GE(prepared["INSERT INTO transfers"], 2);
  EXPECT_GE(prepared["UPDATE transfers"], 1);
  EXPECT_GE(prepared["INSERT INTO entries"], 2);
  const auto balance = [&](std::size_t i) {
    return fast.db.transact([&](pqxx::work& tx) {
      return tx.exec_params("SELECT balance_minutes FROM accounts WHERE id = $1", ids[i])[0][0]
          .as<int64_t>();
    });
  };
  EXPECT_EQ(balance(1), -7);  // 4 paid, then 3 of the hold of 4 posted
  EXPECT_EQ(balance(2), 7);
}

// The batcher's pipeline decides a batch before its lock on the balances the batch before left
// and on the policy it knows (Batch::foresee), and keeps that decision only if, under the lock,
// both prove true. A policy changed behind its back (its cache not told) and a batch written by
// another writer in between (the consumers' path) each make it decide again, on what it reads.
TEST(LedgerReference, ledger_writer_keeps_a_decision_taken_before_its_lock_only_if_it_holds) {
  FastLedger fast;
  Metrics metrics;
  ledger::TransferBatcher batcher(fast.db, fast.outbox, fast.policies, 1, Clock(), &metrics, 1);
  std::string community;
  const auto ids = open_community(fast, community);
  const auto foreseen = [&] {
    const std::string text = metrics.render();
    const std::string name = "\nmaillon_ledger_batches_foreseen_total ";
    const auto at = text.find(name);
    return at == std::string::npos ? 0 : std::stoi(text.substr(at + name.size()));
  };
  const auto pay = [&](std::size_t from, std::size_t to, int64_t minutes) {
    const TransferRequest r{
        new_uuid(), ids[from], ids[to], minutes, false, 0, TransferKind::exchange, "", ""};
    return batcher.submit(community, CreateTransfer{r, 0}, "ledgerref").outcome;
  };
  const auto balance = [&](std::size_t i) {
    return fast.db.transact([&](pqxx::work& tx) {
      return tx.exec_params("SELECT balance_minutes FROM accounts WHERE id = $1", ids[i])[0][0]
          .as<int64_t>();
    });
  };
  ASSERT_EQ(pay(1, 2, 1), LedgerOutcome::ok);  // reads the accounts and the policy
  ASSERT_EQ(pay(1, 2, 1), LedgerOutcome::ok);
  ASSERT_EQ(foreseen(), 1) << "the second batch was decided before its lock";

  // The cap drops to 2 minutes in the directory, then comes back: the batcher's policy cache is
  // told neither time.
  const auto set_cap = [&](int64_t max_balance) {
    fast.db.transact([&](pqxx::work& tx) {
      Event updated;
      updated.type = "community.updated";
      updated.occurred_at = now_rfc3339();
      updated.data = {{"community_id", community},
                      {"name", "Référence"},
                      {"policy",
                       {{"min_balance", kMinBalance},
                        {"max_balance", max_balance},
                        {"signup_bonus", 0},
                        {"monthly_allowance", 0},
                        {"deposit_reward", 0},
                        {"loan_cost", 0}}}};
      directory::apply(tx, updated);
    });
  };
  set_cap(2);
  EXPECT_EQ(pay(1, 2, 1), LedgerOutcome::balance_cap) << "decided again under the new policy";
  EXPECT_EQ(foreseen(), 1);
  EXPECT_EQ(balance(2), 2);
  set_cap(kMaxBalance);
  EXPECT_EQ(pay(1, 2, 1), LedgerOutcome::ok) << "decided again under the old one";
  EXPECT_EQ(foreseen(), 1);
  EXPECT_EQ(balance(1), -3);

  // Another writer (a ledger command, applied by the consumers) moves member 1's balance.
  fast.db.transact([&](pqxx::work& tx) {
    ledger::Batch batch;
    batch.community_id = community;
    batch.commands.emplace_back(CreateTransfer{
        {new_uuid(), ids[3], ids[1], 50, false, 0, TransferKind::exchange, "", ""}, 0});
    const auto outcome = ledger::apply_batch(tx, fast.outbox, batch, fast.fast_policy(community));
    ASSERT_EQ(outcome.results.at(0).outcome, LedgerOutcome::ok);
  });
  EXPECT_EQ(pay(1, 4, 5), LedgerOutcome::ok) << "decided on the balance the other writer left";
  EXPECT_EQ(foreseen(), 1);
  EXPECT_EQ(balance(1), -3 + 50 - 5);
  EXPECT_EQ(pay(1, 4, 1), LedgerOutcome::ok);
  EXPECT_EQ(foreseen(), 2) << "and ahead again once the batch before is its own";
  EXPECT_EQ(balance(1), -3 + 50 - 5 - 1);
}

}  // namespace
}  // namespace maillon::testing
