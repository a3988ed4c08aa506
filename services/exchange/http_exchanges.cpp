// Routes of the exchange service: each handler reads its input, calls one use case
// (usecases.hpp) and writes its answer; refusals are put into words by messages.hpp.
#include "services/common/config.hpp"
#include "services/common/errors.hpp"
#include "services/common/json_body.hpp"
#include "services/common/pagination.hpp"
#include "services/common/service.hpp"
#include "services/exchange/exchange_service.hpp"
#include "services/exchange/ical.hpp"
#include "services/exchange/messages.hpp"
#include "services/exchange/usecases.hpp"

namespace maillon::exchange {
namespace {

// A staff member's or a party's own words: bounded, and without NUL (which PostgreSQL text
// cannot hold), refused as a 400 like any other invalid field.
std::string free_text(BodyReader& r, std::string_view field, size_t max_code_points) {
  const std::optional<std::string> text = r.text(field, max_code_points);
  if (!text) return {};
  for (FieldError& error : validate_free_text(field, *text, max_code_points)) {
    r.add_error(std::move(error.field), std::move(error.message));
  }
  return *text;
}

ProposalInput parse_proposal(const std::string& body) {
  Json j = parse_json_object(body);
  BodyReader r(j,
               {"offer_id", "request_id", "match_id", "minutes", "site_id", "scheduled_at",
                "message", "starts_at", "due_at", "given_offer_id"},
               {"provider_id", "receiver_id", "state", "id", "deposit_minutes"});
  ProposalInput in{r.uuid("offer_id"),
                   r.uuid("request_id"),
                   r.uuid("match_id"),
                   r.uuid("site_id"),
                   r.text("scheduled_at", 40),
                   r.has("message") ? std::optional(free_text(
                                          r, "message", static_cast<size_t>(kMessageCodePointsMax)))
                                    : std::nullopt,
                   r.text("starts_at", 40),
                   r.text("due_at", 40),
                   r.uuid("given_offer_id"),
                   r.integer("minutes", 0, kExchangeMinutesMax)};
  if (!in.offer_id && !in.request_id && !in.match_id) {
    r.add_error("offer_id", message(ExchangeRefusal::listing_required));
  }
  if (in.scheduled_at && !parse_rfc3339_s(*in.scheduled_at)) {  // the one RFC 3339 parser
    r.add_error("scheduled_at", message(ExchangeRefusal::scheduled_at_invalid));
  }
  for (const auto& [field, value] :
       {std::pair{"starts_at", &in.starts_at}, {"due_at", &in.due_at}}) {
    if (*value && !parse_rfc3339_s(**value))
      r.add_error(field, message(ExchangeRefusal::date_invalid));
  }
  r.finish();
  return in;
}

std::optional<int64_t> seq_cursor(const PageRequest& page) {
  ExchangeRefusal refusal;
  const auto seq = seq_of_cursor(page.cursor, refusal);
  if (refusal != ExchangeRefusal::none) throw problem(refusal);
  return seq;
}

std::string parse_dispute_reason(const std::string& body) {
  Json j = parse_json_object(body, true);
  BodyReader r(j, {"reason"});
  std::string reason = free_text(r, "reason", kDisputeReasonCodePointsMax);
  r.finish();
  return reason;
}

// The outcome must be named exactly: anything else would otherwise move credits.
std::optional<ResolutionOutcome> outcome_named(const std::string& name) {
  if (name == "post") return ResolutionOutcome::post;
  if (name == "void") return ResolutionOutcome::void_hold;
  if (name == "partial") return ResolutionOutcome::partial;
  return std::nullopt;
}

int64_t parse_renewal(const std::string& body) {
  Json j = parse_json_object(body);
  BodyReader r(j, {"due_at"});
  const std::string text = r.required_text("due_at", 40);
  const int64_t due = parse_rfc3339_s(text).value_or(0);
  if (r.errors().empty() && due == 0) {
    r.add_error("due_at", message(ExchangeRefusal::date_invalid));
  }
  r.finish();
  return due;
}

std::string parse_no_show(const std::string& body) {
  Json j = parse_json_object(body);
  BodyReader r(j, {"member_id"});
  std::string member = r.uuid("member_id").value_or("");
  if (r.errors().empty() && member.empty()) {
    r.add_error("member_id", message(ExchangeRefusal::no_show_member_missing));
  }
  r.finish();
  return member;
}

// ?from=&to=: both RFC 3339, from before to, at most kCalendarSpanMaxS apart.
CalendarQuery parse_calendar_query(const Request& r) {
  // 0: absent or not a date (no calendar starts in 1970).
  const int64_t from_s = parse_rfc3339_s(r.query_value("from").value_or("")).value_or(0);
  const int64_t to_s = parse_rfc3339_s(r.query_value("to").value_or("")).value_or(0);
  if (from_s <= 0 || to_s <= from_s || to_s - from_s > kCalendarSpanMaxS) {
    throw problem(ExchangeRefusal::calendar_range_invalid);
  }
  return {r.param("id"), from_s, to_s};
}

Resolution parse_resolution(const std::string& body) {
  Json j = parse_json_object(body);
  BodyReader r(j, {"outcome", "minutes", "absent_member_id", "note"});
  const bool named = r.has("outcome");
  const std::string outcome_text = r.required_text("outcome", 20);
  auto minutes = r.integer("minutes", 1, kExchangeMinutesMax);
  auto absent = r.uuid("absent_member_id");
  Resolution resolution;
  resolution.note = free_text(r, "note", kResolutionNoteCodePointsMax);
  const std::optional<ResolutionOutcome> outcome = outcome_named(outcome_text);
  if (!outcome) {
    if (named && r.errors().empty())
      r.add_error("outcome", message(ExchangeRefusal::outcome_unknown));
  } else if (*outcome == ResolutionOutcome::partial && !minutes && !r.has("minutes")) {
    // Given but out of range: the reader said so already, once.
    r.add_error("minutes", message(ExchangeRefusal::partial_needs_minutes));
  } else if (*outcome != ResolutionOutcome::partial && minutes) {
    r.add_error("minutes", message(ExchangeRefusal::minutes_only_partial));
  }
  r.finish();
  resolution.outcome = *outcome;
  resolution.minutes = minutes.value_or(0);
  resolution.absent_member_id = absent.value_or("");
  return resolution;
}

// The value of an answer, or its refusal thrown as a problem.
template <class T>
const T& value_of(const Answer<T>& answer) {
  if (answer.refusal != ExchangeRefusal::none && !answer.errors.empty())
    throw problem(answer.refusal, answer.errors);
  if (answer.refusal != ExchangeRefusal::none) throw problem(answer.refusal);
  if (answer.outcome != ExchangeOutcome::ok) throw problem(answer.outcome);
  return answer.value;
}

Json view_json(const ExchangeView& view) {
  return exchange_api_json(view.record, view.policy);
}

Json page_json(Json items, Json next) {
  return Json{{"items", items}, {"next_cursor", next}};
}

class ExchangeApi : public std::enable_shared_from_this<ExchangeApi>, ServiceApi<ExchangeUseCases> {
 public:
  ExchangeApi(Service& s, std::shared_ptr<Workflow> w) : ServiceApi(s, s, std::move(w)) {}

  void routes() {
    // Each route owns a reference to the api: it lives as long as the server's routes.
    const RouteBinder bind(s_.http, shared_from_this());
    bind("POST", "/v1/exchanges", &ExchangeApi::create);
    bind("GET", "/v1/exchanges", &ExchangeApi::list);
    bind("GET", "/v1/exchanges/{id}", &ExchangeApi::get);
    bind("POST", "/v1/exchanges/{id}/accept", &ExchangeApi::accept);
    bind("POST", "/v1/exchanges/{id}/decline", &ExchangeApi::decline);
    bind("POST", "/v1/exchanges/{id}/cancel", &ExchangeApi::cancel);
    bind("POST", "/v1/exchanges/{id}/complete", &ExchangeApi::complete);
    bind("POST", "/v1/exchanges/{id}/dispute", &ExchangeApi::dispute);
    bind("POST", "/v1/exchanges/{id}/resolve", &ExchangeApi::resolve);
    bind("POST", "/v1/exchanges/{id}/messages", &ExchangeApi::post_message);
    bind("GET", "/v1/exchanges/{id}/messages", &ExchangeApi::list_messages);
    bind("POST", "/v1/exchanges/{id}/rating", &ExchangeApi::rate);
    bind("GET", "/v1/sites/{id}/desk", &ExchangeApi::desk);
    bind("POST", "/v1/exchanges/{id}/handover", &ExchangeApi::handover);
    bind("POST", "/v1/exchanges/{id}/return", &ExchangeApi::give_back);
    bind("POST", "/v1/exchanges/{id}/renew", &ExchangeApi::renew);
    bind("POST", "/v1/exchanges/{id}/renew/accept", &ExchangeApi::renew_accept);
    bind("POST", "/v1/exchanges/{id}/lost", &ExchangeApi::lost);
    bind("POST", "/v1/exchanges/{id}/no-show", &ExchangeApi::no_show);
    bind("GET", "/v1/offers/{id}/calendar", &ExchangeApi::offer_calendar);
    bind("GET", "/v1/me/calendar", &ExchangeApi::my_calendar);
    bind("DELETE", "/v1/me/calendar", &ExchangeApi::revoke_calendar);
    bind("GET", "/v1/me/calendar.ics", &ExchangeApi::calendar_feed);
  }

 private:
  Response create(const Request& r) {
    const Identity who = s_.auth.require(r);
    if (const auto refusal = ExchangeUseCases::exchanging_refusal(who);
        refusal != ExchangeRefusal::none) {
      throw problem(refusal);
    }
    return json_response(201, view_json(value_of(uc_.propose(who, parse_proposal(r.body)))));
  }

  Response get(const Request& r) {
    return json_response(200, view_json(value_of(uc_.get(s_.auth.require(r), r.param("id")))));
  }

  Response list(const Request& r) {
    const Identity who = s_.auth.require(r);
    const PageRequest page = page_request(r);
    repo::ListFilter filter{who.member_id, r.query_value("state"), r.query_value("role"),
                            seq_cursor(page), page.limit};
    if (filter.state && !exchange_state_from_string(*filter.state)) {
      throw problem(ExchangeRefusal::state_filter_unknown);
    }
    if (filter.role && *filter.role != "provider" && *filter.role != "receiver") {
      throw problem(ExchangeRefusal::role_filter_unknown);
    }
    const auto answer = uc_.list(who, filter);
    const auto& views = value_of(answer);
    Json items = Json::array();
    for (const auto& view : views) items.push_back(view_json(view));
    Json next = static_cast<int>(views.size()) == filter.limit
                    ? Json(encode_cursor(std::to_string(views.back().record.seq)))
                    : Json(nullptr);
    return json_response(200, page_json(std::move(items), std::move(next)));
  }

  Response act(const Request& r, int status, ExchangeAction action, const ActionInput& input = {}) {
    const auto answer = uc_.act(s_.auth.require(r), r.param("id"), action, input);
    // Sent to the partner installation where the exchange lives: accepted, not done yet.
    return json_response(answer.value.relayed ? 202 : status, view_json(value_of(answer)));
  }

  Response accept(const Request& r) { return act(r, 202, ExchangeAction::accept); }
  Response decline(const Request& r) { return act(r, 200, ExchangeAction::decline); }
  Response cancel(const Request& r) { return act(r, 200, ExchangeAction::cancel); }
  Response complete(const Request& r) { return act(r, 200, ExchangeAction::complete); }
  Response handover(const Request& r) { return act(r, 200, ExchangeAction::handover); }
  Response give_back(const Request& r) { return act(r, 200, ExchangeAction::give_back); }
  Response renew_accept(const Request& r) { return act(r, 200, ExchangeAction::renew_accept); }
  Response lost(const Request& r) { return act(r, 200, ExchangeAction::lost); }
  Response renew(const Request& r) {
    return act_with_body(r, ExchangeAction::renew,
                         [&r](ActionInput& input) { input.due_at_s = parse_renewal(r.body); });
  }
  Response no_show(const Request& r) {
    return act_with_body(r, ExchangeAction::no_show, [&r](ActionInput& input) {
      input.absent_member_id = parse_no_show(r.body);
    });
  }

  Response offer_calendar(const Request& r) {
    const Identity who = s_.auth.require(r);
    const CalendarQuery query = parse_calendar_query(r);
    const auto answer = uc_.offer_calendar(who, query);
    Json busy = Json::array();
    for (const BusyRange& range : value_of(answer)) {
      busy.push_back({{"from", range.from},
                      {"to", range.to},
                      {"exchange_id", range.exchange_id},
                      {"state", range.state}});
    }
    return json_response(200, Json{{"offer_id", query.offer_id},
                                   {"from", format_rfc3339(query.from_s)},
                                   {"to", format_rfc3339(query.to_s)},
                                   {"busy", std::move(busy)}});
  }

  // The feed's address carries its token: whoever holds it reads the member's calendar, so it
  // is shown only to the member, and revoking makes a new one.
  Response my_calendar(const Request& r) {
    const Identity who = s_.auth.require(r);
    const std::string token = value_of(uc_.calendar_token(who));
    const std::string path = "/v1/me/calendar.ics?token=" + token;
    return json_response(
        200, Json{{"token", token},
                  {"path", path},
                  {"url", Config::text("MAILLON_PUBLIC_URL", "http://127.0.0.1:8080") + path}});
  }

  Response revoke_calendar(const Request& r) {
    uc_.revoke_calendar(s_.auth.require(r));
    return Response::no_content();
  }

  Response calendar_feed(const Request& r) {
    const auto answer = uc_.calendar_feed(r.query_value("token").value_or(""));
    const CalendarFeed& feed = value_of(answer);
    Response response =
        Response::text(200, calendar_ics(feed.member_id, feed.exchanges, s_.clock.now_s()),
                       "text/calendar; charset=utf-8");
    response.headers.emplace_back("Cache-Control", "private, no-store");
    return response;
  }

  // Bodies are judged once the caller may see the exchange: a stranger learns nothing from a
  // 400. The body is read here; its refusal, held, is told only if the use case says so.
  template <class Parse>
  Response act_with_body(const Request& r, ExchangeAction action, Parse parse) {
    ActionInput input;
    std::optional<ApiError> refused_body;
    try {
      parse(input);
    } catch (const ApiError& error) {
      input.body_valid = false;
      refused_body = error;
    }
    const auto answer = uc_.act(s_.auth.require(r), r.param("id"), action, input);
    if (answer.refusal == ExchangeRefusal::body_invalid && refused_body) {
      throw ApiError(*refused_body);
    }
    return json_response(200, view_json(value_of(answer)));
  }
  Response dispute(const Request& r) {
    return act_with_body(r, ExchangeAction::dispute, [&r](ActionInput& input) {
      input.dispute_reason = parse_dispute_reason(r.body);
    });
  }
  Response resolve(const Request& r) {
    return act_with_body(r, ExchangeAction::resolve,
                         [&r](ActionInput& input) { input.resolution = parse_resolution(r.body); });
  }

  Response post_message(const Request& r) {
    const Identity who = s_.auth.require(r);
    Json j = parse_json_object(r.body);
    BodyReader reader(j, {"body"});
    if (!reader.has("body"))
      reader.add_error("body", message(ExchangeRefusal::message_body_missing));
    const std::string text = free_text(reader, "body", static_cast<size_t>(kMessageCodePointsMax));
    if (reader.errors().empty() && text.find_first_not_of(" \t\r\n") == std::string::npos)
      reader.add_error("body", message(ExchangeRefusal::message_body_empty));
    reader.finish();
    return json_response(201, value_of(uc_.post_message(who, r.param("id"), text)));
  }

  Response list_messages(const Request& r) {
    const Identity who = s_.auth.require(r);
    const PageRequest page = page_request(r);
    const auto answer = uc_.list_messages(who, r.param("id"), page.cursor, page.limit);
    const auto& items = value_of(answer);
    Json next = static_cast<int>(items.size()) == page.limit
                    ? Json(encode_cursor(std::to_string(items.back()["seq"].get<int64_t>())))
                    : Json(nullptr);
    return json_response(200, page_json(items, std::move(next)));
  }

  Response rate(const Request& r) {
    const Identity who = s_.auth.require(r);
    Json j = parse_json_object(r.body);
    BodyReader reader(j, {"stars", "comment"});
    const int64_t stars = reader.required_integer("stars", 1, 5);
    const std::string comment = reader.text("comment", kRatingCommentCodePointsMax).value_or("");
    reader.finish();
    if (FieldErrors errors = validate_rating(static_cast<int32_t>(stars), comment);
        !errors.empty()) {
      throw problem(ExchangeRefusal::rating_invalid, std::move(errors));
    }
    return json_response(
        201, value_of(uc_.rate(who, r.param("id"), static_cast<int32_t>(stars), comment)));
  }

  Response desk(const Request& r) {
    const std::string& site = r.param("id");
    const auto answer = uc_.desk(s_.auth.require(r), site);
    const DeskView& view = value_of(answer);
    auto section = [&](const std::vector<ExchangeRecord>& records) {
      Json items = Json::array();
      for (const auto& rec : records) items.push_back(exchange_api_json(rec, view.policy));
      return items;
    };
    return json_response(200, Json{{"site_id", site},
                                   {"due_today", section(view.due_today)},
                                   {"disputed", section(view.disputed)},
                                   {"overdue", section(view.overdue)},
                                   {"items_to_hand_out", view.shelf.to_hand_out},
                                   {"items_to_redirect", view.shelf.to_redirect}});
  }
};

}  // namespace

void register_routes(Service& service, const std::shared_ptr<Workflow>& workflow) {
  auto api = std::make_shared<ExchangeApi>(service, workflow);
  api->routes();
}

}  // namespace maillon::exchange
