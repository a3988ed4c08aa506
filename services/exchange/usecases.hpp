// The exchange service's use cases behind HTTP: each takes a typed input and the caller's
// identity, runs the rules and the repository calls in one transaction (the exchange's row
// locked for a transition, so two concurrent accepts or confirmations serialise), and returns a
// typed result. No HTTP and no words here: refusals are codes (ExchangeRefusal, or the domain's
// ExchangeOutcome), put into words by services/exchange/messages.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "exchange/exchange_flow.hpp"
#include "exchange/policy.hpp"
#include "exchange/validation.hpp"
#include "services/exchange/desk_items.hpp"
#include "services/exchange/exchange_service.hpp"

namespace maillon::exchange {

// Why a use case refused (the workflow's own refusals are ExchangeOutcome). `none`: no refusal.
enum class ExchangeRefusal {
  none,
  not_found,            // no exchange the caller may see under that id
  membership_pending,   // the membership awaits approval: browse, not exchange
  member_suspended,     // the caller (or whom staff act for) is suspended
  party_to_exchange,    // staff who are a party acting for the other side
  unknown_offer,        // offer_id names no active offer of the community
  unknown_request,      // request_id names no request of the community
  listing_unavailable,  // the listing is no longer active
  depot_item,           // a depot item is reserved at the depot, not by an exchange
  unknown_match,        // match_id names no match
  listings_mismatch,    // match_id and the listings named disagree
  only_parties_open,    // a third person opening an exchange between two others
  own_listing,          // provider and receiver would be the same member
  unknown_site,         // site_id names no site of the caller's community
  proposal_invalid,     // the domain refused the proposal (its field errors say why)
  not_a_rating_party,   // only the parties rate
  rating_too_early,     // an exchange is rated once completed
  already_rated,        // one rating per party
  desk_staff_only,      // a site's desk is for its staff
  body_invalid,         // the body, read once the exchange was visible, was refused
  // Refusals of the input, found while reading it.
  listing_required,        // none of offer_id, request_id, match_id
  scheduled_at_invalid,    // scheduled_at not an RFC 3339 date
  cursor_invalid,          // a cursor this service did not give
  state_filter_unknown,    // ?state= names no state
  role_filter_unknown,     // ?role= neither provider nor receiver
  outcome_unknown,         // a resolution's outcome neither post, void nor partial
  partial_needs_minutes,   // a partial resolution without minutes
  minutes_only_partial,    // minutes with another outcome
  message_body_missing,    // a message without body
  message_body_empty,      // a message whose body is empty
  rating_invalid,          // the domain refused the stars or the comment (field errors)
  notification_parameter,  // a notifications query parameter that is not a positive integer
  access_token_in_url,     // a session token in an SSE stream's address
  stream_ticket_invalid,   // an SSE ticket unknown, expired or used
  // Loans, bookings, swaps, services.
  overdue_loan,            // the borrower has a late loan (member to member or at the depot)
  booking_conflict,        // the dates overlap an accepted booking of the same object
  capacity_reached,        // a service offer runs as many exchanges as its capacity
  listing_reserved,        // a give or swap listing another running exchange holds already
  date_invalid,            // starts_at / due_at not an RFC 3339 date
  loan_dates_invalid,      // the domain refused a loan's dates (field errors)
  given_offer_invalid,     // given_offer_id names no active listing of the proposer
  given_offer_required,    // a swap names what the proposer gives
  no_show_member_missing,  // a no-show without member_id
  calendar_range_invalid,  // ?from= / ?to= missing, not RFC 3339, or from after to / too long
  calendar_token_invalid,  // a feed token unknown or revoked
  // Holds (holds.hpp).
  held_for_another,    // the object waits for the first of its queue (pick-up window)
  first_in_queue,      // held_for_another, told to that first member while the object is out
  renewal_hold_queue,  // a renewal while another member holds the object
  hold_not_lendable,   // a hold on an offer that is not a loan
  hold_own_object,     // a hold on the caller's own object
  hold_not_on_loan,    // the object is free: borrow it instead
  hold_duplicate,      // the caller is already in the object's queue
  hold_borrowing,      // the caller has the object on loan already
  // Across communities (issue 23).
  no_federation_link,  // the two communities have no active link (none, proposed, suspended)
  federation_limit,    // the payment would take the link past one of its limits
  // With a partner installation's member (partner_exchanges.hpp): what is not taken there (a
  // swap, a message, a rating, a dispute, a renewal) on a mirror or a partner's offer.
  partner_exchange,
};
// The last code: the message table's test walks every code up to it (keep it last).
inline constexpr ExchangeRefusal kLastExchangeRefusal = ExchangeRefusal::partner_exchange;

// The body of POST /v1/exchanges, as read.
struct ProposalInput {
  std::optional<std::string> offer_id, request_id, match_id, site_id, scheduled_at, message;
  std::optional<std::string> starts_at, due_at, given_offer_id;
  std::optional<int64_t> minutes;
};

// The commands that move an existing exchange.
enum class ExchangeAction {
  accept,
  decline,
  cancel,
  complete,
  dispute,
  resolve,
  handover,
  give_back,  // POST …/return
  renew,
  renew_accept,
  lost,
  no_show
};

// What an action needs beyond the exchange: a dispute's reason, a resolution. `body_valid` is
// false when its body was refused: the refusal is told only to who may see the exchange.
struct ActionInput {
  bool body_valid = true;
  std::string dispute_reason;
  Resolution resolution;
  int64_t due_at_s = 0;          // renew
  std::string absent_member_id;  // no-show
  int64_t scheduled_s = 0;       // no-show: set by the use case from the exchange
};

// An offer's busy ranges between two dates.
struct CalendarQuery {
  std::string offer_id;
  int64_t from_s = 0, to_s = 0;
};

// The member's feed: its address, and what it lists.
struct CalendarFeed {
  std::string member_id;
  std::vector<ExchangeRecord> exchanges;
};

struct ExchangeView {
  ExchangeRecord record;
  CommunityPolicy policy;
  // The action was sent to the partner installation where the exchange lives (a mirror's): the
  // record is as before it, the change comes later (202).
  bool relayed = false;
};

// A result: a refusal of the use case, else the workflow's outcome, else the value.
template <class T>
struct Answer {
  ExchangeRefusal refusal = ExchangeRefusal::none;
  ExchangeOutcome outcome = ExchangeOutcome::ok;
  FieldErrors errors;  // with proposal_invalid: the domain's field errors
  T value{};
};

struct DeskView {
  CommunityPolicy policy;
  std::vector<ExchangeRecord> due_today, disputed, overdue;
  DeskItems shelf;  // reservers named
};

class ExchangeUseCases {
 public:
  ExchangeUseCases(Service& service, std::shared_ptr<Workflow> workflow)
      : s_(service), w_(std::move(workflow)) {}

  // Who may exchange, answered before the body is read (a 403 comes before a 400).
  static ExchangeRefusal exchanging_refusal(const Identity& who);

  Answer<ExchangeView> propose(const Identity& who, ProposalInput in);
  Answer<ExchangeView> get(const Identity& who, const std::string& id);
  // The caller's exchanges (filter.member_id is set here).
  Answer<std::vector<ExchangeView>> list(const Identity& who, repo::ListFilter filter);
  // `as_staff`: a party who is also staff of the site acts as staff (resolution).
  Answer<ExchangeView> act(const Identity& who, const std::string& id, ExchangeAction action,
                           const ActionInput& input);
  // The same in the caller's transaction (a partner installation's action, from a consumer).
  Answer<ExchangeView> act_in(pqxx::work& tx, const Identity& who, const std::string& id,
                              ExchangeAction action, const ActionInput& input);
  Answer<Json> post_message(const Identity& who, const std::string& id, const std::string& text);
  // `cursor`: the raw text a previous page gave.
  Answer<std::vector<Json>> list_messages(const Identity& who, const std::string& id,
                                          const std::string& cursor, int limit);
  Answer<Json> rate(const Identity& who, const std::string& id, int32_t stars,
                    const std::string& comment);
  Answer<DeskView> desk(const Identity& who, const std::string& site_id);
  // GET /v1/offers/{id}/calendar: any member of the offer's community.
  Answer<std::vector<BusyRange>> offer_calendar(const Identity& who, const CalendarQuery& query);
  // GET /v1/me/calendar: the member's feed token (made on first use); revoke makes the next one.
  Answer<std::string> calendar_token(const Identity& who);
  void revoke_calendar(const Identity& who);
  // GET /v1/me/calendar.ics?token=: no session, the token is the key.
  Answer<CalendarFeed> calendar_feed(const std::string& token);

 private:
  Service& s_;
  std::shared_ptr<Workflow> w_;
};

// The seq a messages or exchanges cursor holds; nullopt for none, cursor_invalid when altered.
std::optional<int64_t> seq_of_cursor(const std::string& cursor, ExchangeRefusal& refusal);

}  // namespace maillon::exchange
