// The registry of declared event types, per stream; the family types live in events_<stream>.cpp.
#include "services/common/typed_events.hpp"

#include <array>

#include "services/common/events.hpp"

namespace maillon {
namespace {

// Each name here has its schemas/events/<type>.schema.json (the contract test checks it).
constexpr std::string_view kExchanges[] = {
    "exchange.proposed",    "exchange.accepting",     "exchange.accepted",
    "exchange.confirmed",   "exchange.refused",       "exchange.completing",
    "exchange.completed",   "exchange.declined",      "exchange.cancelled",
    "exchange.abandoned",   "exchange.expired",       "exchange.disputed",
    "exchange.resolved",    "exchange.message",       "exchange.rated",
    "exchange.handed_over", "exchange.returned",      "exchange.renewal_requested",
    "exchange.renewed",     "exchange.late",          "exchange.lost",
    "exchange.no_show",     "exchange.hold_available"};
constexpr std::string_view kLedgerCommands[] = {"ledger.hold", "ledger.grant", "ledger.post",
                                                "ledger.void", "ledger.relay_exchange"};
constexpr std::string_view kLedgerEvents[] = {
    "transfer.pending",          "transfer.posted",
    "transfer.voided",           "transfer.rejected",
    "federation.link.updated",   "federation.reconciliation.differed",
    "federation.listing.shared", "federation.exchange.relayed"};
constexpr std::string_view kOffers[] = {"offer.published", "offer.updated", "offer.closed"};
constexpr std::string_view kRequests[] = {"request.published", "request.updated", "request.closed"};
constexpr std::string_view kMatches[] = {"match.proposed"};
constexpr std::string_view kDepot[] = {"item.available",  "item.reserved",  "item.lent",
                                       "item.returned",   "item.collected", "item.unclaimed",
                                       "item.redirected", "loan.late",      "loan.reminder"};
// The members stream's types (events_members.hpp).
// Staff changes travel as member.updated (the member's staff_site_ids).
constexpr std::string_view kMembers[] = {
    "member.registered",      "member.updated", "member.approved",   "member.suspended",
    "member.reinstated",      "member.erased",  "community.created", "community.updated",
    "site.created",           "site.updated",   "listing.hidden",    "member.contact",
    "member.password_changed"};

constexpr std::array<DeclaredStream, 8> kStreams = {{
    {"exchanges", kExchanges},
    {"ledger.commands", kLedgerCommands},
    {"ledger.events", kLedgerEvents},
    {"offers", kOffers},
    {"requests", kRequests},
    {"matches", kMatches},
    {"depot", kDepot},
    {"members", kMembers},
}};

}  // namespace

std::span<const DeclaredStream> declared_event_types() {
  return kStreams;
}

bool is_declared_event_type(std::string_view type) {
  for (const DeclaredStream& stream : declared_event_types()) {
    for (std::string_view name : stream.types) {
      if (name == type) return true;
    }
  }
  return false;
}

void require_declared(const Event& e) {
  if (!is_declared_event_type(e.type)) throw BadEvent("unknown event type \"" + e.type + "\"");
}

}  // namespace maillon
