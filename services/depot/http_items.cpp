// Item routes: intake by staff, the public shelf, and the transitions of exchange/depot.hpp.
// Each transition locks the item row (and the member's advisory lock when the rule counts the
// member's other items), applies the domain rule, stores and records in one transaction.
#include <functional>

#include "services/common/auth.hpp"
#include "services/common/directory.hpp"
#include "services/common/errors.hpp"
#include "services/common/http.hpp"
#include "services/common/ids.hpp"
#include "services/common/json_body.hpp"
#include "services/common/pagination.hpp"
#include "services/common/service.hpp"
#include "services/depot/depot.hpp"

namespace maillon::depot {
namespace {

constexpr size_t kPhotosMax = 10;
constexpr size_t kTextMax = 5000;

ApiError refusal(DepotOutcome outcome) {
  switch (outcome) {
    case DepotOutcome::not_available:
      return conflict("not-available", "Cet objet n'est pas disponible.");
    case DepotOutcome::not_reserved:
      return conflict("not-reserved", "Cet objet n'est pas réservé.");
    case DepotOutcome::not_reserver:
      return forbidden("La réservation est celle d'un autre membre.");
    case DepotOutcome::reservation_limit:
      return business_rule("reservation-limit",
                           "Vous avez déjà le nombre maximal de réservations.");
    case DepotOutcome::overdue_loan:
      return business_rule("overdue-loan", "Un prêt en retard empêche d'emprunter.");
    case DepotOutcome::wrong_mode:
      return business_rule("wrong-mode", "Cette action ne correspond pas au mode de l'objet.");
    case DepotOutcome::invalid_due_date:
      return business_rule("invalid-due-date", "La date de retour doit être dans les 90 jours.");
    case DepotOutcome::not_on_loan:
      return conflict("not-on-loan", "Cet objet n'est pas prêté.");
    case DepotOutcome::invalid_partner:
      return invalid_input("Partenaire invalide.", {{"partner", "200 caractères au plus"}});
    case DepotOutcome::ok:
      break;
  }
  throw std::logic_error("refusal of an accepted transition");
}

struct Step {
  DepotResult result;
  std::string what;           // item.<what>
  std::string active_member;  // counted as active at the site today, when not empty
};

using Apply = std::function<Step(pqxx::work&, ItemRow&, const CommunityPolicy&, int64_t now_s)>;

class ItemRoutes {
 public:
  explicit ItemRoutes(std::shared_ptr<const DepotContext> c) : c_(std::move(c)) {}
  static void bind(const std::shared_ptr<ItemRoutes>& self, HttpServer& http);

 private:
  std::shared_ptr<const DepotContext> c_;
  Service& s() const { return c_->service; }

  Response intake(const Request& req);
  Response list(const Request& req);
  Response get(const Request& req);
  Response reserve(const Request& req);
  Response release(const Request& req);
  Response collect(const Request& req);
  Response lend(const Request& req);
  Response give_back(const Request& req);
  Response redirect(const Request& req);

  // Locks `lock_member_id` (when not empty) then the item, checks the community, applies.
  Response act(const Identity& who, const std::string& item_id, const std::string& lock_member_id,
               bool staff_only, const Apply& apply);
  // The community of the member a staff action names; 400 on `field` when nobody has that id.
  std::string member_community(const std::string& member_id, const char* field);
  // Who reads a public route: a token that no longer works (logged out, suspended) reads what
  // anyone reads; an X-On-Behalf-Of the caller may not use is still refused.
  std::optional<Identity> reader(const Request& req);
};

ApiError unknown_member(const char* field) {
  return invalid_input("Membre inconnu.", {{field, "membre inconnu dans votre communauté"}});
}

// The member named by staff must belong to the item's (or site's) community.
void check_same_community(const std::string& member_community, const std::string& community_id,
                          const char* field) {
  if (member_community != community_id) throw unknown_member(field);
}

ApiError member_suspended() {
  return ApiError(403, "member-suspended", "Action non autorisée",
                  "Ce compte est suspendu : il ne peut pas réserver d'objet.");
}

ItemViewer viewer_of(const std::optional<Identity>& who, const std::string& site_id) {
  if (!who) return {};
  return {who->is_staff_of(site_id), who->member_id};
}

void ItemRoutes::bind(const std::shared_ptr<ItemRoutes>& self, HttpServer& http) {
  auto on = [self](Response (ItemRoutes::*f)(const Request&)) {
    return [self, f](const Request& r) { return ((*self).*f)(r); };
  };
  http.route("POST", "/v1/sites/{id}/items", on(&ItemRoutes::intake));
  http.route("GET", "/v1/sites/{id}/items", on(&ItemRoutes::list));
  http.route("GET", "/v1/items/{id}", on(&ItemRoutes::get));
  http.route("POST", "/v1/items/{id}/reserve", on(&ItemRoutes::reserve));
  http.route("POST", "/v1/items/{id}/release", on(&ItemRoutes::release));
  http.route("POST", "/v1/items/{id}/collect", on(&ItemRoutes::collect));
  http.route("POST", "/v1/items/{id}/lend", on(&ItemRoutes::lend));
  http.route("POST", "/v1/items/{id}/return", on(&ItemRoutes::give_back));
  http.route("POST", "/v1/items/{id}/redirect", on(&ItemRoutes::redirect));
}

std::optional<Identity> ItemRoutes::reader(const Request& req) {
  try {
    return s().auth.optional(req);
  } catch (const ApiError& e) {
    if (e.status() != 401) throw;
    return std::nullopt;
  }
}

std::string ItemRoutes::member_community(const std::string& member_id, const char* field) {
  std::optional<Identity> member = s().auth.member_identity(member_id);
  if (!member || member->community_id.empty()) throw unknown_member(field);
  return member->community_id;
}

ItemIntake read_intake(const Request& req) {
  Json j = parse_json_object(req.body);
  BodyReader r(j, {"category", "title", "description", "condition", "weight_g", "mode",
                   "dropped_by_member_id", "photos"});
  ItemIntake in;
  in.category = r.required_text("category", kTextMax);
  in.title = r.required_text("title", kTextMax);
  in.description = r.text("description", kTextMax).value_or("");
  in.condition = r.required_text("condition", 20);
  in.weight_g = r.required_integer("weight_g", INT32_MIN, INT32_MAX);
  in.mode = r.required_text("mode", 20);
  in.dropped_by_member_id = r.uuid("dropped_by_member_id").value_or("");
  in.photos = r.text_list("photos", kPhotosMax, kTextMax).value_or(std::vector<std::string>{});
  r.finish();
  return in;
}

Response ItemRoutes::intake(const Request& req) {
  Identity who = s().auth.require(req);
  ItemIntake in = read_intake(req);
  in.id = new_uuid();
  in.site_id = req.param("id");
  if (!is_uuid(in.site_id)) throw not_found();
  if (!who.is_staff_of(in.site_id)) throw forbidden("Réservé à l'équipe du lieu.");
  // The depositor earns deposit_reward from the community: staff never grant it to themselves.
  if (!in.dropped_by_member_id.empty() && in.dropped_by_member_id == who.actor_id()) {
    throw forbidden(
        "Un membre de l'équipe n'enregistre pas son propre dépôt : un collègue le fait.");
  }
  std::string depositor_community;
  if (!in.dropped_by_member_id.empty())
    depositor_community = member_community(in.dropped_by_member_id, "dropped_by_member_id");
  Json body = s().db.transact([&](pqxx::work& tx) {
    std::optional<directory::Site> site = directory::site(tx, in.site_id);
    std::optional<CommunityPolicy> policy;
    if (site) policy = directory::policy_of(tx, site->community_id);
    if (!site || !policy) throw not_found("Lieu inconnu.");
    if (!in.dropped_by_member_id.empty())
      check_same_community(depositor_community, site->community_id, "dropped_by_member_id");
    int64_t now_s = c_->now_s();
    IntakeResult result = intake_item(in, c_->tree, *policy, now_s);
    if (!result.errors.empty()) throw invalid_input("Objet invalide.", result.errors);
    ItemRow row;
    row.item = std::move(result.item);
    row.community_id = site->community_id;
    row.acted_by = who.actor_id();
    insert_item(tx, row);
    c_->record(tx, row, "available", result.effects, result.impact, in.dropped_by_member_id);
    return item_json(row, *policy, now_s, {true, who.member_id});
  });
  return json_response(201, body);
}

Response ItemRoutes::list(const Request& req) {
  std::optional<Identity> who = reader(req);
  ItemFilter f;
  f.site_id = req.param("id");
  if (!is_uuid(f.site_id)) throw not_found();
  f.status = req.query_value("status");
  if (f.status && *f.status != "unclaimed" && !item_status_from_string(*f.status)) {
    throw invalid_input("Statut inconnu.", {{"status", "statut inconnu"}});
  }
  if (auto category = req.query_value("category")) {
    f.categories = c_->tree.self_and_descendants(*category);
    if (f.categories->empty())
      throw invalid_input("Catégorie inconnue.", {{"category", "catégorie inconnue"}});
  }
  PageRequest page = page_request(req);
  f.after_id = page.cursor;
  if (!f.after_id.empty() && !is_uuid(f.after_id))
    throw invalid_input("Curseur invalide.", {{"cursor", "invalide"}});
  f.limit = page.limit + 1;
  ItemViewer viewer = viewer_of(who, f.site_id);
  Json body = s().db.transact([&](pqxx::work& tx) {
    std::optional<directory::Site> site = directory::site(tx, f.site_id);
    if (!site) throw not_found("Lieu inconnu.");
    CommunityPolicy policy =
        directory::policy_of(tx, site->community_id).value_or(CommunityPolicy{});
    f.now_s = c_->now_s();
    f.unclaimed_before_s = f.now_s - policy.unclaimed_days * 86400;
    std::vector<ItemRow> rows = list_items(tx, f);
    Json items = Json::array();
    for (int k = 0; k < std::min<int>(page.limit, static_cast<int>(rows.size())); ++k) {
      items.push_back(item_json(rows[k], policy, f.now_s, viewer));
    }
    Json next = rows.size() > static_cast<size_t>(page.limit)
                    ? Json(encode_cursor(rows[page.limit - 1].item.id))
                    : Json(nullptr);
    return Json{{"items", items}, {"next_cursor", next}};
  });
  return json_response(200, body);
}

Response ItemRoutes::get(const Request& req) {
  std::optional<Identity> who = reader(req);
  const std::string& id = req.param("id");
  if (!is_uuid(id)) throw not_found();
  Json body = s().db.transact([&](pqxx::work& tx) {
    std::optional<ItemRow> row = find_item(tx, id, false);
    if (!row) throw not_found();
    CommunityPolicy policy =
        directory::policy_of(tx, row->community_id).value_or(CommunityPolicy{});
    return item_json(*row, policy, c_->now_s(), viewer_of(who, row->item.site_id));
  });
  return json_response(200, body);
}

Response ItemRoutes::act(const Identity& who, const std::string& item_id,
                         const std::string& lock_member_id, bool staff_only, const Apply& apply) {
  if (!is_uuid(item_id)) throw not_found();
  Json body = s().db.transact([&](pqxx::work& tx) {
    // Member first, item second, everywhere: no two transactions wait on each other in a cycle.
    if (!lock_member_id.empty()) lock_member(tx, lock_member_id);
    std::optional<ItemRow> row = find_item(tx, item_id, true);
    if (!row) throw not_found();
    // Items are public (GET /v1/items/{id}): refusals are 403, they reveal nothing.
    const bool staff = who.is_staff_of(row->item.site_id);
    if (staff_only && !staff) throw forbidden("Réservé à l'équipe du lieu.");
    if (!staff && row->community_id != who.community_id) {
      throw forbidden("Réservé aux membres de la communauté du lieu.");
    }
    CommunityPolicy policy =
        directory::policy_of(tx, row->community_id).value_or(CommunityPolicy{});
    int64_t now_s = c_->now_s();
    const DepotItem before = row->item;
    const ItemViewer viewer = viewer_of(who, row->item.site_id);
    Step step = apply(tx, *row, policy, now_s);
    if (!step.result.ok()) throw refusal(step.result.outcome);
    // A retried reservation by its holder changes nothing: nothing to store or announce.
    if (row->item == before && step.result.effects.empty())
      return item_json(*row, policy, now_s, viewer);
    // Staff who acted, at the desk or for a member; empty when a member acted alone.
    row->acted_by = staff_only ? who.actor_id() : who.acting_staff_id;
    update_item(tx, *row);
    c_->record(tx, *row, step.what, step.result.effects, step.result.impact, step.active_member);
    return item_json(*row, policy, now_s, viewer);
  });
  return json_response(200, body);
}

MemberStanding standing_of(pqxx::work& tx, const std::string& member_id, int64_t now_s) {
  std::vector<DepotItem> reserved = reserved_items_of(tx, member_id);
  std::vector<Loan> loans = open_loans_of(tx, member_id);
  return {count_active_reservations(reserved, member_id, now_s), has_overdue_loan(loans, now_s)};
}

Response ItemRoutes::reserve(const Request& req) {
  Identity who = s().auth.require(req);
  if (who.status == "suspended") throw member_suspended();
  const std::string member = who.member_id;
  return act(who, req.param("id"), member, false,
             [&](pqxx::work& tx, ItemRow& row, const CommunityPolicy& policy, int64_t now_s) {
               MemberStanding standing = standing_of(tx, member, now_s);
               return Step{reserve_item(row.item, member, standing, policy, now_s), "reserved", ""};
             });
}

Response ItemRoutes::release(const Request& req) {
  Identity who = s().auth.require(req);
  return act(who, req.param("id"), "", false,
             [&](pqxx::work&, ItemRow& row, const CommunityPolicy&, int64_t now_s) {
               bool by_staff = who.is_staff_of(row.item.site_id);
               return Step{release_item(row.item, who.member_id, by_staff, now_s), "available", ""};
             });
}

Response ItemRoutes::collect(const Request& req) {
  Identity who = s().auth.require(req);
  Json j = parse_json_object(req.body, true);
  BodyReader r(j, {"member_id"});
  std::string member = r.uuid("member_id").value_or("");
  r.finish();
  std::string community = member.empty() ? "" : member_community(member, "member_id");
  return act(who, req.param("id"), "", true,
             [&](pqxx::work&, ItemRow& row, const CommunityPolicy&, int64_t now_s) {
               if (!member.empty()) check_same_community(community, row.community_id, "member_id");
               // Handed to its reserver when nobody is named.
               std::string to = member;
               if (to.empty() && effective_status(row.item, now_s) == ItemStatus::reserved) {
                 to = row.item.reserved_by_member_id;
               }
               return Step{collect_item(row.item, to, now_s), "collected", to};
             });
}

Response ItemRoutes::lend(const Request& req) {
  Identity who = s().auth.require(req);
  Json j = parse_json_object(req.body);
  BodyReader r(j, {"member_id", "due_at"});
  std::string member = r.required_uuid("member_id");
  std::string due_text = r.required_text("due_at", 40);
  std::optional<int64_t> due_at_s = parse_rfc3339_s(due_text);
  if (!due_text.empty() && !due_at_s) r.add_error("due_at", "date RFC 3339 attendue");
  r.finish();
  std::string community = member_community(member, "member_id");
  return act(who, req.param("id"), member, true,
             [&](pqxx::work& tx, ItemRow& row, const CommunityPolicy& policy, int64_t now_s) {
               check_same_community(community, row.community_id, "member_id");
               MemberStanding standing = standing_of(tx, member, now_s);
               DepotResult result = lend_item(row.item, member, *due_at_s, standing, policy, now_s);
               if (result.ok()) {
                 row.refused_transfer_id.clear();  // a refusal concerned an earlier loan
                 row.refused_reason.clear();
               }
               return Step{std::move(result), "lent", member};
             });
}

Response ItemRoutes::give_back(const Request& req) {
  Identity who = s().auth.require(req);
  Json j = parse_json_object(req.body);
  BodyReader r(j, {"condition"});
  std::string text = r.required_text("condition", 20);
  std::optional<ItemCondition> condition = item_condition_from_string(text);
  if (!text.empty() && !condition) r.add_error("condition", "new, good, fair ou for_parts");
  r.finish();
  return act(who, req.param("id"), "", true,
             [&](pqxx::work&, ItemRow& row, const CommunityPolicy&, int64_t now_s) {
               return Step{return_item(row.item, *condition, now_s), "returned", ""};
             });
}

Response ItemRoutes::redirect(const Request& req) {
  Identity who = s().auth.require(req);
  Json j = parse_json_object(req.body);
  BodyReader r(j, {"outlet", "partner"});
  std::string text = r.required_text("outlet", 20);
  std::string partner = r.text("partner", kTextMax).value_or("");
  std::optional<RedirectOutlet> outlet = redirect_outlet_from_string(text);
  if (!text.empty() && !outlet) r.add_error("outlet", "reuse, recycle ou waste");
  r.finish();
  return act(who, req.param("id"), "", true,
             [&](pqxx::work&, ItemRow& row, const CommunityPolicy&, int64_t now_s) {
               return Step{redirect_item(row.item, *outlet, partner, now_s), "redirected", ""};
             });
}

}  // namespace

void register_item_routes(const std::shared_ptr<const DepotContext>& context) {
  ItemRoutes::bind(std::make_shared<ItemRoutes>(context), context->service.http);
}

}  // namespace maillon::depot
