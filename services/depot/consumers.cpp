// What moves the depot besides its routes: communities and sites from the members stream (the
// directory), ledger refusals, completed exchanges for the impact counters, and the periodic jobs
// (lapsed reservations, unclaimed items for the desk, loan reminders and late notices, their
// weekly repeats (late_notices.cpp), and forgetting who was active once their day is counted).
#include <chrono>
#include <cstdlib>
#include <map>
#include <stdexcept>

#include "services/common/config.hpp"
#include "services/common/directory.hpp"
#include "services/common/events.hpp"
#include "services/common/events_depot.hpp"
#include "services/common/events_exchanges.hpp"
#include "services/common/events_ledger.hpp"
#include "services/common/ids.hpp"
#include "services/common/json_body.hpp"
#include "services/common/log.hpp"
#include "services/common/service.hpp"
#include "services/depot/depot.hpp"

namespace maillon::depot {
namespace {

constexpr int kJobBatchMax = 500;  // rows per job run; the next run takes the rest
constexpr int64_t kJobIntervalMsMin = 50;
constexpr int64_t kJobIntervalMsMax = 3'600'000;
constexpr size_t kUuidLength = 36;
// A completed exchange reaches the counters within seconds; a week covers any outage of the
// stream. After it, a member's activity of that day is forgotten (only the count stays).
constexpr int64_t kActivityKeptDays = 8;

std::chrono::milliseconds job_interval_from_env() {
  return Config::duration_ms("MAILLON_DEPOT_JOB_INTERVAL_MS", std::chrono::milliseconds(30'000),
                             std::chrono::milliseconds(kJobIntervalMsMin),
                             std::chrono::milliseconds(kJobIntervalMsMax));
}

// deposit:<item> and loan:<item>:<n> (exchange/depot.hpp) name the item they pay for.
std::string item_of_transfer(const std::string& transfer_id) {
  for (const char* prefix : {"deposit:", "loan:"}) {
    std::string p(prefix);
    if (transfer_id.rfind(p, 0) == 0 && transfer_id.size() >= p.size() + kUuidLength) {
      std::string id = transfer_id.substr(p.size(), kUuidLength);
      if (is_uuid(id)) return id;
    }
  }
  return "";
}

void apply_ledger_event(pqxx::work& tx, const Event& e) {
  if (!transfer_event_type(e.type)) return;  // federation.link.*: no transfer of the depot's
  const TransferEvent t = TransferEvent::read(e).value();
  if (t.type != TransferEventType::rejected) return;
  std::string item_id = item_of_transfer(t.transfer_id);
  if (item_id.empty()) return;  // another service's transfer
  const std::string reason = t.reason.value_or("");
  record_refusal(tx, item_id, t.transfer_id, reason.empty() ? "rejected" : reason);
}

void apply_exchange_event(const DepotContext& c, pqxx::work& tx, const Event& e) {
  const ExchangeEvent x = ExchangeEvent::read(e).value();
  if (x.type == ExchangeEventType::late && x.receiver_id) {
    record_member_late_loan(tx, x.exchange_id, *x.receiver_id);
  } else if (x.type == ExchangeEventType::completed || x.type == ExchangeEventType::lost) {
    forget_member_late_loan(tx, x.exchange_id);
  }
  if (x.type != ExchangeEventType::completed || !is_uuid(e.community_id)) return;
  std::string site_key = x.site_id.value_or(kNetworkSite);
  std::optional<int64_t> at_s = parse_rfc3339_s(e.occurred_at);
  if (!at_s) at_s = c.now_s();
  std::string day = format_day(*at_s);
  DayCounters add;
  add.exchanges_completed = 1;
  add.minutes_exchanged = x.minutes.value_or(0);
  add_counters(tx, e.community_id, site_key, day, add);
  for (const auto* party : {&x.provider_id, &x.receiver_id}) {
    if (*party) mark_active(tx, e.community_id, site_key, day, token_hash(**party));
  }
}

void lapse_reservations(const DepotContext& c, pqxx::work& tx) {
  int64_t now_s = c.now_s();
  for (ItemRow& row : lapsed_reservations(tx, now_s, kJobBatchMax)) {
    if (!lapse_reservation(row.item, now_s)) continue;
    row.acted_by.clear();
    update_item(tx, row);
    c.publish_item(tx, row, "available");
  }
}

void announce_unclaimed(const DepotContext& c, pqxx::work& tx) {
  int64_t now_s = c.now_s();
  std::map<std::string, CommunityPolicy> policies;
  for (ItemRow& row : unclaimed_candidates(tx, now_s, kJobBatchMax)) {
    auto it = policies.find(row.community_id);
    if (it == policies.end()) {
      it = policies
               .emplace(row.community_id,
                        directory::policy_of(tx, row.community_id).value_or(CommunityPolicy{}))
               .first;
    }
    if (!is_unclaimed(row.item, it->second, now_s)) continue;
    row.unclaimed_notified_since_s = row.item.available_since_s;
    update_item(tx, row);
    c.publish_item(tx, row, "unclaimed");  // for the exchange service's desk
  }
}

void notify_loans(const DepotContext& c, pqxx::work& tx) {
  int64_t now_s = c.now_s();
  for (ItemRow& row : loan_notice_candidates(tx, now_s, kLoanReminderLeadS, kJobBatchMax)) {
    if (!row.item.loan) continue;
    const Loan& loan = *row.item.loan;
    bool changed = false;
    if (row.loan_late_number < loan.number && loan_late(loan, now_s)) {
      publish_loan_notice(c, tx, row, LoanNoticeType::late);
      row.loan_late_number = loan.number;
      row.loan_reminded_number = loan.number;  // too late for a reminder
      changed = true;
    } else if (row.loan_reminded_number < loan.number && loan_reminder_due(loan, now_s)) {
      publish_loan_notice(c, tx, row, LoanNoticeType::reminder);
      row.loan_reminded_number = loan.number;
      changed = true;
    }
    if (changed) update_item(tx, row);
  }
}

void forget_old_activity(const DepotContext& c, pqxx::work& tx) {
  forget_activity_before(tx, format_day(c.now_s() - kActivityKeptDays * 86400), kJobBatchMax);
}

}  // namespace

void publish_loan_notice(const DepotContext& c, pqxx::work& tx, const ItemRow& row,
                         LoanNoticeType type, std::optional<int32_t> late_notice) {
  const Loan& loan = *row.item.loan;
  LoanNotice notice{type,
                    row.item.id,
                    row.item.site_id,
                    loan.member_id,
                    row.item.title,
                    loan.number,
                    format_rfc3339(loan.due_at_s)};
  if (late_notice) notice.late_notice = *late_notice;
  c.service.outbox.add(tx, kDepotStream, notice.type_name(), row.community_id, notice.data());
}

void register_consumers(const std::shared_ptr<const DepotContext>& context) {
  Service& s = context->service;
  // Communities and sites: the directory; the depot has no use for the members' own events.
  s.consume("members", [](pqxx::work& tx, const Event& e) { directory::apply(tx, e); });
  // Only what apply_ledger_event and apply_exchange_event act on: the rest costs no commit.
  s.consume(
      "ledger.events", [](pqxx::work& tx, const Event& e) { apply_ledger_event(tx, e); },
      type_names({TransferEventType::rejected}), Pace::unhurried);
  using T = ExchangeEventType;
  s.consume(
      "exchanges",
      [context](pqxx::work& tx, const Event& e) { apply_exchange_event(*context, tx, e); },
      type_names({T::late, T::completed, T::lost}), Pace::unhurried);
  std::chrono::milliseconds interval = job_interval_from_env();
  s.every("depot-lapse-reservations", interval,
          [context](pqxx::work& tx) { lapse_reservations(*context, tx); });
  s.every("depot-unclaimed", interval,
          [context](pqxx::work& tx) { announce_unclaimed(*context, tx); });
  s.every("depot-loan-notices", interval,
          [context](pqxx::work& tx) { notify_loans(*context, tx); });
  s.every("depot-weekly-late-notices", interval,
          [context](pqxx::work& tx) { repeat_late_notices(*context, tx); });
  s.every("depot-forget-activity", interval,
          [context](pqxx::work& tx) { forget_old_activity(*context, tx); });
}

}  // namespace maillon::depot
