// The depot schema's SQL, one named statement per action; items travel as exchange/depot.hpp's
// DepotItem plus what only the service keeps (community, notices sent, ledger refusals).
#pragma once

#include <cstdint>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "exchange/depot.hpp"
#include "exchange/policy.hpp"

namespace maillon::depot {

inline constexpr const char* kNetworkSite = "network";  // exchanges held at no site

struct ItemRow {
  DepotItem item;
  std::string community_id;
  std::optional<int64_t> unclaimed_notified_since_s;
  int32_t loan_reminded_number = 0;
  int32_t loan_late_number = 0;
  std::string refused_transfer_id;  // "" when the ledger refused nothing
  std::string refused_reason;
  std::string acted_by;  // staff who made the last change, "" for the member or a job
  int64_t revision = 0;  // bumped by every update: item events carry it (consumers order by it)
};

void insert_item(pqxx::work& tx, const ItemRow& row);
std::optional<ItemRow> find_item(pqxx::work& tx, const std::string& id, bool for_update);
// Stores the row and sets row.revision to the item's new revision.
void update_item(pqxx::work& tx, ItemRow& row);

// Serialises one member's reservations and loans: counted then written in one transaction.
void lock_member(pqxx::work& tx, const std::string& member_id);
std::vector<DepotItem> reserved_items_of(pqxx::work& tx, const std::string& member_id);
std::vector<Loan> open_loans_of(pqxx::work& tx, const std::string& member_id);
void record_member_late_loan(pqxx::work& tx, const std::string& exchange_id,
                             const std::string& member_id);
void forget_member_late_loan(pqxx::work& tx, const std::string& exchange_id);
bool has_member_late_loan(pqxx::work& tx, const std::string& member_id);
// The member's credits beyond their pending debits, read from the ledger's published
// ledger.available_minutes; nullopt when the ledger has no account for them, or publishes no such
// reading in this database (a depot migrated on its own, in tests).
std::optional<int64_t> ledger_available_minutes(pqxx::work& tx, const std::string& member_id);

struct ItemFilter {
  std::string site_id;
  std::optional<std::string>
      status;  // available, reserved, collected, on_loan, redirected, unclaimed
  std::optional<std::vector<std::string>> categories;
  int64_t now_s = 0;
  int64_t unclaimed_before_s = 0;  // available_since_s at or before it: unclaimed
  std::string after_id;
  int limit = 20;
};
std::vector<ItemRow> list_items(pqxx::work& tx, const ItemFilter& filter);

// Rows for the jobs, locked (SKIP LOCKED: a handler holding one is left for the next run).
std::vector<ItemRow> lapsed_reservations(pqxx::work& tx, int64_t now_s, int limit);
std::vector<ItemRow> unclaimed_candidates(pqxx::work& tx, int64_t now_s, int limit);
std::vector<ItemRow> loan_notice_candidates(pqxx::work& tx, int64_t now_s, int64_t lead_s,
                                            int limit);

// Weekly late notices (exchange/late_notices.hpp): loans whose next repeat has fallen due, locked
// like the other jobs' rows; the last week told of a loan (0: none); a week recorded once (false
// when it already was).
std::vector<ItemRow> late_repeats_due(pqxx::work& tx, int64_t now_s, int64_t first_repeat_after_s,
                                      int limit);
int32_t last_late_week(pqxx::work& tx, const std::string& item_id, int32_t loan_number);
bool record_late_notice(pqxx::work& tx, const std::string& item_id, int32_t loan_number,
                        int32_t week, int64_t next_at_s, int64_t now_s);

// The ledger refused a command about this item; false when the item is unknown.
bool record_refusal(pqxx::work& tx, const std::string& item_id, const std::string& transfer_id,
                    const std::string& reason);

// Impact counters: the items' figures (exchange/depot.hpp) and the exchanges'. `day` is
// YYYY-MM-DD (UTC).
struct DayCounters {
  ItemFigures items;
  int64_t exchanges_completed = 0;
  int64_t minutes_exchanged = 0;
  int64_t active_members = 0;
};
void add_counters(pqxx::work& tx, const std::string& community_id, const std::string& site_key,
                  const std::string& day, const DayCounters& add);
// Counts the member once per site and day; only a hash of the id is stored.
void mark_active(pqxx::work& tx, const std::string& community_id, const std::string& site_key,
                 const std::string& day, const std::string& member_hash);

// Who was active on a day is kept only to count each member once per site and day; once no
// late event can concern that day any more, it goes (at most `limit` rows per call).
int forget_activity_before(pqxx::work& tx, const std::string& day, int limit);

struct StatsQuery {
  std::optional<std::string> community_id;
  std::optional<std::string> site_key;
  std::string from_day;  // inclusive
  std::string to_day;    // inclusive
};
// Sums of the cells (site, day) as published: loans, exchanges_completed and active_members of
// a cell count only from `published_count_min` on, and its minutes_exchanged only when its
// exchanges do. active_members is then a number of member-days.
DayCounters stats_totals(pqxx::work& tx, const StatsQuery& query, int64_t published_count_min);

struct StatsRow {
  std::string site_key;
  std::string day;
  DayCounters counters;
};
std::vector<StatsRow> stats_rows(pqxx::work& tx, const StatsQuery& query, int limit);

}  // namespace maillon::depot
