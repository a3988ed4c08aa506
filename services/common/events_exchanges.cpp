#include "services/common/events_exchanges.hpp"

#include "services/common/event_fields.hpp"

namespace maillon {
namespace {

using T = ExchangeEventType;
constexpr EnumName<T> kTypes[] = {{T::proposed, "exchange.proposed"},
                                  {T::accepting, "exchange.accepting"},
                                  {T::accepted, "exchange.accepted"},
                                  {T::confirmed, "exchange.confirmed"},
                                  {T::refused, "exchange.refused"},
                                  {T::completing, "exchange.completing"},
                                  {T::completed, "exchange.completed"},
                                  {T::declined, "exchange.declined"},
                                  {T::cancelled, "exchange.cancelled"},
                                  {T::abandoned, "exchange.abandoned"},
                                  {T::expired, "exchange.expired"},
                                  {T::disputed, "exchange.disputed"},
                                  {T::resolved, "exchange.resolved"},
                                  {T::message, "exchange.message"},
                                  {T::rated, "exchange.rated"},
                                  {T::handed_over, "exchange.handed_over"},
                                  {T::returned, "exchange.returned"},
                                  {T::renewal_requested, "exchange.renewal_requested"},
                                  {T::renewed, "exchange.renewed"},
                                  {T::late, "exchange.late"},
                                  {T::lost, "exchange.lost"},
                                  {T::no_show, "exchange.no_show"},
                                  {T::hold_available, "exchange.hold_available"}};

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

constexpr auto kResolutionFields =
    std::tuple{event_field("minutes", &ExchangeResolutionData::minutes, &EventFields::integer),
               event_field("absent_member_id", &ExchangeResolutionData::absent_member_id,
                           &EventFields::nullable_uuid, WhenUnset::null),
               event_field("note", &ExchangeResolutionData::note, &EventFields::nullable_text,
                           WhenUnset::null)};

// Every field but exchange_id, state and resolution, in reading order. Null where the schema
// requires the field and allows null; left out when unset otherwise.
constexpr auto kFields = std::tuple{
    event_field("offer_id", &ExchangeEvent::offer_id, &EventFields::optional_uuid, WhenUnset::null),
    event_field("request_id", &ExchangeEvent::request_id, &EventFields::optional_uuid,
                WhenUnset::null),
    event_field("match_id", &ExchangeEvent::match_id, &EventFields::optional_uuid, WhenUnset::null),
    event_field("provider_id", &ExchangeEvent::provider_id, &EventFields::optional_uuid),
    event_field("receiver_id", &ExchangeEvent::receiver_id, &EventFields::optional_uuid),
    event_field("proposer_id", &ExchangeEvent::proposer_id, &EventFields::optional_uuid),
    event_field("minutes", &ExchangeEvent::minutes, &EventFields::optional_integer),
    event_field("site_id", &ExchangeEvent::site_id, &EventFields::optional_uuid, WhenUnset::null),
    event_field("desk_site_id", &ExchangeEvent::desk_site_id, &EventFields::optional_uuid),
    event_field("actor_id", &ExchangeEvent::actor_id, &EventFields::optional_uuid, WhenUnset::null),
    event_field("on_behalf_of", &ExchangeEvent::on_behalf_of, &EventFields::optional_uuid,
                WhenUnset::null),
    event_field("reason", &ExchangeEvent::reason, &EventFields::optional_text, WhenUnset::null),
    event_field("message_id", &ExchangeEvent::message_id, &EventFields::optional_uuid),
    event_field("author_id", &ExchangeEvent::author_id, &EventFields::optional_uuid),
    event_field("rater_id", &ExchangeEvent::rater_id, &EventFields::optional_uuid),
    event_field("rated_id", &ExchangeEvent::rated_id, &EventFields::optional_uuid),
    event_field("stars", &ExchangeEvent::stars, &EventFields::optional_integer),
    event_field("cancelled_by", &ExchangeEvent::cancelled_by, &EventFields::optional_text),
    event_field("dispute_reason", &ExchangeEvent::dispute_reason, &EventFields::optional_text)};

// Loans, swaps and reliability (after resolution and mode): left out when unset.
constexpr auto kLoanFields = std::tuple{
    event_field("starts_at", &ExchangeEvent::starts_at, &EventFields::optional_text),
    event_field("due_at", &ExchangeEvent::due_at, &EventFields::optional_text),
    event_field("deposit_minutes", &ExchangeEvent::deposit_minutes, &EventFields::optional_integer),
    event_field("renewals", &ExchangeEvent::renewals, &EventFields::optional_integer),
    event_field("requested_due_at", &ExchangeEvent::requested_due_at, &EventFields::optional_text),
    event_field("given_offer_id", &ExchangeEvent::given_offer_id, &EventFields::optional_uuid),
    event_field("no_show_member_id", &ExchangeEvent::no_show_member_id,
                &EventFields::optional_uuid),
    event_field("returned_by", &ExchangeEvent::returned_by, &EventFields::optional_text),
    event_field("partner_community_id", &ExchangeEvent::partner_community_id,
                &EventFields::optional_uuid)};

std::optional<ExchangeResolutionData> read_resolution(EventFields& f) {
  const nlohmann::json* r = f.raw("resolution");
  if (!r) return std::nullopt;
  EventFields nested(*r, "resolution.");
  ExchangeResolutionData out;
  out.outcome = nested.enumeration("outcome", kOutcomes);
  read_fields(nested, out, kResolutionFields);
  f.take(nested);
  return out;
}

}  // namespace

std::string_view to_string(ExchangeEventType type) {
  return enum_name(kTypes, type);
}

std::vector<std::string> type_names(std::initializer_list<ExchangeEventType> types) {
  return enum_names(kTypes, types);
}

std::string ExchangeEvent::type_name() const {
  return std::string(to_string(type));
}

Read<ExchangeEvent> ExchangeEvent::read(const Event& e) {
  return read_event<ExchangeEvent>(e, enum_from_name(kTypes, e.type), &ExchangeEvent::type,
                                   "not an exchange event: ", [](EventFields& f, ExchangeEvent& x) {
                                     x.exchange_id = f.uuid("exchange_id");
                                     x.state = f.optional_enumeration("state", kStates);
                                     read_fields(f, x, kFields);
                                     x.resolution = read_resolution(f);
                                     x.mode = f.optional_enumeration("mode", kModes);
                                     read_fields(f, x, kLoanFields);
                                   });
}

nlohmann::json ExchangeEvent::data() const {
  nlohmann::json data = {{"exchange_id", exchange_id}};
  if (state) data["state"] = enum_name(kStates, *state);
  write_fields(data, *this, kFields);
  if (resolution) {
    nlohmann::json& r = data["resolution"];
    r["outcome"] = enum_name(kOutcomes, resolution->outcome);
    write_fields(r, *resolution, kResolutionFields);
  }
  if (mode) data["mode"] = enum_name(kModes, *mode);
  write_fields(data, *this, kLoanFields);
  return data;
}

}  // namespace maillon
