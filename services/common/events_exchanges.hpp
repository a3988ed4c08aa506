// The exchanges stream: exchange.* events, one family sharing exchange.schema.json#/$defs/data.
// The model of a typed event family (see typed_events.hpp for how to add one).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "exchange/exchange_flow.hpp"
#include "services/common/typed_events.hpp"

namespace maillon {

enum class ExchangeEventType {
  proposed,
  accepting,
  accepted,
  confirmed,
  refused,
  completing,
  completed,
  declined,
  cancelled,
  abandoned,
  expired,
  disputed,
  resolved,
  message,
  rated,
  // Loans, swaps and reliability.
  handed_over,
  returned,
  renewal_requested,
  renewed,
  late,
  lost,
  no_show,
  hold_available  // a hold's member may borrow the object now (holds.hpp)
};

struct ExchangeResolutionData {
  ResolutionOutcome outcome = ResolutionOutcome::post;
  int64_t minutes = 0;
  std::optional<std::string> absent_member_id;
  std::optional<std::string> note;
};

// Reading requires exchange_id (what every consumer acts on); any other field may be absent
// (hand-made events in tests carry only what a consumer needs), but a field present must have its
// type and a known enum value. Producers fill every field the schema requires (the contract test
// checks each emitted event against exchange.schema.json).
struct ExchangeEvent {
  ExchangeEventType type = ExchangeEventType::proposed;
  std::string exchange_id;
  std::optional<ExchangeState> state;
  std::optional<std::string> offer_id;
  std::optional<std::string> request_id;
  std::optional<std::string> match_id;
  std::optional<std::string> provider_id;
  std::optional<std::string> receiver_id;
  std::optional<std::string> proposer_id;
  std::optional<int64_t> minutes;
  std::optional<std::string> site_id;
  std::optional<std::string> desk_site_id;  // with no site_id: whose staff settle it
  std::optional<std::string> actor_id;      // null: the system acted
  std::optional<std::string> on_behalf_of;  // the party staff acted for
  std::optional<std::string> reason;        // a code: why it stepped back or stopped
  // Present on some types only.
  std::optional<std::string> message_id;      // exchange.message
  std::optional<std::string> author_id;       // exchange.message
  std::optional<std::string> rater_id;        // exchange.rated
  std::optional<std::string> rated_id;        // exchange.rated
  std::optional<int64_t> stars;               // exchange.rated
  std::optional<std::string> cancelled_by;    // a party's id, or "system"
  std::optional<std::string> dispute_reason;  // the disputing party's words
  std::optional<ExchangeResolutionData> resolution;
  // Loans and swaps (absent on exchanges of other modes or opened before modes were kept).
  std::optional<ListingMode> mode;
  std::optional<std::string> starts_at;  // RFC 3339
  std::optional<std::string> due_at;
  std::optional<int64_t> deposit_minutes;
  std::optional<int64_t> renewals;
  std::optional<std::string> requested_due_at;   // exchange.renewal_requested
  std::optional<std::string> given_offer_id;     // swap
  std::optional<std::string> no_show_member_id;  // exchange.no_show
  std::optional<std::string> returned_by;        // exchange.returned: provider, receiver, staff
  // Across communities (issue 23): the proposer's community, when it is not the envelope's (the
  // listing's); the proposer's own listings (a match's, a swap's given one) live there.
  std::optional<std::string> partner_community_id;

  static Read<ExchangeEvent> read(const Event& e);
  nlohmann::json data() const;
  std::string type_name() const;
};

std::string_view to_string(ExchangeEventType type);
// The names of `types` ("exchange.completed", ...): a consumer's EventTypes.
std::vector<std::string> type_names(std::initializer_list<ExchangeEventType> types);

}  // namespace maillon
