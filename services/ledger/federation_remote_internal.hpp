// What the files of the remote federation share and nobody else needs: the transport (one
// signed POST), the crash points of the tests, the message queue and the saga's handlers.
#pragma once

#include <cstddef>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <string_view>

#include "services/ledger/federation_remote.hpp"
#include "services/ledger/federation_remote_repository.hpp"

namespace maillon {
struct Event;
}

namespace maillon::ledger::remote {

// Tests only (MAILLON_FEDERATION_FAULT_FILE names a file holding one crash point, e.g.
// crash-after-hold): the process kills itself with SIGKILL at that point, as a power cut would.
void fault(const Settings& settings, std::string_view point);

struct HttpAnswer {
  long status = 0;  // 0: no answer (refused, timed out)
  std::string body;
  std::string signature;  // the Maillon-Signature header of the answer, if any
  std::string error;
};
HttpAnswer post_message(const std::string& url, const std::string& body,
                        const std::string& signature_header, long timeout_ms);

// Queues a message to the link's partner, sent by the next round of the sender.
void queue_message(pqxx::transaction_base& tx, const Link& link, std::string_view type,
                   const Json& payload, const std::string& transfer_id, int64_t now_us);
// The envelope of a queued message as sent now.
Envelope envelope_of(const repo::OutgoingMessage& message, int64_t now_s);

// Sends one message at once and waits for its answer (the reconciliation's request).
std::optional<Json> send_now(RemoteFederation& federation, const Link& link, std::string_view type,
                             const Json& payload);

// The payee's side of transfer.hold / transfer.post / transfer.void (the answer to give).
Json on_transfer_message(RemoteFederation& federation, pqxx::work& tx, const Link& link,
                         const Envelope& envelope);
// The payer's side of an answer to a queued transfer message.
void on_transfer_answer(RemoteFederation& federation, pqxx::work& tx,
                        const repo::OutgoingMessage& message, const Json& answer);
// Payer-side holds past their deadline: voided on both sides. Returns how many were due.
std::size_t void_overdue_holds(RemoteFederation& federation);
// Our view of a link's clearing account and legs, for reconcile.request.
Json reconcile_view(pqxx::work& tx, const Link& link);
Json leg_json(const ClearingLeg& leg);
std::optional<ClearingLeg> leg_from(const Json& j);

// Whether the member has an account here: a partner never speaks for one of our members.
bool is_our_member(pqxx::work& tx, const std::string& member_id);

// Listings that cross to partner installations (federation_listings.cpp): an event of the offers
// or requests stream kept when the listing may cross (or marked withdrawn when it no longer
// does); one round queuing what each active link's partner was not told yet (how many); a
// partner's listing.publish / listing.withdraw announced on ledger.events (the answer to give).
void keep_listing_event(pqxx::work& tx, const Event& e);
std::size_t share_listings(RemoteFederation& federation);
Json on_listing_message(RemoteFederation& federation, pqxx::work& tx, const Link& link,
                        const Envelope& envelope);

// An exchange with a partner installation's member (federation_exchanges.cpp): the exchange
// service's ledger.relay_exchange queued to the link's partner; a partner's exchange.state or
// exchange.act announced on ledger.events (the answer to give).
void relay_exchange(RemoteFederation& federation, pqxx::work& tx, const Event& e);
Json on_exchange_message(RemoteFederation& federation, pqxx::work& tx, const Link& link,
                         const Envelope& envelope);

}  // namespace maillon::ledger::remote
