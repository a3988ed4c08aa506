// The holds' jobs (see holds.hpp): the queue moves on when an object is back or a pick-up window
// passes, and late loans are told again each week. Both run on the service's clock and are
// idempotent: a replica running the same job at the same time changes nothing twice.
#include <nlohmann/json.hpp>

#include "exchange/late_notices.hpp"
#include "services/common/log.hpp"
#include "services/exchange/holds.hpp"

namespace maillon::exchange {
namespace {

#define MAILLON_JOB_UTC(column) \
  "to_char(" column " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

// A window that passes while the member's proposal awaits the owner's answer waits for it: the
// member asked in time. Declined or cancelled, the hold expires at the next run.
constexpr const char* kExpireReady =
    "UPDATE holds SET state = 'expired', ended_at = to_timestamp($1) WHERE id IN (SELECT h.id "
    "FROM holds h WHERE h.state = 'ready' AND h.pickup_until <= to_timestamp($1) AND NOT EXISTS "
    "(SELECT 1 FROM exchanges e WHERE e.offer_id = h.offer_id AND e.receiver_id = h.member_id "
    "AND e.mode = 'lend' AND e.state IN ('proposed', 'accepting')) ORDER BY h.pickup_until "
    "LIMIT $2 FOR UPDATE OF h SKIP LOCKED)";
// A closed offer lends nothing any more: its queue is let go.
constexpr const char* kCancelClosed =
    "UPDATE holds h SET state = 'cancelled', ended_at = to_timestamp($1) WHERE h.state IN "
    "('waiting', 'ready') AND EXISTS (SELECT 1 FROM listings l WHERE l.id = h.offer_id AND "
    "l.status = 'closed')";
// Objects back (no loan from its accept to its return) whose queue has nobody told yet.
constexpr const char* kOffersToAdvance =
    "SELECT DISTINCT h.offer_id, h.community_id FROM holds h WHERE h.state = 'waiting' "
    "AND NOT EXISTS (SELECT 1 FROM holds r WHERE r.offer_id = h.offer_id AND r.state = 'ready') "
    "AND NOT EXISTS (SELECT 1 FROM exchanges e WHERE e.offer_id = h.offer_id AND e.mode = 'lend' "
    "AND e.state IN ('accepting', 'accepted', 'completing', 'handed_over', 'late')) LIMIT $1";
// One replica moves an object's queue at a time; the others skip it this run.
constexpr const char* kLockQueue = "SELECT pg_try_advisory_xact_lock(hashtext('holds:' || $1))";
constexpr const char* kHeadWaiting =
    "SELECT id, member_id FROM holds WHERE offer_id = $1 AND state = 'waiting' ORDER BY seq "
    "LIMIT 1 FOR UPDATE";
constexpr const char* kStillFree =
    "SELECT NOT EXISTS (SELECT 1 FROM holds WHERE offer_id = $1 AND state = 'ready')";
constexpr const char* kMakeReady =
    "UPDATE holds SET state = 'ready', ready_at = to_timestamp($2), pickup_until = "
    "to_timestamp($2) + make_interval(days => $3::int), freed_by = $4::uuid WHERE id = $1 "
    "RETURNING " MAILLON_JOB_UTC("pickup_until");
constexpr const char* kLastLoan =
    "SELECT id FROM exchanges WHERE offer_id = $1 AND mode = 'lend' ORDER BY updated_at DESC, "
    "seq DESC LIMIT 1";
// Late loans whose next weekly notice has fallen due: the time stored with the last week told,
// else the first repeat (exchange/late_notices.hpp: late_notice_at_s(due, 1), passed as $3).
constexpr const char* kLateDue =
    "SELECT e.id, extract(epoch FROM e.due_at)::bigint, COALESCE(n.week, 0) FROM exchanges e "
    "LEFT JOIN LATERAL (SELECT week, next_at FROM loan_late_notices WHERE exchange_id = e.id "
    "ORDER BY week DESC LIMIT 1) n ON true WHERE e.state = 'late' AND COALESCE(n.next_at, "
    "e.due_at + make_interval(secs => $3::bigint)) <= to_timestamp($1::bigint) ORDER BY e.due_at "
    "LIMIT $2";
constexpr const char* kRecordLateNotice =
    "INSERT INTO loan_late_notices (exchange_id, week, next_at) VALUES ($1, $2, to_timestamp($3)) "
    "ON CONFLICT DO NOTHING RETURNING week";

// The first waiting member of the offer is told (unless another replica is doing it).
void offer_to_first(Workflow& w, pqxx::work& tx, const std::string& offer_id,
                    const std::string& community_id) {
  if (!tx.exec_params(kLockQueue, offer_id)[0][0].as<bool>()) return;
  if (!tx.exec_params(kStillFree, offer_id)[0][0].as<bool>()) return;
  const auto head = tx.exec_params(kHeadWaiting, offer_id);
  if (head.empty()) return;
  const std::string hold_id = head[0][0].c_str();
  const std::string member_id = head[0][1].c_str();
  const auto last = tx.exec_params(kLastLoan, offer_id);
  std::optional<std::string> freed_by;
  if (!last.empty()) freed_by = last[0][0].c_str();
  const CommunityPolicy policy = repo::community_policy(tx, community_id);
  const std::string until =
      tx.exec_params(kMakeReady, hold_id, w.now_s(), policy.hold_pickup_days, freed_by)[0][0]
          .c_str();
  const auto loan = freed_by ? repo::find_exchange(tx, *freed_by, false) : std::nullopt;
  if (!loan) {
    log::warn("a hold is ready without a loan to name: not told", {{"hold", hold_id}});
    return;
  }
  w.publish(tx, *loan, "exchange.hold_available",
            {{"hold_id", hold_id}, {"hold_member_id", member_id}, {"pickup_until", until}});
}

}  // namespace

void advance_holds(Workflow& w, pqxx::work& tx) {
  const int64_t now_s = w.now_s();
  tx.exec_params(kExpireReady, now_s, kHoldsBatchMax);
  tx.exec_params(kCancelClosed, now_s);
  for (const auto& row : tx.exec_params(kOffersToAdvance, kHoldsBatchMax)) {
    offer_to_first(w, tx, row[0].c_str(), row[1].c_str());
  }
}

void send_weekly_late_notices(Workflow& w, pqxx::work& tx) {
  const int64_t now_s = w.now_s();
  for (const auto& row : tx.exec_params(kLateDue, now_s, kHoldsBatchMax, kLateNoticeEveryS)) {
    const std::string id = row[0].c_str();
    const auto notice = weekly_late_notice(row[1].as<int64_t>(), row[2].as<int32_t>(), now_s);
    if (!notice) continue;
    if (tx.exec_params(kRecordLateNotice, id, notice->week, notice->next_at_s).empty()) {
      continue;  // told by another run
    }
    auto record = repo::find_exchange(tx, id, false);
    if (!record || record->exchange.state != ExchangeState::late) continue;
    w.publish(tx, *record, "exchange.late", {{"late_notice", notice->week}});
  }
}

}  // namespace maillon::exchange
