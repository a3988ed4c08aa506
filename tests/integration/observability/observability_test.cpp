// Observability (issue 21), against the real gateway, services, PostgreSQL, Redis and an OTLP
// receiver: one request id follows an exchange from the HTTP call through the events and into
// every consumer's log (the ledger's hold, notify's inbox), and one trace joins the spans of the
// exchange, ledger and notify services; with no MAILLON_OTLP_ENDPOINT nothing is exported.
#include <algorithm>
#include <regex>

#include "observability_world.hpp"

namespace maillon::testing {
namespace {

class RequestIdTest : public ObservabilityFixture {};

const std::regex kWellFormedId("^[A-Za-z0-9_-]{1,64}$");

TEST_F(RequestIdTest, one_id_follows_a_proposal_and_its_accept_through_events_and_logs) {
  MemberInfo provider = member("Samia"), receiver_member = member("Bruno");
  const std::string offer_id = gift(provider, 30);

  const std::string proposal_id = "obs-propose-" + unique_suffix();
  auto created = propose(receiver_member, offer_id, {{"X-Request-Id", proposal_id}});
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.headers["x-request-id"], proposal_id) << "the gateway answers the client's id";
  const std::string exchange_id = created.json().value("id", "");

  // The exchange service logged the request under the id, and its event carries it.
  EXPECT_TRUE(eventually([&] { return logged(*exchange, proposal_id, "request"); }));
  Json proposed;
  EXPECT_TRUE(eventually(
      [&] {
        return !(proposed = event_with(stream("exchanges"), "exchange.proposed", proposal_id))
                    .is_null();
      },
      kTraceTimeoutMs));
  EXPECT_EQ(proposed["data"].value("exchange_id", ""), exchange_id) << proposed.dump();
  // Notify applied it (the provider's notification) and said so under the same id.
  EXPECT_TRUE(
      eventually([&] { return logged(*notify, proposal_id, "event applied", "exchange.proposed"); },
                 kTraceTimeoutMs));

  // The accept: its id goes to the ledger's hold and back to the exchange and notify.
  const std::string accept_id = "obs-accept-" + unique_suffix();
  auto accepted = via_gateway(provider, "POST", "/v1/exchanges/" + exchange_id + "/accept", nullptr,
                              {{"X-Request-Id", accept_id}});
  ASSERT_EQ(accepted.status, 202) << accepted.body;
  EXPECT_EQ(accepted.headers["x-request-id"], accept_id);
  EXPECT_TRUE(eventually(
      [&] { return !event_with(stream("ledger.commands"), "ledger.hold", accept_id).is_null(); },
      kTraceTimeoutMs));
  EXPECT_TRUE(eventually([&] { return logged(*ledger, accept_id, "event applied", "ledger.hold"); },
                         kTraceTimeoutMs))
      << "the ledger logs the hold it applied under the accept's id";
  EXPECT_TRUE(eventually(
      [&] { return !event_with(stream("ledger.events"), "transfer.pending", accept_id).is_null(); },
      kTraceTimeoutMs))
      << "the ledger's own event carries the id on";
  EXPECT_TRUE(
      eventually([&] { return logged(*exchange, accept_id, "event applied", "transfer.pending"); },
                 kTraceTimeoutMs));
  EXPECT_TRUE(eventually(
      [&] { return !event_with(stream("exchanges"), "exchange.accepted", accept_id).is_null(); },
      kTraceTimeoutMs));
  EXPECT_TRUE(
      eventually([&] { return logged(*notify, accept_id, "event applied", "exchange.accepted"); },
                 kTraceTimeoutMs))
      << "notify applied the accepted exchange under the accept's id";
  // Each line says which request it belongs to: none of the accept's lines took the proposal's id.
  EXPECT_FALSE(logged(*ledger, proposal_id, "event applied", "ledger.hold"));
}

TEST_F(RequestIdTest, the_gateway_makes_an_id_when_the_clients_is_missing_or_malformed) {
  MemberInfo someone = member("Irène");
  const std::string unknown = "/v1/exchanges/00000000-0000-4000-8000-" + random_hex(12);
  for (const Headers& headers : {Headers{}, Headers{{"X-Request-Id", "pas un identifiant !"}},
                                 Headers{{"X-Request-Id", std::string(65, 'a')}}}) {
    auto r = via_gateway(someone, "GET", unknown, nullptr, headers);
    EXPECT_EQ(r.status, 404) << r.body;
    const std::string id = r.headers["x-request-id"];
    EXPECT_TRUE(std::regex_match(id, kWellFormedId)) << "answered id: " << id;
    if (!headers.empty()) {
      EXPECT_NE(id, headers.front().second);
    }
    // The service got the very id the client was answered, and put it in its problem.
    EXPECT_EQ(r.json().value("request_id", ""), id);
    EXPECT_TRUE(eventually([&] { return logged(*exchange, id, "request"); }));
  }
}

TEST_F(RequestIdTest, the_gateways_own_answers_carry_the_id_too) {
  const std::string id = "obs-gateway-" + unique_suffix();
  auto r = deliberately_wrong([&] {
    return http_request(gateway->url(), "GET", "/v1/no-such-thing", "", {{"X-Request-Id", id}});
  });
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.headers["x-request-id"], id);
  auto health = http_request(gateway->url(), "GET", "/healthz", "", {{"X-Request-Id", id}});
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.headers["x-request-id"], id);
}

class TraceTest : public ObservabilityFixture {
 protected:
  // The spans of `trace_id` received so far.
  static std::vector<ReceivedSpan> spans_of(const std::string& trace_id) {
    std::vector<ReceivedSpan> out;
    for (auto& s : receiver->spans()) {
      if (s.trace_id == trace_id) out.push_back(std::move(s));
    }
    return out;
  }
  // The first span of `spans` that `match` accepts (null when none).
  template <class Match>
  static const ReceivedSpan* find(const std::vector<ReceivedSpan>& spans, Match match) {
    for (const auto& s : spans) {
      if (match(s)) return &s;
    }
    return nullptr;
  }
  static bool is(const ReceivedSpan& s, const std::string& service, int kind,
                 const std::string& event_type = "") {
    return s.service == "maillon-" + service && s.kind == kind &&
           (event_type.empty() || s.attribute("maillon.event.type") == event_type);
  }
};

constexpr int kServer = 2, kProducer = 4, kConsumer = 5;

TEST_F(TraceTest, the_spans_of_a_proposal_and_its_accept_share_the_callers_trace) {
  MemberInfo provider = member("Yasmine"), receiver_member = member("Gaëtan");
  const std::string offer_id = gift(provider, 45);
  // The client's trace: both calls are children of its spans, so every span joins it.
  const std::string trace_id = random_hex(32);
  const std::string client_span = random_hex(16);
  const std::string traceparent = "00-" + trace_id + "-" + client_span + "-01";
  auto created = propose(receiver_member, offer_id, {{"traceparent", traceparent}});
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string exchange_id = created.json().value("id", "");
  auto accepted = via_gateway(provider, "POST", "/v1/exchanges/" + exchange_id + "/accept", nullptr,
                              {{"traceparent", traceparent}});
  ASSERT_EQ(accepted.status, 202) << accepted.body;

  // exchange: the proposal's server span and its event; notify: that event applied; ledger: the
  // hold applied and its transfer.pending written; exchange again: the transfer applied.
  std::vector<ReceivedSpan> spans;
  const bool complete = eventually(
      [&] {
        spans = spans_of(trace_id);
        auto has = [&](const std::string& service, int kind, const std::string& type) {
          return find(spans, [&](const auto& s) { return is(s, service, kind, type); });
        };
        return has("exchange", kProducer, "exchange.proposed") &&
               has("notify", kConsumer, "exchange.proposed") &&
               has("ledger", kConsumer, "ledger.hold") && has("ledger", kProducer, "") &&
               has("exchange", kConsumer, "transfer.pending") &&
               has("notify", kConsumer, "exchange.accepted");
      },
      kTraceTimeoutMs, 100);
  std::string seen;
  for (const auto& s : spans) seen += "\n  " + s.service + " " + s.name;
  ASSERT_TRUE(complete) << "spans of the trace so far:" << seen;

  // The proposal's server span is the child of the client's span, named after its route.
  const ReceivedSpan* server = find(spans, [&](const auto& s) {
    return is(s, "exchange", kServer) && s.attribute("http.route") == "/v1/exchanges";
  });
  ASSERT_NE(server, nullptr) << seen;
  EXPECT_EQ(server->parent_span_id, client_span);
  EXPECT_EQ(server->name, "POST /v1/exchanges");
  EXPECT_EQ(server->attribute("http.response.status_code"), "201");
  EXPECT_EQ(server->attribute("http.request.method"), "POST");

  // Each event's consumer span is the child of the span that wrote it (through its traceparent).
  const ReceivedSpan* proposed =
      find(spans, [&](const auto& s) { return is(s, "exchange", kProducer, "exchange.proposed"); });
  EXPECT_EQ(proposed->parent_span_id, server->span_id);
  const ReceivedSpan* notified = find(spans, [&](const auto& s) {
    return is(s, "notify", kConsumer, "exchange.proposed") &&
           s.attribute("messaging.message.id") == proposed->attribute("messaging.message.id");
  });
  ASSERT_NE(notified, nullptr) << seen;
  EXPECT_EQ(notified->parent_span_id, proposed->span_id);
  EXPECT_EQ(notified->attribute("messaging.destination.name"), stream("exchanges"));

  const ReceivedSpan* hold =
      find(spans, [&](const auto& s) { return is(s, "ledger", kConsumer, "ledger.hold"); });
  const ReceivedSpan* hold_sent =
      find(spans, [&](const auto& s) { return is(s, "exchange", kProducer, "ledger.hold"); });
  ASSERT_NE(hold_sent, nullptr) << seen;
  EXPECT_EQ(hold->parent_span_id, hold_sent->span_id);
  const ReceivedSpan* pending = find(spans, [&](const auto& s) {
    return is(s, "ledger", kProducer, "") &&
           s.attribute("messaging.destination.name") == stream("ledger.events");
  });
  ASSERT_NE(pending, nullptr) << seen;
  EXPECT_EQ(pending->parent_span_id, hold->span_id) << "the ledger writes its event while applying";

  // OTLP JSON: hex ids, nanosecond times as strings, an end after the start.
  for (const auto& s : spans) {
    EXPECT_EQ(s.span_id.size(), 16u);
    const Json& raw = s.raw;
    ASSERT_TRUE(raw["startTimeUnixNano"].is_string()) << raw.dump();
    EXPECT_LE(std::stoull(raw["startTimeUnixNano"].get<std::string>()),
              std::stoull(raw["endTimeUnixNano"].get<std::string>()));
  }
}

TEST_F(TraceTest, a_request_without_traceparent_starts_a_trace_its_events_carry_on) {
  MemberInfo provider = member("Louise"), receiver_member = member("Mehdi");
  const std::string offer_id = gift(provider, 15);
  const std::string request_id = "obs-trace-" + unique_suffix();
  auto created = propose(receiver_member, offer_id,
                         {{"X-Request-Id", request_id}, {"traceparent", "00-nonsense-01"}});
  ASSERT_EQ(created.status, 201) << created.body;

  // The event on the stream names the producer span; notify's span continues its trace.
  Json event;
  ASSERT_TRUE(eventually(
      [&] {
        return !(event = event_with(stream("exchanges"), "exchange.proposed", request_id))
                    .is_null();
      },
      kTraceTimeoutMs));
  const std::string traceparent = event.value("traceparent", "");
  ASSERT_TRUE(std::regex_match(traceparent, std::regex("^00-[0-9a-f]{32}-[0-9a-f]{16}-01$")))
      << event.dump();
  const std::string trace_id = traceparent.substr(3, 32);
  std::vector<ReceivedSpan> spans;
  ASSERT_TRUE(eventually(
      [&] {
        spans = spans_of(trace_id);
        return find(spans,
                    [&](const auto& s) {
                      return is(s, "notify", kConsumer, "exchange.proposed");
                    }) != nullptr &&
               find(spans, [&](const auto& s) { return is(s, "exchange", kServer); });
      },
      kTraceTimeoutMs, 100));
  const ReceivedSpan* server =
      find(spans, [&](const auto& s) { return is(s, "exchange", kServer); });
  EXPECT_EQ(server->parent_span_id, "") << "a malformed traceparent starts a new trace";
  EXPECT_EQ(server->attribute("maillon.request_id"), request_id);
}

TEST_F(TraceTest, without_an_endpoint_nothing_is_exported_and_events_carry_no_traceparent) {
  MemberInfo owner = member("Odile");
  // A second offers process, without MAILLON_OTLP_ENDPOINT (the default).
  auto env = world->env();
  env.erase("MAILLON_OTLP_ENDPOINT");
  ServiceProcess untraced("offers", env);
  untraced.start();
  const std::string off_id = "obs-off-" + unique_suffix();
  auto r = http_request(untraced.url(), "POST", "/v1/offers", gift_offer(10).dump(),
                        {{"Authorization", "Bearer " + owner.token},
                         {"X-Request-Id", off_id},
                         {"traceparent", "00-" + random_hex(32) + "-" + random_hex(16) + "-01"}});
  ASSERT_EQ(r.status, 201) << r.body;
  // The traced process's request, after it: once its span is in, the untraced one had its time.
  const std::string on_id = "obs-on-" + unique_suffix();
  auto traced = http_request(offers->url(), "POST", "/v1/offers", gift_offer(10).dump(),
                             {{"Authorization", "Bearer " + owner.token}, {"X-Request-Id", on_id}});
  ASSERT_EQ(traced.status, 201) << traced.body;

  Json off_event;
  ASSERT_TRUE(eventually(
      [&] {
        return !(off_event = event_with(stream("offers"), "offer.published", off_id)).is_null();
      },
      kTraceTimeoutMs));
  EXPECT_FALSE(off_event.contains("traceparent")) << off_event.dump();
  Json on_event;
  ASSERT_TRUE(eventually(
      [&] {
        return !(on_event = event_with(stream("offers"), "offer.published", on_id)).is_null();
      },
      kTraceTimeoutMs));
  EXPECT_TRUE(on_event.contains("traceparent")) << on_event.dump();
  ASSERT_TRUE(eventually(
      [&] {
        for (const auto& s : receiver->spans()) {
          if (s.attribute("maillon.request_id") == on_id) return true;
        }
        return false;
      },
      kTraceTimeoutMs, 100));
  untraced.terminate();  // at exit a traced process sends what it still holds: nothing here
  // The traced consumers of its event make spans of their own (with its request id); the
  // untraced process made none: no server span for its request, no producer span for its event.
  for (const auto& s : receiver->spans()) {
    if (s.attribute("maillon.request_id") != off_id) continue;
    EXPECT_EQ(s.kind, kConsumer) << s.raw.dump();
  }
  EXPECT_TRUE(logged(untraced, off_id, "request"));
  for (const Json& line : log_lines(untraced)) {
    EXPECT_EQ(line.value("msg", "").find("tracing on"), std::string::npos) << line.dump();
  }
}

// Every event may carry the request id and the traceparent of what caused it: an envelope schema
// (additionalProperties false) that forgot them would refuse the events of any traced request.
// Connections (#22): an HTTP/1.1 request without a Connection header leaves its connection open,
// and the gateway keeps its connections to a service for the next requests.
class ConnectionsTest : public ObservabilityFixture {
 protected:
  // Reads one whole answer (head, then a Content-Length body) from `fd`; empty when the
  // connection closed first.
  static std::string read_answer(int fd) {
    std::string got;
    char buf[4096];
    for (;;) {
      const std::size_t head_end = got.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        std::smatch m;
        const std::string head = got.substr(0, head_end);
        std::size_t length = 0;
        if (std::regex_search(head, m, std::regex("[Cc]ontent-[Ll]ength: *([0-9]+)"))) {
          length = std::stoul(m[1]);
        }
        if (got.size() >= head_end + 4 + length) return got.substr(0, head_end + 4 + length);
      }
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) return {};
      got.append(buf, static_cast<std::size_t>(n));
    }
  }
  static int connect_to(uint16_t port) {
    const int fd = connect_loopback(port);
    EXPECT_GE(fd, 0) << "no connection to port " << port;
    return fd;
  }
  static std::string connection_header(const std::string& answer) {
    std::smatch m;
    if (!std::regex_search(answer, m, std::regex("\r\n[Cc]onnection: *([^\r]*)\r\n"))) return "";
    std::string v = m[1];
    std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::tolower(c); });
    return v;
  }
};

TEST_F(ConnectionsTest, a_service_keeps_an_http11_connection_open_without_a_connection_header) {
  const int fd = connect_to(exchange->port());
  const std::string request = "GET /healthz HTTP/1.1\r\nHost: maillon\r\n\r\n";
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(::send(fd, request.data(), request.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(request.size()))
        << "request " << i << " could not be sent: the service closed the connection";
    const std::string answer = read_answer(fd);
    ASSERT_FALSE(answer.empty()) << "request " << i << " had no answer on the same connection";
    EXPECT_EQ(answer.rfind("HTTP/1.1 200", 0), 0U) << answer;
    EXPECT_EQ(connection_header(answer), "keep-alive") << answer;
  }
  ::close(fd);
  // HTTP/1.0 closes by default: that is still said.
  const int old = connect_to(exchange->port());
  const std::string request10 = "GET /healthz HTTP/1.0\r\n\r\n";
  ASSERT_EQ(::send(old, request10.data(), request10.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(request10.size()));
  EXPECT_EQ(connection_header(read_answer(old)), "close");
  ::close(old);
}

TEST_F(ConnectionsTest, the_gateway_reuses_its_connections_to_a_service) {
  MemberInfo someone = member("Gaëlle");
  const std::string unknown = "/v1/exchanges/00000000-0000-4000-8000-" + random_hex(12);
  constexpr int kRequests = 40;
  const double closed_before =
      metric_value(exchange->url(), "maillon_http_connections_closed_total");
  for (int i = 0; i < kRequests; ++i) {
    auto r = via_gateway(someone, "GET", unknown, nullptr, {});
    ASSERT_EQ(r.status, 404) << r.body;
  }
  // The answers of the last requests are read: a connection closed after each of them would
  // be counted by now, or within moments.
  const double closed_after =
      metric_value(exchange->url(), "maillon_http_connections_closed_total");
  EXPECT_LT(closed_after - closed_before, 4)
      << "the gateway opened a new connection to the service for most of " << kRequests
      << " requests";
}

TEST(EventSchemas, every_envelope_accepts_the_optional_request_id_and_traceparent) {
  int envelopes = 0;
  for (const auto& f :
       std::filesystem::directory_iterator(std::string(MAILLON_SOURCE_DIR) + "/schemas/events")) {
    std::ifstream in(f.path());
    const Json schema = Json::parse(in, nullptr, false);
    ASSERT_FALSE(schema.is_discarded()) << f.path();
    const Json properties = schema.value("properties", Json::object());
    if (!properties.contains("id") || !properties.contains("data")) continue;  // a family's $defs
    ++envelopes;
    for (const char* field : {"request_id", "traceparent"}) {
      EXPECT_TRUE(properties.contains(field)) << f.path().filename() << " lacks " << field;
      const Json required = schema.value("required", Json::array());
      EXPECT_TRUE(std::find(required.begin(), required.end(), Json(field)) == required.end())
          << f.path().filename() << " requires " << field;
    }
  }
  EXPECT_GT(envelopes, 50);
}

}  // namespace
}  // namespace maillon::testing
