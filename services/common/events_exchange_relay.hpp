// An exchange with a member of a partner installation (issue 23): what the two exchange services
// tell each other through their ledgers, which hold the link's keys and its signed, retried
// channel. See ExchangeRelayCommand and FederationExchangeRelayed.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>

#include "services/common/typed_events.hpp"

namespace maillon {

// What crosses: the exchange's state (from the installation where it lives, the proposer's, to
// the other party's, which keeps a mirror of it), or an action of that other party (from the
// mirror's installation to the exchange's).
inline constexpr std::string_view kExchangeRelayState = "state";
inline constexpr std::string_view kExchangeRelayAct = "act";

// ledger.relay_exchange on ledger.commands (ledger.relay_exchange.schema.json): the exchange
// service asks its ledger to send `payload` to the installation of the link between
// community_id (ours, the envelope's) and partner_community_id. The ledger sends one message per
// (exchange, kind) at a time: a newer one replaces what was not answered yet.
struct ExchangeRelayCommand {
  std::string kind;  // state | act
  std::string exchange_id;
  std::string community_id;  // ours
  std::string partner_community_id;
  std::string payload;  // a JSON object, as text

  static Read<ExchangeRelayCommand> read(const Event& e);
  nlohmann::json data() const;
  static std::string type_name() { return "ledger.relay_exchange"; }
};

// federation.exchange.relayed on ledger.events (federation.exchange.relayed.schema.json): a
// partner installation's exchange.state or exchange.act, signed with the link's key, as our
// ledger received it. The envelope's community_id is ours, the link's side that received it.
struct FederationExchangeRelayed {
  std::string link_id;
  std::string community_id;  // ours
  std::string partner_community_id;
  std::string partner_url;  // the partner installation
  std::string kind;         // state | act
  std::string exchange_id;
  std::string payload;  // a JSON object, as text

  static Read<FederationExchangeRelayed> read(const Event& e);
  nlohmann::json data() const;
  static std::string type_name() { return "federation.exchange.relayed"; }
};

}  // namespace maillon
