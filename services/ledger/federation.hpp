// Federation inside the ledger (issue 23): links between communities (one row per side, schemas/
// ledger/006_federation.sql), their clearing accounts, and transfers that pay across a link in two
// legs with the same transfer id: payer -> clearing:<payer_c>:<payee_c> in the payer's community,
// clearing:<payee_c>:<payer_c> -> payee in the payee's. Inside one installation both legs are
// written in one PostgreSQL transaction; with another installation (partner_url set) this side's
// leg only, the messages being federation_remote*'s (F2), which calls the functions below.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "exchange/federation.hpp"
#include "exchange/ledger.hpp"
#include "exchange/ledger_audit.hpp"
#include "services/common/events_ledger.hpp"

namespace maillon {
class Outbox;
class Service;
}  // namespace maillon

namespace maillon::ledger {
class PolicyCache;
}

namespace maillon::ledger::federation {

// A community keeps at most this many links (each side's list is answered whole).
inline constexpr std::size_t kLinksPerCommunityMax = 200;
inline constexpr std::size_t kPartnerUrlBytesMax = 2048;

// One side of a link, as its row stores it.
struct Link {
  std::string id;
  std::string community_id;  // ours
  std::string partner_community_id;
  std::optional<std::string> partner_url;  // empty: the partner is in this installation
  FederationLinkState state = FederationLinkState::proposed;
  bool proposed_by_us = false;
  int64_t debit_limit_minutes = 0;
  int64_t credit_limit_minutes = 0;
  int64_t rate_micro = kRateMicroUnit;            // partner minutes per one of ours, in millionths
  std::optional<std::string> partner_public_key;  // raw bytes (F2)
  int64_t created_at_us = 0;
  int64_t updated_at_us = 0;
  // Who suspended the link (schemas/ledger/011_federation_resume.sql): it is suspended while
  // either is set, and resumes once both are clear.
  bool suspended_by_us = false;
  bool suspended_by_partner = false;
  bool accepted = false;               // the partner accepted it once: a resume makes it active
  int64_t suspension_seq = 0;          // our suspensions and resumes sent to the partner
  int64_t partner_suspension_seq = 0;  // the partner's last one applied here

  bool remote() const { return partner_url.has_value(); }
  // The state the suspension flags give: suspended while either is set, else what the link was
  // before (active once accepted, proposed otherwise).
  FederationLinkState state_after_suspension() const {
    if (suspended_by_us || suspended_by_partner) return FederationLinkState::suspended;
    if (state != FederationLinkState::suspended) return state;
    return accepted ? FederationLinkState::active : FederationLinkState::proposed;
  }
  ClearingLimits limits() const { return {debit_limit_minutes, credit_limit_minutes}; }
  std::string clearing_account() const {
    return clearing_account_id(community_id, partner_community_id);
  }
};

// --- Reading links (any transaction) -------------------------------------------------------------
std::optional<Link> find_link(pqxx::work& tx, const std::string& link_id,
                              const std::string& community_id);
// Our side of the link with `partner`, whatever its state.
std::optional<Link> find_link_between(pqxx::work& tx, const std::string& community_id,
                                      const std::string& partner_community_id);
// The sides of a link this installation keeps (one or two), by community id.
std::vector<Link> link_sides(pqxx::work& tx, const std::string& link_id);

// --- Changing links: each writes its row(s), opens the clearing account(s) and emits
// federation.link.updated for each side it changed, in the caller's transaction. -----------------

// Stores a new side; false (nothing written) when the community has a link with that partner
// already (its id or the pair taken). The side's clearing account is opened.
bool insert_link_side(pqxx::work& tx, const Outbox& outbox, const Link& side);
// Sets a side's state (and limits when given: an acceptance's own); the side as it now is, or
// nullopt when there is no such side.
std::optional<Link> set_link_state(pqxx::work& tx, const Outbox& outbox, const std::string& link_id,
                                   const std::string& community_id, FederationLinkState state,
                                   std::optional<ClearingLimits> limits = std::nullopt);
// Writes a side's suspension (its flags, `accepted`, the sequence numbers) with the state they
// give (Link::state_after_suspension); the side as it now is. Callers hold lock_link.
std::optional<Link> set_link_suspension(pqxx::work& tx, const Outbox& outbox, const Link& side);
// Locks the rows of a link (every side this installation keeps) until the transaction ends:
// suspensions and resumes of the same link, from either side, are applied one at a time.
void lock_link(pqxx::work& tx, const std::string& link_id);
// The partner installation's key, once exchanged (F2).
void set_partner_public_key(pqxx::work& tx, const std::string& link_id,
                            const std::string& community_id, const std::string& key_bytes);

// The side a partner's proposal gives us: the mirror of theirs (our debit limit is their credit
// limit and the other way round, our rate the inverse of theirs), proposed by them.
Link mirror_side(const Link& theirs, std::optional<std::string> partner_url);

// --- Transfers across a link ---------------------------------------------------------------------

enum class LegType { hold, transfer, post, void_hold };  // transfer: posted at once

// A federated command, in the payer's terms: `minutes` are the payer's (the payee's leg is their
// conversion with the payer side's rate). Payer and payee are members, never a community's
// account: what a community prints (bonuses, allowances) is spent at home.
struct FederatedCommand {
  LegType type = LegType::hold;
  TransferId transfer_id;
  std::string payer_community_id;
  std::string payee_community_id;
  std::string from_member_id;      // hold, transfer
  std::string to_member_id;        // hold, transfer
  std::optional<int64_t> minutes;  // hold, transfer: required; post: a part of the hold
  TransferKind kind = TransferKind::exchange;
  std::string memo;
  std::string ref;
  int64_t timeout_s = 0;
  std::string actor_id;  // who asked (recorded on the transfers); "" for a saga
};

// What a federated command gave: `refusal` empty when accepted (outcome ok or exists), else the
// reason slug ("federation-limit", "no-federation-link", or a LedgerOutcome's: "insufficient-
// credits", "already-posted"...). The legs as stored after the command, when they exist.
struct FederatedResult {
  LedgerOutcome outcome = LedgerOutcome::ok;
  std::string refusal;
  std::optional<Transfer> payer_leg;
  std::optional<Transfer> payee_leg;
  bool accepted() const { return refusal.empty(); }
};
inline constexpr const char* kFederationLimit = "federation-limit";
inline constexpr const char* kNoFederationLink = "no-federation-link";

// Both legs in the caller's transaction (the link inside this installation): the two
// communities' writer locks in id order, the link checked (active for a new hold or transfer;
// any state settles), the limits of both sides checked under the locks, then both legs, or
// neither. A retry of the same command answers `exists` and moves nothing.
FederatedResult apply_federated(pqxx::work& tx, const Outbox& outbox, PolicyCache& policies,
                                const FederatedCommand& command, int64_t now_us);

// One side's leg only, for a link with another installation (F2): `side` is our row; the payer's
// side when side.community_id == command.payer_community_id, else the payee's (then `minutes` are
// already the payee's: the partner converted them). Takes our community's writer lock, checks our
// side's limit for a new hold or transfer, and writes our leg.
FederatedResult apply_leg(pqxx::work& tx, const Outbox& outbox, PolicyCache& policies,
                          const Link& side, const FederatedCommand& command, int64_t now_us);

// For the expiry job: adds to `by_community` the mirror leg of every due leg through a clearing
// account of this installation, so that both legs of a hold expire in the same transaction.
void add_mirror_legs(pqxx::work& tx, std::map<std::string, std::vector<TransferId>>& by_community);

// A link with another installation changed by our admin (created, accepted, suspended): F2's
// hook sends the message, in the same transaction (an outbox of its own). Unset: nothing is sent.
// A federated command whose payee is in another installation goes to `remote_command`, which
// answers as apply_federated; unset, it is refused as no-federation-link.
struct RemoteHooks {
  std::function<void(pqxx::work&, const Link& ours)> link_changed;
  std::function<FederatedResult(pqxx::work&, const Outbox&, PolicyCache&, const Link& ours,
                                const FederatedCommand&, int64_t now_us)>
      remote_command;
  // Our admin suspended or resumed a link with another installation (`ours` as it now is, with
  // its new suspension_seq): link.suspend or link.resume goes to the partner.
  std::function<void(pqxx::work&, const Link& ours)> suspension_changed;
};
void set_remote_hooks(RemoteHooks hooks);
const RemoteHooks& remote_hooks();

// Reads a ledger.commands command carrying payee_community_id (≠ the envelope's community) as a
// federated command; std::invalid_argument when it cannot be one (a community's account as a
// party, a bonus or an allowance).
FederatedCommand federated_command_from(const LedgerCommandEvent& c,
                                        const std::string& payer_community_id);
// A ledger.post or ledger.void that names no payee community, on a transfer that is a leg of a
// federated one in `community_id`: the federated command settling both legs (a saga that left
// the field out would otherwise settle one ledger only), or nullopt for an ordinary transfer.
// std::invalid_argument for a part of a hold asked from the payee's side (its minutes are not
// the payer's).
std::optional<FederatedCommand> leg_settlement(pqxx::work& tx, const LedgerCommandEvent& c,
                                               const std::string& community_id);
// The ledger.commands path: our link with the payee's community decides whether both legs are
// here (apply_federated) or the partner is another installation (remote_command).
FederatedResult apply_federated_command(pqxx::work& tx, const Outbox& outbox, PolicyCache& policies,
                                        const FederatedCommand& command, int64_t now_us);

// The mirror check of the audit: for each link of `community_id` inside this installation, the
// ways its clearing account and the partner's disagree, as audit violations.
std::vector<AuditViolation> mirror_violations(pqxx::work& tx, const std::string& community_id);

// The routes of /v1/federation (federation_http.cpp).
void register_routes(Service& service, PolicyCache& policies);

}  // namespace maillon::ledger::federation
