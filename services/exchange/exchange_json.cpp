// The JSON forms of an exchange: the stored document (the whole domain state, read back exactly),
// the API answer, and the data of exchange.* events.
#include <cstdio>
#include <ctime>

#include "services/exchange/exchange_service.hpp"

namespace maillon::exchange {
namespace {

Json nullable(const std::string& text) {
  return text.empty() ? Json(nullptr) : Json(text);
}

Json nullable(const std::optional<std::string>& text) {
  return text ? Json(*text) : Json(nullptr);
}

std::string_view outcome_name(ResolutionOutcome outcome) {
  switch (outcome) {
    case ResolutionOutcome::post:
      return "post";
    case ResolutionOutcome::void_hold:
      return "void";
    case ResolutionOutcome::partial:
      return "partial";
  }
  return "post";
}

// Only for stored documents, which the service wrote: an unknown name there is a bug.
ResolutionOutcome outcome_from_name(const std::string& name) {
  if (name == "post") return ResolutionOutcome::post;
  if (name == "void") return ResolutionOutcome::void_hold;
  if (name == "partial") return ResolutionOutcome::partial;
  throw std::runtime_error("stored exchange with an unknown resolution outcome");
}

ExchangeState state_of(const Json& j) {
  auto state = exchange_state_from_string(j.get<std::string>());
  if (!state) throw std::runtime_error("stored exchange with an unknown state");
  return *state;
}

Json resolution_json(const std::optional<Resolution>& resolution) {
  if (!resolution) return nullptr;
  return {{"outcome", outcome_name(resolution->outcome)},
          {"minutes", resolution->minutes},
          {"absent_member_id", nullable(resolution->absent_member_id)},
          {"note", nullable(resolution->note)}};
}

// Fields added after the first documents were stored: absent means empty.
std::string text_or_empty(const Json& j, const char* name) {
  auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// Fields of loans and swaps: absent in documents stored before them (a give, no dates).
void read_loan_fields(const Json& d, Exchange& ex) {
  if (auto mode = parse_listing_mode(text_or_empty(d, "mode"))) ex.mode = *mode;
  ex.starts_at_s = d.value("starts_at_s", int64_t{0});
  ex.due_at_s = d.value("due_at_s", int64_t{0});
  ex.deposit_minutes = d.value("deposit_minutes", int64_t{0});
  if (auto deposit = deposit_state_from_string(text_or_empty(d, "deposit"))) ex.deposit = *deposit;
  ex.renewals = d.value("renewals", int32_t{0});
  ex.requested_due_at_s = d.value("requested_due_at_s", int64_t{0});
  ex.provider_returned = d.value("provider_returned", false);
  ex.receiver_returned = d.value("receiver_returned", false);
  ex.staff_returned = d.value("staff_returned", false);
  ex.given_offer_id = text_or_empty(d, "given_offer_id");
  ex.no_show_member_id = text_or_empty(d, "no_show_member_id");
}

Json date_or_null(int64_t seconds) {
  return seconds == 0 ? Json(nullptr) : Json(format_rfc3339(seconds));
}

}  // namespace

Json exchange_document(const Exchange& ex) {
  Json history = Json::array();
  for (const auto& h : ex.history) {
    history.push_back({{"at_s", h.at_s},
                       {"from", to_string(h.state_from)},
                       {"to", to_string(h.state_to)},
                       {"actor", h.actor_member_id},
                       {"for", h.on_behalf_of_member_id},
                       {"note", h.note},
                       {"comment", h.comment}});
  }
  Json resolution = nullptr;
  if (ex.resolution) {
    resolution = {{"outcome", outcome_name(ex.resolution->outcome)},
                  {"minutes", ex.resolution->minutes},
                  {"absent", ex.resolution->absent_member_id},
                  {"note", ex.resolution->note}};
  }
  return {{"id", ex.id},
          {"site_id", ex.site_id},
          {"desk_site_id", ex.desk_site_id},
          {"provider_id", ex.provider_id},
          {"receiver_id", ex.receiver_id},
          {"proposer_id", ex.proposer_id},
          {"minutes", ex.minutes},
          {"state", to_string(ex.state)},
          {"proposed_at_s", ex.proposed_at_s},
          {"attempt", ex.attempt},
          {"provider_confirmed", ex.provider_confirmed},
          {"receiver_confirmed", ex.receiver_confirmed},
          {"staff_confirmed", ex.staff_confirmed},
          {"reason", ex.reason},
          {"dispute_reason", ex.dispute_reason},
          {"hold_lost", ex.hold_lost},
          {"resolution", resolution},
          {"history", history},
          {"mode", to_string(ex.mode)},
          {"starts_at_s", ex.starts_at_s},
          {"due_at_s", ex.due_at_s},
          {"deposit_minutes", ex.deposit_minutes},
          {"deposit", to_string(ex.deposit)},
          {"renewals", ex.renewals},
          {"requested_due_at_s", ex.requested_due_at_s},
          {"provider_returned", ex.provider_returned},
          {"receiver_returned", ex.receiver_returned},
          {"staff_returned", ex.staff_returned},
          {"given_offer_id", ex.given_offer_id},
          {"no_show_member_id", ex.no_show_member_id}};
}

Exchange exchange_from_document(const Json& d) {
  Exchange ex;
  ex.id = d.at("id").get<std::string>();
  ex.site_id = d.at("site_id").get<std::string>();
  ex.desk_site_id = d.value("desk_site_id", std::string());  // absent from older documents
  ex.provider_id = d.at("provider_id").get<std::string>();
  ex.receiver_id = d.at("receiver_id").get<std::string>();
  ex.proposer_id = d.at("proposer_id").get<std::string>();
  ex.minutes = d.at("minutes").get<int64_t>();
  ex.state = state_of(d.at("state"));
  ex.proposed_at_s = d.at("proposed_at_s").get<int64_t>();
  ex.attempt = d.at("attempt").get<int32_t>();
  ex.provider_confirmed = d.at("provider_confirmed").get<bool>();
  ex.receiver_confirmed = d.at("receiver_confirmed").get<bool>();
  ex.staff_confirmed = d.at("staff_confirmed").get<bool>();
  ex.reason = d.at("reason").get<std::string>();
  ex.dispute_reason = text_or_empty(d, "dispute_reason");
  ex.hold_lost = d.value("hold_lost", false);
  if (const Json& r = d.at("resolution"); !r.is_null()) {
    ex.resolution = Resolution{outcome_from_name(r.at("outcome").get<std::string>()),
                               r.at("minutes").get<int64_t>(), r.at("absent").get<std::string>(),
                               text_or_empty(r, "note")};
  }
  for (const Json& h : d.at("history")) {
    ex.history.push_back({h.at("at_s").get<int64_t>(), state_of(h.at("from")), state_of(h.at("to")),
                          h.at("actor").get<std::string>(), h.at("for").get<std::string>(),
                          h.at("note").get<std::string>(), text_or_empty(h, "comment")});
  }
  read_loan_fields(d, ex);
  // A stored exchange that breaks the workflow's invariants is a bug: stop here, not later.
  if (!exchange_invariants_hold(ex)) throw std::runtime_error("stored exchange breaks invariants");
  return ex;
}

Json exchange_api_json(const ExchangeRecord& record, const CommunityPolicy& policy) {
  const Exchange& ex = record.exchange;
  Json history = Json::array();
  for (const auto& h : ex.history) {
    history.push_back({{"at", format_rfc3339(h.at_s)},
                       {"from", to_string(h.state_from)},
                       {"state", to_string(h.state_to)},
                       {"actor_id", nullable(h.actor_member_id)},
                       {"on_behalf_of", nullable(h.on_behalf_of_member_id)},
                       {"note", h.note},
                       {"comment", nullable(h.comment)}});
  }
  const bool waiting = ex.state == ExchangeState::proposed;
  return {{"id", ex.id},
          {"state", to_string(ex.state)},
          {"community_id", record.community_id},
          // Across communities (issue 23): the proposer's, when it is not the listing's.
          {"partner_community_id", nullable(record.partner_community_id)},
          // With a partner installation's member: that installation (issue 23).
          {"partner_url", nullable(record.partner_url)},
          {"provider_id", ex.provider_id},
          {"receiver_id", ex.receiver_id},
          {"proposer_id", ex.proposer_id},
          {"minutes", ex.minutes},
          {"site_id", nullable(ex.site_id)},
          {"offer_id", nullable(record.offer_id)},
          {"request_id", nullable(record.request_id)},
          {"match_id", nullable(record.match_id)},
          {"scheduled_at", nullable(record.scheduled_at)},
          {"message", nullable(record.message)},
          {"reason", nullable(ex.reason)},
          {"dispute_reason", nullable(ex.dispute_reason)},
          {"hold_lost", ex.hold_lost},
          {"attempt", ex.attempt},
          {"transfer_id",
           ex.attempt > 0 && ex.minutes > 0 ? Json(current_transfer_id(ex)) : Json(nullptr)},
          {"confirmations",
           {{"provider", ex.provider_confirmed},
            {"receiver", ex.receiver_confirmed},
            {"staff", ex.staff_confirmed}}},
          {"resolution", resolution_json(ex.resolution)},
          {"proposed_at", format_rfc3339(ex.proposed_at_s)},
          {"expires_at",
           waiting ? Json(format_rfc3339(proposal_expires_at_s(ex, policy))) : Json(nullptr)},
          {"updated_at", record.updated_at},
          {"history", history},
          {"mode", to_string(ex.mode)},
          {"starts_at", date_or_null(ex.starts_at_s)},
          {"due_at", date_or_null(ex.due_at_s)},
          {"deposit_minutes", ex.deposit_minutes},
          {"deposit_state", to_string(ex.deposit)},
          {"renewals", ex.renewals},
          {"max_renewals", policy.max_renewals},
          {"requested_due_at", date_or_null(ex.requested_due_at_s)},
          {"returns",
           {{"provider", ex.provider_returned},
            {"receiver", ex.receiver_returned},
            {"staff", ex.staff_returned}}},
          {"given_offer_id", nullable(ex.given_offer_id)},
          {"no_show_member_id", nullable(ex.no_show_member_id)}};
}

Json exchange_event_data(const ExchangeRecord& record) {
  const Exchange& ex = record.exchange;
  Json data = {{"exchange_id", ex.id},
               {"state", to_string(ex.state)},
               {"offer_id", nullable(record.offer_id)},
               {"request_id", nullable(record.request_id)},
               {"match_id", nullable(record.match_id)},
               {"provider_id", ex.provider_id},
               {"receiver_id", ex.receiver_id},
               {"proposer_id", ex.proposer_id},
               {"minutes", ex.minutes},
               {"site_id", nullable(ex.site_id)},
               {"mode", to_string(ex.mode)}};
  if (!ex.desk_site_id.empty()) data["desk_site_id"] = ex.desk_site_id;
  if (ex.mode == ListingMode::lend) {
    data["starts_at"] = date_or_null(ex.starts_at_s);
    data["due_at"] = date_or_null(ex.due_at_s);
    data["deposit_minutes"] = ex.deposit_minutes;
    data["renewals"] = ex.renewals;
    if (ex.requested_due_at_s != 0)
      data["requested_due_at"] = format_rfc3339(ex.requested_due_at_s);
  }
  if (!ex.given_offer_id.empty()) data["given_offer_id"] = ex.given_offer_id;
  if (record.partner_community_id) data["partner_community_id"] = *record.partner_community_id;
  if (!ex.no_show_member_id.empty()) data["no_show_member_id"] = ex.no_show_member_id;
  // What consumers need to tell outcomes apart: who cancelled (reliability), how a dispute was
  // resolved (listings freed or closed), what the disputing party said.
  if (ex.state == ExchangeState::cancelled) {
    const std::string by = cancelled_by(ex);
    data["cancelled_by"] = by.empty() ? std::string(kCancelledBySystem) : by;
  }
  if (ex.resolution) data["resolution"] = resolution_json(ex.resolution);
  if (!ex.dispute_reason.empty()) data["dispute_reason"] = ex.dispute_reason;
  return data;
}

}  // namespace maillon::exchange
