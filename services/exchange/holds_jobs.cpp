// The holds' jobs (see holds.hpp): the queue moves on when an object is back or a pick-up window
// passes, and late loans are told again each week. Both run on the service's clock and are
// idempotent: a replica running the same job at the same time changes nothing twice.
#include <nlohmann/json.hpp>

#include "exchange/late_notices.hpp"
#include "services/common/db.hpp"
#include "services/common/log.hpp"
#include "services/exchange/holds.hpp"
#include "services/exchange/holds_jobs_sql.hpp"

namespace maillon::exchange {
namespace {

// The first waiting member of the offer is told (unless another replica is doing it).
void offer_to_first(Workflow& w, pqxx::work& tx, const std::string& offer_id,
                    const std::string& community_id) {
  if (!exec_cached(tx, kLockQueue, offer_id)[0][0].as<bool>()) return;
  if (!exec_cached(tx, kStillFree, offer_id)[0][0].as<bool>()) return;
  const auto head = exec_cached(tx, kHeadWaiting, offer_id);
  if (head.empty()) return;
  const std::string hold_id = head[0][0].c_str();
  const std::string member_id = head[0][1].c_str();
  const auto last = exec_cached(tx, kLastLoan, offer_id);
  std::optional<std::string> freed_by;
  if (!last.empty()) freed_by = last[0][0].c_str();
  const CommunityPolicy policy = repo::community_policy(tx, community_id);
  const std::string until =
      exec_cached(tx, kMakeReady, hold_id, w.now_s(), policy.hold_pickup_days, freed_by)[0][0]
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
  exec_cached(tx, kExpireReady, now_s, kHoldsBatchMax);
  exec_cached(tx, kCancelClosed, now_s);
  for (const auto& row : exec_cached(tx, kOffersToAdvance, kHoldsBatchMax)) {
    offer_to_first(w, tx, row[0].c_str(), row[1].c_str());
  }
}

void send_weekly_late_notices(Workflow& w, pqxx::work& tx) {
  const int64_t now_s = w.now_s();
  for (const auto& row : exec_cached(tx, kLateDue, now_s, kHoldsBatchMax, kLateNoticeEveryS)) {
    const std::string id = row[0].c_str();
    const auto notice = weekly_late_notice(row[1].as<int64_t>(), row[2].as<int32_t>(), now_s);
    if (!notice) continue;
    if (exec_cached(tx, kRecordLateNotice, id, notice->week, notice->next_at_s).empty()) {
      continue;  // told by another run
    }
    auto record = repo::find_exchange(tx, id, false);
    if (!record || record->exchange.state != ExchangeState::late) continue;
    w.publish(tx, *record, "exchange.late", {{"late_notice", notice->week}});
  }
}

}  // namespace maillon::exchange
