// Item routes: intake by staff, the public shelf, and the transitions of exchange/depot.hpp. Each
// handler reads its input, calls one use case (usecases.hpp) and writes its answer; refusals are
// put into words by messages.hpp.
#include "exchange/listing.hpp"  // kPhotoCountMax
#include "services/common/auth.hpp"
#include "services/common/errors.hpp"
#include "services/common/http.hpp"
#include "services/common/json_body.hpp"
#include "services/common/pagination.hpp"
#include "services/common/service.hpp"
#include "services/depot/depot.hpp"
#include "services/depot/labels.hpp"
#include "services/depot/messages.hpp"
#include "services/depot/usecases.hpp"

namespace maillon::depot {
namespace {

constexpr size_t kPhotosMax = kPhotoCountMax;
constexpr size_t kTextMax = 5000;

// The value of an answer, or its refusal thrown as a problem.
template <class T>
const T& value_of(const Answer<T>& answer) {
  if (answer.refusal == DepotRefusal::item_invalid) throw problem(answer.refusal, answer.errors);
  if (!answer.field.empty()) throw problem_on_field(answer.refusal, answer.field);
  if (answer.refusal != DepotRefusal::none) throw problem(answer.refusal);
  if (answer.outcome != DepotOutcome::ok) throw problem(answer.outcome);
  return answer.value;
}

Json view_json(const ItemView& view) {
  return item_json(view.row, view.policy, view.now_s, view.viewer);
}

class ItemRoutes {
 public:
  explicit ItemRoutes(std::shared_ptr<const DepotContext> c) : c_(c), cases_(std::move(c)) {}
  static void bind(const std::shared_ptr<ItemRoutes>& self, HttpServer& http);

 private:
  std::shared_ptr<const DepotContext> c_;
  DepotUseCases cases_;
  Service& s() const { return c_->service; }

  Response intake(const Request& req);
  Response list(const Request& req);
  Response scan(const Request& req, const std::string& text);
  Response get(const Request& req);
  Response reserve(const Request& req);
  Response release(const Request& req);
  Response collect(const Request& req);
  Response lend(const Request& req);
  Response give_back(const Request& req);
  Response redirect(const Request& req);

  Response act(const Request& req, ItemAction action, const ActionInput& input = {}) {
    const auto answer = cases_.act(s().auth.require(req), req.param("id"), action, input);
    return json_response(200, view_json(value_of(answer)));
  }
  // An action with a body: the caller first (a stranger is a 401 whatever the body), then the
  // body, of which `read` fills the action's input; every field error is in one 400.
  template <class Read>
  Response act_on_body(const Request& req, ItemAction action,
                       std::initializer_list<std::string_view> fields, Read read,
                       bool empty_is_object = false) {
    Identity who = s().auth.require(req);
    Json j = parse_json_object(req.body, empty_is_object);
    BodyReader r(j, fields);
    ActionInput input;
    read(r, input);
    r.finish();
    const auto answer = cases_.act(who, req.param("id"), action, input);
    return json_response(200, view_json(value_of(answer)));
  }
  // Who reads a public route: a token that no longer works (logged out, suspended) reads what
  // anyone reads; an X-On-Behalf-Of the caller may not use is still refused.
  std::optional<Identity> reader(const Request& req);
};

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
  in.site_id = req.param("id");
  return json_response(201, view_json(value_of(cases_.intake(who, std::move(in)))));
}

Response ItemRoutes::list(const Request& req) {
  // What a scanner typed at the kiosk or the desk: a label's URL, an id or a short code.
  if (auto scanned = req.query_value("code")) return scan(req, *scanned);
  std::optional<Identity> who = reader(req);
  ItemFilter f;
  f.site_id = req.param("id");
  if (!is_uuid(f.site_id)) throw problem(DepotRefusal::not_found);
  f.status = req.query_value("status");
  if (f.status && *f.status != "unclaimed" && !item_status_from_string(*f.status)) {
    throw problem(DepotRefusal::status_unknown);
  }
  if (auto category = req.query_value("category")) {
    f.categories = c_->tree.self_and_descendants(*category);
    if (f.categories->empty()) throw problem(DepotRefusal::category_unknown);
  }
  PageRequest page = page_request(req);
  f.after_id = page.cursor;
  if (!f.after_id.empty() && !is_uuid(f.after_id)) throw problem(DepotRefusal::cursor_invalid);
  f.limit = page.limit;
  const auto answer = cases_.list(who, f);
  const ItemPage& shelf = value_of(answer);
  Json items = Json::array();
  for (const auto& view : shelf.items) items.push_back(view_json(view));
  Json next = shelf.next_after_id ? Json(encode_cursor(*shelf.next_after_id)) : Json(nullptr);
  return json_response(200, Json{{"items", items}, {"next_cursor", next}});
}

// The site's items a scan names, as the shelf lists them: none when the code names an item of
// another site or nothing, two when a short code is ambiguous.
Response ItemRoutes::scan(const Request& req, const std::string& text) {
  std::optional<Identity> who = reader(req);
  const std::string site_id = req.param("id");
  if (!is_uuid(site_id)) throw problem(DepotRefusal::not_found);
  const std::optional<ScannedCode> code = read_scanned_code(text);
  if (!code) {
    throw invalid_input("Ce code n'est pas celui d'une étiquette.",
                        {{"code", "ni une adresse d'objet, ni un code de 8 caractères"}});
  }
  const auto ids =
      s().db.transact([&](pqxx::work& tx) { return scanned_items(tx, site_id, *code); });
  Json items = Json::array();
  for (const std::string& id : ids) {
    const auto answer = cases_.get(who, id);
    if (answer.refusal != DepotRefusal::none || answer.outcome != DepotOutcome::ok) continue;
    if (answer.value.row.item.site_id == site_id) items.push_back(view_json(answer.value));
  }
  return json_response(200, Json{{"items", items}, {"next_cursor", nullptr}});
}

Response ItemRoutes::get(const Request& req) {
  std::optional<Identity> who = reader(req);
  return json_response(200, view_json(value_of(cases_.get(who, req.param("id")))));
}

Response ItemRoutes::reserve(const Request& req) {
  return act(req, ItemAction::reserve);
}

Response ItemRoutes::release(const Request& req) {
  return act(req, ItemAction::release);
}

Response ItemRoutes::collect(const Request& req) {
  auto read = [](BodyReader& r, ActionInput& in) {
    in.member_id = r.uuid("member_id").value_or("");
  };
  return act_on_body(req, ItemAction::collect, {"member_id"}, read, true);
}

Response ItemRoutes::lend(const Request& req) {
  auto read = [](BodyReader& r, ActionInput& in) {
    in.member_id = r.required_uuid("member_id");
    const std::string due_text = r.required_text("due_at", 40);
    const std::optional<int64_t> due_at_s = parse_rfc3339_s(due_text);
    if (!due_text.empty() && !due_at_s)
      r.add_error("due_at", message(DepotRefusal::due_at_invalid));
    in.due_at_s = due_at_s.value_or(0);  // read only when no field error
  };
  return act_on_body(req, ItemAction::lend, {"member_id", "due_at"}, read);
}

Response ItemRoutes::give_back(const Request& req) {
  auto read = [](BodyReader& r, ActionInput& in) {
    const std::string text = r.required_text("condition", 20);
    const std::optional<ItemCondition> condition = item_condition_from_string(text);
    if (!text.empty() && !condition)
      r.add_error("condition", message(DepotRefusal::condition_unknown));
    if (condition) in.condition = *condition;
  };
  return act_on_body(req, ItemAction::give_back, {"condition"}, read);
}

Response ItemRoutes::redirect(const Request& req) {
  auto read = [](BodyReader& r, ActionInput& in) {
    const std::string text = r.required_text("outlet", 20);
    in.partner = r.text("partner", kTextMax).value_or("");
    const std::optional<RedirectOutlet> outlet = redirect_outlet_from_string(text);
    if (!text.empty() && !outlet) r.add_error("outlet", message(DepotRefusal::outlet_unknown));
    if (outlet) in.outlet = *outlet;
  };
  return act_on_body(req, ItemAction::redirect, {"outlet", "partner"}, read);
}

}  // namespace

void register_item_routes(const std::shared_ptr<const DepotContext>& context) {
  ItemRoutes::bind(std::make_shared<ItemRoutes>(context), context->service.http);
}

}  // namespace maillon::depot
