#include "permission_world.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <random>
#include <stdexcept>

namespace maillon::testing {
namespace {

constexpr const char* kPassword = "mot-de-passe-1";
constexpr const char* kCategory = "aide-aux-devoirs";
constexpr int64_t kSignupBonus = 6000;
constexpr int64_t kGrantMinutes = 400;  // above grant_review_minutes (300 by default)

// Generous limits: the world's members trade many times and reserve many items, and the matrix
// is about who may act, not about the balances or the reservation cap. Membership by approval,
// so that a pending member can be approved; everyone else is approved as they register.
const Json kPolicy = {
    {"signup_bonus", kSignupBonus},   {"min_balance", -600},     {"max_balance", 60000},
    {"monthly_allowance", 0},         {"deposit_reward", 0},     {"loan_cost", 5},
    {"max_active_reservations", 100}, {"membership", "approval"}};

std::string rfc3339_in_days(int days) {
  const auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now() +
                                                      std::chrono::hours(24 * days));
  std::tm utc{};
  gmtime_r(&t, &utc);
  char out[32];
  std::strftime(out, sizeof out, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return out;
}

// The answer's status must be `expected` to go on building the world.
const HttpResult& expect(const HttpResult& r, int expected, const std::string& what) {
  if (r.status != expected) {
    throw std::runtime_error("building the world, " + what + " answered " +
                             std::to_string(r.status) + " (expected " + std::to_string(expected) +
                             "): " + r.body);
  }
  return r;
}

std::string id_of(const HttpResult& r, int expected, const std::string& what) {
  return expect(r, expected, what).json().value("id", "");
}

}  // namespace

std::string new_uuid_text() {
  static std::mt19937_64 rng(std::random_device{}());
  static const char* hex = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < 32; ++i) {
    int v = static_cast<int>(rng() % 16);
    if (i == 12) v = 4;
    if (i == 16) v = 8 | (v & 3);
    if (i == 8 || i == 12 || i == 16 || i == 20) s += '-';
    s += hex[v];
  }
  return s;
}

const std::vector<std::string>& PermissionWorld::roles() {
  static const std::vector<std::string> r = {"anonymous",   "member", "another",   "staff",
                                             "staff_other", "admin",  "suspended", "acting"};
  return r;
}

PermissionWorld::PermissionWorld(const Gateway& gateway) : gw_(gateway) {
  auto c = gw_.community("Permissions", kPolicy);
  community_ = c.id;
  site_ = c.site;
  other_site_ = id_of(admin().post("/v1/sites", {{"community_id", community_},
                                                 {"name", "Objetothèque des permissions"},
                                                 {"kind", "objetotheque"},
                                                 {"location", {{"lat", 50.64}, {"lon", 3.06}}},
                                                 {"address", "2 rue des Essais, Lille"}}),
                      201, "the second site");
  member_ = register_at(site_, "membre");
  another_ = register_at(site_, "autre");
  partner_ = register_at(site_, "partenaire");
  staff_ = new_staff(site_, "equipe");
  staff_other_ = new_staff(other_site_, "equipe-ailleurs");
  suspended_ = new_suspended("suspendu");
  admin_ = Person{"", gw_.admin().token(), "", required_env("MAILLON_TEST_ADMIN_PASSWORD")};
  admin_.id = expect(admin().get("/v1/me"), 200, "the admin's /v1/me").json().value("id", "");
  // The ledger opens accounts from member.registered: trade only once they hold the bonus.
  for (const Person* p : {&member_, &another_, &partner_}) {
    if (!poll_until([&] { return ledger_balance(as(*p), p->id).balance == kSignupBonus; }))
      throw std::runtime_error("the ledger never opened the account of " + p->email);
  }
  shared_ = {{"community", community_},      {"site", site_},
             {"other_site", other_site_},    {"member", member_.id},
             {"another", another_.id},       {"partner", partner_.id},
             {"staff", staff_.id},           {"staff_other", staff_other_.id},
             {"suspended", suspended_.id},   {"admin", admin_.id},
             {"login_email", another_.email}};
  define_recipes();
}

// People ------------------------------------------------------------------------------------

Person PermissionWorld::register_at(const std::string& site, const std::string& name,
                                    bool approved) {
  const std::string email = name + "." + unique_suffix() + "@permissions.maillon.test";
  // As the administrator: anonymous sign-ups are limited per client address (60 an hour), and
  // the fixtures register many people from the gateway's one.
  auto r = gw_.admin().post("/v1/auth/register", {{"email", email},
                                                  {"password", kPassword},
                                                  {"display_name", name},
                                                  {"community_id", community_},
                                                  {"home_site_id", site}});
  const Json j = expect(r, 201, "registering " + name).json();
  Person p{j["member"].value("id", ""), j.value("token", ""), email, kPassword};
  if (approved) {
    expect(admin().post("/v1/members/" + p.id + "/approve"), 200, "approving " + name);
  }
  return p;
}

Person PermissionWorld::new_staff(const std::string& site, const std::string& name) {
  Person p = register_at(site, name);
  expect(admin().post("/v1/sites/" + site + "/staff", {{"member_id", p.id}}), 204,
         "making " + name + " staff");
  return p;
}

Person PermissionWorld::new_suspended(const std::string& name) {
  Person p = register_at(site_, name);
  suspend(p);
  return p;
}

// Suspended by the admin where the stack has POST /v1/members/{id}/suspend; without it (404),
// played by a member whose session was closed: both leave a token that no longer works.
void PermissionWorld::suspend(const Person& p) {
  if (suspend_endpoint_) {
    auto r = admin().post("/v1/members/" + p.id + "/suspend", {{"reason", "Matrice des droits"}});
    if (r.status == 200) return;
    if (r.status != 404) expect(r, 200, "suspending a member");
    suspend_endpoint_ = false;
    notes_.push_back(
        "suspended: POST /v1/members/{id}/suspend answered 404; the suspended member is played "
        "by a member whose session was closed (POST /v1/auth/logout)");
  }
  expect(as(p).post("/v1/auth/logout"), 204, "closing the session of the 'suspended' member");
}

Person PermissionWorld::admin_session() {
  Person p = admin_;
  auto r = gw_.anonymous().post(
      "/v1/auth/login",
      {{"email", required_env("MAILLON_TEST_ADMIN_EMAIL")}, {"password", p.password}});
  p.token = expect(r, 200, "a new admin session").json().value("token", "");
  return p;
}

Cell PermissionWorld::caller(const std::string& role, bool fresh) {
  auto cell_of = [&](const Person& p) { return Cell{p.token, "", p, {}}; };
  if (role == "anonymous") return Cell{};
  if (role == "member") return cell_of(fresh ? register_at(site_, "membre") : member_);
  if (role == "another") return cell_of(fresh ? register_at(site_, "autre") : another_);
  if (role == "staff") return cell_of(fresh ? new_staff(site_, "equipe") : staff_);
  if (role == "staff_other")
    return cell_of(fresh ? new_staff(other_site_, "equipe-ailleurs") : staff_other_);
  if (role == "admin") return cell_of(fresh ? admin_session() : admin_);
  if (role == "suspended") return cell_of(fresh ? new_suspended("suspendu") : suspended_);
  if (role == "acting") {
    const Person desk = fresh ? new_staff(site_, "guichet") : staff_;
    const Person target = fresh ? register_at(site_, "represente") : member_;
    return Cell{desk.token, target.id, target, {}};
  }
  throw std::runtime_error("unknown role " + role);
}

// Fixtures ----------------------------------------------------------------------------------

void PermissionWorld::define_recipes() {
  recipes_ = {
      {"offer", [this](Cell&) { return listing("offer", member_, "Aide aux devoirs"); }},
      {"request",
       [this](Cell&) { return listing("request", member_, "Cherche aide aux devoirs"); }},
      {"partner_offer", [this](Cell&) { return offer_known_to_exchanges(partner_); }},
      {"match", [this](Cell& c) { return match_for(fixture("offer", c)); }},
      {"exchange", [this](Cell&) { return exchange_in("proposed"); }},
      {"transfer", [this](Cell&) { return pending_transfer(); }},
      {"item", [this](Cell&) { return item("give"); }},
      {"notification", [this](Cell&) { return notification(); }},
      {"new_member", [this](Cell&) { return desk_member("Nouveau"); }},
      {"new_pending", [this](Cell&) { return register_at(site_, "en-attente", false).id; }},
      {"new_suspended", [this](Cell&) { return suspended_desk_member(); }},
      {"new_staff", [this](Cell&) { return staff_desk_member(); }},
      {"new_community_admin", [this](Cell&) { return community_admin(); }},
      {"new_report",
       [this](Cell&) { return report(listing("offer", member_, "Aide aux devoirs")); }},
      {"new_grant", [this](Cell&) { return grant_awaiting_review(); }},
      {"new_offer", [this](Cell&) { return listing("offer", member_, "Repassage"); }},
      {"new_partner_offer",
       [this](Cell&) { return listing("offer", partner_, "Soutien en anglais"); }},
      {"new_request", [this](Cell&) { return listing("request", member_, "Cherche repassage"); }},
      {"new_match",
       [this](Cell&) { return match_for(listing("offer", member_, "Aide aux devoirs")); }},
      {"new_proposed", [this](Cell&) { return exchange_in("proposed"); }},
      {"new_accepted", [this](Cell&) { return exchange_in("accepted"); }},
      {"new_completed", [this](Cell&) { return exchange_in("completed"); }},
      {"new_disputed", [this](Cell&) { return exchange_in("disputed"); }},
      {"new_transfer", [this](Cell&) { return pending_transfer(); }},
      {"new_item", [this](Cell&) { return item("give"); }},
      {"new_lend_item", [this](Cell&) { return item("lend"); }},
      {"new_reserved_item", [this](Cell&) { return reserved_item(); }},
      {"new_lent_item", [this](Cell&) { return lent_item(); }},
      {"uuid", [](Cell&) { return new_uuid_text(); }},
      {"unique", [](Cell&) { return unique_suffix(); }},
      {"due_at", [](Cell&) { return rfc3339_in_days(14); }},
      {"password", [](Cell& c) { return c.person.password; }},
  };
}

std::string PermissionWorld::fixture(const std::string& name, Cell& cell) {
  if (auto it = shared_.find(name); it != shared_.end()) return it->second;
  if (auto it = cell.fresh.find(name); it != cell.fresh.end()) return it->second;
  auto recipe = recipes_.find(name);
  if (recipe == recipes_.end()) throw std::runtime_error("unknown fixture {" + name + "}");
  std::string value = recipe->second(cell);
  // Per-cell values: `new_*`, and what depends on the caller or must differ per call.
  const bool per_cell = name.rfind("new_", 0) == 0 || name == "uuid" || name == "unique" ||
                        name == "password" || name == "due_at";
  (per_cell ? cell.fresh : shared_)[name] = value;
  return value;
}

std::string PermissionWorld::resolve(const std::string& text, Cell& cell) {
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    const auto open = text.find('{', i);
    if (open == std::string::npos) break;
    auto close = open + 1;
    while (close < text.size() &&
           (std::islower(static_cast<unsigned char>(text[close])) || text[close] == '_'))
      ++close;
    out += text.substr(i, open - i);
    if (close > open + 1 && close < text.size() && text[close] == '}') {
      out += fixture(text.substr(open + 1, close - open - 1), cell);
      i = close + 1;
    } else {
      out += '{';
      i = open + 1;
    }
  }
  return out + text.substr(i);
}

std::string PermissionWorld::listing(const std::string& side, const Person& owner,
                                     const std::string& title) {
  const Json body = {{"kind", "service"},     {"mode", "service"}, {"category", kCategory},
                     {"title", title},        {"site_id", site_},  {"price_minutes", 10},
                     {"duration_minutes", 60}};
  return id_of(as(owner).post("/v1/" + side + "s", body), 201, "publishing a " + side);
}

// A new offer of `owner` that the exchange service has heard of (from the stream), so that a
// cell proposing on it is not refused as unknown-listing: the owner's own proposal, refused as
// own-listing once the offer is known, changes nothing.
std::string PermissionWorld::offer_known_to_exchanges(const Person& owner) {
  const std::string id = listing("offer", owner, "Soutien en français");
  const bool known = poll_until([&] {
    auto r = as(owner).post("/v1/exchanges", {{"offer_id", id}});
    return r.status == 422 && r.json().value("code", "") == "own-listing";
  });
  if (!known) throw std::runtime_error("the exchange service never heard of offer " + id);
  return id;
}

// Proposes once the exchange service has heard of the offer (it learns it from the stream).
std::string PermissionWorld::propose(const Person& who, const std::string& offer_id) {
  HttpResult r;
  poll_until([&] {
    r = as(who).post("/v1/exchanges", {{"offer_id", offer_id}});
    return !(r.status == 422 && r.json().value("code", "") == "unknown-listing") && r.status != 429;
  });
  return id_of(r, 201, "proposing an exchange");
}

// An exchange on a new offer of the member (provider), proposed by the partner (receiver),
// brought to `state`.
std::string PermissionWorld::exchange_in(const std::string& state) {
  const std::string id = propose(partner_, listing("offer", member_, "Aide aux devoirs"));
  if (state == "proposed") return id;
  // Building the world, not a cell: a 429 of the member's session (the cells run fast) waits.
  expect(unless_busy([&] { return as(member_).post("/v1/exchanges/" + id + "/accept"); }), 202,
         "accepting an exchange");
  auto state_is = [&](const std::string& s) {
    return poll_until(
        [&] { return as(member_).get("/v1/exchanges/" + id).json().value("state", "") == s; });
  };
  if (!state_is("accepted")) throw std::runtime_error("an exchange never reached accepted");
  if (state == "accepted") return id;
  if (state == "disputed") {
    expect(unless_busy([&] {
             return as(partner_).post("/v1/exchanges/" + id + "/dispute", {{"reason", "Pas venu"}});
           }),
           200, "disputing an exchange");
    return id;
  }
  expect(unless_busy([&] { return as(member_).post("/v1/exchanges/" + id + "/complete"); }), 200,
         "the provider's confirmation");
  expect(unless_busy([&] { return as(partner_).post("/v1/exchanges/" + id + "/complete"); }), 200,
         "the receiver's confirmation");
  if (!state_is("completed")) throw std::runtime_error("an exchange never reached completed");
  return id;
}

// The match of `offer_id` (the member's) with a new request of the partner.
std::string PermissionWorld::match_for(const std::string& offer_id) {
  const std::string request = listing("request", partner_, "Cherche aide aux devoirs");
  std::string match;
  poll_until([&] {
    auto r = as(member_).get("/v1/matches?listing=offer:" + offer_id);
    if (r.status != 200) return false;
    for (const auto& m : r.json().value("items", Json::array())) {
      if (m.value("request_id", "") == request) match = m.value("id", "");
    }
    return !match.empty();
  });
  if (match.empty()) throw std::runtime_error("the matching engine never matched " + offer_id);
  return match;
}

std::string PermissionWorld::pending_transfer() {
  return id_of(as(member_).post("/v1/ledger/transfers", {{"id", new_uuid_text()},
                                                         {"to_member_id", partner_.id},
                                                         {"minutes", 1},
                                                         {"pending", true},
                                                         {"timeout_s", 86400}}),
               201, "a pending transfer");
}

std::string PermissionWorld::item(const std::string& mode) {
  return id_of(as(staff_).post("/v1/sites/" + site_ + "/items", {{"category", "perceuses"},
                                                                 {"title", "Perceuse"},
                                                                 {"condition", "good"},
                                                                 {"weight_g", 1500},
                                                                 {"mode", mode}}),
               201, "taking in an item");
}

std::string PermissionWorld::reserved_item() {
  const std::string id = item("give");
  expect(as(member_).post("/v1/items/" + id + "/reserve"), 200, "reserving an item");
  return id;
}

std::string PermissionWorld::lent_item() {
  const std::string id = item("lend");
  expect(as(staff_).post("/v1/items/" + id + "/lend",
                         {{"member_id", member_.id}, {"due_at", rfc3339_in_days(14)}}),
         200, "lending an item");
  return id;
}

// Members acted upon (suspended, appointed) need no session: staff register them at the desk,
// which spares the registrations per address that the gateway's one address would exhaust.
std::string PermissionWorld::desk_member(const std::string& name) {
  return id_of(as(staff_).post("/v1/members", {{"display_name", name}, {"home_site_id", site_}}),
               201, "registering a member at the desk");
}

std::string PermissionWorld::suspended_desk_member() {
  const std::string id = desk_member("Suspendu");
  expect(admin().post("/v1/members/" + id + "/suspend", {{"reason", "Matrice des droits"}}), 200,
         "suspending a member");
  return id;
}

std::string PermissionWorld::staff_desk_member() {
  const std::string id = desk_member("Équipe bis");
  expect(admin().post("/v1/sites/" + site_ + "/staff", {{"member_id", id}}), 204,
         "making a member staff");
  return id;
}

// A member made administrator of the community.
std::string PermissionWorld::community_admin() {
  const std::string id = desk_member("Administratrice");
  expect(admin().post("/v1/communities/" + community_ + "/admins", {{"member_id", id}}), 204,
         "appointing a community admin");
  return id;
}

// The partner's report of `offer_id` (the member's), open at the desk (one open report per
// reporter and target: a new offer for each).
std::string PermissionWorld::report(const std::string& offer_id) {
  return id_of(as(partner_).post(
                   "/v1/reports",
                   {{"target", "offer"}, {"target_id", offer_id}, {"reason", "Annonce trompeuse"}}),
               201, "reporting an offer");
}

// A grant to the partner above the policy's grant_review_minutes, asked by a second staff member
// of the site (so that `staff` is not the one who asked).
std::string PermissionWorld::grant_awaiting_review() {
  if (second_staff_.id.empty()) second_staff_ = new_staff(site_, "equipe-seconde");
  return id_of(as(second_staff_)
                   .post("/v1/ledger/transfers", {{"id", new_uuid_text()},
                                                  {"to_member_id", partner_.id},
                                                  {"minutes", kGrantMinutes}}),
               202, "a grant awaiting review");
}

// One of the member's notifications: the partner's proposal of the shared exchange brings one.
std::string PermissionWorld::notification() {
  Cell none;
  fixture("exchange", none);
  std::string id;
  poll_until([&] {
    auto r = as(member_).get("/v1/notifications");
    if (r.status != 200 || r.json().value("items", Json::array()).empty()) return false;
    id = r.json()["items"][0].value("id", "");
    return true;
  });
  if (id.empty()) throw std::runtime_error("the member never got a notification");
  return id;
}

}  // namespace maillon::testing
