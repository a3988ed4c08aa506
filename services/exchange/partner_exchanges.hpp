// Exchanges with a member of a partner installation (issue 23). The exchange lives at the
// installation of the member who proposed it, on a copy of the other installation's offer; that
// other installation keeps a mirror of it (ExchangeRecord::mirror), written only from the states
// the exchange's installation sends, and its member acts on the mirror: the action is sent to
// where the exchange lives, which applies it as if that member had acted there. Both directions
// go through the ledgers (ledger.relay_exchange on ledger.commands; federation.exchange.relayed
// on ledger.events), which sign, retry and deduplicate. The payments are the ledgers' own saga,
// held on both sides until the exchange ends.
#pragma once

#include <memory>
#include <pqxx/pqxx>
#include <string_view>

#include "services/exchange/exchange_service.hpp"
#include "services/exchange/usecases.hpp"

namespace maillon {
struct Event;
}

namespace maillon::exchange {

// The actions a member may take on a mirror (the others are refused: partner-exchange).
bool relayable(ExchangeAction action);
// The exchange's state, for the other party's installation: nothing for an exchange between
// members of this installation, nor for a mirror, nor for a state sent already.
void relay_state(Service& s, pqxx::work& tx, const ExchangeRecord& record);
// A member's action on a mirror, for the installation where the exchange lives.
void relay_act(Service& s, pqxx::work& tx, const ExchangeRecord& mirror, const Identity& who,
               ExchangeAction action);
// Our member left (suspended or erased): the exchange living at the partner installation is
// cancelled there by the system, with that reason.
void relay_system_cancel(Service& s, pqxx::work& tx, const ExchangeRecord& mirror,
                         const std::string& member_id, std::string_view reason);
// A partner installation's state (the mirror written) or act (applied to the exchange living
// here), as our ledger announced it; anything that does not fit the exchange is dropped.
void apply_relayed(Service& s, const std::shared_ptr<Workflow>& workflow, pqxx::work& tx,
                   const Event& e);

}  // namespace maillon::exchange
