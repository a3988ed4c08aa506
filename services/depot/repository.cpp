// SQL of the depot. Unqualified names: the connection's search_path is the depot schema.
// Optional ids travel as NULL, photos as JSON text, times as Unix seconds of the service clock.
#include "services/depot/repository.hpp"

#include <nlohmann/json.hpp>

#include "services/common/db.hpp"
#include "services/common/policy_json.hpp"

namespace maillon::depot {
namespace {

constexpr const char* kColumns =
    "SELECT id, site_id, community_id, category, title, description, condition, weight_g, mode, "
    "COALESCE(dropped_by_member_id::text, ''), photos::text, status, deposited_at_s, "
    "available_since_s, COALESCE(reserved_by_member_id::text, ''), reserved_until_s, "
    "COALESCE(collected_by_member_id::text, ''), loans_count, loan_number, "
    "COALESCE(loan_member_id::text, ''), loan_lent_at_s, loan_due_at_s, loan_returned_at_s, "
    "outlet, partner, deposit_rewarded, unclaimed_notified_since_s, loan_reminded_number, "
    "loan_late_number, COALESCE(ledger_refused_transfer_id, ''), "
    "COALESCE(ledger_refused_reason, ''), COALESCE(acted_by::text, ''), revision FROM items ";

constexpr const char* kInsertItem =
    "INSERT INTO items (id, site_id, community_id, category, title, description, condition, "
    "weight_g, mode, dropped_by_member_id, photos, status, deposited_at_s, available_since_s, "
    "deposit_rewarded, acted_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::uuid, "
    "$11::jsonb, $12, $13, $14, $15, $16::uuid)";

constexpr const char* kUpdateItem =
    "UPDATE items SET condition = $2, status = $3, available_since_s = $4, "
    "reserved_by_member_id = $5::uuid, reserved_until_s = $6, collected_by_member_id = $7::uuid, "
    "loans_count = $8, loan_number = $9, loan_member_id = $10::uuid, loan_lent_at_s = $11, "
    "loan_due_at_s = $12, loan_returned_at_s = $13, outlet = $14, partner = $15, "
    "unclaimed_notified_since_s = $16, loan_reminded_number = $17, loan_late_number = $18, "
    "ledger_refused_transfer_id = $19, ledger_refused_reason = $20, acted_by = $21::uuid, "
    "revision = revision + 1 WHERE id = $1 RETURNING revision";

constexpr const char* kFindItem = "WHERE id = $1";
constexpr const char* kFindItemForUpdate = "WHERE id = $1 FOR UPDATE";

// Transaction-level: released at commit or rollback, nothing to clean up.
constexpr const char* kLockMember = "SELECT pg_advisory_xact_lock(hashtext('depot-member:' || $1))";
constexpr const char* kReservedBy = "WHERE status = 'reserved' AND reserved_by_member_id = $1";
constexpr const char* kOpenLoansOf =
    "SELECT loan_number, loan_lent_at_s, loan_due_at_s FROM items "
    "WHERE status = 'on_loan' AND loan_member_id = $1";

// The status filter reads a reservation past its time as available, as effective_status does.
constexpr const char* kListItems =
    "WHERE site_id = $1 AND ($2::text IS NULL OR CASE $2::text "
    "WHEN 'available' THEN status = 'available' OR (status = 'reserved' AND reserved_until_s <= "
    "$3) "
    "WHEN 'reserved' THEN status = 'reserved' AND reserved_until_s > $3 "
    "WHEN 'unclaimed' THEN mode = 'give' AND available_since_s <= $4 AND (status = 'available' "
    "OR (status = 'reserved' AND reserved_until_s <= $3)) "
    "ELSE status = $2::text END) "
    "AND ($5::text[] IS NULL OR category = ANY($5::text[])) "
    "AND ($6::text = '' OR id > $6::uuid) ORDER BY id LIMIT $7";

constexpr const char* kLapsed =
    "WHERE status = 'reserved' AND reserved_until_s <= $1 ORDER BY reserved_until_s LIMIT $2 "
    "FOR UPDATE SKIP LOCKED";
constexpr const char* kUnclaimedCandidates =
    "WHERE status IN ('available', 'reserved') AND mode = 'give' "
    "AND unclaimed_notified_since_s IS DISTINCT FROM available_since_s "
    "AND available_since_s <= $1 - 86400 * (SELECT (policy->>'unclaimed_days')::bigint "
    "FROM communities c WHERE c.id = items.community_id) "
    "ORDER BY available_since_s LIMIT $2 FOR UPDATE SKIP LOCKED";
constexpr const char* kLoanNoticeCandidates =
    "WHERE status = 'on_loan' AND ((loan_reminded_number < loan_number "
    "AND loan_due_at_s - $2 <= $1) OR (loan_late_number < loan_number AND loan_due_at_s < $1)) "
    "ORDER BY loan_due_at_s LIMIT $3 FOR UPDATE SKIP LOCKED";

// Loans still out whose weekly late notice has fallen due, once their first one went: the time
// stored with the last week told, else the first repeat ($2 after the due date).
constexpr const char* kLateRepeatsDue =
    "WHERE status = 'on_loan' AND loan_late_number = loan_number AND COALESCE((SELECT "
    "max(n.next_at_s) FROM loan_late_notices n WHERE n.item_id = items.id AND n.loan_number = "
    "items.loan_number), loan_due_at_s + $2) <= $1 ORDER BY loan_due_at_s LIMIT $3 "
    "FOR UPDATE SKIP LOCKED";
constexpr const char* kLastLateWeek =
    "SELECT COALESCE(max(week), 0) FROM loan_late_notices WHERE item_id = $1 AND loan_number = $2";
// A week already told (by another replica, or a retried run) inserts nothing.
constexpr const char* kRecordLateNotice =
    "INSERT INTO loan_late_notices (item_id, loan_number, week, next_at_s, sent_at_s) "
    "VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING week";

constexpr const char* kRecordRefusal =
    "UPDATE items SET ledger_refused_transfer_id = $2, ledger_refused_reason = $3 WHERE id = $1";

constexpr const char* kAddCounters =
    "INSERT INTO daily_stats AS d (community_id, site_key, day, items_in, items_reused, reused_g, "
    "redirected_reuse_g, redirected_recycle_g, redirected_waste_g, loans, exchanges_completed, "
    "minutes_exchanged, active_members) VALUES ($1, $2, $3::date, $4, $5, $6, $7, $8, $9, $10, "
    "$11, $12, $13) ON CONFLICT (community_id, site_key, day) DO UPDATE SET "
    "items_in = d.items_in + EXCLUDED.items_in, items_reused = d.items_reused + "
    "EXCLUDED.items_reused, "
    "reused_g = d.reused_g + EXCLUDED.reused_g, "
    "redirected_reuse_g = d.redirected_reuse_g + EXCLUDED.redirected_reuse_g, "
    "redirected_recycle_g = d.redirected_recycle_g + EXCLUDED.redirected_recycle_g, "
    "redirected_waste_g = d.redirected_waste_g + EXCLUDED.redirected_waste_g, "
    "loans = d.loans + EXCLUDED.loans, "
    "exchanges_completed = d.exchanges_completed + EXCLUDED.exchanges_completed, "
    "minutes_exchanged = d.minutes_exchanged + EXCLUDED.minutes_exchanged, "
    "active_members = d.active_members + EXCLUDED.active_members";
constexpr const char* kMarkActive =
    "INSERT INTO active_members (community_id, site_key, day, member_hash) "
    "VALUES ($1, $2, $3::date, $4) ON CONFLICT DO NOTHING";

// Bounded: a job run deletes at most $2 rows and the next run takes the rest.
constexpr const char* kForgetActivity =
    "DELETE FROM active_members WHERE ctid IN (SELECT ctid FROM active_members "
    "WHERE day < $1::date LIMIT $2)";

constexpr const char* kStatsWhere =
    " WHERE ($1::uuid IS NULL OR community_id = $1::uuid) AND ($2::text IS NULL OR site_key = $2) "
    "AND day BETWEEN $3::date AND $4::date";
// Totals are sums of the published per-site, per-day cells (see http_stats.cpp): a count of
// people's events below the threshold ($5) in a cell adds nothing, and the minutes of a cell count
// only when its exchanges do: the cells the CSV shows, so no two answers differ by a hidden figure.
constexpr const char* kStatsSums =
    "SELECT COALESCE(sum(items_in), 0), COALESCE(sum(items_reused), 0), COALESCE(sum(reused_g), "
    "0), "
    "COALESCE(sum(redirected_reuse_g), 0), COALESCE(sum(redirected_recycle_g), 0), "
    "COALESCE(sum(redirected_waste_g), 0), "
    "COALESCE(sum(CASE WHEN loans >= $5 THEN loans ELSE 0 END), 0), "
    "COALESCE(sum(CASE WHEN exchanges_completed >= $5 THEN exchanges_completed ELSE 0 END), 0), "
    "COALESCE(sum(CASE WHEN exchanges_completed >= $5 THEN minutes_exchanged ELSE 0 END), 0), "
    "COALESCE(sum(CASE WHEN active_members >= $5 THEN active_members ELSE 0 END), 0) "
    "FROM daily_stats";
constexpr const char* kStatsRows =
    "SELECT site_key, day::text, items_in, items_reused, reused_g, redirected_reuse_g, "
    "redirected_recycle_g, redirected_waste_g, loans, exchanges_completed, minutes_exchanged, "
    "active_members FROM daily_stats";

std::optional<std::string> opt(const std::string& text) {
  if (text.empty()) return std::nullopt;
  return text;
}

template <class T>
std::optional<T> opt_field(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return f.as<T>();
}

std::vector<std::string> photos_from(const char* text) {
  std::vector<std::string> out;
  for (const auto& p : nlohmann::json::parse(text)) out.push_back(p.get<std::string>());
  return out;
}

std::optional<Loan> loan_from(const pqxx::row& r) {
  if (r[18].is_null()) return std::nullopt;
  Loan loan;
  loan.number = r[18].as<int32_t>();
  loan.member_id = r[19].c_str();
  loan.lent_at_s = r[20].as<int64_t>();
  loan.due_at_s = r[21].as<int64_t>();
  loan.returned_at_s = opt_field<int64_t>(r[22]);
  return loan;
}

ItemRow row_from(const pqxx::row& r) {
  ItemRow row;
  DepotItem& i = row.item;
  std::string condition;
  std::string mode;
  std::string photos;
  std::string status;
  std::optional<std::string> outlet;
  read_columns(r, i.id, i.site_id, row.community_id, i.category, i.title, i.description, condition,
               i.weight_g, mode, i.dropped_by_member_id, photos, status, i.deposited_at_s,
               i.available_since_s, i.reserved_by_member_id, i.reserved_until_s,
               i.collected_by_member_id, i.loans_count);
  i.loan = loan_from(r);  // columns 18 to 22
  read_columns_from(r, 23, outlet, i.partner, i.deposit_rewarded, row.unclaimed_notified_since_s,
                    row.loan_reminded_number, row.loan_late_number, row.refused_transfer_id,
                    row.refused_reason, row.acted_by, row.revision);
  i.condition = item_condition_from_string(condition).value();
  i.mode = item_mode_from_string(mode).value();
  i.photos = photos_from(photos.c_str());
  i.status = item_status_from_string(status).value();
  if (outlet) i.outlet = redirect_outlet_from_string(*outlet).value();
  return row;
}

std::vector<ItemRow> rows_from(const pqxx::result& result) {
  std::vector<ItemRow> out;
  out.reserve(result.size());
  for (const auto& r : result) out.push_back(row_from(r));
  return out;
}

std::string sql(const char* where) {
  return std::string(kColumns) + where;
}

DayCounters counters_from(const pqxx::row& r, int first) {
  DayCounters c;
  int64_t* fields[] = {&c.items_in,
                       &c.items_reused,
                       &c.reused_g,
                       &c.redirected_reuse_g,
                       &c.redirected_recycle_g,
                       &c.redirected_waste_g,
                       &c.loans,
                       &c.exchanges_completed,
                       &c.minutes_exchanged,
                       &c.active_members};
  for (int k = 0; k < 10; ++k) *fields[k] = r[first + k].as<int64_t>();
  return c;
}

}  // namespace

void insert_item(pqxx::work& tx, const ItemRow& row) {
  const DepotItem& i = row.item;
  tx.exec_params(kInsertItem, i.id, i.site_id, row.community_id, i.category, i.title, i.description,
                 std::string(to_string(i.condition)), i.weight_g, std::string(to_string(i.mode)),
                 opt(i.dropped_by_member_id), nlohmann::json(i.photos).dump(),
                 std::string(to_string(i.status)), i.deposited_at_s, i.available_since_s,
                 i.deposit_rewarded, opt(row.acted_by));
}

std::optional<ItemRow> find_item(pqxx::work& tx, const std::string& id, bool for_update) {
  auto r = tx.exec_params(sql(for_update ? kFindItemForUpdate : kFindItem), id);
  if (r.empty()) return std::nullopt;
  return row_from(r[0]);
}

void update_item(pqxx::work& tx, ItemRow& row) {
  const DepotItem& i = row.item;
  const std::optional<Loan>& loan = i.loan;
  std::optional<std::string> outlet;
  if (i.outlet) outlet = std::string(to_string(*i.outlet));
  auto r = tx.exec_params(
      kUpdateItem, i.id, std::string(to_string(i.condition)), std::string(to_string(i.status)),
      i.available_since_s, opt(i.reserved_by_member_id), i.reserved_until_s,
      opt(i.collected_by_member_id), i.loans_count,
      loan ? std::optional<int32_t>(loan->number) : std::nullopt,
      loan ? opt(loan->member_id) : std::nullopt,
      loan ? std::optional<int64_t>(loan->lent_at_s) : std::nullopt,
      loan ? std::optional<int64_t>(loan->due_at_s) : std::nullopt,
      loan ? loan->returned_at_s : std::nullopt, outlet, i.partner, row.unclaimed_notified_since_s,
      row.loan_reminded_number, row.loan_late_number, opt(row.refused_transfer_id),
      opt(row.refused_reason), opt(row.acted_by));
  row.revision = r.at(0)[0].as<int64_t>();
}

void lock_member(pqxx::work& tx, const std::string& member_id) {
  tx.exec_params(kLockMember, member_id);
}

std::vector<DepotItem> reserved_items_of(pqxx::work& tx, const std::string& member_id) {
  std::vector<DepotItem> out;
  for (auto& row : rows_from(tx.exec_params(sql(kReservedBy), member_id))) {
    out.push_back(std::move(row.item));
  }
  return out;
}

std::vector<Loan> open_loans_of(pqxx::work& tx, const std::string& member_id) {
  std::vector<Loan> out;
  for (const auto& r : tx.exec_params(kOpenLoansOf, member_id)) {
    out.push_back(
        {r[0].as<int32_t>(), member_id, r[1].as<int64_t>(), r[2].as<int64_t>(), std::nullopt});
  }
  return out;
}

// Loans between members gone late (exchange.late, until exchange.completed or .lost): their
// borrower cannot borrow at the depot either.
void record_member_late_loan(pqxx::work& tx, const std::string& exchange_id,
                             const std::string& member_id) {
  tx.exec_params(
      "INSERT INTO member_late_loans (exchange_id, member_id) VALUES ($1, $2) "
      "ON CONFLICT (exchange_id) DO NOTHING",
      exchange_id, member_id);
}

void forget_member_late_loan(pqxx::work& tx, const std::string& exchange_id) {
  tx.exec_params("DELETE FROM member_late_loans WHERE exchange_id = $1", exchange_id);
}

bool has_member_late_loan(pqxx::work& tx, const std::string& member_id) {
  return !tx.exec_params("SELECT 1 FROM member_late_loans WHERE member_id = $1 LIMIT 1", member_id)
              .empty();
}

std::vector<ItemRow> list_items(pqxx::work& tx, const ItemFilter& f) {
  std::optional<std::string> categories;
  if (f.categories) categories = array_literal(*f.categories);
  return rows_from(tx.exec_params(sql(kListItems), f.site_id, f.status, f.now_s,
                                  f.unclaimed_before_s, categories, f.after_id, f.limit));
}

std::vector<ItemRow> lapsed_reservations(pqxx::work& tx, int64_t now_s, int limit) {
  return rows_from(tx.exec_params(sql(kLapsed), now_s, limit));
}

std::vector<ItemRow> unclaimed_candidates(pqxx::work& tx, int64_t now_s, int limit) {
  return rows_from(tx.exec_params(sql(kUnclaimedCandidates), now_s, limit));
}

std::vector<ItemRow> loan_notice_candidates(pqxx::work& tx, int64_t now_s, int64_t lead_s,
                                            int limit) {
  return rows_from(tx.exec_params(sql(kLoanNoticeCandidates), now_s, lead_s, limit));
}

std::vector<ItemRow> late_repeats_due(pqxx::work& tx, int64_t now_s, int64_t first_repeat_after_s,
                                      int limit) {
  return rows_from(tx.exec_params(sql(kLateRepeatsDue), now_s, first_repeat_after_s, limit));
}

int32_t last_late_week(pqxx::work& tx, const std::string& item_id, int32_t loan_number) {
  return tx.exec_params(kLastLateWeek, item_id, loan_number)[0][0].as<int32_t>();
}

bool record_late_notice(pqxx::work& tx, const std::string& item_id, int32_t loan_number,
                        int32_t week, int64_t next_at_s, int64_t now_s) {
  return !tx.exec_params(kRecordLateNotice, item_id, loan_number, week, next_at_s, now_s).empty();
}

bool record_refusal(pqxx::work& tx, const std::string& item_id, const std::string& transfer_id,
                    const std::string& reason) {
  return tx.exec_params(kRecordRefusal, item_id, transfer_id, reason).affected_rows() == 1;
}

void add_counters(pqxx::work& tx, const std::string& community_id, const std::string& site_key,
                  const std::string& day, const DayCounters& a) {
  tx.exec_params(kAddCounters, community_id, site_key, day, a.items_in, a.items_reused, a.reused_g,
                 a.redirected_reuse_g, a.redirected_recycle_g, a.redirected_waste_g, a.loans,
                 a.exchanges_completed, a.minutes_exchanged, a.active_members);
}

void mark_active(pqxx::work& tx, const std::string& community_id, const std::string& site_key,
                 const std::string& day, const std::string& member_hash) {
  if (tx.exec_params(kMarkActive, community_id, site_key, day, member_hash).affected_rows() != 1) {
    return;  // already counted that day
  }
  DayCounters one;
  one.active_members = 1;
  add_counters(tx, community_id, site_key, day, one);
}

int forget_activity_before(pqxx::work& tx, const std::string& day, int limit) {
  return static_cast<int>(tx.exec_params(kForgetActivity, day, limit).affected_rows());
}

DayCounters stats_totals(pqxx::work& tx, const StatsQuery& q, int64_t published_count_min) {
  auto sums = tx.exec_params(std::string(kStatsSums) + kStatsWhere, q.community_id, q.site_key,
                             q.from_day, q.to_day, published_count_min);
  return counters_from(sums[0], 0);
}

std::vector<StatsRow> stats_rows(pqxx::work& tx, const StatsQuery& q, int limit) {
  std::vector<StatsRow> out;
  auto r = tx.exec_params(
      std::string(kStatsRows) + kStatsWhere + " ORDER BY day, site_key COLLATE \"C\" LIMIT $5",
      q.community_id, q.site_key, q.from_day, q.to_day, limit);
  for (const auto& row : r) out.push_back({row[0].c_str(), row[1].c_str(), counters_from(row, 2)});
  return out;
}

}  // namespace maillon::depot
