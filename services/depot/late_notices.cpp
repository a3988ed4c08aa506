// The depot's late loans are told again every week, as loans between members are (the rule:
// exchange/late_notices.hpp, shared with the exchange service): loan.late with late_notice N, N
// weeks after the due date, each week once (recorded in loan_late_notices) and never once the
// item is back. The first loan.late is the loan notices' job; both run from consumers.cpp.
#include "exchange/late_notices.hpp"

#include "services/depot/depot.hpp"

namespace maillon::depot {
namespace {

constexpr int kLateRepeatsBatchMax = 500;  // loans per run; the next run takes the rest

}  // namespace

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
    publish_loan_notice(c, tx, row, LoanNoticeType::late, notice->week);
  }
}

}  // namespace maillon::depot
