// The in-app inbox: notifications derived from exchange events, their read flags, and a
// Server-Sent Events view of them. The runtime answers a request with one complete body, so the
// stream sends what is new since Last-Event-ID and ends with a `retry:` hint: EventSource
// reconnects by itself and resumes from the last id it saw.
#include "services/common/errors.hpp"
#include "services/common/json_body.hpp"
#include "services/common/pagination.hpp"
#include "services/common/service.hpp"
#include "services/exchange/exchange_service.hpp"

namespace maillon::exchange {
namespace {

constexpr int kStreamRetryMs = 3000;

std::optional<int64_t> number(const std::optional<std::string>& text, const char* field) {
  if (!text || text->empty()) return std::nullopt;
  try {
    size_t used = 0;
    int64_t value = std::stoll(*text, &used);
    if (used == text->size() && value >= 0) return value;
  } catch (const std::exception&) {
  }
  throw invalid_input("Paramètre invalide.", {{field, "doit être un entier positif"}});
}

Response list(Service& s, const Request& r) {
  const Identity who = s.auth.require(r);
  const PageRequest page = page_request(r);
  const bool unread = r.query_value("unread").value_or("false") == "true";
  const auto before =
      number(page.cursor.empty() ? std::nullopt : std::optional(page.cursor), "cursor");
  Json body = s.db.transact([&](pqxx::work& tx) {
    auto items =
        repo::list_notifications(tx, who.member_id, unread, before, std::nullopt, page.limit);
    Json next = static_cast<int>(items.size()) == page.limit
                    ? Json(encode_cursor(std::to_string(items.back()["seq"].get<int64_t>())))
                    : Json(nullptr);
    return Json{{"items", items}, {"next_cursor", next}};
  });
  return json_response(200, body);
}

Response mark_read(Service& s, const Request& r) {
  const Identity who = s.auth.require(r);
  if (!is_uuid(r.param("id"))) throw not_found();
  bool found = s.db.transact([&](pqxx::work& tx) {
    return repo::mark_notification_read(tx, who.member_id, r.param("id"));
  });
  if (!found) throw not_found();
  return Response::no_content();
}

Response mark_all_read(Service& s, const Request& r) {
  const Identity who = s.auth.require(r);
  int64_t count = s.db.transact(
      [&](pqxx::work& tx) { return repo::mark_all_notifications_read(tx, who.member_id); });
  return json_response(200, {{"marked_read", count}});
}

Response stream(Service& s, const Request& r) {
  const Identity who = s.auth.require(r);
  auto after = number(r.header("last-event-id"), "Last-Event-ID");
  if (!after) after = number(r.query_value("after"), "after");
  auto items = s.db.transact([&](pqxx::work& tx) {
    return repo::list_notifications(tx, who.member_id, false, std::nullopt, after.value_or(0),
                                    kStreamBacklogMax);
  });
  std::string body = "retry: " + std::to_string(kStreamRetryMs) + "\n\n";
  for (auto it = items.rbegin(); it != items.rend(); ++it) {  // oldest first
    body += "id: " + std::to_string((*it)["seq"].get<int64_t>()) + "\n";
    body += "event: " + (*it)["type"].get<std::string>() + "\n";
    body += "data: " + it->dump() + "\n\n";
  }
  Response response = Response::text(200, std::move(body), "text/event-stream");
  response.headers.push_back({"Cache-Control", "no-cache"});
  return response;
}

}  // namespace

void register_notification_routes(Service& s) {
  s.http.route("GET", "/v1/notifications", [&s](const Request& r) { return list(s, r); });
  s.http.route("GET", "/v1/notifications/stream", [&s](const Request& r) { return stream(s, r); });
  s.http.route("POST", "/v1/notifications/read",
               [&s](const Request& r) { return mark_all_read(s, r); });
  s.http.route("POST", "/v1/notifications/{id}/read",
               [&s](const Request& r) { return mark_read(s, r); });
}

void register_service(Service& service) {
  auto workflow = std::make_shared<Workflow>(service, system_clock_s);
  register_routes(service, workflow);
  register_notification_routes(service);
  register_consumers(service, workflow);
}

}  // namespace maillon::exchange
