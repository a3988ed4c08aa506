// The ledger's SQL statements, as named constants, and the row <-> domain conversions. Batch
// writes pass their rows as one JSON array (jsonb_to_recordset): one statement per table.
#include "services/ledger/repository.hpp"

#include <stdexcept>

#include "services/ledger/ledger_service.hpp"

namespace maillon::ledger::repo {
namespace {

using Json = nlohmann::json;

// Ids are matched with `= ANY(ARRAY(SELECT ...))`, never `IN (SELECT ...)` or a join alone: the
// planner guesses 100 rows for a set-returning function and then scans the whole table (every
// row of a one-community ledger matches community_id), while an array makes it probe the index.
constexpr const char* kSelectTransfers =
    "SELECT id, from_account_id, to_account_id, amount_minutes, pending, timeout_s, kind, memo, "
    "ref, created_at_us, state, posted_minutes, resolved_at_us FROM transfers "
    "WHERE community_id = $1 AND id = ANY(ARRAY(SELECT jsonb_array_elements_text($2::jsonb)))";

constexpr const char* kSelectTransfer =
    "SELECT id, from_account_id, to_account_id, amount_minutes, pending, timeout_s, kind, memo, "
    "ref, created_at_us, state, posted_minutes, resolved_at_us FROM transfers "
    "WHERE community_id = $1 AND id = $2";

constexpr const char* kLockAccounts =
    "SELECT id, is_community, balance_minutes, pending_debit_minutes, pending_credit_minutes "
    "FROM accounts WHERE community_id = $1 "
    "AND id = ANY(ARRAY(SELECT jsonb_array_elements_text($2::jsonb))) "
    "ORDER BY id FOR NO KEY UPDATE";

// Guarded by the values the batch read under its lock: a row that changed anyway is a bug.
constexpr const char* kUpdateAccounts =
    "UPDATE accounts AS a SET balance_minutes = v.balance, pending_debit_minutes = v.debit, "
    "pending_credit_minutes = v.credit "
    "FROM jsonb_to_recordset($1::jsonb) AS v(id text, balance bigint, debit bigint, credit bigint, "
    "before_balance bigint, before_debit bigint, before_credit bigint) "
    "WHERE a.id = ANY(ARRAY(SELECT jsonb_array_elements($1::jsonb) ->> 'id')) "
    "AND a.id = v.id AND a.balance_minutes = v.before_balance "
    "AND a.pending_debit_minutes = v.before_debit AND a.pending_credit_minutes = v.before_credit";

constexpr const char* kInsertTransfers =
    "INSERT INTO transfers (community_id, id, from_account_id, to_account_id, amount_minutes, "
    "pending, timeout_s, kind, memo, ref, state, posted_minutes, created_at_us, resolved_at_us, "
    "deadline_us, actor_id) "
    "SELECT $1::uuid, v.id, v.from_account_id, v.to_account_id, v.amount_minutes, v.pending, "
    "v.timeout_s, v.kind, v.memo, v.ref, v.state, v.posted_minutes, v.created_at_us, "
    "v.resolved_at_us, v.deadline_us, v.actor_id "
    "FROM jsonb_to_recordset($2::jsonb) AS v(id text, from_account_id text, to_account_id text, "
    "amount_minutes bigint, pending boolean, timeout_s bigint, kind text, memo text, ref text, "
    "state text, posted_minutes bigint, created_at_us bigint, resolved_at_us bigint, "
    "deadline_us bigint, actor_id text) "
    "ON CONFLICT DO NOTHING";

// Only a hold changes after creation, and only once.
constexpr const char* kUpdateTransfers =
    "UPDATE transfers AS t SET state = v.state, posted_minutes = v.posted_minutes, "
    "resolved_at_us = v.resolved_at_us "
    "FROM jsonb_to_recordset($2::jsonb) AS v(id text, state text, posted_minutes bigint, "
    "resolved_at_us bigint) "
    "WHERE t.community_id = $1 "
    "AND t.id = ANY(ARRAY(SELECT jsonb_array_elements($2::jsonb) ->> 'id')) "
    "AND t.id = v.id AND t.state = 'pending'";

constexpr const char* kInsertEntries =
    "INSERT INTO entries (account_id, transfer_id, amount_minutes, balance_after_minutes, kind, "
    "ref, counterparty_account_id, at_us) "
    "SELECT v.account_id, v.transfer_id, v.amount_minutes, v.balance_after_minutes, v.kind, v.ref, "
    "v.counterparty_account_id, v.at_us "
    "FROM jsonb_to_recordset($1::jsonb) AS v(ord integer, account_id text, transfer_id text, "
    "amount_minutes bigint, balance_after_minutes bigint, kind text, ref text, "
    "counterparty_account_id text, at_us bigint) ORDER BY v.ord";

// The runtime's outbox table, filled with one statement for a whole batch of results.
constexpr const char* kInsertEvents =
    "INSERT INTO outbox (event_id, stream, payload) "
    "SELECT v.event_id, v.stream, v.payload "
    "FROM jsonb_to_recordset($1::jsonb) AS v(event_id uuid, stream text, payload text) "
    "ON CONFLICT (event_id) DO NOTHING";

constexpr const char* kSelectAccount =
    "SELECT id, is_community, balance_minutes, pending_debit_minutes, pending_credit_minutes, "
    "community_id, COALESCE(pseudonym, '') FROM accounts WHERE id = $1";

constexpr const char* kSelectEntries =
    "SELECT e.id, e.account_id, e.transfer_id, e.amount_minutes, e.balance_after_minutes, e.kind, "
    "e.ref, e.counterparty_account_id, e.at_us, COALESCE(c.pseudonym, '') "
    "FROM entries e LEFT JOIN accounts c ON c.id = e.counterparty_account_id "
    "WHERE e.account_id = $1 AND ($2::bigint = 0 OR e.id < $2::bigint) ORDER BY e.id DESC LIMIT $3";

constexpr const char* kAuditAccounts =
    "SELECT a.id, a.is_community, a.balance_minutes, a.pending_debit_minutes, "
    "a.pending_credit_minutes, COALESCE(s.total, 0)::bigint FROM accounts a "
    "LEFT JOIN (SELECT e.account_id, sum(e.amount_minutes) AS total FROM entries e "
    "JOIN accounts x ON x.id = e.account_id AND x.community_id = $1 GROUP BY e.account_id) s "
    "ON s.account_id = a.id WHERE a.community_id = $1 ORDER BY a.id";

constexpr const char* kSelectPolicy = "SELECT policy::text FROM communities WHERE id = $1";
constexpr const char* kUpsertCommunity =
    "INSERT INTO communities (id, policy) VALUES ($1, $2::jsonb) "
    "ON CONFLICT (id) DO UPDATE SET policy = EXCLUDED.policy";
constexpr const char* kOpenCommunityAccount =
    "INSERT INTO accounts (id, community_id, member_id, is_community) "
    "VALUES ($1, $2, NULL, true) ON CONFLICT DO NOTHING";
constexpr const char* kOpenMemberAccount =
    "INSERT INTO accounts (id, community_id, member_id, is_community) "
    "VALUES ($1, $2, $3, false) ON CONFLICT DO NOTHING";
constexpr const char* kSetPseudonym = "UPDATE accounts SET pseudonym = $2 WHERE id = $1";

constexpr const char* kDueTransfers =
    "SELECT community_id, id FROM transfers WHERE state = 'pending' AND deadline_us <= $1 "
    "ORDER BY deadline_us LIMIT $2";
constexpr const char* kCommunityIds = "SELECT id FROM communities ORDER BY id";
constexpr const char* kAllowanceCandidates =
    "SELECT a.id FROM accounts a WHERE a.community_id = $1 AND NOT a.is_community "
    "AND a.pseudonym IS NULL "
    "AND a.balance_minutes + a.pending_credit_minutes + $4 <= $5 "
    "AND EXISTS (SELECT 1 FROM entries e WHERE e.account_id = a.id AND e.at_us >= $3 "
    "  AND e.kind NOT IN ('bonus', 'allowance')) "
    "AND NOT EXISTS (SELECT 1 FROM transfers t WHERE t.to_account_id = a.id "
    "  AND t.kind = 'allowance' AND t.ref = $2) "
    "ORDER BY a.id LIMIT $6";

Json id_array(const std::vector<std::string>& ids) {
  Json array = Json::array();
  for (const auto& id : ids) array.push_back(id);
  return array;
}

Transfer transfer_from_row(const pqxx::row& row) {
  Transfer t;
  t.request.id = row[0].c_str();
  t.request.from_account_id = row[1].c_str();
  t.request.to_account_id = row[2].c_str();
  t.request.amount_minutes = row[3].as<int64_t>();
  t.request.pending = row[4].as<bool>();
  t.request.timeout_s = row[5].as<int64_t>();
  const auto kind = transfer_kind_from_string(row[6].c_str());
  if (!kind) throw std::logic_error("unknown transfer kind in the ledger table");
  t.request.kind = *kind;
  t.request.memo = row[7].c_str();
  t.request.ref = row[8].c_str();
  t.created_at_us = row[9].as<int64_t>();
  const auto state = transfer_state_from_string(row[10].c_str());
  if (!state) throw std::logic_error("unknown transfer state in the ledger table");
  t.state = *state;
  t.posted_minutes = row[11].as<int64_t>();
  t.resolved_at_us = row[12].as<int64_t>();
  return t;
}

Account account_from_row(const pqxx::row& row) {
  return Account{row[0].c_str(), row[1].as<bool>(), row[2].as<int64_t>(), row[3].as<int64_t>(),
                 row[4].as<int64_t>()};
}

Json account_rows(const std::vector<AccountChange>& changes) {
  Json rows = Json::array();
  for (const auto& [before, after] : changes) {
    rows.push_back({{"id", after.id},
                    {"balance", after.balance_minutes},
                    {"debit", after.pending_debit_minutes},
                    {"credit", after.pending_credit_minutes},
                    {"before_balance", before.balance_minutes},
                    {"before_debit", before.pending_debit_minutes},
                    {"before_credit", before.pending_credit_minutes}});
  }
  return rows;
}

Json new_transfer_row(const Transfer& t, const std::map<TransferId, std::string>& actor_ids) {
  const auto deadline_us = transfer_deadline_us(t);
  const auto actor = actor_ids.find(t.request.id);
  return {{"id", t.request.id},
          {"from_account_id", t.request.from_account_id},
          {"to_account_id", t.request.to_account_id},
          {"amount_minutes", t.request.amount_minutes},
          {"pending", t.request.pending},
          {"timeout_s", t.request.timeout_s},
          {"kind", std::string(to_string(t.request.kind))},
          {"memo", t.request.memo},
          {"ref", t.request.ref},
          {"state", std::string(to_string(t.state))},
          {"posted_minutes", t.posted_minutes},
          {"created_at_us", t.created_at_us},
          {"resolved_at_us", t.resolved_at_us},
          {"deadline_us", deadline_us ? Json(*deadline_us) : Json(nullptr)},
          {"actor_id", actor == actor_ids.end() ? Json(nullptr) : Json(actor->second)}};
}

Json entry_rows(const std::vector<Entry>& entries) {
  Json rows = Json::array();
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const Entry& e = entries[i];
    rows.push_back({{"ord", i},
                    {"account_id", e.account_id},
                    {"transfer_id", e.transfer_id},
                    {"amount_minutes", e.amount_minutes},
                    {"balance_after_minutes", e.balance_after_minutes},
                    {"kind", std::string(to_string(e.kind))},
                    {"ref", e.ref},
                    {"counterparty_account_id", e.counterparty_account_id},
                    {"at_us", e.at_us}});
  }
  return rows;
}

void write_transfers(pqxx::work& tx, const std::string& community_id, const LedgerChanges& changes,
                     const std::map<TransferId, std::string>& actor_ids) {
  Json created = Json::array();
  Json updated = Json::array();
  for (const auto& change : changes.transfers) {
    const Transfer& t = change.transfer;
    if (change.created) {
      created.push_back(new_transfer_row(t, actor_ids));
    } else {
      updated.push_back({{"id", t.request.id},
                         {"state", std::string(to_string(t.state))},
                         {"posted_minutes", t.posted_minutes},
                         {"resolved_at_us", t.resolved_at_us}});
    }
  }
  if (!created.empty()) {
    const auto r = tx.exec_params(kInsertTransfers, community_id, created.dump());
    // Another replica created one of these ids after this batch looked: start the batch again.
    if (r.affected_rows() != created.size()) throw RaceLost();
  }
  if (!updated.empty()) {
    const auto r = tx.exec_params(kUpdateTransfers, community_id, updated.dump());
    if (r.affected_rows() != updated.size()) {
      throw std::logic_error("a hold changed under the batch's account locks");
    }
  }
}

}  // namespace

std::vector<Transfer> load_transfers(pqxx::work& tx, const std::string& community_id,
                                     const std::vector<TransferId>& ids) {
  std::vector<Transfer> transfers;
  if (ids.empty()) return transfers;
  for (const auto& row : tx.exec_params(kSelectTransfers, community_id, id_array(ids).dump())) {
    transfers.push_back(transfer_from_row(row));
  }
  return transfers;
}

std::vector<Account> lock_accounts(pqxx::work& tx, const std::string& community_id,
                                   const std::vector<AccountId>& ids) {
  std::vector<Account> accounts;
  if (ids.empty()) return accounts;
  for (const auto& row : tx.exec_params(kLockAccounts, community_id, id_array(ids).dump())) {
    accounts.push_back(account_from_row(row));
  }
  return accounts;
}

void write_changes(pqxx::work& tx, const std::string& community_id, const LedgerChanges& changes,
                   const std::map<TransferId, std::string>& actor_ids) {
  if (!changes.accounts.empty()) {
    const auto r = tx.exec_params(kUpdateAccounts, account_rows(changes.accounts).dump());
    if (r.affected_rows() != changes.accounts.size()) {
      throw std::logic_error("an account changed under the batch's lock");
    }
  }
  write_transfers(tx, community_id, changes, actor_ids);
  if (!changes.entries.empty()) tx.exec_params(kInsertEntries, entry_rows(changes.entries).dump());
}

void insert_events(pqxx::work& tx, const std::vector<EventRow>& events) {
  if (events.empty()) return;
  Json rows = Json::array();
  for (const auto& e : events) {
    rows.push_back({{"event_id", e.event_id}, {"stream", e.stream}, {"payload", e.payload}});
  }
  tx.exec_params(kInsertEvents, rows.dump());
}

std::optional<Transfer> find_transfer(pqxx::work& tx, const std::string& community_id,
                                      const TransferId& id) {
  const auto r = tx.exec_params(kSelectTransfer, community_id, id);
  if (r.empty()) return std::nullopt;
  return transfer_from_row(r[0]);
}

std::optional<AccountRow> find_account(pqxx::work& tx, const AccountId& id) {
  const auto r = tx.exec_params(kSelectAccount, id);
  if (r.empty()) return std::nullopt;
  return AccountRow{account_from_row(r[0]), r[0][5].c_str(), r[0][6].c_str()};
}

std::vector<EntryRow> list_entries(pqxx::work& tx, const AccountId& id, int64_t before_id,
                                   int limit) {
  std::vector<EntryRow> rows;
  for (const auto& row : tx.exec_params(kSelectEntries, id, before_id, limit)) {
    Entry e;
    e.account_id = row[1].c_str();
    e.transfer_id = row[2].c_str();
    e.amount_minutes = row[3].as<int64_t>();
    e.balance_after_minutes = row[4].as<int64_t>();
    e.kind = transfer_kind_from_string(row[5].c_str()).value_or(TransferKind::manual);
    e.ref = row[6].c_str();
    e.counterparty_account_id = row[7].c_str();
    e.at_us = row[8].as<int64_t>();
    rows.push_back(EntryRow{row[0].as<int64_t>(), e, row[9].c_str()});
  }
  return rows;
}

std::vector<Account> audit_accounts(pqxx::work& tx, const std::string& community_id,
                                    std::map<AccountId, int64_t>& entry_sums_minutes) {
  std::vector<Account> accounts;
  for (const auto& row : tx.exec_params(kAuditAccounts, community_id)) {
    accounts.push_back(account_from_row(row));
    entry_sums_minutes[accounts.back().id] = row[5].as<int64_t>();
  }
  return accounts;
}

std::optional<nlohmann::json> community_policy(pqxx::work& tx, const std::string& community_id) {
  const auto r = tx.exec_params(kSelectPolicy, community_id);
  if (r.empty()) return std::nullopt;
  return Json::parse(r[0][0].c_str());
}

void upsert_community(pqxx::work& tx, const std::string& community_id,
                      const nlohmann::json& policy) {
  tx.exec_params(kUpsertCommunity, community_id, policy.dump());
}

bool open_accounts(pqxx::work& tx, const std::string& community_id, const std::string& member_id) {
  tx.exec_params(kOpenCommunityAccount, community_account_id(community_id), community_id);
  return tx.exec_params(kOpenMemberAccount, member_id, community_id, member_id).affected_rows() ==
         1;
}

void set_pseudonym(pqxx::work& tx, const std::string& member_id, const std::string& pseudonym) {
  tx.exec_params(kSetPseudonym, member_id, pseudonym);
}

std::vector<DueTransfer> due_transfers(pqxx::work& tx, int64_t now_us, int limit) {
  std::vector<DueTransfer> due;
  for (const auto& row : tx.exec_params(kDueTransfers, now_us, limit)) {
    due.push_back({row[0].c_str(), row[1].c_str()});
  }
  return due;
}

std::vector<std::string> community_ids(pqxx::work& tx) {
  std::vector<std::string> ids;
  for (const auto& row : tx.exec(kCommunityIds)) ids.emplace_back(row[0].c_str());
  return ids;
}

std::vector<std::string> allowance_candidates(pqxx::work& tx, const std::string& community_id,
                                              const std::string& ref, int64_t active_since_us,
                                              int64_t allowance_minutes, int64_t max_balance,
                                              int limit) {
  std::vector<std::string> ids;
  for (const auto& row : tx.exec_params(kAllowanceCandidates, community_id, ref, active_since_us,
                                        allowance_minutes, max_balance, limit)) {
    ids.emplace_back(row[0].c_str());
  }
  return ids;
}

}  // namespace maillon::ledger::repo
