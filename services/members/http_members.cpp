// Routes of the members service: each handler reads its input, calls one use case
// (usecases.hpp), and writes the answer; refusals become problems through messages.cpp.
#include <cmath>

#include "services/common/auth_headers.hpp"
#include "services/common/errors.hpp"
#include "services/common/events_exchanges.hpp"
#include "services/common/json_body.hpp"
#include "services/common/pagination.hpp"
#include "services/common/service.hpp"
#include "services/common/time.hpp"
#include "services/members/accounts.hpp"
#include "services/members/directory_admin.hpp"
#include "services/members/health.hpp"
#include "services/members/http_answers.hpp"
#include "services/members/lifecycle.hpp"
#include "services/members/members.hpp"
#include "services/members/messages.hpp"
#include "services/members/usecases.hpp"

namespace maillon::members {
namespace {

constexpr int kSessionHours = 24 * 30;

Json position_json(const std::optional<Position>& p) {
  if (!p) return nullptr;
  return Json{{"lat", p->lat}, {"lon", p->lon}};
}

Json nullable(const std::string& s) {
  return s.empty() ? Json(nullptr) : Json(s);
}

Json roles_json(const repo::MemberRow& m) {
  Json roles = Json::array({"member"});
  if (!m.staff_site_ids.empty()) roles.push_back("staff");
  if (m.is_admin) roles.push_back("admin");
  return roles;
}

Json me_json(const repo::MemberRow& m) {
  return {{"id", m.id},
          {"email", m.email},
          {"email_verified", m.email_verified},
          {"display_name", m.display_name},
          {"community_id", nullable(m.community_id)},
          {"home_site_id", nullable(m.home_site_id)},
          {"location", position_json(m.location)},
          {"roles", roles_json(m)},
          {"staff_site_ids", m.staff_site_ids},
          {"status", m.status},
          {"member_number", m.member_number > 0 ? Json(m.member_number) : Json(nullptr)},
          {"created_at", m.created_at}};
}

Json export_json(const MemberExport& e) {
  Json profile = me_json(e.member);
  profile["exchanges_completed"] = e.member.exchanges_completed;
  profile["reliability"] = reliability(e.member);
  Json out{{"format", "maillon-export-v1"},
           {"exported_at", format_rfc3339(e.exported_at_s)},
           {"profile", profile},
           {"audit", Json::parse(e.audit_json)}};
  for (const auto& [schema, text] : e.service_exports) {
    out[schema] = text ? Json::parse(*text) : Json(nullptr);
  }
  out["reports"] = Json::parse(e.reports_json);
  return out;
}

// The mean of the stars received, to one decimal; null before the first rating.
Json rating_average(const repo::MemberRow& m) {
  if (m.rating_count == 0) return nullptr;
  return std::round(10.0 * static_cast<double>(m.rating_sum) / m.rating_count) / 10.0;
}

Json profile_json(const MemberProfile& p) {
  const auto& m = p.member;
  Json j = {{"id", m.id},
            {"display_name", m.display_name},
            {"home_site_id", nullable(m.home_site_id)},
            {"status", m.status},
            {"exchanges_completed", m.exchanges_completed},
            {"reliability", reliability(m)},
            {"rating_average", rating_average(m)},
            {"rating_count", m.rating_count},
            {"no_shows", m.no_shows}};
  if (p.shows_contact) {
    j["email"] = nullable(m.email);
    j["member_number"] = m.member_number;
  }
  return j;
}

Json community_json(const repo::CommunityRow& c) {
  return {{"id", c.id}, {"name", c.name}, {"policy", Json::parse(c.policy_json)}};
}

// The token for API clients, and the same session as cookies for the browser: HttpOnly for
// the session, readable for its CSRF value (auth_headers.hpp).
Response session_response(int status, const NewSession& session) {
  Response out =
      json_response(status, {{"member", me_json(session.member)}, {"token", session.token}});
  const int64_t max_age = int64_t{kSessionHours} * 3600;
  out.headers.emplace_back("Set-Cookie", session_set_cookie(session.token, max_age));
  out.headers.emplace_back("Set-Cookie", csrf_set_cookie(csrf_token_for(session.token), max_age));
  return out;
}

Response with_cleared_cookies(Response out) {
  for (auto& cookie : cleared_session_cookies()) out.headers.emplace_back("Set-Cookie", cookie);
  return out;
}

ClientFacts client_facts(const Request& r) {
  ClientFacts client{r.client, std::nullopt, user_agent_label(r.header("user-agent").value_or(""))};
  auto presented = Authenticator::presented_token(r);
  if (presented && !presented->from_cookie) client.bearer_token = presented->token;
  return client;
}

class MembersApi : MembersRoutes {
 public:
  explicit MembersApi(Service& s) : MembersRoutes(s) {}

  void routes() {
    const RouteBinder bind(s_.http, this);
    // The routes that hash a password run on the password lane (bounded threads and queue).
    bind("POST", "/v1/auth/register", &MembersApi::register_member, Lane::password);
    bind("POST", "/v1/auth/login", &MembersApi::login, Lane::password);
    bind("POST", "/v1/auth/logout", &MembersApi::logout);
    bind("GET", "/v1/me", &MembersApi::me);
    bind("PATCH", "/v1/me", &MembersApi::patch_me);
    bind("GET", "/v1/me/export", &MembersApi::export_me);
    bind("DELETE", "/v1/me", &MembersApi::erase_me, Lane::password);
    bind("POST", "/v1/communities", &MembersApi::create_community);
    bind("GET", "/v1/communities/{id}", &MembersApi::get_community);
    bind("POST", "/v1/sites", &MembersApi::create_site);
    bind("GET", "/v1/sites", &MembersApi::list_sites);
    bind("GET", "/v1/sites/{id}", &MembersApi::get_site);
    bind("POST", "/v1/sites/{id}/staff", &MembersApi::add_staff);
    bind("GET", "/v1/members/{id}", &MembersApi::get_member);
  }

  void ensure_admin() { uc_.ensure_admin(kAdminDisplayName); }

 private:
  Response register_member(const Request& r) {
    auto in = parse_register(r.body);
    return session_response(201, settled(uc_.register_member(in, client_facts(r))));
  }

  Response login(const Request& r) {
    auto in = parse_login(r.body);
    return session_response(200, settled(uc_.login(in, client_facts(r))));
  }

  Response logout(const Request& r) {
    caller(r);
    settled(uc_.logout(Authenticator::presented_token(r)->token));
    return with_cleared_cookies(Response::no_content());
  }

  // Under X-On-Behalf-Of: the member's own fields and who acts, never a role of theirs (they
  // have none: acting is refused for staff and admins) nor one of the acting staff member's.
  Response me(const Request& r) {
    const Identity who = caller(r);
    note_session_seen(s_, r);
    Json body = me_json(settled(uc_.me(who)));
    // The communities the member administers (their federation links, policy, sites), so that
    // a client shows those pages; as the session knows them.
    body["admin_community_ids"] = who.admin_community_ids;
    if (!who.acting_staff_id.empty()) {
      body["roles"] = Json::array({"member"});
      body["staff_site_ids"] = Json::array();
      body.erase("admin_community_ids");
      body["acting_staff_id"] = who.acting_staff_id;
    }
    return json_response(200, body);
  }

  Response patch_me(const Request& r) {
    auto who = caller(r);
    auto patch = parse_profile_patch(r.body);
    return json_response(200, me_json(settled(uc_.update_profile(who, patch))));
  }

  Response export_me(const Request& r) {
    auto who = caller(r);
    return json_response(200, export_json(settled(uc_.export_member(who))));
  }

  Response erase_me(const Request& r) {
    auto who = caller(r);
    const ErasureConfirmation confirmation = parse_erasure_confirmation(r.body);
    settled(uc_.erase(who, confirmation, client_facts(r)));
    Response out = json_response(202, {{"status", "erased"}});
    return who.acting_staff_id.empty() ? with_cleared_cookies(std::move(out)) : out;
  }

  Response create_community(const Request& r) {
    const Identity who = admitted(r, &MembersUseCases::may_create_community);
    return created(uc_.create_community(who, parse_community(r.body)), community_json);
  }

  Response get_community(const Request& r) {
    auto who = caller(r);
    return json_response(200, community_json(settled(uc_.community(who, r.param("id")))));
  }

  Response create_site(const Request& r) {
    const Identity who = admitted(r, &MembersUseCases::may_manage_sites);
    return created(uc_.create_site(who, parse_site(r.body)), site_json);
  }

  Response list_sites(const Request& r) {
    const auto asked = page_request(r);
    auto community = r.query_value("community_id");
    if (community && !is_uuid(*community)) throw problem(MembersCode::invalid_community_filter);
    const Page page = members::uuid_page(asked);
    return json_response(200, page_json(settled(uc_.sites(community, page)), site_json));
  }

  Response get_site(const Request& r) {
    return json_response(200, site_json(settled(uc_.site(r.param("id")))));
  }

  Response add_staff(const Request& r) {
    const Identity who = admitted(r, &MembersUseCases::may_manage_sites);
    return done(uc_.add_staff(who, r.param("id"), parse_staff(r.body)));
  }

  Response get_member(const Request& r) {
    auto who = caller(r);
    return json_response(200, profile_json(settled(uc_.member(who, r.param("id")))));
  }
};

}  // namespace

void register_service(Service& service) {
  auto api = std::make_shared<MembersApi>(service);
  api->routes();
  register_moderation(service);
  register_accounts(service);
  register_directory_admin(service);
  register_health(service);
  service.on_start([api] { api->ensure_admin(); });
  // Reliability figures come from the exchange workflow's outcomes: a completed exchange counts
  // for both parties, an abandoned one only against whoever cancelled it (staff acting for a
  // member cancel in that member's name).
  service.consume(
      "exchanges",
      [](pqxx::work& tx, const Event& e) {
        const ExchangeEvent x = ExchangeEvent::read(e).value();
        if (x.type == ExchangeEventType::completed) {
          for (const auto* party : {&x.provider_id, &x.receiver_id}) {
            if (*party && !(*party)->empty()) repo::count_exchange(tx, **party, true);
          }
        } else if (x.type == ExchangeEventType::abandoned) {
          const auto& who = x.on_behalf_of ? x.on_behalf_of : x.actor_id;
          if (who && !who->empty()) repo::count_exchange(tx, *who, false);
        } else if (x.type == ExchangeEventType::rated && x.rated_id && x.stars) {
          repo::record_rating(tx, *x.rated_id, *x.stars);
        } else if (x.type == ExchangeEventType::no_show && x.no_show_member_id) {
          repo::count_no_show(tx, *x.no_show_member_id);  // the absent party, not who recorded it
        }
      },
      type_names({ExchangeEventType::completed, ExchangeEventType::abandoned,
                  ExchangeEventType::rated, ExchangeEventType::no_show}),
      Pace::unhurried);  // figures a profile shows later; no request waits on them
}

}  // namespace maillon::members
