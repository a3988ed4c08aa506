// The ledger's streams: commands other services send on ledger.commands (ledger.hold, .grant,
// .post, .void: ledger.command.schema.json) and the ledger's answers on ledger.events
// (transfer.pending, .posted, .voided: transfer.data.schema.json#/$defs/transfer;
// transfer.rejected:
// #/$defs/rejected), and the federation's links (federation.link.updated) and reconciliation
// differences (federation.reconciliation.differed). See typed_events.hpp
// for the pattern.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "exchange/ledger.hpp"
#include "services/common/typed_events.hpp"

namespace maillon {

inline constexpr const char* kLedgerCommandsStream = "ledger.commands";
inline constexpr const char* kLedgerEventsStream = "ledger.events";

enum class LedgerCommandType { hold, grant, post, void_hold };

// A command to the ledger. Reading requires transfer_id; hold and grant also minutes and kind.
// A member id absent or null is the community's own account. The ledger answers a command it
// cannot read with transfer.rejected "invalid-command" (its saga's answer), not the dead letter.
struct LedgerCommandEvent {
  LedgerCommandType type = LedgerCommandType::hold;
  std::string transfer_id;
  std::optional<int64_t> minutes;  // hold, grant; post: a part of the hold
  std::optional<TransferKind> kind;
  std::optional<std::string> from_member_id;
  std::optional<std::string> to_member_id;
  std::optional<std::string> memo;
  std::optional<std::string> ref;
  std::optional<int64_t> timeout_s;  // hold
  // hold, post, void: the payee's community when it is not the envelope's (the payer's): a
  // federated transfer, two legs through the communities' clearing accounts
  // (services/ledger/federation.hpp). Post and void name it again to settle both legs.
  std::optional<std::string> payee_community_id;

  static Read<LedgerCommandEvent> read(const Event& e);
  nlohmann::json data() const;
  std::string type_name() const;
};

enum class TransferEventType { pending, posted, voided, rejected };

// The ledger's answer about one transfer. Reading requires transfer_id (rejected: and reason);
// the other fields are read when present (enums checked).
struct TransferEvent {
  TransferEventType type = TransferEventType::posted;
  std::string transfer_id;
  std::optional<std::string> from_member_id;  // null: the community's account
  std::optional<std::string> to_member_id;
  std::optional<int64_t> amount_minutes;
  std::optional<int64_t> posted_minutes;
  std::optional<TransferKind> kind;
  std::optional<std::string> ref;
  std::optional<TransferState> state;
  // transfer.voided: "voided" or "expired"; transfer.rejected: the ledger's outcome slug.
  std::optional<std::string> reason;

  static Read<TransferEvent> read(const Event& e);
  nlohmann::json data() const;
  std::string type_name() const;
};

// One side of a federation link as it now stands (federation.link.updated.schema.json), emitted
// by the ledger on ledger.events for each side it keeps, whenever the link is created, accepted
// or suspended. The envelope's community_id is `community_id` (the side described). Offers,
// requests and matching keep each community's active partners from it.
enum class FederationLinkState { proposed, active, suspended };
std::string_view to_string(FederationLinkState state);
std::optional<FederationLinkState> federation_link_state_from_string(std::string_view text);

// Reading requires every field but partner_url (absent: a partner in this installation).
struct FederationLinkUpdated {
  std::string link_id;
  std::string community_id;
  std::string partner_community_id;
  FederationLinkState state = FederationLinkState::proposed;
  std::optional<std::string> partner_url;

  static Read<FederationLinkUpdated> read(const Event& e);
  nlohmann::json data() const;
  static std::string type_name() { return "federation.link.updated"; }
};

// The daily reconciliation of a link with another installation found its mirror accounts
// disagreeing (federation.reconciliation.differed.schema.json), on ledger.events: emitted by the
// ledger of each side for its own community (the envelope's community_id), once per link, day
// and set of differences. Notify tells that community's administrators.
struct FederationReconciliationDiffered {
  std::string link_id;
  std::string community_id;  // ours: the side whose admins are told
  std::string partner_community_id;
  std::string day;          // YYYY-MM-DD (UTC) of the run that found it
  int64_t differences = 0;  // transfers that disagree, plus one when the balances do not mirror
  std::vector<std::string> transfer_ids;  // those transfers (at most kReconciliationIdsMax)
  bool mirror_agrees = true;

  static constexpr std::size_t kReconciliationIdsMax = 50;
  static Read<FederationReconciliationDiffered> read(const Event& e);
  nlohmann::json data() const;
  static std::string type_name() { return "federation.reconciliation.differed"; }
};

std::optional<LedgerCommandType> ledger_command_type(std::string_view type);
std::optional<TransferEventType> transfer_event_type(std::string_view type);
// The names of `types` ("transfer.rejected", ...): a consumer's EventTypes.
std::vector<std::string> type_names(std::initializer_list<TransferEventType> types);

}  // namespace maillon
