// The in-app inbox (moved from the exchange service, same contract): notifications, their read
// flags, and a live Server-Sent Events stream of them. The stream stays open; one dispatcher
// thread polls the inbox of every open stream twice a second (one statement for all of them), so
// no worker is held per stream and every replica sees what any replica's consumer wrote.
#include <cstdlib>

#include "services/common/config.hpp"
#include "services/common/errors.hpp"
#include "services/common/json_body.hpp"
#include "services/common/pagination.hpp"
#include "services/common/service.hpp"
#include "services/common/sse.hpp"
#include "services/notify/messages.hpp"
#include "services/notify/notify_service.hpp"

namespace maillon::notify {
namespace {

constexpr std::size_t kStreamsMaxDefault = 256;
constexpr std::size_t kStreamsMaxLimit = 10'000;  // each holds a socket and a little memory

std::optional<int64_t> number(const std::optional<std::string>& text, const char* field) {
  if (!text || text->empty()) return std::nullopt;
  try {
    size_t used = 0;
    int64_t value = std::stoll(*text, &used);
    if (used == text->size() && value >= 0) return value;
  } catch (const std::exception&) {
  }
  throw problem_on_field(NotifyRefusal::notification_parameter, field);
}

Response list(Service& s, const Request& r) {
  const Identity who = s.auth.require(r);
  const PageRequest page = page_request(r);
  const bool unread = r.query_value("unread").value_or("false") == "true";
  const auto before =
      number(page.cursor.empty() ? std::nullopt : std::optional(page.cursor), "cursor");
  Json body = s.db.transact([&](pqxx::work& tx) {
    auto items = repo::list_notifications(tx, who.member_id, unread, before, page.limit);
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

// EventSource cannot send headers: the stream takes the web session cookie, or `?ticket=` from
// POST /v1/notifications/stream-ticket (single use, 60 s), never a session token in the URL
// (URLs end up in logs, histories and Referer headers).
// The stream lasts as long as that session: it is checked again before every event sent and
// every few seconds (SseOptions::session_alive), so a logout, a suspension or an erasure ends it.
Authenticator::StreamSession stream_session(Service& s, const Request& r) {
  if (r.query_value("access_token")) throw problem(NotifyRefusal::access_token_in_url);
  const auto ticket = r.query_value("ticket");
  if (!ticket) return s.auth.stream_session(r);
  auto session = s.auth.redeem_stream_ticket(*ticket);
  if (!session) throw problem(NotifyRefusal::stream_ticket_invalid);
  return *std::move(session);
}

Response stream_ticket(Service& s, const Request& r) {
  const auto ticket = s.auth.issue_stream_ticket(r);
  return json_response(201, {{"ticket", ticket.ticket}, {"expires_at", ticket.expires_at}});
}

Response stream(Service& s, SseHub& hub, const Request& r) {
  const Authenticator::StreamSession session = stream_session(s, r);
  const Identity& who = session.who;
  auto after = number(r.header("last-event-id"), "Last-Event-ID");
  if (!after) after = number(r.query_value("last_event_id"), "last_event_id");
  // Without an id, only what happens from now on: the inbox list gives the history, and its
  // newest `seq` passed as last_event_id closes the gap between the two.
  if (!after) {
    after = s.db.transact(
        [&](pqxx::work& tx) { return repo::latest_notification_seq(tx, who.member_id); });
  }
  return hub.open(who.member_id, *after, session.session);
}

std::vector<std::pair<std::string, SseEvent>> fetch_notifications(
    Service& s, const std::vector<SseHub::Cursor>& cursors, int batch_max) {
  std::vector<std::pair<std::string, int64_t>> pairs;
  pairs.reserve(cursors.size());
  for (const auto& c : cursors) pairs.emplace_back(c.key, c.after_id);
  auto rows = s.db.transact(
      [&](pqxx::work& tx) { return repo::notifications_after(tx, pairs, batch_max); });
  std::vector<std::pair<std::string, SseEvent>> events;
  events.reserve(rows.size());
  for (auto& [member_id, item] : rows) {
    SseEvent event{item["seq"].get<int64_t>(), item["type"].get<std::string>(), item.dump()};
    events.emplace_back(std::move(member_id), std::move(event));
  }
  return events;
}

std::size_t streams_max_from_env() {
  return static_cast<std::size_t>(Config::integer("MAILLON_NOTIFICATION_STREAMS_MAX",
                                                  static_cast<int64_t>(kStreamsMaxDefault), 1,
                                                  static_cast<int64_t>(kStreamsMaxLimit)));
}

}  // namespace

void register_notification_routes(Service& s) {
  s.http.route("GET", "/v1/notifications", [&s](const Request& r) { return list(s, r); });
  SseOptions options;
  options.streams_max = streams_max_from_env();
  options.batch_max = kStreamBatchMax;
  options.session_alive = [&s](const std::string& session) {
    return s.auth.session_stands(session);
  };
  auto hub = std::make_shared<SseHub>(options, [&s](const auto& cursors, int batch_max) {
    return fetch_notifications(s, cursors, batch_max);
  });
  s.http.route("GET", "/v1/notifications/stream",
               [&s, hub](const Request& r) { return stream(s, *hub, r); });
  s.http.route("POST", "/v1/notifications/stream-ticket",
               [&s](const Request& r) { return stream_ticket(s, r); });
  s.http.route("POST", "/v1/notifications/read",
               [&s](const Request& r) { return mark_all_read(s, r); });
  s.http.route("POST", "/v1/notifications/{id}/read",
               [&s](const Request& r) { return mark_read(s, r); });
}

}  // namespace maillon::notify
