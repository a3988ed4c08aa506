// Routes of the members lifecycle: approval, suspension, reports, staff and community
// administrators, members registered at the desk. Each handler reads its input, calls one use
// case (usecases_moderation.cpp), and writes the answer.
#include "services/common/errors.hpp"
#include "services/common/json_body.hpp"
#include "services/common/pagination.hpp"
#include "services/common/service.hpp"
#include "services/members/http_answers.hpp"
#include "services/members/lifecycle.hpp"
#include "services/members/members.hpp"
#include "services/members/messages.hpp"
#include "services/members/usecases.hpp"

namespace maillon::members {
namespace {

namespace lrepo = lifecycle_repo;

constexpr std::size_t kSearchQueryMax = 100;

Json nullable(const std::string& s) {
  return s.empty() ? Json(nullptr) : Json(s);
}

Json status_json(const StatusAnswer& a) {
  return {{"id", a.id}, {"status", a.status}};
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

Json desk_member_json(const DeskMember& m) {
  return {{"id", m.id},
          {"member_number", m.member_number},
          {"display_name", m.display_name},
          {"community_id", m.community_id},
          {"home_site_id", m.home_site_id},
          {"phone", m.phone ? Json(*m.phone) : Json(nullptr)},
          {"status", "active"}};
}

Page uuid_page(const Request& r) {
  return members::uuid_page(page_request(r));
}

class ModerationApi : MembersRoutes {
 public:
  explicit ModerationApi(Service& s) : MembersRoutes(s) {}

  void routes() {
    const RouteBinder bind(s_.http, this);
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
  Response approve(const Request& r) {
    auto who = caller(r);
    return json_response(200, status_json(settled(uc_.approve(who, r.param("id")))));
  }

  Response suspend(const Request& r) {
    auto who = caller(r);
    auto reason = parse_suspension(r.body);
    return json_response(200, status_json(settled(uc_.suspend(who, r.param("id"), reason))));
  }

  Response reinstate(const Request& r) {
    auto who = caller(r);
    return json_response(200, status_json(settled(uc_.reinstate(who, r.param("id")))));
  }

  Response remove_staff(const Request& r) {
    auto who = caller(r);
    return done(uc_.remove_staff(who, r.param("id"), r.param("member_id")));
  }

  Response add_community_admin(const Request& r) {
    auto who = caller(r);
    return done(uc_.add_community_admin(who, r.param("id"), parse_staff(r.body)));
  }

  Response remove_community_admin(const Request& r) {
    auto who = caller(r);
    return done(uc_.remove_community_admin(who, r.param("id"), r.param("member_id")));
  }

  Response register_at_desk(const Request& r) {
    auto who = caller(r);
    return created(uc_.register_at_desk(who, parse_desk_member(r.body)), desk_member_json);
  }

  Response search(const Request& r) {
    const Identity who = admitted(r, &MembersUseCases::may_search);
    auto q = r.query_value("q").value_or("");
    if (q.empty() || q.size() > kSearchQueryMax) throw problem(MembersCode::invalid_search);
    auto page = uuid_page(r);
    return json_response(200, page_json(settled(uc_.search(who, {q, page})), summary_json));
  }

  Response file_report(const Request& r) {
    const Identity who = admitted(r, &MembersUseCases::may_report);
    return created(uc_.file_report(who, parse_report(r.body)), report_json);
  }

  Response site_reports(const Request& r) {
    auto who = caller(r);
    auto page = uuid_page(r);
    return json_response(
        200, page_json(settled(uc_.site_reports(who, r.param("id"), page)), report_json));
  }

  Response close_report(const Request& r) {
    auto who = caller(r);
    const auto& id = r.param("id");
    CloseReport in{id, parse_close_report(r.body), default_suspension_reason(id)};
    return json_response(200, report_json(settled(uc_.close_report(who, in))));
  }
};

}  // namespace

void register_moderation(Service& service) {
  auto api = std::make_shared<ModerationApi>(service);
  api->routes();
  // The routes hold `api` through their handlers' captures of `this`: keep it alive with them.
  service.on_start([api] {});
}

}  // namespace maillon::members
