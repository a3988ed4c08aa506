// The exchange service's use cases (see usecases.hpp): who may act, the workflow command each
// route runs, and what it stores and publishes.
#include "services/exchange/usecases.hpp"

#include <exception>
#include <map>
#include <pqxx/pqxx>

#include "services/common/auth.hpp"
#include "services/common/db.hpp"
#include "services/common/ids.hpp"
#include "services/common/json_body.hpp"
#include "services/common/service.hpp"
#include "services/common/time.hpp"
#include "services/exchange/holds.hpp"
#include "services/exchange/listing_lookup.hpp"
#include "services/exchange/partner_exchanges.hpp"

namespace maillon::exchange {
namespace {

template <class T>
Answer<T> refused(ExchangeRefusal refusal) {
  Answer<T> answer;
  answer.refusal = refusal;
  return answer;
}

bool is_party(const Exchange& ex, const std::string& member_id) {
  return member_id == ex.provider_id || member_id == ex.receiver_id;
}

// Staff of its site see an exchange; of its desk site when it has none (desk_site).
bool is_staff_for(const Identity& who, const Exchange& ex) {
  const std::string& site = desk_site(ex);
  return !site.empty() && who.is_staff_of(site);
}

bool can_see(const Identity& who, const Exchange& ex) {
  return is_party(ex, who.member_id) || is_staff_for(who, ex);
}

// Who acts, as the workflow sees it. `as_staff`: a party who is also staff of the site acts as
// staff (resolution); otherwise a party acts as a party.
ExchangeActor actor_for(const Identity& who, const Exchange& ex, bool as_staff) {
  if (!who.acting_staff_id.empty())
    return ExchangeActor::staff_for(who.acting_staff_id, who.member_id);
  const bool staff = is_staff_for(who, ex);
  if (staff && (as_staff || !is_party(ex, who.member_id)))
    return ExchangeActor::staff(who.member_id);
  return ExchangeActor::member(who.member_id);
}

// Staff who are a party never act for the other side of their own exchange (they would write,
// confirm or rate in the counterpart's name).
bool acts_across(const Identity& who, const std::string& provider_id,
                 const std::string& receiver_id) {
  const std::string& staff = who.acting_staff_id;
  if (staff.empty() || staff == who.member_id) return false;
  return staff == provider_id || staff == receiver_id;
}

// An exchange the caller may see, or nullopt (404 alike for unknown and hidden).
std::optional<ExchangeRecord> visible(pqxx::transaction_base& tx, const Identity& who,
                                      const std::string& id, bool lock) {
  if (!is_uuid(id)) return std::nullopt;
  auto record = repo::find_exchange(tx, id, lock);
  if (!record || !can_see(who, record->exchange)) return std::nullopt;
  return record;
}

ExchangeResult run_action(Exchange& ex, const ExchangeActor& actor, const CommunityPolicy& policy,
                          int64_t now_s, ExchangeAction action, const ActionInput& input) {
  switch (action) {
    case ExchangeAction::accept:
      return accept_exchange(ex, actor, policy, now_s);
    case ExchangeAction::decline:
      return decline_exchange(ex, actor, now_s);
    case ExchangeAction::cancel:
      return cancel_exchange(ex, actor, now_s);
    case ExchangeAction::complete:
      return confirm_completion(ex, actor, now_s);
    case ExchangeAction::dispute:
      return dispute_exchange(ex, actor, input.dispute_reason, now_s);
    case ExchangeAction::resolve:
      return resolve_dispute(ex, actor, input.resolution, now_s);
    case ExchangeAction::handover:
      return confirm_handover(ex, actor, now_s);
    case ExchangeAction::give_back:
      return confirm_return(ex, actor, now_s);
    case ExchangeAction::renew:
      return request_renewal(ex, actor, input.due_at_s, policy.max_renewals, now_s);
    case ExchangeAction::renew_accept:
      return accept_renewal(ex, actor, now_s);
    case ExchangeAction::lost:
      return declare_lost(ex, actor, now_s);
    case ExchangeAction::no_show:
      return record_no_show(ex, actor, input.absent_member_id, input.scheduled_s, now_s);
  }
  throw std::logic_error("an exchange action without a command");
}

// The event an action publishes: a step that leaves the state as it was still has its name.
std::string event_for(ExchangeAction action, ExchangeState before, const Exchange& ex) {
  switch (action) {
    case ExchangeAction::renew:
      return "exchange.renewal_requested";
    case ExchangeAction::renew_accept:
      return "exchange.renewed";
    case ExchangeAction::give_back:
      return ex.state == ExchangeState::completed ? "exchange.completed" : "exchange.returned";
    default:
      return transition_event_type(before, ex.state);
  }
}

ListingMode mode_of(const std::optional<ListingCopy>& offer) {
  if (!offer || !offer->mode) return ListingMode::give;
  return parse_listing_mode(*offer->mode).value_or(ListingMode::give);
}

// The instant a no-show is judged against: the loan's start, else the agreed time.
int64_t scheduled_s(const ExchangeRecord& record) {
  if (record.exchange.starts_at_s != 0) return record.exchange.starts_at_s;
  if (!record.scheduled_at) return 0;
  return parse_rfc3339_s(*record.scheduled_at).value_or(0);
}

// Across communities: the link must be active, and its headroom (the ledger's advice, checked
// again under its lock when the hold is made) must take what the exchange will hold.
ExchangeRefusal federation_refusal(pqxx::work& tx, const std::string& payer_community_id,
                                   const std::string& payee_community_id, int64_t held_minutes) {
  const auto link = repo::federation_headroom(tx, payer_community_id, payee_community_id);
  if (!link || link->state != "active") return ExchangeRefusal::no_federation_link;
  if (held_minutes > 0 && link->headroom_minutes < held_minutes) {
    return ExchangeRefusal::federation_limit;
  }
  return ExchangeRefusal::none;
}

// The listings an accepted exchange reserves (services/offers/consumers.cpp): a given object's,
// and both of a swap. Loans keep apart by their bookings, services by their capacity.
std::vector<std::string> listings_reserved_by(const ExchangeRecord& record,
                                              const std::optional<ListingCopy>& offer) {
  const ListingMode mode = mode_of(offer);
  if (!offer || (mode != ListingMode::give && mode != ListingMode::swap)) return {};
  std::vector<std::string> ids = {offer->id};
  if (!record.exchange.given_offer_id.empty()) ids.push_back(record.exchange.given_offer_id);
  return ids;
}

// What accepting (or renewing) a loan or a service asks beyond the workflow: the borrower has no
// late loan, the object's dates are free (the exclusion constraint judges), a service has room,
// a given object is not promised to another running exchange: its listing is released when that
// one ends, and would then show free while this one still runs (issue 21).
ExchangeRefusal accept_checks(pqxx::work& tx, const ExchangeRecord& record, ExchangeAction action,
                              const std::optional<ListingCopy>& offer) {
  const Exchange& ex = record.exchange;
  if (ex.mode == ListingMode::lend && action == ExchangeAction::accept &&
      repo::has_late_loan(tx, ex.receiver_id)) {
    return ExchangeRefusal::overdue_loan;
  }
  const bool renews = action == ExchangeAction::renew || action == ExchangeAction::renew_accept;
  if (ex.mode == ListingMode::lend && renews && record.offer_id &&
      has_holds(tx, *record.offer_id)) {
    return ExchangeRefusal::renewal_hold_queue;  // libraries refuse a renewal with a queue
  }
  const bool books = action == ExchangeAction::accept || action == ExchangeAction::renew_accept;
  if (ex.mode == ListingMode::lend && books && record.offer_id &&
      !repo::book(tx, ex.id, *record.offer_id, ex.receiver_id, ex.starts_at_s, ex.due_at_s)) {
    return ExchangeRefusal::booking_conflict;
  }
  if (ex.mode == ListingMode::service && action == ExchangeAction::accept && offer &&
      offer->capacity && repo::running_exchanges_on(tx, offer->id, ex.id) >= *offer->capacity) {
    return ExchangeRefusal::capacity_reached;
  }
  if (action == ExchangeAction::accept &&
      repo::exchanges_holding(tx, listings_reserved_by(record, offer), ex.id) > 0) {
    return ExchangeRefusal::listing_reserved;
  }
  if (action == ExchangeAction::accept && record.partner_community_id && !record.mirror) {
    // The link may have been suspended, or filled by other exchanges, since the proposal (a
    // mirror's payer is at the partner installation, whose ledger checks it).
    const PaymentCommunities sides = payment_communities(record);
    return federation_refusal(tx, sides.payer, sides.payee, ex.minutes + ex.deposit_minutes);
  }
  return ExchangeRefusal::none;
}

// A service that runs as many exchanges as its capacity turns a new proposal away at once
// rather than let it wait for an accept that would be refused. Counted without a lock: the
// accept counts again under the offer's lock (accept_checks), and that count decides.
bool service_full(pqxx::work& tx, const std::optional<ListingCopy>& offer) {
  return offer && offer->capacity && mode_of(offer) == ListingMode::service &&
         repo::running_exchanges_seen(tx, offer->id) >= *offer->capacity;
}

// The parties and listings of a new exchange, from what the caller named.
struct Parties {
  std::string provider_id, receiver_id, community_id;
  std::optional<ListingCopy> offer, request;
  // The caller's community when the listing is a linked community's (issue 23).
  std::optional<std::string> partner_community_id;
  // A partner installation's offer: that installation (partner_exchanges.hpp).
  std::optional<std::string> partner_url;
};

// A listing a member of another community may name: one its owner let cross (federation or
// public). Whether the two communities are linked is asked of the ledger afterwards.
bool may_name(const ListingCopy& l, const Identity& who) {
  return l.community_id == who.community_id || l.visibility != "community";
}

std::optional<ListingCopy> listing(pqxx::work& tx, const std::optional<std::string>& id,
                                   const char* side, const Identity& who,
                                   ExchangeRefusal& refusal) {
  if (!id) return std::nullopt;
  auto l = repo::find_listing(tx, *id);
  if (!l) l = listing_from_owner(tx, *id, side);  // its event may not have come yet
  // A partner installation's offer (issue 23): the exchange then lives here.
  if (!l && std::string_view(side) == "offer") l = partner_offer_copy(tx, *id);
  if (!l || l->side != side || !may_name(*l, who)) {
    refusal = std::string_view(side) == "offer" ? ExchangeRefusal::unknown_offer
                                                : ExchangeRefusal::unknown_request;
  } else if (l->status != "active") {
    refusal = ExchangeRefusal::listing_unavailable;
  } else if (l->site_id && l->member_id == *l->site_id) {
    // A depot item is owned by its site (member_id = site_id): it is reserved at the depot
    // (POST /v1/items/{id}/reserve), never through an exchange nobody could accept.
    refusal = ExchangeRefusal::depot_item;
  }
  return l;
}

ExchangeRefusal name_parties(pqxx::work& tx, ProposalInput& in, const Identity& who, Parties& p) {
  if (in.match_id) {
    auto match = repo::find_match(tx, *in.match_id);
    if (!match) match = match_from_owner(tx, *in.match_id);  // its event may not have come yet
    if (!match) return ExchangeRefusal::unknown_match;
    if ((in.offer_id && *in.offer_id != match->first) ||
        (in.request_id && *in.request_id != match->second)) {
      return ExchangeRefusal::listings_mismatch;
    }
    in.offer_id = match->first;
    in.request_id = match->second;
  }
  ExchangeRefusal refusal = ExchangeRefusal::none;
  p.offer = listing(tx, in.offer_id, "offer", who, refusal);
  if (refusal != ExchangeRefusal::none) return refusal;
  p.request = listing(tx, in.request_id, "request", who, refusal);
  if (refusal != ExchangeRefusal::none) return refusal;
  if (p.offer && p.offer->partner_url) {
    // Taken up from here by its receiver alone, the money going through the link's saga; no
    // swap (a listing of ours given in return).
    // A match pairs it with the caller's own request (matching indexes partners' offers).
    const bool own_request =
        p.request && !p.request->partner_url && p.request->member_id == who.member_id;
    if ((p.request && !own_request) || p.offer->mode == std::optional<std::string>("swap"))
      return ExchangeRefusal::partner_exchange;
    p.partner_url = p.offer->partner_url;
  }
  p.provider_id = p.offer ? p.offer->member_id : who.member_id;
  p.receiver_id = p.request ? p.request->member_id : who.member_id;
  const bool caller_is_party = who.member_id == p.provider_id || who.member_id == p.receiver_id;
  if (p.offer && p.request && !caller_is_party) return ExchangeRefusal::only_parties_open;
  if (p.provider_id == p.receiver_id) return ExchangeRefusal::own_listing;
  // The exchange belongs to the community of the listing proposed on (its policy applies): a
  // linked community's, when the caller named one (the caller's own listing, in a match, is not).
  p.community_id = who.community_id;
  for (const auto* l : {&p.offer, &p.request}) {
    if (*l && (*l)->community_id != who.community_id) p.community_id = (*l)->community_id;
  }
  if (p.community_id == who.community_id) return ExchangeRefusal::none;
  p.partner_community_id = who.community_id;
  // No row at all: as if the listing did not exist for this community.
  if (!repo::federation_headroom(tx, who.community_id, p.community_id)) {
    return p.offer && p.offer->community_id != who.community_id ? ExchangeRefusal::unknown_offer
                                                                : ExchangeRefusal::unknown_request;
  }
  return ExchangeRefusal::none;
}

struct Refusal {
  ExchangeRefusal refusal = ExchangeRefusal::none;
  FieldErrors errors;
};

// The proposal's mode from its offer, and what the mode brings: a loan's dates, deposit and
// cost (the policy's loan_cost, whatever the offer's price), a swap's listing given in return.
Refusal loan_terms(pqxx::work& tx, const ProposalInput& in, const Parties& p, const Identity& who,
                   const CommunityPolicy& policy, int64_t now_s, ExchangeProposal& proposal) {
  proposal.mode = mode_of(p.offer);
  // 0: not given (the parser refused any text that is not a date).
  const int64_t starts = in.starts_at ? parse_rfc3339_s(*in.starts_at).value_or(0) : 0;
  const int64_t due = in.due_at ? parse_rfc3339_s(*in.due_at).value_or(0) : 0;
  if (proposal.mode == ListingMode::lend) {
    FieldErrors errors = validate_loan_dates(starts, due, now_s);
    if (!errors.empty()) return {ExchangeRefusal::loan_dates_invalid, std::move(errors)};
    if (repo::has_late_loan(tx, p.receiver_id)) return {ExchangeRefusal::overdue_loan, {}};
    proposal.starts_at_s = starts;
    proposal.due_at_s = due;
    proposal.deposit_minutes = p.offer->deposit_minutes;
    proposal.minutes = policy.loan_cost;
  } else if (starts != 0 || due != 0) {
    return {ExchangeRefusal::loan_dates_invalid, {{"due_at", "seulement pour un prêt"}}};
  }
  if (proposal.mode == ListingMode::swap && who.member_id == p.receiver_id) {
    if (!in.given_offer_id) return {ExchangeRefusal::given_offer_required, {}};
    auto given = repo::find_listing(tx, *in.given_offer_id);
    if (!given || given->side != "offer" || given->member_id != who.member_id ||
        given->status != "active" || given->id == p.offer->id ||
        parse_listing_mode(given->mode.value_or("")) != ListingMode::swap) {
      return {ExchangeRefusal::given_offer_invalid, {}};
    }
    proposal.given_offer_id = given->id;
  } else if (in.given_offer_id) {
    return {ExchangeRefusal::given_offer_invalid, {}};
  }
  return {};
}

// The site of the exchange: the one named (in the caller's community), else a listing's.
std::optional<std::string> site_of(pqxx::work& tx, const ProposalInput& in, const Parties& p) {
  if (in.site_id) {
    auto community = repo::site_community(tx, *in.site_id);
    if (!community || *community != p.community_id) return std::nullopt;
    return *in.site_id;
  }
  if (p.offer && p.offer->site_id) return *p.offer->site_id;
  if (p.request && p.request->site_id) return *p.request->site_id;
  return std::string();
}

// Who settles an exchange with no site (Exchange::desk_site_id): the staff of the proposer's home
// site, else of the other party's, as long as it is a site of the exchange's community.
std::string desk_site_for(pqxx::work& tx, const Identity& who, const Parties& p) {
  if (who.community_id == p.community_id && !who.home_site_id.empty()) return who.home_site_id;
  const std::string& other = who.member_id == p.provider_id ? p.receiver_id : p.provider_id;
  return repo::home_site_in(tx, other, p.community_id).value_or(std::string());
}

}  // namespace

std::optional<int64_t> seq_of_cursor(const std::string& cursor, ExchangeRefusal& refusal) {
  refusal = ExchangeRefusal::none;
  if (cursor.empty()) return std::nullopt;
  try {
    return std::stoll(cursor);
  } catch (const std::exception&) {
    refusal = ExchangeRefusal::cursor_invalid;
    return std::nullopt;
  }
}

// A member whose membership awaits approval may browse and post listings, not exchange.
ExchangeRefusal ExchangeUseCases::exchanging_refusal(const Identity& who) {
  if (who.is_pending()) return ExchangeRefusal::membership_pending;
  if (who.status == "suspended") return ExchangeRefusal::member_suspended;
  return ExchangeRefusal::none;
}

Answer<ExchangeView> ExchangeUseCases::propose(const Identity& who, ProposalInput in) {
  if (const auto refusal = exchanging_refusal(who); refusal != ExchangeRefusal::none)
    return refused<ExchangeView>(refusal);
  return s_.db.transact([&](pqxx::work& tx) -> Answer<ExchangeView> {
    Parties p;
    if (const auto refusal = name_parties(tx, in, who, p); refusal != ExchangeRefusal::none)
      return refused<ExchangeView>(refusal);
    if (acts_across(who, p.provider_id, p.receiver_id))
      return refused<ExchangeView>(ExchangeRefusal::party_to_exchange);
    if (service_full(tx, p.offer)) return refused<ExchangeView>(ExchangeRefusal::capacity_reached);
    const int64_t price = p.offer ? p.offer->price_minutes : p.request->price_minutes;
    const auto site = site_of(tx, in, p);
    if (!site) return refused<ExchangeView>(ExchangeRefusal::unknown_site);
    ExchangeProposal proposal{new_uuid(),    *site,         p.provider_id,
                              p.receiver_id, who.member_id, in.minutes.value_or(price)};
    if (site->empty() && !p.partner_url) proposal.desk_site_id = desk_site_for(tx, who, p);
    const CommunityPolicy policy = repo::community_policy(tx, p.community_id);
    if (const auto refusal = loan_terms(tx, in, p, who, policy, w_->now_s(), proposal);
        refusal.refusal != ExchangeRefusal::none) {
      auto answer = refused<ExchangeView>(refusal.refusal);
      answer.errors = refusal.errors;
      return answer;
    }
    if (proposal.mode == ListingMode::lend) {
      if (const auto refusal = borrow_refusal(tx, p.offer->id, p.receiver_id);
          refusal != ExchangeRefusal::none) {
        return refused<ExchangeView>(refusal);
      }
      proposal.due_at_s = due_on_open_day(tx, *site, proposal.due_at_s);
    }
    if (in.scheduled_at) {  // the parser refused any text that is not a date
      FieldErrors errors =
          validate_scheduled_at(parse_rfc3339_s(*in.scheduled_at).value_or(0), w_->now_s());
      if (!errors.empty()) {
        auto answer = refused<ExchangeView>(ExchangeRefusal::proposal_invalid);
        answer.errors = std::move(errors);
        return answer;
      }
    }
    if (FieldErrors errors = validate_proposal(proposal); !errors.empty()) {
      auto answer = refused<ExchangeView>(ExchangeRefusal::proposal_invalid);
      answer.errors = std::move(errors);
      return answer;
    }
    if (p.partner_community_id) {
      // Every transfer of an exchange goes from its receiver to its provider.
      const bool receiver_here = proposal.receiver_id == who.member_id;
      const std::string& payer = receiver_here ? *p.partner_community_id : p.community_id;
      const std::string& payee = receiver_here ? p.community_id : *p.partner_community_id;
      const auto refusal =
          federation_refusal(tx, payer, payee, proposal.minutes + proposal.deposit_minutes);
      if (refusal != ExchangeRefusal::none) return refused<ExchangeView>(refusal);
    }
    const ExchangeActor actor = who.acting_staff_id.empty()
                                    ? ExchangeActor::member(who.member_id)
                                    : ExchangeActor::staff_for(who.acting_staff_id, who.member_id);
    ExchangeRecord record;
    record.exchange = open_exchange(proposal, actor, w_->now_s());
    record.community_id = p.community_id;
    record.partner_community_id = p.partner_community_id;
    record.partner_url = p.partner_url;
    record.offer_id = in.offer_id;
    record.request_id = in.request_id;
    record.match_id = in.match_id;
    record.scheduled_at = in.scheduled_at;
    if (proposal.mode == ListingMode::lend && !record.scheduled_at) {
      record.scheduled_at = format_rfc3339(proposal.starts_at_s);
    }
    record.message = in.message;
    repo::insert_exchange(tx, record);
    if (proposal.mode == ListingMode::lend) {
      link_hold_to_proposal(tx, p.offer->id, p.receiver_id, proposal.id);
    }
    auto stored = *repo::find_exchange(tx, proposal.id, false);
    w_->publish(tx, stored, "exchange.proposed");
    relay_state(s_, tx, stored);  // the owner's installation, for a partner's offer
    Answer<ExchangeView> answer;
    answer.value = {stored, policy};
    return answer;
  });
}

// A read: one statement outside a transaction (read_only), the exchange with its community's
// policy, where BEGIN, the two reads and COMMIT made four round trips. Clients poll this while a
// saga runs (script/load: four times an exchange).
Answer<ExchangeView> ExchangeUseCases::get(const Identity& who, const std::string& id) {
  return read_only(s_.db, [&](pqxx::transaction_base& tx) -> Answer<ExchangeView> {
    auto record = visible(tx, who, id, false);
    if (!record) return refused<ExchangeView>(ExchangeRefusal::not_found);
    Answer<ExchangeView> answer;
    answer.value = {*record, repo::community_policy(tx, *record)};
    return answer;
  });
}

Answer<std::vector<ExchangeView>> ExchangeUseCases::list(const Identity& who,
                                                         repo::ListFilter filter) {
  filter.member_id = who.member_id;
  return read_only(s_.db, [&](pqxx::transaction_base& tx) {
    Answer<std::vector<ExchangeView>> answer;
    // Each record comes with its community's policy; a page is mostly of one community, whose
    // policy is parsed once.
    std::map<std::string, CommunityPolicy> policies;
    for (auto& record : repo::list_exchanges(tx, filter)) {
      auto policy = policies.find(record.community_id);
      if (policy == policies.end()) {
        policy = policies.emplace(record.community_id, repo::community_policy(tx, record)).first;
      }
      answer.value.push_back({std::move(record), policy->second});
    }
    return answer;
  });
}

// Loads the exchange locked, lets the workflow move it, stores it with its effects. Accepting
// asks for a full member (not pending).
Answer<ExchangeView> ExchangeUseCases::act(const Identity& who, const std::string& id,
                                           ExchangeAction action, const ActionInput& input) {
  if (action == ExchangeAction::accept || action == ExchangeAction::renew) {
    if (const auto refusal = exchanging_refusal(who); refusal != ExchangeRefusal::none)
      return refused<ExchangeView>(refusal);
  }
  if (!is_uuid(id)) return refused<ExchangeView>(ExchangeRefusal::not_found);
  return s_.db.transact(
      [&](pqxx::work& tx) -> Answer<ExchangeView> { return act_in(tx, who, id, action, input); });
}

Answer<ExchangeView> ExchangeUseCases::act_in(pqxx::work& tx, const Identity& who,
                                              const std::string& id, ExchangeAction action,
                                              const ActionInput& input) {
  auto record = visible(tx, who, id, true);
  if (!record) return refused<ExchangeView>(ExchangeRefusal::not_found);
  const CommunityPolicy policy = repo::community_policy(tx, *record);
  if (!input.body_valid) return refused<ExchangeView>(ExchangeRefusal::body_invalid);
  // With a partner installation's member, what is not taken across (a dispute nobody here could
  // resolve, a renewal, a no-show, a loss) is refused on both sides.
  if (record->partner_url && !relayable(action))
    return refused<ExchangeView>(ExchangeRefusal::partner_exchange);
  const ExchangeState before = record->exchange.state;
  const bool as_staff = action == ExchangeAction::resolve || action == ExchangeAction::lost;
  ActionInput in = input;
  in.scheduled_s = scheduled_s(*record);
  if (action == ExchangeAction::renew) {
    in.due_at_s = due_on_open_day(tx, record->exchange.site_id, in.due_at_s);
  }
  // A mirror moves only when the exchange's installation says so: the action is tried on a
  // copy, so that what it would refuse is refused now, and sent there.
  Exchange tried = record->exchange;
  Exchange& moved = record->mirror ? tried : record->exchange;
  ExchangeResult result =
      run_action(moved, actor_for(who, moved, as_staff), policy, w_->now_s(), action, in);
  Answer<ExchangeView> answer;
  if (!result.ok()) {
    answer.outcome = result.outcome;
    return answer;
  }
  // Only an accept reads the offer (accept_checks): a service's capacity, what it reserves.
  const auto offer = action == ExchangeAction::accept && record->offer_id
                         ? repo::find_listing(tx, *record->offer_id)
                         : std::nullopt;
  if (const auto refusal = accept_checks(tx, *record, action, offer);
      refusal != ExchangeRefusal::none) {
    return refused<ExchangeView>(refusal);
  }
  if (record->mirror) {
    relay_act(s_, tx, *record, who, action);
    answer.value = {*record, policy, true};
    return answer;
  }
  w_->commit_transition(tx, *record, result, event_for(action, before, record->exchange));
  if (action == ExchangeAction::no_show) w_->publish(tx, *record, "exchange.no_show");
  answer.value = {*record, policy};
  return answer;
}

Answer<Json> ExchangeUseCases::post_message(const Identity& who, const std::string& id,
                                            const std::string& text) {
  return s_.db.transact([&](pqxx::work& tx) -> Answer<Json> {
    auto record = visible(tx, who, id, false);
    if (!record) return refused<Json>(ExchangeRefusal::not_found);
    if (record->partner_url) return refused<Json>(ExchangeRefusal::partner_exchange);
    if (acts_across(who, record->exchange.provider_id, record->exchange.receiver_id))
      return refused<Json>(ExchangeRefusal::party_to_exchange);
    Answer<Json> answer;
    answer.value =
        repo::insert_message(tx, record->exchange.id, who.member_id, who.acting_staff_id, text);
    w_->publish(tx, *record, "exchange.message",
                {{"message_id", answer.value["id"]}, {"author_id", who.member_id}});
    return answer;
  });
}

Answer<std::vector<Json>> ExchangeUseCases::list_messages(const Identity& who,
                                                          const std::string& id,
                                                          const std::string& cursor, int limit) {
  return s_.db.transact([&](pqxx::work& tx) -> Answer<std::vector<Json>> {
    auto record = visible(tx, who, id, false);
    if (!record) return refused<std::vector<Json>>(ExchangeRefusal::not_found);
    ExchangeRefusal refusal;
    const auto after_seq = seq_of_cursor(cursor, refusal);
    if (refusal != ExchangeRefusal::none) return refused<std::vector<Json>>(refusal);
    Answer<std::vector<Json>> answer;
    answer.value = repo::list_messages(tx, record->exchange.id, after_seq, limit);
    return answer;
  });
}

Answer<Json> ExchangeUseCases::rate(const Identity& who, const std::string& id, int32_t stars,
                                    const std::string& comment) {
  return s_.db.transact([&](pqxx::work& tx) -> Answer<Json> {
    auto record = visible(tx, who, id, false);
    if (!record) return refused<Json>(ExchangeRefusal::not_found);
    const Exchange& ex = record->exchange;
    if (record->partner_url) return refused<Json>(ExchangeRefusal::partner_exchange);
    if (acts_across(who, ex.provider_id, ex.receiver_id))
      return refused<Json>(ExchangeRefusal::party_to_exchange);
    switch (may_rate(ex, who.member_id, repo::has_rated(tx, ex.id, who.member_id))) {
      case RatingPermission::not_a_party:
        return refused<Json>(ExchangeRefusal::not_a_rating_party);
      case RatingPermission::invalid_state:
        return refused<Json>(ExchangeRefusal::rating_too_early);
      case RatingPermission::already_rated:
        return refused<Json>(ExchangeRefusal::already_rated);
      case RatingPermission::allowed:
        break;
    }
    const std::string rated = who.member_id == ex.provider_id ? ex.receiver_id : ex.provider_id;
    auto rating =
        repo::insert_rating(tx, ex.id, who.member_id, rated, stars, comment, who.acting_staff_id);
    if (!rating) return refused<Json>(ExchangeRefusal::already_rated);
    w_->publish(tx, *record, "exchange.rated",
                {{"rater_id", who.member_id}, {"rated_id", rated}, {"stars", stars}});
    Answer<Json> answer;
    answer.value = std::move(*rating);
    return answer;
  });
}

// Acting for a member keeps the caller's own staff sites (never the member's): the desk stays
// theirs while they serve someone at it.
Answer<DeskView> ExchangeUseCases::desk(const Identity& who, const std::string& site_id) {
  if (!is_uuid(site_id)) return refused<DeskView>(ExchangeRefusal::not_found);
  if (!who.is_staff_of(site_id)) return refused<DeskView>(ExchangeRefusal::desk_staff_only);
  Answer<DeskView> answer = s_.db.transact([&](pqxx::work& tx) {
    Answer<DeskView> in_tx;
    DeskView& view = in_tx.value;
    view.policy = repo::community_policy(tx, who.community_id);
    view.shelf = desk_items(tx, site_id);
    view.due_today = repo::desk_due_today(tx, site_id);
    view.disputed = repo::desk_disputed(tx, site_id);
    view.overdue = repo::desk_overdue(tx, site_id, w_->now_s());
    return in_tx;
  });
  name_reservers(answer.value.shelf.to_hand_out, s_.auth);  // outside the transaction: Redis
  return answer;
}

Answer<std::vector<BusyRange>> ExchangeUseCases::offer_calendar(const Identity& who,
                                                                const CalendarQuery& query) {
  if (!is_uuid(query.offer_id)) return refused<std::vector<BusyRange>>(ExchangeRefusal::not_found);
  return s_.db.transact([&](pqxx::work& tx) -> Answer<std::vector<BusyRange>> {
    auto offer = repo::find_listing(tx, query.offer_id);
    if (!offer || offer->side != "offer" || offer->community_id != who.community_id) {
      return refused<std::vector<BusyRange>>(ExchangeRefusal::not_found);
    }
    Answer<std::vector<BusyRange>> answer;
    answer.value =
        repo::busy_ranges(tx, query.offer_id, query.from_s, query.to_s, kCalendarRangesMax);
    return answer;
  });
}

Answer<std::string> ExchangeUseCases::calendar_token(const Identity& who) {
  Answer<std::string> answer;
  answer.value = s_.db.transact(
      [&](pqxx::work& tx) { return repo::calendar_token(tx, who.member_id, false); });
  return answer;
}

void ExchangeUseCases::revoke_calendar(const Identity& who) {
  s_.db.transact([&](pqxx::work& tx) { repo::revoke_calendar_token(tx, who.member_id); });
}

Answer<CalendarFeed> ExchangeUseCases::calendar_feed(const std::string& token) {
  return s_.db.transact([&](pqxx::work& tx) -> Answer<CalendarFeed> {
    auto member = token.empty() ? std::nullopt : repo::calendar_member(tx, token);
    if (!member) return refused<CalendarFeed>(ExchangeRefusal::calendar_token_invalid);
    Answer<CalendarFeed> answer;
    answer.value = {*member, repo::calendar_exchanges(tx, *member, kCalendarEventsMax)};
    return answer;
  });
}

}  // namespace maillon::exchange
