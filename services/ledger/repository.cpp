// The ledger's SQL statements, as named constants, and the row <-> domain conversions. Batch
// writes pass one array per column (unnest): one prepared statement per table.
#include "services/ledger/repository.hpp"

#include <algorithm>
#include <pqxx/pipeline>
#include <stdexcept>
#include <string_view>

#include "services/common/db.hpp"
#include "services/ledger/ledger_service.hpp"
#include "services/ledger/repository_sql.hpp"

namespace maillon::ledger::repo {
namespace {

using Json = nlohmann::json;

// Batch statements are prepared once per connection (prepare_statements) and take one array per
// column: unnest turns them back into rows with no JSON to build here nor to parse there.
// Ids are matched with `= ANY($n::text[])`, which the planner turns into index probes.
constexpr const char* kSelectTransfersName = "ledger_select_transfers";

constexpr const char* kSelectAccountsName = "ledger_select_accounts";

// Guarded by the values the batch read under its lock: a row that changed anyway is a bug.
constexpr const char* kUpdateAccountsName = "ledger_update_accounts";

// New transfers and entries go in with COPY (copy_into): no array to parse, no rows to project.
// A transfer id that exists already is a unique violation, which aborts the batch (RaceLost).
const std::vector<std::string> kTransferColumns = {"community_id",
                                                   "id",
                                                   "from_account_id",
                                                   "to_account_id",
                                                   "amount_minutes",
                                                   "pending",
                                                   "timeout_s",
                                                   "kind",
                                                   "memo",
                                                   "ref",
                                                   "state",
                                                   "posted_minutes",
                                                   "created_at_us",
                                                   "resolved_at_us",
                                                   "deadline_us",
                                                   "actor_id"};
// Entry ids (bigserial) follow the order of the rows: the order the ledger applied them.
const std::vector<std::string> kEntryColumns = {
    "account_id", "transfer_id", "amount_minutes",          "balance_after_minutes",
    "kind",       "ref",         "counterparty_account_id", "at_us"};

// Below this many new rows (transfers and entries), a batch writes through one pipelined round
// trip; from it on, COPY's cheaper parsing pays for its extra round trips.
constexpr std::size_t kSmallBatchRowsMax = 64;

// Only a hold changes after creation, and only once.
constexpr const char* kUpdateTransfersName = "ledger_update_transfers";

GrantRow grant_from_row(const pqxx::row& row) {
  GrantRow g;
  read_columns(row, g.id, g.community_id, g.to_account_id, g.amount_minutes, g.pending, g.timeout_s,
               g.memo, g.ref, g.requested_by);
  g.requested_site_ids = Json::parse(row[9].c_str()).get<std::vector<std::string>>();
  read_columns_from(row, 10, g.requested_at_us, g.state, g.approved_by, g.approved_at_us);
  return g;
}

Transfer transfer_from_row(const pqxx::row& row) {
  Transfer t;
  TransferRequest& r = t.request;
  read_columns(row, r.id, r.from_account_id, r.to_account_id, r.amount_minutes, r.pending,
               r.timeout_s);
  const auto kind = transfer_kind_from_string(row[6].c_str());
  if (!kind) throw std::logic_error("unknown transfer kind in the ledger table");
  t.request.kind = *kind;
  read_columns_from(row, 7, r.memo, r.ref, t.created_at_us);
  const auto state = transfer_state_from_string(row[10].c_str());
  if (!state) throw std::logic_error("unknown transfer state in the ledger table");
  t.state = *state;
  read_columns_from(row, 11, t.posted_minutes, t.resolved_at_us);
  return t;
}

Account account_from_row(const pqxx::row& row) {
  return Account{row[0].c_str(), row[1].as<bool>(), row[2].as<int64_t>(), row[3].as<int64_t>(),
                 row[4].as<int64_t>()};
}

// The parameters of kUpdateAccounts, in order.
std::vector<std::string> account_arrays(const std::vector<AccountChange>& changes) {
  ArrayColumns columns(7);
  for (const auto& [before, after] : changes) {
    columns.add_values(after.id, after.balance_minutes, after.pending_debit_minutes,
                       after.pending_credit_minutes, before.balance_minutes,
                       before.pending_debit_minutes, before.pending_credit_minutes);
    columns.end_row();
  }
  return columns.texts();
}

constexpr const char* kAccountChangedUnderLock = "an account changed under the batch's lock";
constexpr const char* kHoldChangedUnderLock = "a hold changed under the batch's account locks";

void require_accounts_updated(const pqxx::result& r, const std::vector<AccountChange>& changes) {
  if (r.affected_rows() != changes.size()) throw std::logic_error(kAccountChangedUnderLock);
}

// A created transfer's columns after the community, in kTransferColumns' order: one writer for
// both ways a batch sends its rows (CopyRows, or ArrayColumns for the pipelined INSERT).
template <class Rows>
void add_transfer_fields(Rows& rows, const Transfer& t,
                         const std::map<TransferId, std::string>& actor_ids) {
  const TransferRequest& r = t.request;
  rows.add_values(r.id, r.from_account_id, r.to_account_id, r.amount_minutes, r.pending,
                  r.timeout_s, to_string(r.kind), r.memo, r.ref, to_string(t.state),
                  t.posted_minutes, t.created_at_us, t.resolved_at_us);
  if (const auto deadline_us = transfer_deadline_us(t)) {
    rows.add(*deadline_us);
  } else {
    rows.add_null();
  }
  const auto actor = actor_ids.find(t.request.id);
  if (actor != actor_ids.end()) {
    rows.add(actor->second);
  } else {
    rows.add_null();
  }
}
constexpr std::size_t kTransferFields = 15;

void insert_transfers(pqxx::transaction_base& tx, CopyRows rows) {
  try {
    copy_into(tx, "transfers", kTransferColumns, std::move(rows));
  } catch (const pqxx::unique_violation&) {
    // Another replica created one of these ids after this batch looked, or the batch assumed
    // its ids were new: start the batch again.
    throw RaceLost();
  }
}

CopyRows new_transfer_rows(const std::string& community_id, const LedgerChanges& changes,
                           const std::map<TransferId, std::string>& actor_ids) {
  CopyRows rows;
  for (const auto& change : changes.transfers) {
    if (!change.created) continue;
    rows.add(community_id);
    add_transfer_fields(rows, change.transfer, actor_ids);
    rows.end_row();
  }
  return rows;
}

// The parameters of kUpdateTransfers after the community: the holds posted, voided or expired.
std::vector<std::string> resolved_transfer_arrays(const LedgerChanges& changes) {
  ArrayColumns columns(4);
  for (const auto& change : changes.transfers) {
    if (change.created) continue;
    const Transfer& t = change.transfer;
    columns.add_values(t.request.id, to_string(t.state), t.posted_minutes, t.resolved_at_us);
    columns.end_row();
  }
  return columns.texts();
}

std::size_t created_count(const LedgerChanges& changes) {
  return static_cast<std::size_t>(std::count_if(changes.transfers.begin(), changes.transfers.end(),
                                                [](const auto& c) { return c.created; }));
}

void update_resolved_transfers(pqxx::transaction_base& tx, const std::string& community_id,
                               const LedgerChanges& changes) {
  const std::size_t updated = changes.transfers.size() - created_count(changes);
  if (updated == 0) return;
  const auto a = resolved_transfer_arrays(changes);
  const auto r = tx.exec_prepared(kUpdateTransfersName, community_id, a[0], a[1], a[2], a[3]);
  if (r.affected_rows() != updated) throw std::logic_error(kHoldChangedUnderLock);
}

// An entry's columns, in kInsertEntries' order (as add_transfer_fields).
template <class Rows>
void add_entry_fields(Rows& rows, const Entry& e) {
  rows.add_values(e.account_id, e.transfer_id, e.amount_minutes, e.balance_after_minutes,
                  to_string(e.kind), e.ref, e.counterparty_account_id, e.at_us);
}
constexpr std::size_t kEntryFields = 8;

CopyRows entry_rows(const std::vector<Entry>& entries) {
  CopyRows rows;
  for (const Entry& e : entries) {
    add_entry_fields(rows, e);
    rows.end_row();
  }
  return rows;
}

// The parameters of kInsertTransfers after the community, in order: the created transfers.
std::vector<std::string> created_transfer_arrays(const LedgerChanges& changes,
                                                 const std::map<TransferId, std::string>& actors) {
  ArrayColumns columns(kTransferFields);
  for (const auto& change : changes.transfers) {
    if (!change.created) continue;
    add_transfer_fields(columns, change.transfer, actors);
    columns.end_row();
  }
  return columns.texts();
}

std::vector<std::string> entry_arrays(const std::vector<Entry>& entries) {
  ArrayColumns columns(kEntryFields);
  for (const Entry& e : entries) {
    add_entry_fields(columns, e);
    columns.end_row();
  }
  return columns.texts();
}

// An UPDATE that fails inside the transaction unless it changed exactly the number of rows its
// parameter $`count_param` says: a batch's COMMIT may follow in the same round trip, so its guards
// must stop the transaction on the server, not after the answer. Its one row counts the rows
// changed. (The text cast fails at run time only: a constant error would be raised when planning.)
std::string guarded_update(std::string_view update, int count_param, std::string_view failure) {
  const std::string n = "$" + std::to_string(count_param) + "::bigint";
  std::string out = "WITH changed AS (";
  out.append(update).append(" RETURNING 1) SELECT CASE WHEN count(*) = ").append(n);
  out.append(" THEN count(*) ELSE ('");
  for (const char c : failure) out.append(c == '\'' ? 2 : 1, c);  // inside a literal
  out.append(": ' || count(*) || ' of ' || ").append(n).append(")::bigint END FROM changed");
  return out;
}

std::size_t changed_count(const pqxx::result& guarded) {
  return guarded.at(0).at(0).as<std::size_t>();
}

// The texts of a small batch's four writes, each prepared on the connection the first time it
// runs there: the pipelined simple query names them (execute_params), so that PostgreSQL does not
// plan them again at every batch.
struct SmallWriteTexts {
  std::string update_accounts = guarded_update(kUpdateAccounts, 8, kAccountChangedUnderLock);
  std::string insert_transfers{kInsertTransfers};
  std::string update_transfers = guarded_update(kUpdateTransfers, 6, kHoldChangedUnderLock);
  std::string insert_entries{kInsertEntries};
};
const SmallWriteTexts& small_write_texts() {
  static const SmallWriteTexts texts;
  return texts;
}

// A small batch's writes (accounts, new transfers, resolved holds, entries), with their values,
// sent as one pipelined simple query (send_small_writes): one round trip instead of six, with the
// same statements' checks.
std::vector<SmallStatement> small_write_statements(
    const std::string& community_id, const LedgerChanges& changes,
    const std::map<TransferId, std::string>& actor_ids) {
  const SmallWriteTexts& texts = small_write_texts();
  std::vector<SmallStatement> statements;
  if (!changes.accounts.empty()) {
    auto args = account_arrays(changes.accounts);
    args.push_back(std::to_string(changes.accounts.size()));
    statements.push_back(SmallStatement{&texts.update_accounts, std::move(args)});
  }
  const std::size_t created = created_count(changes);
  const std::size_t resolved = changes.transfers.size() - created;
  if (created > 0) {
    auto args = created_transfer_arrays(changes, actor_ids);
    args.insert(args.begin(), community_id);
    statements.push_back(SmallStatement{&texts.insert_transfers, std::move(args)});
  }
  if (resolved > 0) {
    auto args = resolved_transfer_arrays(changes);
    args.insert(args.begin(), community_id);
    args.push_back(std::to_string(resolved));
    statements.push_back(SmallStatement{&texts.update_transfers, std::move(args)});
  }
  if (!changes.entries.empty()) {
    statements.push_back(SmallStatement{&texts.insert_entries, entry_arrays(changes.entries)});
  }
  return statements;
}

void send_small_writes(pqxx::transaction_base& tx, const LedgerChanges& changes,
                       const std::vector<SmallStatement>& statements,
                       const std::vector<std::string>& tail) {
  std::vector<std::string> texts;
  texts.reserve(statements.size() + tail.size());
  for (const auto& [sql, args] : statements) texts.push_back(execute_params(tx, *sql, args));
  texts.insert(texts.end(), tail.begin(), tail.end());
  if (texts.empty()) return;
  std::vector<pqxx::result> results;
  {
    pqxx::pipeline pipe(tx);
    pipe.retain(static_cast<int>(texts.size()));
    std::vector<pqxx::pipeline::query_id> ids;
    ids.reserve(texts.size());
    for (const auto& text : texts) ids.push_back(pipe.insert(text));
    pipe.resume();
    try {
      for (const auto id : ids) results.push_back(pipe.retrieve(id));
    } catch (const pqxx::unique_violation&) {
      throw RaceLost();  // as insert_transfers
    }
  }
  // The server checked these already; a mismatch here is a bug of the guard itself.
  const std::size_t created = created_count(changes);
  const std::size_t resolved = changes.transfers.size() - created;
  std::size_t at = 0;
  if (!changes.accounts.empty() && changed_count(results[at++]) != changes.accounts.size()) {
    throw std::logic_error(kAccountChangedUnderLock);
  }
  if (created > 0) ++at;
  if (resolved > 0 && changed_count(results[at]) != resolved) {
    throw std::logic_error(kHoldChangedUnderLock);
  }
}

}  // namespace

std::vector<Transfer> load_transfers(pqxx::transaction_base& tx, const std::string& community_id,
                                     const std::vector<TransferId>& ids) {
  std::vector<Transfer> transfers;
  if (ids.empty()) return transfers;
  for (const auto& row : tx.exec_prepared(kSelectTransfersName, community_id, array_literal(ids))) {
    transfers.push_back(transfer_from_row(row));
  }
  return transfers;
}

LockedCommunity lock_community(pqxx::transaction_base& tx, const std::string& community_id,
                               bool begin) {
  std::string statements = begin ? "BEGIN; " : "";
  static const std::string lock(kLockCommunity);
  static const std::string count(kCountBatch);
  statements += execute_params(tx, lock, {community_id});
  statements += "; ";
  statements += execute_params(tx, count, {community_id});
  const auto r = tx.exec(statements);
  if (r.empty()) return {};
  return {r[0][0].as<int64_t>(), std::string(r[0][1].c_str())};
}

std::vector<Account> load_accounts(pqxx::transaction_base& tx, const std::string& community_id,
                                   const std::vector<AccountId>& ids) {
  std::vector<Account> accounts;
  if (ids.empty()) return accounts;
  for (const auto& row : tx.exec_prepared(kSelectAccountsName, community_id, array_literal(ids))) {
    accounts.push_back(account_from_row(row));
    accounts.back().closed = row[5].as<bool>();
  }
  return accounts;
}

PreparedWrites prepare_writes(const std::string& community_id, const LedgerChanges& changes,
                              const std::map<TransferId, std::string>& actor_ids) {
  PreparedWrites writes;
  writes.changes = &changes;
  writes.small = created_count(changes) + changes.entries.size() < kSmallBatchRowsMax;
  if (writes.small) {
    writes.small_statements = small_write_statements(community_id, changes, actor_ids);
    return writes;
  }
  // The COPY rows are written out while the accounts' arrays are (and, if they are not asked
  // for yet, while the accounts go in).
  writes.transfers = alongside(changes.transfers.size(), [&changes, &actor_ids, community_id] {
    return new_transfer_rows(community_id, changes, actor_ids);
  });
  writes.entries =
      alongside(changes.entries.size(), [&changes] { return entry_rows(changes.entries); });
  if (!changes.accounts.empty()) writes.account_arrays = account_arrays(changes.accounts);
  return writes;
}

void send_writes(pqxx::transaction_base& tx, const std::string& community_id, PreparedWrites writes,
                 const TailStatements& tail) {
  const LedgerChanges& changes = *writes.changes;
  if (writes.small) {
    send_small_writes(tx, changes, writes.small_statements, tail());
    return;
  }
  if (!changes.accounts.empty()) {
    const auto& a = writes.account_arrays;
    require_accounts_updated(
        tx.exec_prepared(kUpdateAccountsName, a[0], a[1], a[2], a[3], a[4], a[5], a[6]),
        changes.accounts);
  }
  insert_transfers(tx, writes.transfers.get());
  update_resolved_transfers(tx, community_id, changes);
  copy_into(tx, "entries", kEntryColumns, writes.entries.get());
  std::vector<std::string> last = tail();
  if (last.empty()) return;
  // Joined onto the first, the outbox's row (a megabyte for a large batch): no copy of it.
  std::string& statements = last.front();
  for (std::size_t i = 1; i < last.size(); ++i) statements.append(";\n").append(last[i]);
  tx.exec(statements);  // one round trip for them all
}

void prepare_statements(Db& db) {
  db.prepare(kSelectTransfersName, kSelectTransfers);
  db.prepare(kSelectAccountsName, kSelectAccounts);
  db.prepare(kUpdateAccountsName, kUpdateAccounts);
  db.prepare(kUpdateTransfersName, kUpdateTransfers);
}

std::optional<Transfer> find_transfer(pqxx::transaction_base& tx, const std::string& community_id,
                                      const TransferId& id) {
  // The batch's statement (prepared on every connection) with a list of one.
  std::vector<Transfer> found = load_transfers(tx, community_id, {id});
  if (found.empty()) return std::nullopt;
  return std::move(found.front());
}

std::optional<AccountRow> find_account(pqxx::transaction_base& tx, const AccountId& id) {
  const auto r = exec_cached(tx, kSelectAccount, id);
  if (r.empty()) return std::nullopt;
  return AccountRow{account_from_row(r[0]), r[0][5].c_str(), r[0][6].c_str()};
}

std::vector<EntryRow> list_entries(pqxx::transaction_base& tx, const AccountId& id,
                                   int64_t before_id, int limit) {
  std::vector<EntryRow> rows;
  for (const auto& row : exec_cached(tx, kSelectEntries, id, before_id, limit)) {
    Entry e;
    read_columns_from(row, 1, e.account_id, e.transfer_id, e.amount_minutes,
                      e.balance_after_minutes);
    e.kind = transfer_kind_from_string(row[5].c_str()).value_or(TransferKind::manual);
    read_columns_from(row, 6, e.ref, e.counterparty_account_id, e.at_us);
    rows.push_back(EntryRow{row[0].as<int64_t>(), e, row[9].c_str()});
  }
  return rows;
}

std::vector<Account> audit_accounts(pqxx::work& tx, const std::string& community_id,
                                    std::map<AccountId, int64_t>& entry_sums_minutes) {
  std::vector<Account> accounts;
  for (const auto& row : exec_cached(tx, kAuditAccounts, community_id)) {
    accounts.push_back(account_from_row(row));
    entry_sums_minutes[accounts.back().id] = row[5].as<int64_t>();
  }
  return accounts;
}

bool open_accounts(pqxx::work& tx, const std::string& community_id, const std::string& member_id) {
  exec_cached(tx, kOpenCommunityAccount, community_account_id(community_id), community_id);
  return exec_cached(tx, kOpenMemberAccount, member_id, community_id, member_id).affected_rows() ==
         1;
}

void set_pseudonym(pqxx::work& tx, const std::string& member_id, const std::string& pseudonym) {
  exec_cached(tx, kCountOutsideBatch, member_id);
  exec_cached(tx, kSetPseudonym, member_id, pseudonym);
}

bool insert_grant(pqxx::work& tx, const GrantRow& g) {
  return exec_cached(tx, kInsertGrant, g.id, g.community_id, g.to_account_id, g.amount_minutes,
                     g.pending, g.timeout_s, g.memo, g.ref, g.requested_by,
                     array_literal(g.requested_site_ids), g.requested_at_us)
             .affected_rows() == 1;
}

std::optional<GrantRow> find_grant(pqxx::work& tx, const TransferId& id) {
  const auto r = exec_cached(tx, kSelectGrant, id);
  if (r.empty()) return std::nullopt;
  return grant_from_row(r[0]);
}

void mark_grant_approved(pqxx::work& tx, const TransferId& id, const std::string& approved_by,
                         int64_t at_us) {
  exec_cached(tx, kMarkGrantApproved, id, approved_by, at_us);
}

std::vector<GrantRow> list_grants(pqxx::work& tx, const std::string& community_id,
                                  const std::string& state, int64_t after_at_us,
                                  const std::string& after_id, int limit) {
  std::vector<GrantRow> grants;
  for (const auto& row :
       exec_cached(tx, kListGrants, community_id, state, after_at_us, after_id, limit)) {
    grants.push_back(grant_from_row(row));
  }
  return grants;
}

void lock_grant_requester(pqxx::work& tx, const std::string& community_id,
                          const std::string& requested_by) {
  exec_cached(tx, kLockGrantRequester, community_id, requested_by);
}

std::optional<UnreviewedGrant> find_unreviewed_grant(pqxx::work& tx, const TransferId& id) {
  const auto r = exec_cached(tx, kSelectUnreviewedGrant, id);
  if (r.empty()) return std::nullopt;
  UnreviewedGrant grant;
  grant.id = id;
  grant.to_account_id = r[0][0].c_str();
  grant.amount_minutes = r[0][1].as<int64_t>();
  return grant;
}

GrantedSince granted_since(pqxx::work& tx, const std::string& community_id,
                           const std::string& requested_by, const AccountId& to_account_id,
                           int64_t since_us) {
  const auto r =
      exec_cached(tx, kSumUnreviewedGrants, community_id, requested_by, to_account_id, since_us);
  return {r[0][0].as<int64_t>(), r[0][1].as<int64_t>()};
}

void insert_unreviewed_grant(pqxx::work& tx, const UnreviewedGrant& g) {
  exec_cached(tx, kInsertUnreviewedGrant, g.id, g.community_id, g.requested_by, g.to_account_id,
              g.amount_minutes, g.at_us);
}

void forget_unreviewed_grants(pqxx::work& tx, const std::vector<TransferId>& ids) {
  if (!ids.empty()) exec_cached(tx, kDeleteUnreviewedGrants, array_literal(ids));
}

std::vector<DueTransfer> due_transfers(pqxx::work& tx, int64_t now_us, int limit) {
  std::vector<DueTransfer> due;
  for (const auto& row : exec_cached(tx, kDueTransfers, now_us, limit)) {
    due.push_back({row[0].c_str(), row[1].c_str()});
  }
  return due;
}

std::vector<std::string> allowance_candidates(pqxx::work& tx, const std::string& community_id,
                                              const std::string& ref, int64_t active_since_us,
                                              int64_t allowance_minutes, int64_t max_balance,
                                              int limit) {
  std::vector<std::string> ids;
  for (const auto& row : exec_cached(tx, kAllowanceCandidates, community_id, ref, active_since_us,
                                     allowance_minutes, max_balance, limit)) {
    ids.emplace_back(row[0].c_str());
  }
  return ids;
}

}  // namespace maillon::ledger::repo
