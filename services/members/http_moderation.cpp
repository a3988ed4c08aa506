// Routes of the members lifecycle: approval, suspension, reports, staff and community
// administrators, members registered at the desk. Every route first settles who may call it
// (moderation_rules.hpp); role and status changes end or refresh the sessions they touch at once.
#include "services/common/errors.hpp"
#include "services/common/ids.hpp"
#include "services/common/json_body.hpp"
#include "services/common/log.hpp"
#include "services/common/pagination.hpp"
#include "services/common/service.hpp"
#include "services/members/lifecycle.hpp"
#include "services/members/lifecycle_repository.hpp"
#include "services/members/members.hpp"
#include "services/members/repository.hpp"

namespace maillon::members {
namespace {

namespace lrepo = lifecycle_repo;

constexpr const char* kStream = "members";
constexpr std::size_t kSearchQueryMax = 100;
// A member files at most this many reports a day: enough for real trouble, not for flooding
// the desk.
constexpr int kReportsPerDayMax = 20;
// Each desk registration is paid the joining bonus: a staff member registers at most this many
// people a day, so that inventing members to collect bonuses stays small and visible.
constexpr int kDeskRegistrationsPerDayMax = 50;
// The daily limits count the last 24 hours: an hour frees some room for most callers.
constexpr int kLimitRetryAfterSeconds = 3600;

Json nullable(const std::string& s) {
  return s.empty() ? Json(nullptr) : Json(s);
}

ApiError refusal(Verdict v) {
  switch (v) {
    case Verdict::unseen:
      return not_found("Membre introuvable.");
    case Verdict::self:
      return ApiError(403, "self-moderation", "Action non autorisée",
                      "Vous ne pouvez pas statuer sur votre propre compte.");
    case Verdict::protected_role:
      return ApiError(403, "protected-role", "Action non autorisée",
                      "Ce membre a un rôle que seul un rôle supérieur peut suspendre.");
    case Verdict::no_role:
    case Verdict::allowed:
      break;
  }
  return forbidden("Réservé au personnel du lieu d'attache du membre et aux administrateurs.");
}

// Audit details naming, while staff act for a member, the member they act for (the actor
// recorded is always the one who really acted: Identity::actor_id).
std::string audit_details(const Identity& who, Json details = Json::object()) {
  if (!who.acting_staff_id.empty()) details["on_behalf_of"] = who.member_id;
  return details.dump();
}

Json status_answer(const std::string& id, const std::string& status) {
  return {{"id", id}, {"status", status}};
}

Json report_json(const lrepo::Report& r) {
  return {{"id", r.id},
          {"community_id", r.community_id},
          {"site_id", r.site_id},
          {"reporter_id", r.reporter_id},
          {"target", r.target},
          {"target_id", r.target_id},
          {"reported_member_id", nullable(r.reported_member_id)},
          {"reason", r.reason},
          {"state", r.state},
          {"action", nullable(r.action)},
          {"created_at", r.created_at}};
}

Json summary_json(const lrepo::MemberSummary& m) {
  return {{"id", m.id},
          {"display_name", m.display_name},
          {"email", nullable(m.email)},
          {"phone", nullable(m.phone)},
          {"member_number", m.member_number},
          {"community_id", m.community_id},
          {"home_site_id", nullable(m.home_site_id)},
          {"status", m.status}};
}

// A page of rows fetched with one extra: the items and the cursor to the next page.
template <class Row, class ToJson>
Json page_json(const std::vector<Row>& rows, int limit, ToJson to_json) {
  Json items = Json::array();
  for (std::size_t i = 0; i < rows.size() && i < static_cast<std::size_t>(limit); ++i)
    items.push_back(to_json(rows[i]));
  Json next = rows.size() > static_cast<std::size_t>(limit)
                  ? Json(encode_cursor(rows[static_cast<std::size_t>(limit) - 1].id))
                  : Json(nullptr);
  return {{"items", items}, {"next_cursor", next}};
}

PageRequest uuid_page(const Request& r) {
  auto page = page_request(r);
  if (!page.cursor.empty() && !is_uuid(page.cursor))
    throw invalid_input("Curseur invalide.", {{"cursor", "curseur inconnu ou altéré"}});
  return page;
}

// What a status change leaves to do once committed.
struct StatusChange {
  std::string status;
  bool changed = false;
  std::vector<Authenticator::EndedSession> revoked;
};

class ModerationApi {
 public:
  explicit ModerationApi(Service& s) : s_(s) {}

  void routes() {
    auto bind = [this](const char* method, const char* path,
                       Response (ModerationApi::*fn)(const Request&)) {
      s_.http.route(method, path, [this, fn](const Request& r) { return (this->*fn)(r); });
    };
    bind("POST", "/v1/members/{id}/approve", &ModerationApi::approve);
    bind("POST", "/v1/members/{id}/suspend", &ModerationApi::suspend);
    bind("POST", "/v1/members/{id}/reinstate", &ModerationApi::reinstate);
    bind("POST", "/v1/members", &ModerationApi::register_at_desk);
    bind("GET", "/v1/members", &ModerationApi::search);
    bind("POST", "/v1/reports", &ModerationApi::file_report);
    bind("GET", "/v1/sites/{id}/reports", &ModerationApi::site_reports);
    bind("POST", "/v1/reports/{id}/close", &ModerationApi::close_report);
    bind("DELETE", "/v1/sites/{id}/staff/{member_id}", &ModerationApi::remove_staff);
    bind("POST", "/v1/communities/{id}/admins", &ModerationApi::add_community_admin);
    bind("DELETE", "/v1/communities/{id}/admins/{member_id}",
         &ModerationApi::remove_community_admin);
  }

 private:
  Service& s_;

  Identity caller(const Request& r) { return s_.auth.require(r); }

  // --- sessions -------------------------------------------------------------------------------

  // The member's sessions stay but their cached identity (status, roles) is read anew.
  void refresh_sessions(const std::string& member_id) {
    auto hashes =
        s_.db.transact([&](pqxx::work& tx) { return repo::live_session_hashes(tx, member_id); });
    std::vector<std::string> del = {"DEL", s_.auth.identity_key(member_id)};
    for (const auto& h : hashes) del.push_back(s_.auth.session_key(h));
    s_.redis.with([&](Redis& redis) { redis.command(del); });
    s_.auth.announce_member_change(member_id);
  }

  // --- approval and suspension ----------------------------------------------------------------

  lrepo::MemberState locked_target(pqxx::work& tx, const std::string& id) {
    auto target = is_uuid(id) ? lrepo::lock_member(tx, id) : std::nullopt;
    if (!target) throw not_found("Membre introuvable.");
    return *target;
  }

  Response approve(const Request& r) {
    auto who = caller(r);
    const auto& id = r.param("id");
    auto change = s_.db.transact([&](pqxx::work& tx) {
      auto target = locked_target(tx, id);
      if (auto v = may_approve(who, target.facts); v != Verdict::allowed) throw refusal(v);
      if (target.status == "suspended") {
        throw conflict("member-suspended", "Ce membre est suspendu : réintégrez-le d'abord.");
      }
      if (target.status != "pending") return StatusChange{target.status, false, {}};
      lrepo::set_status(tx, id, "active", "", "");
      repo::audit(tx, who.actor_id(), id, "member.approved", audit_details(who));
      s_.outbox.add(tx, kStream, "member.approved", target.facts.community_id,
                    {{"member_id", id}, {"community_id", target.facts.community_id}});
      return StatusChange{"active", true, {}};
    });
    if (change.changed) refresh_sessions(id);
    return json_response(200, status_answer(id, change.status));
  }

  // Suspends a member already locked and judged suspendable: every session revoked, the
  // member.suspended event for the services that cancel exchanges and hide listings.
  StatusChange suspend_locked(pqxx::work& tx, const Identity& who, const lrepo::MemberState& m,
                              const std::string& reason) {
    const auto& id = m.facts.id;
    if (m.status == "suspended") return StatusChange{"suspended", false, {}};
    lrepo::set_status(tx, id, "suspended", m.status, reason);
    auto revoked = lrepo::revoke_sessions(tx, id);
    repo::audit(tx, who.actor_id(), id, "member.suspended",
                audit_details(who, {{"reason", reason}}));
    s_.outbox.add(tx, kStream, "member.suspended", m.facts.community_id,
                  {{"member_id", id}, {"community_id", m.facts.community_id}, {"reason", reason}});
    return StatusChange{"suspended", true, std::move(revoked)};
  }

  Response suspend(const Request& r) {
    auto who = caller(r);
    const auto& id = r.param("id");
    auto reason = parse_suspension(r.body);
    auto change = s_.db.transact([&](pqxx::work& tx) {
      auto target = locked_target(tx, id);
      if (auto v = may_suspend(who, target.facts); v != Verdict::allowed) throw refusal(v);
      return suspend_locked(tx, who, target, reason);
    });
    // Also when it was suspended already: a retry after a lost announcement announces again.
    s_.auth.end_sessions(change.revoked, id);
    return json_response(200, status_answer(id, change.status));
  }

  Response reinstate(const Request& r) {
    auto who = caller(r);
    const auto& id = r.param("id");
    auto change = s_.db.transact([&](pqxx::work& tx) {
      auto target = locked_target(tx, id);
      if (auto v = may_suspend(who, target.facts); v != Verdict::allowed) throw refusal(v);
      if (target.status != "suspended") return StatusChange{target.status, false, {}};
      // A member suspended while pending is still to be approved (and paid the bonus then).
      const std::string back =
          target.status_before_suspension.empty() ? "active" : target.status_before_suspension;
      lrepo::set_status(tx, id, back, "", "");
      repo::audit(tx, who.actor_id(), id, "member.reinstated", audit_details(who));
      s_.outbox.add(tx, kStream, "member.reinstated", target.facts.community_id,
                    {{"member_id", id}, {"community_id", target.facts.community_id}});
      return StatusChange{back, true, {}};
    });
    if (change.changed) refresh_sessions(id);
    return json_response(200, status_answer(id, change.status));
  }

  // --- staff and community administrators -----------------------------------------------------

  repo::SiteRow site_or_404(pqxx::work& tx, const std::string& site_id) {
    auto site = is_uuid(site_id) ? repo::find_site(tx, site_id) : std::nullopt;
    if (!site) throw not_found("Site introuvable.");
    return *site;
  }

  Response remove_staff(const Request& r) {
    auto who = caller(r);
    const auto &site_id = r.param("id"), &member_id = r.param("member_id");
    if (!who.is_admin && who.admin_community_ids.empty()) {
      throw forbidden("Réservé aux administrateurs de la communauté du site.");
    }
    auto ended = s_.db.transact([&](pqxx::work& tx) {
      auto site = site_or_404(tx, site_id);
      if (!who.administers(site.community_id)) {
        throw forbidden("Réservé aux administrateurs de la communauté du site.");
      }
      if (!is_uuid(member_id) || !lrepo::remove_staff(tx, site_id, member_id)) {
        return std::vector<Authenticator::EndedSession>{};
      }
      repo::audit(tx, who.actor_id(), member_id, "staff.removed",
                  audit_details(who, {{"site_id", site_id}}));
      // Signed out everywhere: no copy of the former rights can outlive the removal anywhere.
      return lrepo::revoke_sessions(tx, member_id);
    });
    if (is_uuid(member_id)) s_.auth.end_sessions(ended, member_id);
    return Response::no_content();
  }

  repo::CommunityRow community_for_admin(pqxx::work& tx, const Identity& who,
                                         const std::string& community_id) {
    if (!who.is_admin) throw forbidden("Réservé aux administrateurs du réseau.");
    auto community = is_uuid(community_id) ? repo::find_community(tx, community_id) : std::nullopt;
    if (!community) throw not_found("Communauté introuvable.");
    return *community;
  }

  Response add_community_admin(const Request& r) {
    auto who = caller(r);
    const auto& community_id = r.param("id");
    auto member_id = parse_staff(r.body);
    s_.db.transact([&](pqxx::work& tx) {
      community_for_admin(tx, who, community_id);
      auto m = repo::find_member(tx, member_id);
      if (!m) throw invalid_input("Membre inconnu.", {{"member_id", "membre inconnu"}});
      if (m->community_id != community_id) {
        throw business_rule("member-not-in-community",
                            "Ce membre n'appartient pas à cette communauté.");
      }
      if (lrepo::add_community_admin(tx, community_id, member_id, who.actor_id())) {
        repo::audit(tx, who.actor_id(), member_id, "community_admin.added",
                    audit_details(who, {{"community_id", community_id}}));
      }
    });
    refresh_sessions(member_id);
    return Response::no_content();
  }

  Response remove_community_admin(const Request& r) {
    auto who = caller(r);
    const auto &community_id = r.param("id"), &member_id = r.param("member_id");
    auto ended = s_.db.transact([&](pqxx::work& tx) {
      community_for_admin(tx, who, community_id);
      if (!is_uuid(member_id) || !lrepo::remove_community_admin(tx, community_id, member_id)) {
        return std::vector<Authenticator::EndedSession>{};
      }
      repo::audit(tx, who.actor_id(), member_id, "community_admin.removed",
                  audit_details(who, {{"community_id", community_id}}));
      return lrepo::revoke_sessions(tx, member_id);
    });
    if (is_uuid(member_id)) s_.auth.end_sessions(ended, member_id);
    return Response::no_content();
  }

  // --- the desk -------------------------------------------------------------------------------

  Response register_at_desk(const Request& r) {
    auto who = caller(r);
    auto in = parse_desk_member(r.body);
    const std::string id = new_uuid();
    auto answer = s_.db.transact([&](pqxx::work& tx) {
      auto site = repo::find_site(tx, in.home_site_id);
      if (!site) throw invalid_input("Site inconnu.", {{"home_site_id", "site inconnu"}});
      if (!serves_site(who, site->id)) throw forbidden("Réservé au personnel de ce site.");
      // Counted for the staff member who registers, whoever they are acting for.
      if (lrepo::desk_registrations_today(tx, who.actor_id()) >= kDeskRegistrationsPerDayMax) {
        throw too_many_requests(kLimitRetryAfterSeconds,
                                "Vous avez inscrit beaucoup de membres aujourd'hui : "
                                "réessayez plus tard.");
      }
      const long long number = lrepo::insert_desk_member(tx, id, site->community_id, site->id,
                                                         in.display_name, in.phone, who.actor_id());
      repo::audit(tx, who.actor_id(), id, "member.registered_at_desk",
                  audit_details(who, {{"site_id", site->id}}));
      // Staff met the member in person: they start active, and the ledger pays the bonus now.
      s_.outbox.add(tx, kStream, "member.registered", site->community_id,
                    {{"member_id", id},
                     {"community_id", site->community_id},
                     {"home_site_id", site->id},
                     {"display_name", in.display_name},
                     {"staff_site_ids", Json::array()},
                     {"status", "active"},
                     {"registered_by", who.actor_id()}});
      return Json{{"id", id},
                  {"member_number", number},
                  {"display_name", in.display_name},
                  {"community_id", site->community_id},
                  {"home_site_id", site->id},
                  {"phone", in.phone ? Json(*in.phone) : Json(nullptr)},
                  {"status", "active"}};
    });
    return json_response(201, answer);
  }

  Response search(const Request& r) {
    auto who = caller(r);
    if (!who.is_admin && !who.is_staff() && who.admin_community_ids.empty()) {
      throw forbidden("Réservé au personnel et aux administrateurs.");
    }
    auto q = r.query_value("q").value_or("");
    if (q.empty() || q.size() > kSearchQueryMax) {
      throw invalid_input("Recherche invalide.", {{"q", "de 1 à 100 caractères"}});
    }
    auto page = uuid_page(r);
    const lrepo::SearchScope scope{who.is_admin, who.admin_community_ids, who.staff_site_ids};
    auto rows = s_.db.transact([&](pqxx::work& tx) {
      return lrepo::search_members(tx, scope, q, page.cursor, page.limit + 1);
    });
    return json_response(200, page_json(rows, page.limit, summary_json));
  }

  // --- reports --------------------------------------------------------------------------------

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
        throw not_found("Membre introuvable.");
      if (reported->id == who.member_id) {
        throw business_rule("self-report", "Vous ne pouvez pas vous signaler vous-même.");
      }
      n.reported_member_id = reported->id;
      if (!reported->home_site_id.empty()) n.site_id = reported->home_site_id;
    }
    if (n.site_id.empty()) {
      throw business_rule("no-home-site",
                          "Choisissez votre lieu d'attache : son équipe recevra le signalement.");
    }
    return n;
  }

  Response file_report(const Request& r) {
    auto who = caller(r);
    if (who.community_id.empty()) throw forbidden("Réservé aux membres d'une communauté.");
    auto in = parse_report(r.body);
    auto report = s_.db.transact([&](pqxx::work& tx) {
      auto n = new_report(tx, who, in);
      switch (lrepo::insert_report(tx, n, kReportsPerDayMax)) {
        case lrepo::ReportFiled::over_limit:
          throw too_many_requests(kLimitRetryAfterSeconds,
                                  "Vous avez fait beaucoup de signalements aujourd'hui : "
                                  "l'équipe les traite, réessayez plus tard.");
        case lrepo::ReportFiled::duplicate:
          throw conflict("already-reported", "Vous avez déjà signalé ceci ; l'équipe le traite.");
        case lrepo::ReportFiled::filed:
          break;
      }
      repo::audit(tx, who.actor_id(), who.member_id, "report.filed", Json{{"id", n.id}}.dump());
      return *lrepo::find_report(tx, n.id);
    });
    return json_response(201, report_json(report));
  }

  // Staff of the site only. Members and administrators of the community know its desk exists
  // and hear 403; anyone else 404.
  void require_site_staff(const Identity& who, const std::string& site_id,
                          const std::string& community_id, const char* missing) {
    if (serves_site(who, site_id)) return;
    if (who.community_id == community_id || who.administers(community_id)) {
      throw forbidden("Réservé au personnel de ce site.");
    }
    throw not_found(missing);
  }

  Response site_reports(const Request& r) {
    auto who = caller(r);
    const auto& site_id = r.param("id");
    auto page = uuid_page(r);
    auto rows = s_.db.transact([&](pqxx::work& tx) {
      auto site = site_or_404(tx, site_id);
      require_site_staff(who, site.id, site.community_id, "Site introuvable.");
      return lrepo::open_reports(tx, site.id, page.cursor, page.limit + 1);
    });
    return json_response(200, page_json(rows, page.limit, report_json));
  }

  // "hide" publishes listing.hidden for the listing services (they check that the listing is of
  // this community); "suspend" applies the suspension rules to the reported member.
  StatusChange apply_report_action(pqxx::work& tx, const Identity& who, const lrepo::Report& rep,
                                   const CloseReportInput& in) {
    if (in.action == "hide") {
      if (rep.target != "offer" && rep.target != "request") {
        throw business_rule("cannot-hide", "Seule une offre ou une demande peut être masquée.");
      }
      s_.outbox.add(tx, kStream, "listing.hidden", rep.community_id,
                    {{"listing", rep.target},
                     {"listing_id", rep.target_id},
                     {"community_id", rep.community_id},
                     {"report_id", rep.id}});
    } else if (in.action == "suspend") {
      if (rep.reported_member_id.empty()) {
        throw business_rule("not-a-member-report",
                            "Seul un signalement de membre peut suspendre ; suspendez l'auteur "
                            "depuis sa fiche.");
      }
      auto target = locked_target(tx, rep.reported_member_id);
      if (auto v = may_suspend(who, target.facts); v != Verdict::allowed) throw refusal(v);
      return suspend_locked(tx, who, target, in.note.value_or("Signalement " + rep.id));
    }
    return StatusChange{};
  }

  Response close_report(const Request& r) {
    auto who = caller(r);
    const auto& id = r.param("id");
    auto in = parse_close_report(r.body);
    auto [report, change] = s_.db.transact([&](pqxx::work& tx) {
      auto rep = is_uuid(id) ? lrepo::find_report(tx, id) : std::nullopt;
      if (!rep) throw not_found("Signalement introuvable.");
      require_site_staff(who, rep->site_id, rep->community_id, "Signalement introuvable.");
      // A party never judges its own case, nor staff a report they filed for a member, in their
      // own name or acting for someone.
      if (is_self(who, rep->reporter_id) || is_self(who, rep->reported_member_id) ||
          is_self(who, rep->acting_staff_id)) {
        throw ApiError(403, "party-to-report", "Action non autorisée",
                       "Un autre membre de l'équipe doit traiter ce signalement.");
      }
      if (!lrepo::close_report(tx, rep->id, in.action, in.note, who.actor_id())) {
        throw conflict("report-closed", "Ce signalement est déjà traité.");
      }
      auto change = apply_report_action(tx, who, *rep, in);
      repo::audit(tx, who.actor_id(), rep->reporter_id, "report.closed",
                  audit_details(who, {{"id", rep->id}, {"action", in.action}}));
      return std::pair{*lrepo::find_report(tx, rep->id), change};
    });
    if (change.changed) s_.auth.end_sessions(change.revoked, report.reported_member_id);
    return json_response(200, report_json(report));
  }
};

}  // namespace

void register_moderation(Service& service) {
  auto api = std::make_shared<ModerationApi>(service);
  api->routes();
  // The routes hold `api` through their handlers' captures of `this`: keep it alive with them.
  service.on_start([api] {});
}

void refuse_suspended_login(pqxx::work& tx, const std::string& member_id) {
  if (lifecycle_repo::status_for_login(tx, member_id).value_or("") == "suspended") {
    throw ApiError(403, "suspended", "Compte suspendu",
                   "Votre compte est suspendu : adressez-vous à l'équipe de votre lieu.");
  }
}

void add_service_exports(pqxx::work& tx, const std::string& member_id, Json& body) {
  for (const char* schema : {"offers", "requests", "exchange", "ledger", "depot"}) {
    auto text = lifecycle_repo::service_export(tx, schema, member_id);
    body[schema] = text ? Json::parse(*text) : Json(nullptr);
  }
  body["reports"] = Json::parse(lifecycle_repo::reports_filed_json(tx, member_id));
}

void before_erasure(pqxx::work& tx, const std::string& member_id) {
  if (lifecycle_repo::open_loans(tx, member_id) > 0) {
    throw conflict("open-loan",
                   "Vous avez un objet emprunté : rendez-le avant d'effacer le compte.");
  }
  lifecycle_repo::forget_report_texts(tx, member_id);
}

}  // namespace maillon::members
