// Use cases of the members lifecycle: approval, suspension, staff and community administrators,
// members registered at the desk, search, reports. Who may act is settled by moderation_rules.hpp;
// role and status changes end or refresh the sessions they touch once committed.
#include <nlohmann/json.hpp>

#include "services/common/events_members.hpp"
#include "services/common/ids.hpp"
#include "services/common/json_body.hpp"
#include "services/common/service.hpp"
#include "services/members/moderation_rules.hpp"
#include "services/members/refusal.hpp"
#include "services/members/usecases.hpp"

namespace maillon::members {
namespace {

namespace lrepo = lifecycle_repo;
using Json = nlohmann::json;

// A member files at most this many reports a day: enough for real trouble, not for flooding
// the desk.
constexpr int kReportsPerDayMax = 20;
// Each desk registration is paid the joining bonus: a staff member registers at most this many
// people a day, so that inventing members to collect bonuses stays small and visible.
constexpr int kDeskRegistrationsPerDayMax = 50;
// The daily limits count the last 24 hours: an hour frees some room for most callers.
constexpr int kLimitRetryAfterSeconds = 3600;

[[noreturn]] void refuse(MembersCode code, int retry_after_seconds = 0) {
  throw Refusal{code, retry_after_seconds};
}

MembersCode refusal_of(Verdict v) {
  switch (v) {
    case Verdict::unseen:
      return MembersCode::member_not_found;
    case Verdict::self:
      return MembersCode::self_moderation;
    case Verdict::protected_role:
      return MembersCode::protected_role;
    case Verdict::no_role:
    case Verdict::allowed:
      break;
  }
  return MembersCode::home_staff_only;
}

void require(Verdict v) {
  if (v != Verdict::allowed) refuse(refusal_of(v));
}

// Audit details naming, while staff act for a member, the member they act for (the actor
// recorded is always the one who really acted: Identity::actor_id).
std::string audit_details(const Identity& who, Json details = Json::object()) {
  if (!who.acting_staff_id.empty()) details["on_behalf_of"] = who.member_id;
  return details.dump();
}

// member.updated saying whether the member now administers their community: notify keeps who
// the admins are, to tell them what concerns the whole community (a link's reconciliation).
void publish_community_admin(Service& s, pqxx::work& tx, const std::string& member_id, bool admin) {
  const auto m = repo::find_member(tx, member_id);
  if (!m) return;
  auto opt = [](const std::string& v) { return v.empty() ? std::nullopt : std::optional(v); };
  const MemberIdentity changed{
      MemberIdentity::Type::updated,  m->id,           opt(m->community_id),
      opt(m->home_site_id),           m->display_name, m->staff_site_ids,
      member_status_named(m->status), std::nullopt,    admin};
  s.outbox.add(tx, kMembersStream, changed.type_name(), m->community_id, changed.data());
}

lrepo::MemberState locked_target(pqxx::work& tx, const std::string& id) {
  auto target = is_uuid(id) ? lrepo::lock_member(tx, id) : std::nullopt;
  if (!target) refuse(MembersCode::member_not_found);
  return *target;
}

repo::SiteRow site_or_refuse(pqxx::work& tx, const std::string& site_id) {
  auto site = is_uuid(site_id) ? repo::find_site(tx, site_id) : std::nullopt;
  if (!site) refuse(MembersCode::site_not_found);
  return *site;
}

void require_network_admin(pqxx::work& tx, const Identity& who, const std::string& community_id) {
  if (!who.is_admin) refuse(MembersCode::network_admins_only);
  auto community = is_uuid(community_id) ? repo::find_community(tx, community_id) : std::nullopt;
  if (!community) refuse(MembersCode::community_not_found);
}

// Staff of the site only. Members and administrators of the community know its desk exists
// and are refused; anyone else hears `missing` (not found).
void require_site_staff(const Identity& who, const std::string& site_id,
                        const std::string& community_id, MembersCode missing) {
  if (serves_site(who, site_id)) return;
  if (who.community_id == community_id || who.administers(community_id)) {
    refuse(MembersCode::site_staff_only);
  }
  refuse(missing);
}

// What a status change leaves to do once committed.
struct StatusChange {
  std::string status;
  bool changed = false;
  std::vector<Authenticator::EndedSession> revoked;
};

// Suspends a member already locked and judged suspendable: every session revoked, the
// member.suspended event for the services that cancel exchanges and hide listings.
StatusChange suspend_locked(Service& s, pqxx::work& tx, const Identity& who,
                            const lrepo::MemberState& m, const std::string& reason) {
  const auto& id = m.facts.id;
  if (m.status == "suspended") return StatusChange{"suspended", false, {}};
  lrepo::set_status(tx, id, "suspended", m.status, reason);
  auto revoked = lrepo::revoke_sessions(tx, id);
  repo::audit(tx, who.actor_id(), id, "member.suspended", audit_details(who, {{"reason", reason}}));
  const MemberStanding suspended{MemberStanding::Type::suspended, id, m.facts.community_id, reason};
  s.outbox.add(tx, kMembersStream, suspended.type_name(), m.facts.community_id, suspended.data());
  return StatusChange{"suspended", true, std::move(revoked)};
}

// A report goes to the staff of the reported member's home site when it is about a member who
// has one (they know that member); otherwise to the reporter's home site (they know the
// reporter, and the listing's or message's owner is not the members service's to know).
lrepo::NewReport new_report(pqxx::work& tx, const Identity& who, const ReportInput& in) {
  lrepo::NewReport n{new_uuid(),
                     who.community_id,
                     who.home_site_id,
                     who.member_id,
                     who.acting_staff_id,
                     in.target,
                     in.target_id,
                     "",
                     in.reason};
  if (in.target == "member") {
    auto reported = repo::find_member(tx, in.target_id);
    if (!reported || reported->community_id != who.community_id)
      refuse(MembersCode::member_not_found);
    if (reported->id == who.member_id) refuse(MembersCode::self_report);
    n.reported_member_id = reported->id;
    if (!reported->home_site_id.empty()) n.site_id = reported->home_site_id;
  }
  if (n.site_id.empty()) refuse(MembersCode::no_home_site);
  return n;
}

// "hide" publishes listing.hidden for the listing services (they check that the listing is of
// this community); "suspend" applies the suspension rules to the reported member.
StatusChange apply_report_action(Service& s, pqxx::work& tx, const Identity& who,
                                 const lrepo::Report& rep, const CloseReport& in) {
  if (in.input.action == "hide") {
    if (rep.target != "offer" && rep.target != "request") refuse(MembersCode::cannot_hide);
    const ListingHidden hidden{
        rep.target == "offer" ? ListingHidden::Side::offer : ListingHidden::Side::request,
        rep.target_id, rep.community_id, rep.id};
    s.outbox.add(tx, kMembersStream, hidden.type_name(), rep.community_id, hidden.data());
  } else if (in.input.action == "suspend") {
    if (rep.reported_member_id.empty()) refuse(MembersCode::not_a_member_report);
    auto target = locked_target(tx, rep.reported_member_id);
    require(may_suspend(who, target.facts));
    return suspend_locked(s, tx, who, target, in.input.note.value_or(in.suspension_reason_default));
  }
  return StatusChange{};
}

}  // namespace

// --- approval and suspension --------------------------------------------------------------------

Outcome<StatusAnswer> MembersUseCases::approve(const Identity& who, const std::string& id) {
  auto change = settle([&] {
    return s_.db.transact([&](pqxx::work& tx) {
      auto target = locked_target(tx, id);
      require(may_approve(who, target.facts));
      if (target.status == "suspended") refuse(MembersCode::member_suspended);
      if (target.status != "pending") return StatusChange{target.status, false, {}};
      lrepo::set_status(tx, id, "active", "", "");
      repo::audit(tx, who.actor_id(), id, "member.approved", audit_details(who));
      const MemberStanding approved{MemberStanding::Type::approved, id, target.facts.community_id,
                                    std::nullopt};
      s_.outbox.add(tx, kMembersStream, approved.type_name(), target.facts.community_id,
                    approved.data());
      return StatusChange{"active", true, {}};
    });
  });
  if (!change.ok()) return {change.code};
  if (change.value.changed) refresh_sessions(id);
  return {MembersCode::ok, {id, change.value.status}, 0};
}

Outcome<StatusAnswer> MembersUseCases::suspend(const Identity& who, const std::string& id,
                                               const std::string& reason) {
  auto change = settle([&] {
    return s_.db.transact([&](pqxx::work& tx) {
      auto target = locked_target(tx, id);
      require(may_suspend(who, target.facts));
      return suspend_locked(s_, tx, who, target, reason);
    });
  });
  if (!change.ok()) return {change.code};
  // Also when it was suspended already: a retry after a lost announcement announces again.
  s_.auth.end_sessions(change.value.revoked, id);
  return {MembersCode::ok, {id, change.value.status}, 0};
}

Outcome<StatusAnswer> MembersUseCases::reinstate(const Identity& who, const std::string& id) {
  auto change = settle([&] {
    return s_.db.transact([&](pqxx::work& tx) {
      auto target = locked_target(tx, id);
      require(may_suspend(who, target.facts));
      if (target.status != "suspended") return StatusChange{target.status, false, {}};
      // A member suspended while pending is still to be approved (and paid the bonus then).
      const std::string back =
          target.status_before_suspension.empty() ? "active" : target.status_before_suspension;
      lrepo::set_status(tx, id, back, "", "");
      repo::audit(tx, who.actor_id(), id, "member.reinstated", audit_details(who));
      const MemberStanding reinstated{MemberStanding::Type::reinstated, id,
                                      target.facts.community_id, std::nullopt};
      s_.outbox.add(tx, kMembersStream, reinstated.type_name(), target.facts.community_id,
                    reinstated.data());
      return StatusChange{back, true, {}};
    });
  });
  if (!change.ok()) return {change.code};
  if (change.value.changed) refresh_sessions(id);
  return {MembersCode::ok, {id, change.value.status}, 0};
}

// --- staff and community administrators ---------------------------------------------------------

Outcome<Done> MembersUseCases::remove_staff(const Identity& who, const std::string& site_id,
                                            const std::string& member_id) {
  if (!who.is_admin && who.admin_community_ids.empty()) {
    return {MembersCode::site_community_admins_only};
  }
  auto ended = settle([&] {
    return s_.db.transact([&](pqxx::work& tx) {
      auto site = site_or_refuse(tx, site_id);
      if (!who.administers(site.community_id)) refuse(MembersCode::site_community_admins_only);
      if (!is_uuid(member_id) || !lrepo::remove_staff(tx, site_id, member_id)) {
        return std::vector<Authenticator::EndedSession>{};
      }
      repo::audit(tx, who.actor_id(), member_id, "staff.removed",
                  audit_details(who, {{"site_id", site_id}}));
      // Signed out everywhere: no copy of the former rights can outlive the removal anywhere.
      return lrepo::revoke_sessions(tx, member_id);
    });
  });
  if (!ended.ok()) return {ended.code};
  if (is_uuid(member_id)) s_.auth.end_sessions(ended.value, member_id);
  return {};
}

Outcome<Done> MembersUseCases::add_community_admin(const Identity& who,
                                                   const std::string& community_id,
                                                   const std::string& member_id) {
  auto added = settle([&] {
    s_.db.transact([&](pqxx::work& tx) {
      require_network_admin(tx, who, community_id);
      auto m = repo::find_member(tx, member_id);
      if (!m) refuse(MembersCode::unknown_member);
      if (m->community_id != community_id) refuse(MembersCode::member_not_in_community);
      if (lrepo::add_community_admin(tx, community_id, member_id, who.actor_id())) {
        repo::audit(tx, who.actor_id(), member_id, "community_admin.added",
                    audit_details(who, {{"community_id", community_id}}));
        publish_community_admin(s_, tx, member_id, true);
      }
    });
    return Done{};
  });
  if (added.ok()) refresh_sessions(member_id);
  return added;
}

Outcome<Done> MembersUseCases::remove_community_admin(const Identity& who,
                                                      const std::string& community_id,
                                                      const std::string& member_id) {
  auto ended = settle([&] {
    return s_.db.transact([&](pqxx::work& tx) {
      require_network_admin(tx, who, community_id);
      if (!is_uuid(member_id) || !lrepo::remove_community_admin(tx, community_id, member_id)) {
        return std::vector<Authenticator::EndedSession>{};
      }
      repo::audit(tx, who.actor_id(), member_id, "community_admin.removed",
                  audit_details(who, {{"community_id", community_id}}));
      publish_community_admin(s_, tx, member_id, false);
      return lrepo::revoke_sessions(tx, member_id);
    });
  });
  if (!ended.ok()) return {ended.code};
  if (is_uuid(member_id)) s_.auth.end_sessions(ended.value, member_id);
  return {};
}

// --- the desk -----------------------------------------------------------------------------------

Outcome<DeskMember> MembersUseCases::register_at_desk(const Identity& who,
                                                      const DeskMemberInput& in) {
  const std::string id = new_uuid();
  return settle([&] {
    return s_.db.transact([&](pqxx::work& tx) {
      auto site = repo::find_site(tx, in.home_site_id);
      if (!site) refuse(MembersCode::unknown_desk_site);
      if (!serves_site(who, site->id)) refuse(MembersCode::site_staff_only);
      // Counted for the staff member who registers, whoever they are acting for.
      if (lrepo::desk_registrations_today(tx, who.actor_id()) >= kDeskRegistrationsPerDayMax) {
        refuse(MembersCode::too_many_desk_registrations, kLimitRetryAfterSeconds);
      }
      const long long number = lrepo::insert_desk_member(tx, id, site->community_id, site->id,
                                                         in.display_name, in.phone, who.actor_id());
      repo::audit(tx, who.actor_id(), id, "member.registered_at_desk",
                  audit_details(who, {{"site_id", site->id}}));
      // Staff met the member in person: they start active, and the ledger pays the bonus now.
      const MemberIdentity registered{MemberIdentity::Type::registered,
                                      id,
                                      site->community_id,
                                      site->id,
                                      in.display_name,
                                      {},
                                      MemberStatus::active,
                                      who.actor_id(),
                                      std::nullopt};
      s_.outbox.add(tx, kMembersStream, registered.type_name(), site->community_id,
                    registered.data());
      // No address yet: notify knows the member cannot be mailed.
      const MemberContact contact{id, site->community_id, std::nullopt, false, in.display_name};
      s_.outbox.add(tx, kMembersStream, contact.type_name(), site->community_id, contact.data());
      return DeskMember{id, number, in.display_name, site->community_id, site->id, in.phone};
    });
  });
}

MembersCode MembersUseCases::may_search(const Identity& who) const {
  if (!who.is_admin && !who.is_staff() && who.admin_community_ids.empty()) {
    return MembersCode::staff_and_admins_only;
  }
  return MembersCode::ok;
}

Outcome<PageOf<lrepo::MemberSummary>> MembersUseCases::search(const Identity& who,
                                                              const SearchInput& in) {
  if (auto code = may_search(who); code != MembersCode::ok) return {code};
  const lrepo::SearchScope scope{who.is_admin, who.admin_community_ids, who.staff_site_ids};
  auto rows = s_.db.transact([&](pqxx::work& tx) {
    return lrepo::search_members(tx, scope, in.query, in.page.cursor, in.page.limit + 1);
  });
  return {MembersCode::ok, {std::move(rows), in.page.limit}, 0};
}

// --- reports ------------------------------------------------------------------------------------

MembersCode MembersUseCases::may_report(const Identity& who) const {
  return who.community_id.empty() ? MembersCode::community_members_only : MembersCode::ok;
}

Outcome<lrepo::Report> MembersUseCases::file_report(const Identity& who, const ReportInput& in) {
  if (auto code = may_report(who); code != MembersCode::ok) return {code};
  return settle([&] {
    return s_.db.transact([&](pqxx::work& tx) {
      auto n = new_report(tx, who, in);
      switch (lrepo::insert_report(tx, n, kReportsPerDayMax)) {
        case lrepo::ReportFiled::over_limit:
          refuse(MembersCode::too_many_reports, kLimitRetryAfterSeconds);
        case lrepo::ReportFiled::duplicate:
          refuse(MembersCode::already_reported);
        case lrepo::ReportFiled::filed:
          break;
      }
      repo::audit(tx, who.actor_id(), who.member_id, "report.filed", Json{{"id", n.id}}.dump());
      return *lrepo::find_report(tx, n.id);
    });
  });
}

Outcome<PageOf<lrepo::Report>> MembersUseCases::site_reports(const Identity& who,
                                                             const std::string& site_id,
                                                             const Page& page) {
  return settle([&] {
    auto rows = s_.db.transact([&](pqxx::work& tx) {
      auto site = site_or_refuse(tx, site_id);
      require_site_staff(who, site.id, site.community_id, MembersCode::site_not_found);
      return lrepo::open_reports(tx, site.id, page.cursor, page.limit + 1);
    });
    return PageOf<lrepo::Report>{std::move(rows), page.limit};
  });
}

Outcome<lrepo::Report> MembersUseCases::close_report(const Identity& who, const CloseReport& in) {
  auto closed = settle([&] {
    return s_.db.transact([&](pqxx::work& tx) {
      auto rep = is_uuid(in.report_id) ? lrepo::find_report(tx, in.report_id) : std::nullopt;
      if (!rep) refuse(MembersCode::report_not_found);
      require_site_staff(who, rep->site_id, rep->community_id, MembersCode::report_not_found);
      // A party never judges its own case, nor staff a report they filed for a member, in their
      // own name or acting for someone.
      if (is_self(who, rep->reporter_id) || is_self(who, rep->reported_member_id) ||
          is_self(who, rep->acting_staff_id)) {
        refuse(MembersCode::party_to_report);
      }
      if (!lrepo::close_report(tx, rep->id, in.input.action, in.input.note, who.actor_id())) {
        refuse(MembersCode::report_closed);
      }
      auto change = apply_report_action(s_, tx, who, *rep, in);
      repo::audit(tx, who.actor_id(), rep->reporter_id, "report.closed",
                  audit_details(who, {{"id", rep->id}, {"action", in.input.action}}));
      return std::pair{*lrepo::find_report(tx, rep->id), change};
    });
  });
  if (!closed.ok()) return {closed.code};
  auto& [report, change] = closed.value;
  if (change.changed) s_.auth.end_sessions(change.revoked, report.reported_member_id);
  return {MembersCode::ok, report, 0};
}

}  // namespace maillon::members
