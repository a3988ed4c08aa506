// Federation between installations (issue 23): links whose partner community lives in another
// Maillon installation, reached over signed HTTP messages (POST /federation/v1/messages), and
// transfers whose two legs live in the two ledgers, settled by a two-phase saga that resumes
// from PostgreSQL after any crash. Same-installation links are federation.hpp's (F1).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <string_view>
#include <vector>

#include "services/common/signing.hpp"
#include "services/ledger/federation.hpp"

namespace maillon {
class Service;
struct Event;
struct Identity;
struct Request;
struct Response;
}  // namespace maillon

namespace maillon::ledger {

class PolicyCache;

namespace remote {

using Json = nlohmann::json;

// Message types between installations.
inline constexpr std::string_view kLinkPropose = "link.propose";
inline constexpr std::string_view kLinkAccept = "link.accept";
inline constexpr std::string_view kLinkSuspend = "link.suspend";
inline constexpr std::string_view kLinkResume = "link.resume";
inline constexpr std::string_view kTransferHold = "transfer.hold";
inline constexpr std::string_view kTransferPost = "transfer.post";
inline constexpr std::string_view kTransferVoid = "transfer.void";
inline constexpr std::string_view kReconcileRequest = "reconcile.request";
// A listing of ours that crosses (federation_listings.cpp), and one that no longer does.
inline constexpr std::string_view kListingPublish = "listing.publish";
inline constexpr std::string_view kListingWithdraw = "listing.withdraw";
// An exchange with a partner installation's member (federation_exchanges.cpp): its state, from
// where it lives to the other party's mirror, and that party's actions, the other way.
inline constexpr std::string_view kExchangeState = "exchange.state";
inline constexpr std::string_view kExchangeAct = "exchange.act";

// A message is refused (409) when its sent_at is further than this from our clock.
inline constexpr int64_t kMessageClockSkewMaxS = 300;
// Due messages one sending round takes (the rest wait for the next round), and how many of
// them are on their way at once (each holds a database connection while its answer applies).
inline constexpr int kSendBatchMax = 128;
inline constexpr std::size_t kSendConcurrency = 6;
// Transfers one reconciliation compares, the newest first (`truncated` says when cut).
inline constexpr int kReconcileTransfersMax = 10'000;
// The prefix of a cross-installation transfer id: outside the clients' namespace (UUIDs) and
// every other saga's, the same id in both ledgers.
inline constexpr std::string_view kTransferIdPrefix = "fedx:";

struct Settings {
  std::string public_url;  // how partners reach this installation (its gateway)
  int64_t hold_timeout_us = 6LL * 3600 * 1'000'000;
  int64_t retry_min_us = 200'000;
  int64_t retry_max_us = 60'000'000;
  long http_timeout_ms = 5000;
  std::chrono::milliseconds send_interval{100};
  std::chrono::milliseconds reconcile_interval{24LL * 3600 * 1000};
  std::string fault_file;  // tests only: a crash point to stop at (fault())
  static Settings from_env(uint16_t own_port);
};

// A link as this installation stores it: F1's side of a link (federation.hpp).
using Link = federation::Link;

// The side of a transfer between installations this ledger keeps.
struct RemoteTransfer {
  std::string id;
  std::string community_id;
  std::string link_id;
  std::string partner_community_id;
  std::string role;  // payer | payee
  std::string payer_member_id;
  std::string payee_member_id;
  int64_t minutes = 0;
  int64_t partner_minutes = 0;
  std::string state;
  bool has_leg = true;
  std::string reason;
  std::string memo;
  int64_t deadline_us = 0;
  int64_t created_at_us = 0;
  // An exchange's payment (a ledger.hold): both legs stay held until the exchange's ledger.post
  // or ledger.void, instead of posting once both hold (schemas/ledger/013_...sql).
  bool until_told = false;
  std::string settle_asked;  // "post" or "void" asked while the partner had not answered
};
Json remote_transfer_json(const RemoteTransfer& t);

// The envelope of a message, as signed: the exact bytes of its JSON text are what the signature
// covers. `sent_at` is renewed at each attempt (a retry hours later is not stale).
struct Envelope {
  std::string id;
  std::string link_id;
  std::string from_community_id;
  std::string to_community_id;
  std::string type;
  int64_t sent_at_s = 0;
  Json payload = Json::object();
  std::string text() const;
};
// The body read back; empty when it is not an envelope (any field missing or of another type).
std::optional<Envelope> parse_envelope(std::string_view body);
// What idempotency compares: everything but sent_at (BLAKE2b-256 of its canonical JSON).
std::string content_hash(const Envelope& envelope);

enum class Refusal { none, link_not_remote, partner_unreachable };

struct Reconciliation {
  Refusal refusal = Refusal::none;
  // {theirs, differences, in_flight, mirror_agrees, truncated}: the fields GET
  // /v1/federation/links/{id}/reconciliation takes from the partner installation.
  Json body = Json::object();
  int64_t differences = 0;
};

// The whole of the remote federation in one ledger process: key pair, inbox, outbox sender,
// sagas, reconciliation. Created once by register_remote_federation, which hooks it into F1's
// link use cases and federated commands (federation::RemoteHooks): one endpoint, two paths.
class RemoteFederation {
 public:
  RemoteFederation(Service& service, PolicyCache& policies, Settings settings);

  // Our admin created, accepted or suspended a link with another installation: the partner is
  // told (link.propose with our key, link.accept with our key and limits, link.suspend).
  void link_changed(pqxx::work& tx, const Link& ours);
  // Our admin suspended or resumed it: link.suspend or link.resume, numbered {seq:
  // ours.suspension_seq} so that the partner applies the last one whatever order they arrive in.
  void suspension_changed(pqxx::work& tx, const Link& ours);
  // A member of ours pays a member of the partner's installation (F1's POST
  // /v1/federation/transfers): our leg held and the saga started, in the caller's transaction.
  federation::FederatedResult start_transfer(pqxx::work& tx, const Link& ours,
                                             const federation::FederatedCommand& command,
                                             int64_t now_us);
  std::optional<RemoteTransfer> find_transfer(const std::string& id);
  // Our view against the partner's, transfer by transfer (GET .../reconciliation).
  // A difference counts only when a second look, begun after the first had the partner's answer,
  // finds it again: a transfer that started between our read and theirs is missing on one side
  // for a moment, by nothing but timing.
  Reconciliation reconcile(const Link& link);

  // POST /federation/v1/messages.
  Response receive(const Request& request);
  // One round of the sender: due messages sent, answers applied, timed-out holds voided.
  void send_round();
  void reconcile_all();

  const SigningKeyPair& keys() const { return keys_; }
  const Settings& settings() const { return settings_; }
  Service& service() { return s_; }
  PolicyCache& policies() { return policies_; }

 private:
  Reconciliation look_once(const Link& link);  // one comparison, unconfirmed
  Service& s_;
  PolicyCache& policies_;
  Settings settings_;
  SigningKeyPair keys_;
  void load_keys();
  // Tells our community's administrators (federation.reconciliation.differed) of the
  // differences the daily job found, unless the same were raised today already.
  void raise_differences(const Link& link, const Reconciliation& r);
};

// Routes (/federation/v1/messages, /v1/federation/transfers, reconciliation) and jobs.
RemoteFederation& register_remote_federation(Service& service, PolicyCache& policies);
// The instance register_remote_federation made (nullptr before).
RemoteFederation* remote_federation();
// ledger.relay_exchange from the exchange service, queued to the link's partner installation
// (federation_exchanges.cpp); dropped, with a warning, where no remote federation runs.
void relay_exchange_command(pqxx::work& tx, const Event& e);
// For F1's GET /v1/federation/links/{id}/reconciliation on a link with another installation:
// the partner's side and the differences, asked now, put into `body`; 503 when the partner
// installation does not answer.
void merge_remote_reconciliation(const Link& ours, Json& body);
// F1's answer to POST /v1/federation/transfers whose payee is in another installation: the
// payer's leg (held) and the saga's state.
Json remote_payment_json(const Transfer& payer_leg);

}  // namespace remote
}  // namespace maillon::ledger
