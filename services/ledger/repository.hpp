// The ledger's SQL: set-based reads and writes of accounts, transfers and entries for a batch,
// and the queries behind the read endpoints, the audit, the consumers and the jobs.
#pragma once

#include <cstdint>
#include <functional>
#include <future>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "exchange/ledger.hpp"
#include "services/common/db.hpp"

namespace maillon {
class Db;
}

namespace maillon::ledger::repo {

struct AccountRow {
  Account account;
  std::string community_id;
  std::string pseudonym;  // "" unless the member was erased
};

struct EntryRow {
  int64_t id = 0;
  Entry entry;
  std::string counterparty_pseudonym;
};

// Registers the batch statements on every connection of the pool; before the first transaction.
void prepare_statements(Db& db);

std::vector<Transfer> load_transfers(pqxx::transaction_base& tx, const std::string& community_id,
                                     const std::vector<TransferId>& ids);
// Makes this transaction the community's only writer until it ends (all replicas included):
// call it before reading anything the batch will change. Counts the batch and returns the
// count (schemas/ledger/004_writer_cache.sql) and the community's stored policy (JSON text),
// both empty for a community not known yet. One round trip. With `begin`, `tx` is outside any
// transaction on the server (a nontransaction): the BEGIN goes in the same round trip.
struct LockedCommunity {
  std::optional<int64_t> batch_count;
  std::optional<std::string> policy_json;
};
LockedCommunity lock_community(pqxx::transaction_base& tx, const std::string& community_id,
                               bool begin = false);
// The accounts among `ids`: read under lock_community, so that they cannot change meanwhile, or
// before it by a batch decided ahead (apply.cpp's foresee), which the batch count then checks.
std::vector<Account> load_accounts(pqxx::transaction_base& tx, const std::string& community_id,
                                   const std::vector<AccountId>& ids);
// One statement of a small batch: its SQL (static, prepared on the connection that sends it) and
// its values.
struct SmallStatement {
  const std::string* sql;
  std::vector<std::string> args;
};
// A batch's writes made ready to send (prepare_writes: no I/O, the large parts written on
// threads of their own), so that a batch decided ahead of its lock holds them when it gets it.
// `changes` and `actor_ids` must outlive it.
struct PreparedWrites {
  const LedgerChanges* changes = nullptr;
  bool small = false;
  // A small batch's statements, turned into text on the connection that sends them (EXECUTE of
  // the statement prepared there, or inlined).
  std::vector<SmallStatement> small_statements;
  std::vector<std::string> account_arrays;
  std::future<CopyRows> transfers;
  std::future<CopyRows> entries;
};
PreparedWrites prepare_writes(const std::string& community_id, const LedgerChanges& changes,
                              const std::map<TransferId, std::string>& actor_ids);
// Sends them. `tail` answers statements (with their values inlined) sent in the writes' last
// round trip, after them: the outbox's rows, and a batch's COMMIT when it owns its transaction.
// It is asked only when they go, so that a large batch's are written while its first writes run.
using TailStatements = std::function<std::vector<std::string>()>;
void send_writes(pqxx::transaction_base& tx, const std::string& community_id, PreparedWrites writes,
                 const TailStatements& tail);
// Events of one stream (with its prefix) in the outbox.

std::optional<Transfer> find_transfer(pqxx::transaction_base& tx, const std::string& community_id,
                                      const TransferId& id);
std::optional<AccountRow> find_account(pqxx::transaction_base& tx, const AccountId& id);
std::vector<EntryRow> list_entries(pqxx::transaction_base& tx, const AccountId& id,
                                   int64_t before_id, int limit);
// Accounts of a community with the sum of each one's entries, read in one statement (one
// snapshot) so that a concurrent batch cannot make the audit see half of it.
std::vector<Account> audit_accounts(pqxx::work& tx, const std::string& community_id,
                                    std::map<AccountId, int64_t>& entry_sums_minutes);

// Opens the member's account and the community's account when missing; true when the member's
// account is new.
bool open_accounts(pqxx::work& tx, const std::string& community_id, const std::string& member_id);
void set_pseudonym(pqxx::work& tx, const std::string& member_id, const std::string& pseudonym);

// A staff grant waiting for a second pair of eyes (schemas/ledger/005_grant_reviews.sql).
struct GrantRow {
  TransferId id;
  std::string community_id;
  AccountId to_account_id;
  int64_t amount_minutes = 0;
  bool pending = false;
  int64_t timeout_s = 0;
  std::string memo;
  std::string ref;
  std::string requested_by;
  std::vector<std::string> requested_site_ids;
  int64_t requested_at_us = 0;
  std::string state = "awaiting_review";  // or "approved"
  std::string approved_by;                // "" until approved
  int64_t approved_at_us = 0;
};
// Stores a new review; false (nothing written) when the id is taken already.
bool insert_grant(pqxx::work& tx, const GrantRow& grant);
std::optional<GrantRow> find_grant(pqxx::work& tx, const TransferId& id);
// Once its transfer exists; a no-op for a review approved already.
void mark_grant_approved(pqxx::work& tx, const TransferId& id, const std::string& approved_by,
                         int64_t at_us);
// A community's reviews in `state`, oldest first, after the position (at_us, id) of a cursor. A
// review whose transfer exists counts as approved even if marking it was lost.
std::vector<GrantRow> list_grants(pqxx::work& tx, const std::string& community_id,
                                  const std::string& state, int64_t after_at_us,
                                  const std::string& after_id, int limit);

// A staff grant that posts without review (schemas/ledger/014_unreviewed_grants.sql).
struct UnreviewedGrant {
  TransferId id;
  std::string community_id;
  std::string requested_by;
  AccountId to_account_id;
  int64_t amount_minutes = 0;
  int64_t at_us = 0;
};
// What one staff member granted without review since a time: in all, and to one account.
struct GrantedSince {
  int64_t total_minutes = 0;
  int64_t to_account_minutes = 0;
};
// Until the commit, the only request counting or writing `requested_by`'s unreviewed grants.
void lock_grant_requester(pqxx::work& tx, const std::string& community_id,
                          const std::string& requested_by);
// The grant under `id` (its account and amount only), if it was counted already.
std::optional<UnreviewedGrant> find_unreviewed_grant(pqxx::work& tx, const TransferId& id);
GrantedSince granted_since(pqxx::work& tx, const std::string& community_id,
                           const std::string& requested_by, const AccountId& to_account_id,
                           int64_t since_us);
void insert_unreviewed_grant(pqxx::work& tx, const UnreviewedGrant& grant);
// Grants the writer refused: they moved nothing, so they no longer count.
void forget_unreviewed_grants(pqxx::work& tx, const std::vector<TransferId>& ids);

struct DueTransfer {
  std::string community_id;
  TransferId id;
};
std::vector<DueTransfer> due_transfers(pqxx::work& tx, int64_t now_us, int limit);
// Members of a community with an exchange-like entry since `active_since_us`, without the
// allowance `ref` yet, and with room under `max_balance` for `allowance_minutes`.
std::vector<std::string> allowance_candidates(pqxx::work& tx, const std::string& community_id,
                                              const std::string& ref, int64_t active_since_us,
                                              int64_t allowance_minutes, int64_t max_balance,
                                              int limit);

}  // namespace maillon::ledger::repo
