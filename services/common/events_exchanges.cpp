#include "services/common/events_exchanges.hpp"

#include "services/common/event_fields.hpp"

namespace maillon {
namespace {

using T = ExchangeEventType;
constexpr EnumName<T> kTypes[] = {
    {T::proposed, "exchange.proposed"},   {T::accepting, "exchange.accepting"},
    {T::accepted, "exchange.accepted"},   {T::confirmed, "exchange.confirmed"},
    {T::refused, "exchange.refused"},     {T::completing, "exchange.completing"},
    {T::completed, "exchange.completed"}, {T::declined, "exchange.declined"},
    {T::cancelled, "exchange.cancelled"}, {T::abandoned, "exchange.abandoned"},
    {T::expired, "exchange.expired"},     {T::disputed, "exchange.disputed"},
    {T::resolved, "exchange.resolved"},   {T::message, "exchange.message"},
    {T::rated, "exchange.rated"},         {T::handed_over, "exchange.handed_over"},
    {T::returned, "exchange.returned"},   {T::renewal_requested, "exchange.renewal_requested"},
    {T::renewed, "exchange.renewed"},     {T::late, "exchange.late"},
    {T::lost, "exchange.lost"},           {T::no_show, "exchange.no_show"}};

using S = ExchangeState;
constexpr EnumName<S> kStates[] = {{S::proposed, "proposed"},
                                   {S::accepting, "accepting"},
                                   {S::accepted, "accepted"},
                                   {S::completing, "completing"},
                                   {S::completed, "completed"},
                                   {S::declined, "declined"},
                                   {S::cancelled, "cancelled"},
                                   {S::expired, "expired"},
                                   {S::disputed, "disputed"},
                                   {S::resolved, "resolved"},
                                   {S::handed_over, "handed_over"},
                                   {S::late, "late"},
                                   {S::lost, "lost"}};

using M = ListingMode;
constexpr EnumName<M> kModes[] = {
    {M::give, "give"}, {M::lend, "lend"}, {M::swap, "swap"}, {M::service, "service"}};

using O = ResolutionOutcome;
constexpr EnumName<O> kOutcomes[] = {
    {O::post, "post"}, {O::void_hold, "void"}, {O::partial, "partial"}};

std::optional<ExchangeResolutionData> read_resolution(EventFields& f) {
  const nlohmann::json* r = f.raw("resolution");
  if (!r) return std::nullopt;
  EventFields nested(*r, "resolution.");
  ExchangeResolutionData out;
  out.outcome = nested.enumeration("outcome", kOutcomes);
  out.minutes = nested.integer("minutes");
  out.absent_member_id = nested.nullable_uuid("absent_member_id");
  out.note = nested.nullable_text("note");
  f.take(nested);
  return out;
}

template <class V>
void put(nlohmann::json& data, const char* name, const std::optional<V>& value) {
  if (value) data[name] = *value;
}

}  // namespace

std::string_view to_string(ExchangeEventType type) {
  return enum_name(kTypes, type);
}

std::optional<ExchangeEventType> exchange_event_type(std::string_view type) {
  return enum_from_name(kTypes, type);
}

std::string_view resolution_outcome_name(ResolutionOutcome outcome) {
  return enum_name(kOutcomes, outcome);
}

std::string ExchangeEvent::type_name() const {
  return std::string(to_string(type));
}

Read<ExchangeEvent> ExchangeEvent::read(const Event& e) {
  ExchangeEvent x;
  const auto type = exchange_event_type(e.type);
  if (!type) return ReadFailure{"not an exchange event: \"" + e.type + "\""};
  x.type = *type;
  EventFields f(e.data);
  x.exchange_id = f.uuid("exchange_id");
  x.state = f.optional_enumeration("state", kStates);
  x.offer_id = f.optional_uuid("offer_id");
  x.request_id = f.optional_uuid("request_id");
  x.match_id = f.optional_uuid("match_id");
  x.provider_id = f.optional_uuid("provider_id");
  x.receiver_id = f.optional_uuid("receiver_id");
  x.proposer_id = f.optional_uuid("proposer_id");
  x.minutes = f.optional_integer("minutes");
  x.site_id = f.optional_uuid("site_id");
  x.actor_id = f.optional_uuid("actor_id");
  x.on_behalf_of = f.optional_uuid("on_behalf_of");
  x.reason = f.optional_text("reason");
  x.message_id = f.optional_uuid("message_id");
  x.author_id = f.optional_uuid("author_id");
  x.rater_id = f.optional_uuid("rater_id");
  x.rated_id = f.optional_uuid("rated_id");
  x.stars = f.optional_integer("stars");
  x.cancelled_by = f.optional_text("cancelled_by");
  x.dispute_reason = f.optional_text("dispute_reason");
  x.resolution = read_resolution(f);
  x.mode = f.optional_enumeration("mode", kModes);
  x.starts_at = f.optional_text("starts_at");
  x.due_at = f.optional_text("due_at");
  x.deposit_minutes = f.optional_integer("deposit_minutes");
  x.renewals = f.optional_integer("renewals");
  x.requested_due_at = f.optional_text("requested_due_at");
  x.given_offer_id = f.optional_uuid("given_offer_id");
  x.no_show_member_id = f.optional_uuid("no_show_member_id");
  x.returned_by = f.optional_text("returned_by");
  return f.finish(std::move(x));
}

nlohmann::json ExchangeEvent::data() const {
  // The schema's required fields, null where it allows null.
  nlohmann::json data = {{"exchange_id", exchange_id},
                         {"offer_id", nullable(offer_id)},
                         {"request_id", nullable(request_id)},
                         {"match_id", nullable(match_id)},
                         {"site_id", nullable(site_id)},
                         {"actor_id", nullable(actor_id)},
                         {"on_behalf_of", nullable(on_behalf_of)},
                         {"reason", nullable(reason)}};
  if (state) data["state"] = enum_name(kStates, *state);
  put(data, "provider_id", provider_id);
  put(data, "receiver_id", receiver_id);
  put(data, "proposer_id", proposer_id);
  put(data, "minutes", minutes);
  put(data, "message_id", message_id);
  put(data, "author_id", author_id);
  put(data, "rater_id", rater_id);
  put(data, "rated_id", rated_id);
  put(data, "stars", stars);
  put(data, "cancelled_by", cancelled_by);
  put(data, "dispute_reason", dispute_reason);
  if (mode) data["mode"] = enum_name(kModes, *mode);
  put(data, "starts_at", starts_at);
  put(data, "due_at", due_at);
  put(data, "deposit_minutes", deposit_minutes);
  put(data, "renewals", renewals);
  put(data, "requested_due_at", requested_due_at);
  put(data, "given_offer_id", given_offer_id);
  put(data, "no_show_member_id", no_show_member_id);
  put(data, "returned_by", returned_by);
  if (resolution) {
    data["resolution"] = {{"outcome", resolution_outcome_name(resolution->outcome)},
                          {"minutes", resolution->minutes},
                          {"absent_member_id", nullable(resolution->absent_member_id)},
                          {"note", nullable(resolution->note)}};
  }
  return data;
}

}  // namespace maillon
