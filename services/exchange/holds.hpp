// Holds on lent objects, as libraries of things run them: a member joins the queue of an object
// on loan; once it is back the first one is told (exchange.hold_available, notify's
// loan.available) and alone may borrow it during the policy's hold_pickup_days, then the next one
// is told. Also the loan rules that read the queue or the sites' days: no renewal while someone
// holds the object, due dates moved to a day the site is open, late notices repeated weekly.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "services/exchange/usecases.hpp"

namespace maillon::exchange {

inline constexpr int kHoldsBatchMax = 200;      // per job run; the next run takes the rest
inline constexpr int kHoldQueueShownMax = 200;  // holds listed per queue answer
inline constexpr int kOpenDaySearchDays = 14;   // a site closed two weeks long keeps the date

// A hold as stored; `position` is its place in the queue (1: first), 0 once it left the queue.
struct Hold {
  std::string id, offer_id, member_id, community_id, state;
  std::string created_at;
  std::optional<std::string> ready_at, pickup_until, exchange_id;
  int64_t position = 0;
  std::string offer_title;  // the exchange service's copy of the listing ("" when unknown)
};

// What GET /v1/offers/{id}/holds shows: the whole queue to the owner and the site's staff, the
// caller's own hold otherwise; everyone sees its length.
struct HoldQueue {
  std::string offer_id;
  int64_t length = 0;
  bool whole = false;
  std::vector<Hold> items;
};

namespace holds_repo {
std::optional<Hold> insert_hold(pqxx::work& tx, const std::string& offer_id,
                                const std::string& member_id, const std::string& community_id,
                                int64_t now_s);
std::optional<Hold> find_hold(pqxx::work& tx, const std::string& id, bool lock);
std::vector<Hold> queue(pqxx::work& tx, const std::string& offer_id, int limit);
// The member's holds still queued (waiting or ready) on any object, in the order they joined.
std::vector<Hold> holds_of_member(pqxx::work& tx, const std::string& member_id, int limit);
int64_t queue_length(pqxx::work& tx, const std::string& offer_id);
void end_hold(pqxx::work& tx, const std::string& id, const std::string& state, int64_t now_s);
// A loan of the offer not yet over (accepted up to late); its borrower when there is one.
std::optional<std::string> running_loan_borrower(pqxx::work& tx, const std::string& offer_id);
// The first queued member's hold when it is `ready` (told, within its window).
std::optional<Hold> ready_hold(pqxx::work& tx, const std::string& offer_id);
// The member's ready hold on the offer names their proposal (and stays ready).
void link_proposal(pqxx::work& tx, const std::string& offer_id, const std::string& member_id,
                   const std::string& exchange_id);
// The member's ready hold on the offer is fulfilled by this loan.
void fulfil(pqxx::work& tx, const std::string& offer_id, const std::string& member_id,
            const std::string& exchange_id, int64_t now_s);
// The hold this loan fulfilled is ready again (the loan was called off before the hand-over).
void reopen(pqxx::work& tx, const std::string& exchange_id);
}  // namespace holds_repo

// --- Rules the exchange use cases call (inside their transaction).
// Whether `receiver_id` may ask to borrow the offer now: refused while the object waits for the
// first of its queue, or while others queue for it and the caller is not the one told.
ExchangeRefusal borrow_refusal(pqxx::work& tx, const std::string& offer_id,
                               const std::string& receiver_id);
// The ready hold of `receiver_id` on the offer (if any) names this proposal. It is not fulfilled
// yet: the owner may still decline, and the member keeps their place and their window.
void link_hold_to_proposal(pqxx::work& tx, const std::string& offer_id,
                           const std::string& receiver_id, const std::string& exchange_id);
// After every stored transition of an exchange (Workflow::commit_transition): a loan accepted
// fulfils its borrower's ready hold; a loan cancelled or expired before its hand-over gives the
// hold it fulfilled back (ready, the rest of its window).
void holds_follow_loan(pqxx::work& tx, const ExchangeRecord& record, int64_t now_s);
// The listing consumer keeps each listing's title in the copy, after the copy itself: the holds'
// answers name the object (GET /v1/me/holds).
void note_listing_title(pqxx::work& tx, const std::string& listing_id, const std::string& title,
                        std::optional<int64_t> revision);
// Renewals are refused while anyone queues for the object.
bool has_holds(pqxx::work& tx, const std::string& offer_id);
// A due date on a day the site is closed moves to the same local time (Europe/Paris) of the next
// day it is open (structured opening hours; an exception of the date wins over its weekday). No
// site, free-text or absent hours, or no open day within kOpenDaySearchDays: unchanged.
int64_t due_on_open_day(pqxx::work& tx, const std::string& site_id, int64_t due_s);

class HoldUseCases {
 public:
  HoldUseCases(Service& service, std::shared_ptr<Workflow> workflow)
      : s_(service), w_(std::move(workflow)) {}
  Answer<Hold> join(const Identity& who, const std::string& offer_id);
  Answer<HoldQueue> queue(const Identity& who, const std::string& offer_id);
  // GET /v1/me/holds: the caller's holds still queued, across objects (kHoldQueueShownMax).
  Answer<std::vector<Hold>> mine(const Identity& who);
  Answer<bool> leave(const Identity& who, const std::string& hold_id);

 private:
  Service& s_;
  std::shared_ptr<Workflow> w_;
};

// --- Jobs (holds_jobs.cpp).
// Ready holds whose window passed expire; an object back (no loan running) with a queue and no
// ready hold is offered to the first waiting member (exchange.hold_available).
void advance_holds(Workflow& workflow, pqxx::work& tx);
// A late loan is told again 7, 14, ... days after its due date (exchange.late with late_notice;
// the rule: exchange/late_notices.hpp, the depot's too), each week once however often the job runs.
void send_weekly_late_notices(Workflow& workflow, pqxx::work& tx);

// Routes and jobs of the holds (holds_http.cpp).
void register_holds(Service& service, const std::shared_ptr<Workflow>& workflow);

}  // namespace maillon::exchange
