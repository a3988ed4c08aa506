// SQL of the federation between installations. Keys and hashes cross as base64 / hex text
// (decode() / encode() in the statement), so no bytea escaping lives in C++.
#include "services/ledger/federation_remote_repository.hpp"

#include "services/common/db.hpp"

namespace maillon::ledger::remote::repo {
namespace {

constexpr const char* kInsertKeys =
    "INSERT INTO federation_installation (public_key, secret_key) "
    "VALUES (decode($1, 'base64'), decode($2, 'base64')) ON CONFLICT DO NOTHING";
constexpr const char* kSelectKeys =
    // encode(.., 'base64') wraps lines at 76 characters: the 88 of the secret key would not decode.
    "SELECT translate(encode(public_key, 'base64'), E'\\n', ''), "
    "translate(encode(secret_key, 'base64'), E'\\n', '') "
    "FROM federation_installation";

constexpr const char* kInsertMessage =
    "INSERT INTO federation_outbox (message_id, link_id, community_id, partner_community_id, "
    "partner_url, type, payload, transfer_id, next_attempt_us, created_at_us) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, NULLIF($8, ''), $9, $9) ON CONFLICT DO NOTHING";
constexpr const char* kDueMessages =
    "SELECT message_id::text, link_id::text, community_id::text, partner_community_id::text, "
    "partner_url, type, payload, COALESCE(transfer_id, ''), attempts FROM federation_outbox "
    "WHERE state = 'pending' AND next_attempt_us <= $1 ORDER BY next_attempt_us LIMIT $2";
constexpr const char* kMarkAnswered =
    "UPDATE federation_outbox SET state = 'answered', answer = $2, answered_at_us = $3, "
    "attempts = attempts + 1 WHERE message_id = $1 AND state = 'pending' RETURNING 1";
constexpr const char* kReschedule =
    "UPDATE federation_outbox SET attempts = attempts + 1, next_attempt_us = $2, last_error = $3 "
    "WHERE message_id = $1 AND state = 'pending'";
constexpr const char* kCancelMessages =
    "UPDATE federation_outbox SET state = 'cancelled' "
    "WHERE transfer_id = $1 AND type = $2 AND state = 'pending'";

constexpr const char* kLockMessageId = "SELECT pg_advisory_xact_lock(1718969953, hashtext($1))";
constexpr const char* kFindReceived =
    "SELECT encode(content_hash, 'hex'), answer FROM federation_inbox WHERE message_id = $1";
constexpr const char* kInsertReceived =
    "INSERT INTO federation_inbox (message_id, link_id, type, content_hash, answer, "
    "received_at_us) VALUES ($1, $2, $3, decode($4, 'hex'), $5, $6)";

constexpr const char* kTransferColumns =
    "SELECT id, community_id::text, link_id::text, partner_community_id::text, role, "
    "payer_member_id::text, payee_member_id::text, minutes, partner_minutes, state, has_leg, "
    "COALESCE(reason, ''), memo, deadline_us, created_at_us FROM federation_remote_transfers ";
constexpr const char* kInsertTransfer =
    "INSERT INTO federation_remote_transfers (id, community_id, link_id, partner_community_id, "
    "role, payer_member_id, payee_member_id, minutes, partner_minutes, state, has_leg, reason, "
    "memo, deadline_us, created_at_us, updated_at_us) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, NULLIF($12, ''), $13, $14, $15, $15)";
constexpr const char* kSetTransferState =
    "UPDATE federation_remote_transfers SET state = $2, reason = COALESCE(NULLIF($3, ''), reason), "
    "updated_at_us = $4 WHERE id = $1";
constexpr const char* kOverdueHolds =
    "SELECT id FROM federation_remote_transfers WHERE state = 'holding' AND role = 'payer' "
    "AND deadline_us <= $1 ORDER BY deadline_us LIMIT $2";

RemoteTransfer transfer_from(const pqxx::row& r) {
  RemoteTransfer t;
  read_columns(r, t.id, t.community_id, t.link_id, t.partner_community_id, t.role,
               t.payer_member_id, t.payee_member_id, t.minutes, t.partner_minutes, t.state,
               t.has_leg, t.reason, t.memo, t.deadline_us, t.created_at_us);
  return t;
}

}  // namespace

SigningKeyPair installation_keys(pqxx::transaction_base& tx, const SigningKeyPair& fresh) {
  tx.exec_params(kInsertKeys, base64_encode(fresh.public_key), base64_encode(fresh.secret_key));
  const auto r = tx.exec1(kSelectKeys);
  return {base64_decode(r[0].c_str()).value(), base64_decode(r[1].c_str()).value()};
}

std::vector<std::pair<std::string, std::string>> active_remote_links(pqxx::transaction_base& tx) {
  std::vector<std::pair<std::string, std::string>> links;
  for (const auto& row : tx.exec(
           "SELECT id::text, community_id::text FROM federation_links "
           "WHERE partner_url IS NOT NULL AND state = 'active' ORDER BY created_at LIMIT 10000"))
    links.emplace_back(row[0].c_str(), row[1].c_str());
  return links;
}

void enqueue_message(pqxx::transaction_base& tx, const OutgoingMessage& m, int64_t now_us) {
  tx.exec_params(kInsertMessage, m.message_id, m.link_id, m.community_id, m.partner_community_id,
                 m.partner_url, m.type, m.payload, m.transfer_id, now_us);
}

std::vector<OutgoingMessage> due_messages(pqxx::transaction_base& tx, int64_t now_us, int limit) {
  std::vector<OutgoingMessage> out;
  for (const auto& row : tx.exec_params(kDueMessages, now_us, limit)) {
    OutgoingMessage m;
    read_columns(row, m.message_id, m.link_id, m.community_id, m.partner_community_id,
                 m.partner_url, m.type, m.payload, m.transfer_id, m.attempts);
    out.push_back(std::move(m));
  }
  return out;
}

bool mark_answered(pqxx::transaction_base& tx, const std::string& message_id,
                   const std::string& answer, int64_t now_us) {
  return !tx.exec_params(kMarkAnswered, message_id, answer, now_us).empty();
}

void reschedule(pqxx::transaction_base& tx, const std::string& message_id, int64_t next_us,
                const std::string& error) {
  tx.exec_params(kReschedule, message_id, next_us, error);
}

void cancel_messages(pqxx::transaction_base& tx, const std::string& transfer_id,
                     const std::string& type) {
  tx.exec_params(kCancelMessages, transfer_id, type);
}

void lock_message_id(pqxx::transaction_base& tx, const std::string& message_id) {
  tx.exec_params(kLockMessageId, message_id);
}

std::optional<Received> find_received(pqxx::transaction_base& tx, const std::string& message_id) {
  const auto r = tx.exec_params(kFindReceived, message_id);
  if (r.empty()) return std::nullopt;
  return Received{r[0][0].c_str(), r[0][1].c_str()};
}

void insert_received(pqxx::transaction_base& tx, const Envelope& e,
                     const std::string& content_hash_hex, const std::string& answer,
                     int64_t now_us) {
  tx.exec_params(kInsertReceived, e.id, e.link_id, e.type, content_hash_hex, answer, now_us);
}

void insert_transfer(pqxx::transaction_base& tx, const RemoteTransfer& t, int64_t now_us) {
  tx.exec_params(kInsertTransfer, t.id, t.community_id, t.link_id, t.partner_community_id, t.role,
                 t.payer_member_id, t.payee_member_id, t.minutes, t.partner_minutes, t.state,
                 t.has_leg, t.reason, t.memo, t.deadline_us, now_us);
}

std::optional<RemoteTransfer> find_transfer(pqxx::transaction_base& tx, const std::string& id,
                                            bool for_update) {
  const std::string sql =
      std::string(kTransferColumns) + "WHERE id = $1" + (for_update ? " FOR UPDATE" : "");
  const auto r = tx.exec_params(sql, id);
  if (r.empty()) return std::nullopt;
  return transfer_from(r[0]);
}

void set_transfer_state(pqxx::transaction_base& tx, const std::string& id, const std::string& state,
                        const std::string& reason, int64_t now_us) {
  tx.exec_params(kSetTransferState, id, state, reason, now_us);
}

std::vector<std::string> overdue_holds(pqxx::transaction_base& tx, int64_t now_us, int limit) {
  std::vector<std::string> ids;
  for (const auto& row : tx.exec_params(kOverdueHolds, now_us, limit))
    ids.emplace_back(row[0].c_str());
  return ids;
}

std::vector<std::string> unsettled_transfers(pqxx::transaction_base& tx, const std::string& link_id,
                                             const std::string& community_id) {
  std::vector<std::string> ids;
  for (const auto& row : tx.exec_params(
           "SELECT id FROM federation_remote_transfers WHERE link_id = $1 AND community_id = $2 "
           "AND state NOT IN ('posted', 'voided') LIMIT 100000",
           link_id, community_id))
    ids.emplace_back(row[0].c_str());
  return ids;
}

std::vector<RemoteTransfer> link_transfers(pqxx::transaction_base& tx, const std::string& link_id,
                                           const std::string& community_id, int limit) {
  std::vector<RemoteTransfer> out;
  const std::string sql = std::string(kTransferColumns) +
                          "WHERE link_id = $1 AND community_id = $2 "
                          "ORDER BY created_at_us DESC, id LIMIT $3";
  for (const auto& row : tx.exec_params(sql, link_id, community_id, limit))
    out.push_back(transfer_from(row));
  return out;
}

}  // namespace maillon::ledger::remote::repo
