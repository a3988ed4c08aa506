// SQL of the federation between installations. Keys and hashes cross as base64 / hex text
// (decode() / encode() in the statement), so no bytea escaping lives in C++.
#include "services/ledger/federation_remote_repository.hpp"

#include "services/common/db.hpp"
#include "services/ledger/federation_remote_repository_sql.hpp"

namespace maillon::ledger::remote::repo {
namespace {

RemoteTransfer transfer_from(const pqxx::row& r) {
  RemoteTransfer t;
  read_columns(r, t.id, t.community_id, t.link_id, t.partner_community_id, t.role,
               t.payer_member_id, t.payee_member_id, t.minutes, t.partner_minutes, t.state,
               t.has_leg, t.reason, t.memo, t.deadline_us, t.created_at_us, t.until_told,
               t.settle_asked);
  return t;
}

}  // namespace

SigningKeyPair installation_keys(pqxx::transaction_base& tx, const SigningKeyPair& fresh) {
  exec_cached(tx, kInsertKeys, base64_encode(fresh.public_key), base64_encode(fresh.secret_key));
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
  exec_cached(tx, kInsertMessage, m.message_id, m.link_id, m.community_id, m.partner_community_id,
              m.partner_url, m.type, m.payload, m.transfer_id, now_us);
}

std::vector<OutgoingMessage> due_messages(pqxx::transaction_base& tx, int64_t now_us, int limit) {
  std::vector<OutgoingMessage> out;
  for (const auto& row : exec_cached(tx, kDueMessages, now_us, limit)) {
    OutgoingMessage m;
    read_columns(row, m.message_id, m.link_id, m.community_id, m.partner_community_id,
                 m.partner_url, m.type, m.payload, m.transfer_id, m.attempts);
    out.push_back(std::move(m));
  }
  return out;
}

bool mark_answered(pqxx::transaction_base& tx, const std::string& message_id,
                   const std::string& answer, int64_t now_us) {
  return !exec_cached(tx, kMarkAnswered, message_id, answer, now_us).empty();
}

void reschedule(pqxx::transaction_base& tx, const std::string& message_id, int64_t next_us,
                const std::string& error) {
  exec_cached(tx, kReschedule, message_id, next_us, error);
}

void cancel_messages(pqxx::transaction_base& tx, const std::string& transfer_id,
                     const std::string& type) {
  exec_cached(tx, kCancelMessages, transfer_id, type);
}

void lock_message_id(pqxx::transaction_base& tx, const std::string& message_id) {
  exec_cached(tx, kLockMessageId, message_id);
}

std::optional<Received> find_received(pqxx::transaction_base& tx, const std::string& message_id) {
  const auto r = exec_cached(tx, kFindReceived, message_id);
  if (r.empty()) return std::nullopt;
  return Received{r[0][0].c_str(), r[0][1].c_str()};
}

void insert_received(pqxx::transaction_base& tx, const Envelope& e,
                     const std::string& content_hash_hex, const std::string& answer,
                     int64_t now_us) {
  exec_cached(tx, kInsertReceived, e.id, e.link_id, e.type, content_hash_hex, answer, now_us);
}

void insert_transfer(pqxx::transaction_base& tx, const RemoteTransfer& t, int64_t now_us) {
  exec_cached(tx, kInsertTransfer, t.id, t.community_id, t.link_id, t.partner_community_id, t.role,
              t.payer_member_id, t.payee_member_id, t.minutes, t.partner_minutes, t.state,
              t.has_leg, t.reason, t.memo, t.deadline_us, now_us, t.until_told);
}

std::optional<RemoteTransfer> find_transfer(pqxx::transaction_base& tx, const std::string& id,
                                            bool for_update) {
  const std::string sql =
      std::string(kTransferColumns) + "WHERE id = $1" + (for_update ? " FOR UPDATE" : "");
  const auto r = exec_cached(tx, sql, id);
  if (r.empty()) return std::nullopt;
  return transfer_from(r[0]);
}

void set_transfer_state(pqxx::transaction_base& tx, const std::string& id, const std::string& state,
                        const std::string& reason, int64_t now_us) {
  exec_cached(tx, kSetTransferState, id, state, reason, now_us);
}

void set_settle_asked(pqxx::transaction_base& tx, const std::string& id,
                      const std::string& decision, int64_t now_us) {
  exec_cached(tx, kSetSettleAsked, id, decision, now_us);
}

std::vector<std::string> overdue_holds(pqxx::transaction_base& tx, int64_t now_us, int limit) {
  std::vector<std::string> ids;
  for (const auto& row : exec_cached(tx, kOverdueHolds, now_us, limit))
    ids.emplace_back(row[0].c_str());
  return ids;
}

bool record_reconciliation_alert(pqxx::transaction_base& tx, const std::string& link_id,
                                 const std::string& community_id, const std::string& day,
                                 const std::string& fingerprint) {
  return exec_cached(tx, kRecordReconciliationAlert, link_id, community_id, day, fingerprint)
      .at(0)[0]
      .as<bool>();
}

std::vector<std::string> unsettled_transfers(pqxx::transaction_base& tx, const std::string& link_id,
                                             const std::string& community_id) {
  std::vector<std::string> ids;
  for (const auto& row : exec_cached(
           tx,
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
  for (const auto& row : exec_cached(tx, sql, link_id, community_id, limit))
    out.push_back(transfer_from(row));
  return out;
}

}  // namespace maillon::ledger::remote::repo
