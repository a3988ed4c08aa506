// SQL of the depot. Unqualified names: the connection's search_path is the depot schema.
// Optional ids travel as NULL, photos as JSON text, times as Unix seconds of the service clock.
#include "services/depot/repository.hpp"

#include <nlohmann/json.hpp>

#include "services/common/db.hpp"
#include "services/common/policy_json.hpp"
#include "services/depot/repository_sql.hpp"

namespace maillon::depot {
namespace {

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
  std::string photos;
  std::optional<std::string> outlet;
  read_columns(r, i.id, i.site_id, row.community_id, i.category, i.title, i.description,
               parsed(i.condition, item_condition_from_string), i.weight_g,
               parsed(i.mode, item_mode_from_string), i.dropped_by_member_id, photos,
               parsed(i.status, item_status_from_string), i.deposited_at_s, i.available_since_s,
               i.reserved_by_member_id, i.reserved_until_s, i.collected_by_member_id,
               i.loans_count);
  i.loan = loan_from(r);  // columns 18 to 22
  read_columns_from(r, 23, outlet, i.partner, i.deposit_rewarded, row.unclaimed_notified_since_s,
                    row.loan_reminded_number, row.loan_late_number, row.refused_transfer_id,
                    row.refused_reason, row.acted_by, row.revision);
  i.photos = photos_from(photos.c_str());
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

DayCounters counters_from(const pqxx::row& r, pqxx::row::size_type first) {
  DayCounters c;
  ItemFigures& i = c.items;
  read_columns_from(r, first, i.items_in, i.items_reused, i.reused_g, i.redirected_reuse_g,
                    i.redirected_recycle_g, i.redirected_waste_g, i.loans, c.exchanges_completed,
                    c.minutes_exchanged, c.active_members);
  return c;
}

}  // namespace

void insert_item(pqxx::work& tx, const ItemRow& row) {
  const DepotItem& i = row.item;
  exec_cached(tx, kInsertItem, i.id, i.site_id, row.community_id, i.category, i.title,
              i.description, std::string(to_string(i.condition)), i.weight_g,
              std::string(to_string(i.mode)), opt(i.dropped_by_member_id),
              nlohmann::json(i.photos).dump(), std::string(to_string(i.status)), i.deposited_at_s,
              i.available_since_s, i.deposit_rewarded, opt(row.acted_by));
}

std::optional<ItemRow> find_item(pqxx::work& tx, const std::string& id, bool for_update) {
  auto r = exec_cached(tx, sql(for_update ? kFindItemForUpdate : kFindItem), id);
  if (r.empty()) return std::nullopt;
  return row_from(r[0]);
}

void update_item(pqxx::work& tx, ItemRow& row) {
  const DepotItem& i = row.item;
  const std::optional<Loan>& loan = i.loan;
  std::optional<std::string> outlet;
  if (i.outlet) outlet = std::string(to_string(*i.outlet));
  auto r =
      exec_cached(tx, kUpdateItem, i.id, std::string(to_string(i.condition)),
                  std::string(to_string(i.status)), i.available_since_s,
                  opt(i.reserved_by_member_id), i.reserved_until_s, opt(i.collected_by_member_id),
                  i.loans_count, loan ? std::optional<int32_t>(loan->number) : std::nullopt,
                  loan ? opt(loan->member_id) : std::nullopt,
                  loan ? std::optional<int64_t>(loan->lent_at_s) : std::nullopt,
                  loan ? std::optional<int64_t>(loan->due_at_s) : std::nullopt,
                  loan ? loan->returned_at_s : std::nullopt, outlet, i.partner,
                  row.unclaimed_notified_since_s, row.loan_reminded_number, row.loan_late_number,
                  opt(row.refused_transfer_id), opt(row.refused_reason), opt(row.acted_by));
  row.revision = r.at(0)[0].as<int64_t>();
}

void lock_member(pqxx::work& tx, const std::string& member_id) {
  exec_cached(tx, kLockMember, member_id);
}

std::vector<DepotItem> reserved_items_of(pqxx::work& tx, const std::string& member_id) {
  std::vector<DepotItem> out;
  for (auto& row : rows_from(exec_cached(tx, sql(kReservedBy), member_id))) {
    out.push_back(std::move(row.item));
  }
  return out;
}

std::vector<Loan> open_loans_of(pqxx::work& tx, const std::string& member_id) {
  std::vector<Loan> out;
  for (const auto& r : exec_cached(tx, kOpenLoansOf, member_id)) {
    out.push_back(
        {r[0].as<int32_t>(), member_id, r[1].as<int64_t>(), r[2].as<int64_t>(), std::nullopt});
  }
  return out;
}

// Loans between members gone late (exchange.late, until exchange.completed or .lost): their
// borrower cannot borrow at the depot either.
void record_member_late_loan(pqxx::work& tx, const std::string& exchange_id,
                             const std::string& member_id) {
  exec_cached(tx,
              "INSERT INTO member_late_loans (exchange_id, member_id) VALUES ($1, $2) "
              "ON CONFLICT (exchange_id) DO NOTHING",
              exchange_id, member_id);
}

void forget_member_late_loan(pqxx::work& tx, const std::string& exchange_id) {
  exec_cached(tx, "DELETE FROM member_late_loans WHERE exchange_id = $1", exchange_id);
}

bool has_member_late_loan(pqxx::work& tx, const std::string& member_id) {
  return !exec_cached(tx, "SELECT 1 FROM member_late_loans WHERE member_id = $1 LIMIT 1", member_id)
              .empty();
}

std::optional<int64_t> ledger_available_minutes(pqxx::work& tx, const std::string& member_id) {
  if (!exec_cached(tx, kLedgerPublishesAvailable)[0][0].as<bool>()) return std::nullopt;
  const auto r = exec_cached(tx, kLedgerAvailableMinutes, member_id);
  if (r.empty() || r[0][0].is_null()) return std::nullopt;
  return r[0][0].as<int64_t>();
}

std::vector<ItemRow> list_items(pqxx::work& tx, const ItemFilter& f) {
  std::optional<std::string> categories;
  if (f.categories) categories = array_literal(*f.categories);
  return rows_from(exec_cached(tx, sql(kListItems), f.site_id, f.status, f.now_s,
                               f.unclaimed_before_s, categories, f.after_id, f.limit));
}

std::vector<ItemRow> lapsed_reservations(pqxx::work& tx, int64_t now_s, int limit) {
  return rows_from(exec_cached(tx, sql(kLapsed), now_s, limit));
}

std::vector<ItemRow> unclaimed_candidates(pqxx::work& tx, int64_t now_s, int limit) {
  return rows_from(exec_cached(tx, sql(kUnclaimedCandidates), now_s, limit));
}

std::vector<ItemRow> loan_notice_candidates(pqxx::work& tx, int64_t now_s, int64_t lead_s,
                                            int limit) {
  return rows_from(exec_cached(tx, sql(kLoanNoticeCandidates), now_s, lead_s, limit));
}

std::vector<ItemRow> late_repeats_due(pqxx::work& tx, int64_t now_s, int64_t first_repeat_after_s,
                                      int limit) {
  return rows_from(exec_cached(tx, sql(kLateRepeatsDue), now_s, first_repeat_after_s, limit));
}

int32_t last_late_week(pqxx::work& tx, const std::string& item_id, int32_t loan_number) {
  return exec_cached(tx, kLastLateWeek, item_id, loan_number)[0][0].as<int32_t>();
}

bool record_late_notice(pqxx::work& tx, const std::string& item_id, int32_t loan_number,
                        int32_t week, int64_t next_at_s, int64_t now_s) {
  return !exec_cached(tx, kRecordLateNotice, item_id, loan_number, week, next_at_s, now_s).empty();
}

bool record_refusal(pqxx::work& tx, const std::string& item_id, const std::string& transfer_id,
                    const std::string& reason) {
  return exec_cached(tx, kRecordRefusal, item_id, transfer_id, reason).affected_rows() == 1;
}

void add_counters(pqxx::work& tx, const std::string& community_id, const std::string& site_key,
                  const std::string& day, const DayCounters& a) {
  const ItemFigures& i = a.items;
  exec_cached(tx, kAddCounters, community_id, site_key, day, i.items_in, i.items_reused, i.reused_g,
              i.redirected_reuse_g, i.redirected_recycle_g, i.redirected_waste_g, i.loans,
              a.exchanges_completed, a.minutes_exchanged, a.active_members);
}

void mark_active(pqxx::work& tx, const std::string& community_id, const std::string& site_key,
                 const std::string& day, const std::string& member_hash) {
  if (exec_cached(tx, kMarkActive, community_id, site_key, day, member_hash).affected_rows() != 1) {
    return;  // already counted that day
  }
  DayCounters one;
  one.active_members = 1;
  add_counters(tx, community_id, site_key, day, one);
}

int forget_activity_before(pqxx::work& tx, const std::string& day, int limit) {
  return static_cast<int>(exec_cached(tx, kForgetActivity, day, limit).affected_rows());
}

DayCounters stats_totals(pqxx::work& tx, const StatsQuery& q, int64_t published_count_min) {
  auto sums = exec_cached(tx, std::string(kStatsSums) + kStatsWhere, q.community_id, q.site_key,
                          q.from_day, q.to_day, published_count_min);
  return counters_from(sums[0], 0);
}

std::vector<StatsRow> stats_rows(pqxx::work& tx, const StatsQuery& q, int limit) {
  std::vector<StatsRow> out;
  auto r = exec_cached(
      tx, std::string(kStatsRows) + kStatsWhere + " ORDER BY day, site_key COLLATE \"C\" LIMIT $5",
      q.community_id, q.site_key, q.from_day, q.to_day, limit);
  for (const auto& row : r) out.push_back({row[0].c_str(), row[1].c_str(), counters_from(row, 2)});
  return out;
}

}  // namespace maillon::depot
