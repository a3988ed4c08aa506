// The SQL of the federation between installations (schemas/ledger/007_federation_remote.sql and
// the links of 006): one function per statement, run in the caller's transaction.
#pragma once

#include <cstdint>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "services/common/signing.hpp"
#include "services/ledger/federation_remote.hpp"

namespace maillon::ledger::remote::repo {

// This installation's key pair: the stored one, or `fresh` stored now (first start; a replica
// starting at the same time keeps whichever was stored first).
SigningKeyPair installation_keys(pqxx::transaction_base& tx, const SigningKeyPair& fresh);

// Records that a reconciliation of the link found these differences on `day` (YYYY-MM-DD);
// true when no run had found the same (`fingerprint`) that day on this side: raise them.
bool record_reconciliation_alert(pqxx::transaction_base& tx, const std::string& link_id,
                                 const std::string& community_id, const std::string& day,
                                 const std::string& fingerprint);

// (link id, our community) of every active link with another installation.
std::vector<std::pair<std::string, std::string>> active_remote_links(pqxx::transaction_base& tx);

struct OutgoingMessage {
  std::string message_id;
  std::string link_id;
  std::string community_id;
  std::string partner_community_id;
  std::string partner_url;
  std::string type;
  std::string payload;  // JSON text
  std::string transfer_id;
  int attempts = 0;
};
void enqueue_message(pqxx::transaction_base& tx, const OutgoingMessage& message, int64_t now_us);
std::vector<OutgoingMessage> due_messages(pqxx::transaction_base& tx, int64_t now_us, int limit);
// True when the message was still pending (this answer is the first to count).
bool mark_answered(pqxx::transaction_base& tx, const std::string& message_id,
                   const std::string& answer, int64_t now_us);
void reschedule(pqxx::transaction_base& tx, const std::string& message_id, int64_t next_us,
                const std::string& error);
// Stops retrying the transfer's pending messages of `type` (a hold the timeout overtook).
void cancel_messages(pqxx::transaction_base& tx, const std::string& transfer_id,
                     const std::string& type);

// Inbox: serialises messages of one id; the first answer stored, if any.
void lock_message_id(pqxx::transaction_base& tx, const std::string& message_id);
struct Received {
  std::string content_hash_hex;
  std::string answer;
};
std::optional<Received> find_received(pqxx::transaction_base& tx, const std::string& message_id);
void insert_received(pqxx::transaction_base& tx, const Envelope& envelope,
                     const std::string& content_hash_hex, const std::string& answer,
                     int64_t now_us);

void insert_transfer(pqxx::transaction_base& tx, const RemoteTransfer& t, int64_t now_us);
std::optional<RemoteTransfer> find_transfer(pqxx::transaction_base& tx, const std::string& id,
                                            bool for_update = false);
void set_transfer_state(pqxx::transaction_base& tx, const std::string& id, const std::string& state,
                        const std::string& reason, int64_t now_us);
// An exchange's decision (post or void) that came before the partner answered its hold.
void set_settle_asked(pqxx::transaction_base& tx, const std::string& id,
                      const std::string& decision, int64_t now_us);
// Payer-side holds not confirmed by their deadline.
std::vector<std::string> overdue_holds(pqxx::transaction_base& tx, int64_t now_us, int limit);
// Our sagas of a link not settled yet (their legs may disagree for a while, by design).
std::vector<std::string> unsettled_transfers(pqxx::transaction_base& tx, const std::string& link_id,
                                             const std::string& community_id);
std::vector<RemoteTransfer> link_transfers(pqxx::transaction_base& tx, const std::string& link_id,
                                           const std::string& community_id, int limit);

}  // namespace maillon::ledger::remote::repo
