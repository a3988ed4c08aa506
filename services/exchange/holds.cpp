// Holds on lent objects (see holds.hpp): their SQL, the rules the loans read from the queue and
// from the sites' days, and the use cases behind the holds' routes.
#include "services/exchange/holds.hpp"

#include <nlohmann/json.hpp>

#include "services/common/auth.hpp"
#include "services/common/db.hpp"
#include "services/common/ids.hpp"
#include "services/common/json_body.hpp"
#include "services/common/service.hpp"
#include "services/exchange/holds_sql.hpp"

namespace maillon::exchange {
namespace {

constexpr std::string_view kWeekdayKeys[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

Hold hold_from(const pqxx::row& row) {
  Hold h;
  read_columns(row, h.id, h.offer_id, h.member_id, h.community_id, h.state, h.created_at,
               h.ready_at, h.pickup_until, h.exchange_id, h.position, h.offer_title);
  return h;
}

std::optional<Hold> hold_one(const pqxx::result& rows) {
  if (rows.empty()) return std::nullopt;
  return hold_from(rows[0]);
}

// Whether structured hours open the site at some time of `date` (weekday 1..7).
bool open_on(const nlohmann::json& hours, const std::string& date, int isodow) {
  for (const nlohmann::json& e : hours.value("exceptions", nlohmann::json::array())) {
    if (!e.is_object() || e.value("date", std::string()) != date) continue;
    if (e.value("closed", false)) return false;
    const auto ranges = e.value("hours", nlohmann::json::array());
    return ranges.is_array() && !ranges.empty();
  }
  const auto weekly = hours.value("weekly", nlohmann::json::object());
  if (!weekly.is_object() || isodow < 1 || isodow > 7) return true;
  const auto ranges = weekly.value(std::string(kWeekdayKeys[isodow - 1]), nlohmann::json::array());
  return ranges.is_array() && !ranges.empty();
}

// The site's structured hours, or nullopt (no site, free text, or nothing).
std::optional<nlohmann::json> structured_hours(pqxx::work& tx, const std::string& site_id) {
  if (!is_uuid(site_id)) return std::nullopt;
  const auto rows = exec_cached(tx, kSiteHours, site_id);
  if (rows.empty() || rows[0][0].is_null()) return std::nullopt;
  const auto hours = nlohmann::json::parse(rows[0][0].c_str(), nullptr, false);
  if (!hours.is_object() || !hours.contains("weekly")) return std::nullopt;
  return hours;
}

template <class T>
Answer<T> hold_refused(ExchangeRefusal refusal) {
  Answer<T> answer;
  answer.refusal = refusal;
  return answer;
}

}  // namespace

namespace holds_repo {

std::optional<Hold> insert_hold(pqxx::work& tx, const std::string& offer_id,
                                const std::string& member_id, const std::string& community_id,
                                int64_t now_s) {
  const auto rows =
      exec_cached(tx, kInsertHold, new_uuid(), offer_id, member_id, community_id, now_s);
  if (rows.empty()) return std::nullopt;
  return find_hold(tx, rows[0][0].c_str(), false);
}

std::optional<Hold> find_hold(pqxx::work& tx, const std::string& id, bool lock) {
  return hold_one(
      exec_cached(tx, std::string(kHoldColumns) + (lock ? kFindHoldLocked : kFindHold), id));
}

std::vector<Hold> queue(pqxx::work& tx, const std::string& offer_id, int limit) {
  std::vector<Hold> holds;
  for (const auto& row : exec_cached(tx, std::string(kHoldColumns) + kQueue, offer_id, limit)) {
    holds.push_back(hold_from(row));
  }
  return holds;
}

std::vector<Hold> holds_of_member(pqxx::work& tx, const std::string& member_id, int limit) {
  std::vector<Hold> holds;
  for (const auto& row :
       exec_cached(tx, std::string(kHoldColumns) + kHoldsOfMember, member_id, limit)) {
    holds.push_back(hold_from(row));
  }
  return holds;
}

int64_t queue_length(pqxx::work& tx, const std::string& offer_id) {
  return exec_cached(tx, kQueueLength, offer_id)[0][0].as<int64_t>();
}

void end_hold(pqxx::work& tx, const std::string& id, const std::string& state, int64_t now_s) {
  exec_cached(tx, kEndHold, id, state, now_s);
}

std::optional<std::string> running_loan_borrower(pqxx::work& tx, const std::string& offer_id) {
  const auto rows = exec_cached(tx, kRunningLoanBorrower, offer_id);
  if (rows.empty()) return std::nullopt;
  return std::string(rows[0][0].c_str());
}

std::optional<Hold> ready_hold(pqxx::work& tx, const std::string& offer_id) {
  return hold_one(exec_cached(tx, std::string(kHoldColumns) + kReadyHold, offer_id));
}

void link_proposal(pqxx::work& tx, const std::string& offer_id, const std::string& member_id,
                   const std::string& exchange_id) {
  exec_cached(tx, kLinkProposal, offer_id, member_id, exchange_id);
}

void fulfil(pqxx::work& tx, const std::string& offer_id, const std::string& member_id,
            const std::string& exchange_id, int64_t now_s) {
  exec_cached(tx, kFulfil, offer_id, member_id, exchange_id, now_s);
}

void reopen(pqxx::work& tx, const std::string& exchange_id) {
  exec_cached(tx, kReopen, exchange_id);
}

}  // namespace holds_repo

ExchangeRefusal borrow_refusal(pqxx::work& tx, const std::string& offer_id,
                               const std::string& receiver_id) {
  if (const auto ready = holds_repo::ready_hold(tx, offer_id)) {
    return ready->member_id == receiver_id ? ExchangeRefusal::none
                                           : ExchangeRefusal::held_for_another;
  }
  // A queue still waiting for the object's return: it goes to the queue's first, in order, once
  // back; the first is told so rather than that the object waits for someone else.
  const auto first = holds_repo::queue(tx, offer_id, 1);
  if (first.empty()) return ExchangeRefusal::none;
  return first.front().member_id == receiver_id ? ExchangeRefusal::first_in_queue
                                                : ExchangeRefusal::held_for_another;
}

void link_hold_to_proposal(pqxx::work& tx, const std::string& offer_id,
                           const std::string& receiver_id, const std::string& exchange_id) {
  holds_repo::link_proposal(tx, offer_id, receiver_id, exchange_id);
}

void holds_follow_loan(pqxx::work& tx, const ExchangeRecord& record, int64_t now_s) {
  const Exchange& ex = record.exchange;
  if (ex.mode != ListingMode::lend || !record.offer_id) return;
  if (ex.state == ExchangeState::accepted) {
    holds_repo::fulfil(tx, *record.offer_id, ex.receiver_id, ex.id, now_s);
  } else if (ex.state == ExchangeState::cancelled || ex.state == ExchangeState::expired) {
    holds_repo::reopen(tx, ex.id);
  }
}

void note_listing_title(pqxx::work& tx, const std::string& listing_id, const std::string& title,
                        std::optional<int64_t> revision) {
  exec_cached(tx, kNoteTitle, listing_id, title, revision);
}

bool has_holds(pqxx::work& tx, const std::string& offer_id) {
  return holds_repo::queue_length(tx, offer_id) > 0;
}

int64_t due_on_open_day(pqxx::work& tx, const std::string& site_id, int64_t due_s) {
  const auto hours = structured_hours(tx, site_id);
  if (!hours) return due_s;
  for (const auto& day : exec_cached(tx, kCandidateDays, due_s, kOpenDaySearchDays)) {
    if (open_on(*hours, day[0].c_str(), day[1].as<int>())) return day[2].as<int64_t>();
  }
  return due_s;
}

Answer<Hold> HoldUseCases::join(const Identity& who, const std::string& offer_id) {
  if (const auto refusal = ExchangeUseCases::exchanging_refusal(who);
      refusal != ExchangeRefusal::none) {
    return hold_refused<Hold>(refusal);
  }
  if (!is_uuid(offer_id)) return hold_refused<Hold>(ExchangeRefusal::not_found);
  return s_.db.transact([&](pqxx::work& tx) -> Answer<Hold> {
    const auto offer = repo::find_listing(tx, offer_id);
    if (!offer || offer->side != "offer" || offer->community_id != who.community_id) {
      return hold_refused<Hold>(ExchangeRefusal::not_found);
    }
    if (offer->mode.value_or("") != "lend")
      return hold_refused<Hold>(ExchangeRefusal::hold_not_lendable);
    if (offer->status != "active") return hold_refused<Hold>(ExchangeRefusal::listing_unavailable);
    if (offer->member_id == who.member_id)
      return hold_refused<Hold>(ExchangeRefusal::hold_own_object);
    const auto borrower = holds_repo::running_loan_borrower(tx, offer_id);
    if (borrower && *borrower == who.member_id) {
      return hold_refused<Hold>(ExchangeRefusal::hold_borrowing);
    }
    if (!borrower && !has_holds(tx, offer_id)) {
      return hold_refused<Hold>(ExchangeRefusal::hold_not_on_loan);
    }
    auto hold = holds_repo::insert_hold(tx, offer_id, who.member_id, who.community_id, w_->now_s());
    if (!hold) return hold_refused<Hold>(ExchangeRefusal::hold_duplicate);
    Answer<Hold> answer;
    answer.value = std::move(*hold);
    return answer;
  });
}

Answer<HoldQueue> HoldUseCases::queue(const Identity& who, const std::string& offer_id) {
  if (!is_uuid(offer_id)) return hold_refused<HoldQueue>(ExchangeRefusal::not_found);
  return s_.db.transact([&](pqxx::work& tx) -> Answer<HoldQueue> {
    const auto offer = repo::find_listing(tx, offer_id);
    if (!offer || offer->side != "offer" || offer->community_id != who.community_id) {
      return hold_refused<HoldQueue>(ExchangeRefusal::not_found);
    }
    Answer<HoldQueue> answer;
    HoldQueue& q = answer.value;
    q.offer_id = offer_id;
    q.length = holds_repo::queue_length(tx, offer_id);
    q.whole =
        offer->member_id == who.member_id || (offer->site_id && who.is_staff_of(*offer->site_id));
    for (Hold& hold : holds_repo::queue(tx, offer_id, kHoldQueueShownMax)) {
      if (q.whole || hold.member_id == who.member_id) q.items.push_back(std::move(hold));
    }
    return answer;
  });
}

Answer<std::vector<Hold>> HoldUseCases::mine(const Identity& who) {
  return s_.db.transact([&](pqxx::work& tx) {
    Answer<std::vector<Hold>> answer;
    answer.value = holds_repo::holds_of_member(tx, who.member_id, kHoldQueueShownMax);
    return answer;
  });
}

// The member leaves the queue (staff acting for them too); a ready hold left early hands the
// object on to the next at the job's next run.
Answer<bool> HoldUseCases::leave(const Identity& who, const std::string& hold_id) {
  if (!is_uuid(hold_id)) return hold_refused<bool>(ExchangeRefusal::not_found);
  return s_.db.transact([&](pqxx::work& tx) -> Answer<bool> {
    const auto hold = holds_repo::find_hold(tx, hold_id, true);
    if (!hold || hold->member_id != who.member_id)
      return hold_refused<bool>(ExchangeRefusal::not_found);
    if (hold->state == "waiting" || hold->state == "ready") {
      holds_repo::end_hold(tx, hold->id, "cancelled", w_->now_s());
    }
    Answer<bool> answer;
    answer.value = true;
    return answer;
  });
}

}  // namespace maillon::exchange
