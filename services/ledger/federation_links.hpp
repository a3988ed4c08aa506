// The federation's use cases behind /v1/federation: who may propose, accept, suspend and read a
// link, and a member's payment across one. No HTTP here: refusals are codes (FederationRefusal),
// put into words by federation_http.cpp's message table.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "services/common/clock.hpp"
#include "services/ledger/federation.hpp"

namespace maillon {
class Db;
class Outbox;
struct Identity;
}  // namespace maillon

namespace maillon::ledger::federation {

enum class FederationRefusal {
  none,
  not_link_admin,        // not an administrator of the community (nor of the platform)
  own_proposal,          // the proposer's admin accepting their own proposal
  links_not_visible,     // neither admin nor staff of the community
  link_not_found,        // no link under that id that the caller may see
  community_not_found,   // the community is not known here
  partner_not_found,     // the partner community is not known here
  same_community,        // a link (or a payment across) from a community to itself
  link_exists,           // the two communities have a link already
  too_many_links,        // kLinksPerCommunityMax reached
  link_not_proposed,     // accepting a link that was suspended
  federation_limit,      // a limit of the link would be passed in that direction
  no_federation_link,    // no active link with the payee's community
  community_id_missing,  // ?community_id= absent or not a UUID
  rate_invalid,          // a rate out of bounds
  partner_invalid,       // partner neither {community_id} nor {url, community_id}
  link_not_suspended,    // resuming a link that is not suspended
};
inline constexpr FederationRefusal kLastFederationRefusal = FederationRefusal::link_not_suspended;

// POST /v1/federation/links, as read.
struct LinkProposal {
  std::string community_id;
  std::string partner_community_id;
  std::optional<std::string> partner_url;
  int64_t debit_limit_minutes = 0;
  int64_t credit_limit_minutes = 0;
  int64_t rate_micro = kRateMicroUnit;
};

// A side with its clearing account, as the asking community sees it.
struct LinkView {
  Link side;
  Account clearing;
  std::string partner_name;  // "" when the partner is not in this directory
};

struct Reconciliation {
  LinkView ours;
  std::optional<LinkView> theirs;  // empty for a partner in another installation
  std::vector<MirrorDifference> differences;
  bool truncated = false;  // more legs than kClearingLegsMax on a side
};

// POST /v1/federation/transfers, as read: the caller pays a member of a partner community at once.
struct DirectTransfer {
  std::string id;  // the client's UUID: both legs bear it
  std::string payee_community_id;
  std::string to_member_id;
  int64_t minutes = 0;
  std::string memo;
};

template <class T>
struct FederationFound {
  FederationRefusal refusal = FederationRefusal::none;
  std::string ledger_refusal;  // a payment's refusal slug when refusal is none and it failed
  std::optional<LedgerOutcome> ledger_outcome;
  T value{};
};

class FederationUseCases {
 public:
  FederationUseCases(Db& db, const Outbox& outbox, PolicyCache& policies, Clock clock)
      : db_(db), outbox_(outbox), policies_(policies), clock_(std::move(clock)) {}

  FederationFound<LinkView> propose(const Identity& who, const LinkProposal& in);
  // `community_id`: the side to act as, when the caller administers both or the platform.
  FederationFound<LinkView> accept(const Identity& who, const std::string& link_id,
                                   std::optional<ClearingLimits> limits);
  FederationFound<LinkView> suspend(const Identity& who, const std::string& link_id,
                                    const std::optional<std::string>& community_id);
  // Withdraws the caller's side's suspension: the link is active again once no side has it
  // suspended (the partner's suspension stands until the partner resumes too).
  FederationFound<LinkView> resume(const Identity& who, const std::string& link_id,
                                   const std::optional<std::string>& community_id);
  FederationFound<std::vector<LinkView>> list(const Identity& who, const std::string& community_id);
  FederationFound<Reconciliation> reconcile(const Identity& who, const std::string& link_id,
                                            const std::optional<std::string>& community_id);
  FederationFound<FederatedResult> pay(const Identity& who, const DirectTransfer& in);

 private:
  // suspend (true) and resume (false): the caller's side sets or withdraws its suspension.
  FederationFound<LinkView> set_suspension(const Identity& who, const std::string& link_id,
                                           const std::optional<std::string>& community_id,
                                           bool suspended);

  Db& db_;
  const Outbox& outbox_;
  PolicyCache& policies_;
  Clock clock_;
};

}  // namespace maillon::ledger::federation
