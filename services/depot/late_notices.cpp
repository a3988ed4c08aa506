// The depot's late loans are told again every week, as loans between members are (the rule:
// exchange/late_notices.hpp, shared with the exchange service): loan.late with late_notice N, N
// weeks after the due date, each week once (recorded in loan_late_notices) and never once the
// item is back. The first loan.late is the loan notices' job (consumers.cpp).
#include "exchange/late_notices.hpp"

#include <chrono>

#include "services/common/config.hpp"
#include "services/common/events_depot.hpp"
#include "services/common/service.hpp"
#include "services/depot/depot.hpp"

namespace maillon::depot {
namespace {

constexpr int kLateRepeatsBatchMax = 500;  // loans per run; the next run takes the rest

// The pace of the depot's other jobs (consumers.cpp), read from the same setting.
std::chrono::milliseconds late_job_interval() {
  return Config::duration_ms("MAILLON_DEPOT_JOB_INTERVAL_MS", std::chrono::milliseconds(30'000),
                             std::chrono::milliseconds(50), std::chrono::milliseconds(3'600'000));
}

void publish_repeat(const DepotContext& c, pqxx::work& tx, const ItemRow& row, int32_t week) {
  const Loan& loan = *row.item.loan;
  LoanNotice notice{LoanNoticeType::late,
                    row.item.id,
                    row.item.site_id,
                    loan.member_id,
                    row.item.title,
                    loan.number,
                    format_rfc3339(loan.due_at_s),
                    week};
  c.service.outbox.add(tx, kDepotStream, notice.type_name(), row.community_id, notice.data());
}

void repeat_late_notices(const DepotContext& c, pqxx::work& tx) {
  const int64_t now_s = c.now_s();
  for (const ItemRow& row : late_repeats_due(tx, now_s, kLateNoticeEveryS, kLateRepeatsBatchMax)) {
    if (!row.item.loan || !loan_late(*row.item.loan, now_s)) continue;
    const Loan& loan = *row.item.loan;
    const auto notice =
        weekly_late_notice(loan.due_at_s, last_late_week(tx, row.item.id, loan.number), now_s);
    if (!notice) continue;
    if (!record_late_notice(tx, row.item.id, loan.number, notice->week, notice->next_at_s, now_s)) {
      continue;  // told by another run
    }
    publish_repeat(c, tx, row, notice->week);
  }
}

}  // namespace

void register_late_notice_jobs(const std::shared_ptr<const DepotContext>& context) {
  context->service.every("depot-weekly-late-notices", late_job_interval(),
                         [context](pqxx::work& tx) { repeat_late_notices(*context, tx); });
}

}  // namespace maillon::depot
