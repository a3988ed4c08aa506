// The federation's use cases (federation_links.hpp): each runs in one transaction; a refusal
// thrown from inside one rolls back whatever it wrote.
#include "services/ledger/federation_links.hpp"

#include <algorithm>

#include "services/common/auth.hpp"
#include "services/common/db.hpp"
#include "services/common/ids.hpp"
#include "services/common/text.hpp"
#include "services/ledger/federation_repository.hpp"
#include "services/ledger/ledger_service.hpp"
#include "services/ledger/usecases.hpp"

namespace maillon::ledger::federation {
namespace {

// Thrown inside a transaction to end it with a refusal (what it wrote is rolled back).
struct Refused {
  FederationRefusal refusal;
};

// Acting for a member lends no admin role (auth.hpp), so `administers` is false while acting.
bool administers(const Identity& who, const std::string& community_id) {
  return who.administers(community_id);
}

LinkView view_of(pqxx::work& tx, const Link& side) {
  repo::open_clearing_account(tx, side.community_id, side.partner_community_id);
  LinkView view{side, *repo::clearing_account(tx, side.community_id, side.partner_community_id),
                ""};
  if (!side.remote())
    view.partner_name = repo::community_name(tx, side.partner_community_id).value_or("");
  return view;
}

// The side of a link the caller acts as: the one named, else one the caller administers
// (`prefer_proposer` breaks the tie of a caller who administers both, as the platform's admin
// does).
const Link& acting_side(const Identity& who, const std::vector<Link>& sides,
                        const std::optional<std::string>& community_id, bool prefer_proposer) {
  if (sides.empty()) throw Refused{FederationRefusal::link_not_found};
  const Link* chosen = nullptr;
  for (const Link& side : sides) {
    if (community_id && side.community_id != lowercase_ascii(*community_id)) continue;
    if (!administers(who, side.community_id)) continue;
    if (chosen == nullptr || side.proposed_by_us == prefer_proposer) chosen = &side;
  }
  // A link none of whose sides the caller administers is not theirs to see.
  if (chosen == nullptr) throw Refused{FederationRefusal::link_not_found};
  return *chosen;
}

template <class T, class F>
FederationFound<T> refusing(F&& f) {
  try {
    return f();
  } catch (const Refused& r) {
    FederationFound<T> found;
    found.refusal = r.refusal;
    return found;
  }
}

void notify_remote(pqxx::work& tx, const Link& side) {
  const RemoteHooks& hooks = remote_hooks();
  if (side.remote() && hooks.link_changed) hooks.link_changed(tx, side);
}

// Changes every side of this installation to `state` (events for each side changed); the
// acceptor's own limits go on its side only.
void set_state(pqxx::work& tx, const Outbox& outbox, const std::vector<Link>& sides,
               FederationLinkState state, const std::string& limits_side,
               std::optional<ClearingLimits> limits) {
  for (const Link& side : sides) {
    if (side.state == state && side.community_id != limits_side) continue;
    const auto own = side.community_id == limits_side ? limits : std::nullopt;
    const auto changed = set_link_state(tx, outbox, side.id, side.community_id, state, own);
    if (changed) notify_remote(tx, *changed);
  }
}

// The admin of `acting` suspends (`suspended` true) or resumes the link: `acting`'s row says
// suspended_by_us, the partner's row inside this installation suspended_by_partner; each row
// takes the state its flags give (an event for each whose state changed). A partner in another
// installation is told (link.suspend / link.resume, numbered by suspension_seq). Nothing is
// written, nor sent, when the acting side's flag is already so: a retry changes nothing.
void set_suspended_by(pqxx::work& tx, const Outbox& outbox, const std::vector<Link>& sides,
                      const Link& acting, bool suspended) {
  if (acting.suspended_by_us == suspended && acting.state_after_suspension() == acting.state)
    return;
  for (Link side : sides) {
    const bool ours = side.community_id == acting.community_id;
    if (!ours && side.community_id != acting.partner_community_id) continue;
    (ours ? side.suspended_by_us : side.suspended_by_partner) = suspended;
    if (ours && side.remote()) ++side.suspension_seq;
    const auto changed = set_link_suspension(tx, outbox, side);
    const RemoteHooks& hooks = remote_hooks();
    if (changed && ours && changed->remote() && hooks.suspension_changed)
      hooks.suspension_changed(tx, *changed);
  }
}

}  // namespace

FederationFound<LinkView> FederationUseCases::propose(const Identity& who, const LinkProposal& in) {
  if (!administers(who, in.community_id)) return {FederationRefusal::not_link_admin};
  if (in.community_id == in.partner_community_id) return {FederationRefusal::same_community};
  return refusing<LinkView>([&] {
    return db_.transact([&](pqxx::work& tx) -> FederationFound<LinkView> {
      if (!repo::community_name(tx, in.community_id))
        throw Refused{FederationRefusal::community_not_found};
      if (!in.partner_url && !repo::community_name(tx, in.partner_community_id))
        throw Refused{FederationRefusal::partner_not_found};
      if (repo::count_links_of(tx, in.community_id) >= kLinksPerCommunityMax)
        throw Refused{FederationRefusal::too_many_links};
      Link ours;
      ours.id = new_uuid();
      ours.community_id = in.community_id;
      ours.partner_community_id = in.partner_community_id;
      ours.partner_url = in.partner_url;
      ours.state = FederationLinkState::proposed;
      ours.proposed_by_us = true;
      ours.debit_limit_minutes = in.debit_limit_minutes;
      ours.credit_limit_minutes = in.credit_limit_minutes;
      ours.rate_micro = in.rate_micro;
      if (!insert_link_side(tx, outbox_, ours)) throw Refused{FederationRefusal::link_exists};
      // Inside this installation the partner's side waits for its admin, with the mirror of our
      // limits until it sets its own.
      if (!ours.remote() && !insert_link_side(tx, outbox_, mirror_side(ours, std::nullopt)))
        throw Refused{FederationRefusal::link_exists};
      const Link stored = *repo::select_link(tx, ours.id, ours.community_id);
      notify_remote(tx, stored);
      return {FederationRefusal::none, "", std::nullopt, view_of(tx, stored)};
    });
  });
}

FederationFound<LinkView> FederationUseCases::accept(const Identity& who,
                                                     const std::string& link_id,
                                                     std::optional<ClearingLimits> limits) {
  return refusing<LinkView>([&] {
    return db_.transact([&](pqxx::work& tx) -> FederationFound<LinkView> {
      const auto sides = repo::select_link_sides(tx, link_id);
      const Link& side = acting_side(who, sides, std::nullopt, false);
      if (side.proposed_by_us) throw Refused{FederationRefusal::own_proposal};
      if (side.state == FederationLinkState::suspended)
        throw Refused{FederationRefusal::link_not_proposed};
      // Accepting an active link again changes nothing (a retry answers the same).
      if (side.state == FederationLinkState::proposed)
        set_state(tx, outbox_, sides, FederationLinkState::active, side.community_id, limits);
      return {FederationRefusal::none, "", std::nullopt,
              view_of(tx, *repo::select_link(tx, side.id, side.community_id))};
    });
  });
}

FederationFound<LinkView> FederationUseCases::suspend(
    const Identity& who, const std::string& link_id,
    const std::optional<std::string>& community_id) {
  return set_suspension(who, link_id, community_id, true);
}

FederationFound<LinkView> FederationUseCases::resume(
    const Identity& who, const std::string& link_id,
    const std::optional<std::string>& community_id) {
  return set_suspension(who, link_id, community_id, false);
}

FederationFound<LinkView> FederationUseCases::set_suspension(
    const Identity& who, const std::string& link_id, const std::optional<std::string>& community_id,
    bool suspended) {
  return refusing<LinkView>([&] {
    return db_.transact([&](pqxx::work& tx) -> FederationFound<LinkView> {
      lock_link(tx, link_id);
      const auto sides = repo::select_link_sides(tx, link_id);
      const Link& side = acting_side(who, sides, community_id, true);
      // Only our own suspension is ours to withdraw: the partner's stands (the answer says so).
      if (!suspended && side.state != FederationLinkState::suspended)
        throw Refused{FederationRefusal::link_not_suspended};
      set_suspended_by(tx, outbox_, sides, side, suspended);
      return {FederationRefusal::none, "", std::nullopt,
              view_of(tx, *repo::select_link(tx, side.id, side.community_id))};
    });
  });
}

FederationFound<std::vector<LinkView>> FederationUseCases::list(const Identity& who,
                                                                const std::string& community_id) {
  const bool staff_here = who.is_staff() && who.community_id == community_id;
  if (!administers(who, community_id) && !staff_here) return {FederationRefusal::links_not_visible};
  return db_.transact([&](pqxx::work& tx) -> FederationFound<std::vector<LinkView>> {
    std::vector<LinkView> views;
    for (const Link& side :
         repo::select_links_of(tx, community_id, static_cast<int>(kLinksPerCommunityMax)))
      views.push_back(view_of(tx, side));
    return {FederationRefusal::none, "", std::nullopt, std::move(views)};
  });
}

FederationFound<Reconciliation> FederationUseCases::reconcile(
    const Identity& who, const std::string& link_id,
    const std::optional<std::string>& community_id) {
  return refusing<Reconciliation>([&] {
    return db_.transact([&](pqxx::work& tx) -> FederationFound<Reconciliation> {
      const auto sides = repo::select_link_sides(tx, link_id);
      const Link& side = acting_side(who, sides, community_id, true);
      // Both legs of a transfer or neither: no writer of either community runs meanwhile.
      repo::lock_communities(tx, {side.community_id, side.partner_community_id});
      Reconciliation r{view_of(tx, side), std::nullopt, {}, false};
      const auto ours_legs = repo::clearing_legs(tx, side.community_id, side.partner_community_id);
      r.truncated = ours_legs.size() > kClearingLegsMax;
      const auto partner = std::find_if(sides.begin(), sides.end(), [&](const Link& l) {
        return l.community_id == side.partner_community_id;
      });
      if (side.remote() || partner == sides.end())
        return {FederationRefusal::none, "", std::nullopt, std::move(r)};
      r.theirs = view_of(tx, *partner);
      const auto their_legs =
          repo::clearing_legs(tx, partner->community_id, partner->partner_community_id);
      r.truncated = r.truncated || their_legs.size() > kClearingLegsMax;
      r.differences =
          compare_mirrors({side.clearing_account(), side.rate_micro, ours_legs},
                          {partner->clearing_account(), partner->rate_micro, their_legs});
      return {FederationRefusal::none, "", std::nullopt, std::move(r)};
    });
  });
}

FederationFound<FederatedResult> FederationUseCases::pay(const Identity& who,
                                                         const DirectTransfer& in) {
  if (lowercase_ascii(in.payee_community_id) == lowercase_ascii(who.community_id))
    return {FederationRefusal::same_community};
  FederatedCommand c;
  c.type = LegType::transfer;
  c.transfer_id = in.id;
  c.payer_community_id = lowercase_ascii(who.community_id);
  c.payee_community_id = lowercase_ascii(in.payee_community_id);
  c.from_member_id = who.member_id;
  c.to_member_id = in.to_member_id;
  c.minutes = in.minutes;
  c.kind = TransferKind::exchange;
  c.memo = in.memo;
  c.actor_id = who.actor_id();
  return db_.transact([&](pqxx::work& tx) -> FederationFound<FederatedResult> {
    FederatedResult result = apply_federated_command(tx, outbox_, policies_, c, clock_.now_us());
    FederationFound<FederatedResult> found;
    if (result.refusal == kFederationLimit) {
      found.refusal = FederationRefusal::federation_limit;
    } else if (result.refusal == kNoFederationLink) {
      found.refusal = FederationRefusal::no_federation_link;
    } else if (!result.accepted()) {
      found.ledger_outcome = result.outcome;
    }
    found.value = std::move(result);
    return found;
  });
}

}  // namespace maillon::ledger::federation
