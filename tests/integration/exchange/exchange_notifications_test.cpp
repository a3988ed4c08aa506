// The live notification stream (Server-Sent Events) held open by the notify service (it keeps the
// inbox of the exchange service's events): an event arrives on the still-open connection, a
// reconnection with Last-Event-ID resumes without duplicates, the stream is bounded and
// authenticated and ends with its session; and unaccepted proposals expire after the policy's
// proposal_days on a clock the test moves (MAILLON_CLOCK_OFFSET_FILE).
#include <gtest/gtest.h>

#include <ctime>
#include <fstream>
#include <memory>
#include <thread>

#include "exchange/sse_test_client.hpp"
#include "harness.hpp"
#include "test_clock.hpp"

namespace maillon::testing {
namespace {

constexpr int kEventTimeoutMs = 15000;
constexpr int kProposalDays = 2;
constexpr int kStreamsMax = 4;

class ExchangeNotificationsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    world = new MembersWorld("exchange_sse",
                             {{"MAILLON_RATE_LIMIT", "100000"}, {"MAILLON_RATE_BURST", "100000"}});
    community = world->create_community("Pévèle Carembault", {{"proposal_days", kProposalDays}});
    site = world->create_site(community, "Tiers-lieu de Cysoing", 50.57, 3.21);
    clock_path = "/tmp/maillon-exchange-clock-" + unique_suffix();
    move_clock(0);
    offers = new ServiceProcess("offers", world->env());
    exchange = new ServiceProcess("exchange",
                                  world->env({{"MAILLON_CLOCK_OFFSET_FILE", clock_path},
                                              {"MAILLON_EXCHANGE_EXPIRY_INTERVAL_MS", "100"}}));
    notify = new ServiceProcess(
        "notify", world->env({{"MAILLON_NOTIFICATION_STREAMS_MAX", std::to_string(kStreamsMax)}}));
    offers->start();
    exchange->start();
    notify->start();
  }
  static void TearDownTestSuite() {
    delete notify;
    delete exchange;
    delete offers;
    delete world;
    std::remove(clock_path.c_str());
  }

  static inline MembersWorld* world = nullptr;
  static inline ServiceProcess* offers = nullptr;
  static inline ServiceProcess* exchange = nullptr;
  static inline ServiceProcess* notify = nullptr;
  static inline std::string community, site, clock_path;

  void SetUp() override { move_clock(0); }

  // Builders ---------------------------------------------------------------------------------
  static void move_clock(int64_t offset_s) { std::ofstream(clock_path) << offset_s; }
  static MemberInfo member(const std::string& name) {
    return world->register_member(community, name, site);
  }
  static Client ex(const MemberInfo& m) { return Client(exchange->url(), m.token); }
  static Client inbox(const MemberInfo& m) { return Client(notify->url(), m.token); }

  static std::string offer(const MemberInfo& owner) {
    const Json body = {{"kind", "service"},
                       {"mode", "service"},
                       {"category", "aide-aux-devoirs"},
                       {"title", "Aide aux devoirs de français"},
                       {"duration_minutes", 30},
                       {"price_minutes", 30},
                       {"site_id", site}};
    auto r = Client(offers->url(), owner.token).post("/v1/offers", body);
    EXPECT_EQ(r.status, 201) << r.body;
    return r.json().value("id", "");
  }

  // The receiver proposes on the provider's offer once the exchange service has heard of it.
  static std::string propose(const MemberInfo& receiver, const std::string& offer_id) {
    HttpResult r;
    eventually(
        [&] {
          r = ex(receiver).post("/v1/exchanges", {{"offer_id", offer_id}});
          return r.status != 422 || r.json().value("code", "") != "unknown-listing";
        },
        kEventTimeoutMs);
    EXPECT_EQ(r.status, 201) << r.body;
    return r.json().value("id", "");
  }

  static std::unique_ptr<SseClient> stream(const MemberInfo& m, Headers extra = {}) {
    extra.emplace_back("Authorization", "Bearer " + m.token);
    return std::make_unique<SseClient>(notify->url(), "/v1/notifications/stream", extra);
  }

  // A stream once the server has a place for it: streams another test closed are let go at
  // the server's next poll.
  static std::unique_ptr<SseClient> open_stream(const MemberInfo& m, Headers extra = {}) {
    std::unique_ptr<SseClient> s;
    eventually([&] {
      s = stream(m, extra);
      return s->status != 503;
    });
    return s;
  }

  // The next event of `type` on the stream (others are skipped), or nullopt.
  static std::optional<SseMessage> next_of(SseClient& s, const std::string& type) {
    for (int i = 0; i < 100; ++i) {
      auto message = s.next_event(kEventTimeoutMs);
      if (!message || message->event == type) return message;
    }
    return std::nullopt;
  }
};

TEST_F(ExchangeNotificationsTest, open_stream_receives_a_proposal_and_resumes_without_duplicate) {
  MemberInfo provider = member("Odile"), receiver = member("Paul");
  const std::string first_offer = offer(provider), second_offer = offer(provider);
  auto live = open_stream(provider);
  ASSERT_EQ(live->status, 200);
  EXPECT_EQ(live->headers["content-type"], "text/event-stream");
  EXPECT_EQ(live->headers["cache-control"], "no-cache");

  const std::string first_id = propose(receiver, first_offer);
  auto first = live->next_event(kEventTimeoutMs);
  ASSERT_TRUE(first) << "no event on the open stream";
  EXPECT_EQ(first->event, "exchange.proposed");
  const Json first_data = Json::parse(first->data);
  EXPECT_EQ(first->id, std::to_string(first_data["seq"].get<int64_t>()));
  EXPECT_EQ(first_data["type"], "exchange.proposed");
  EXPECT_EQ(first_data["exchange_id"], first_id);
  EXPECT_EQ(first_data["data"]["receiver_id"], receiver.id);
  EXPECT_EQ(first_data["data"]["provider_id"], provider.id);
  live->close();

  // Reconnecting as EventSource does: the next event is the new one, never the first again.
  auto resumed = open_stream(provider, {{"Last-Event-ID", first->id}});
  ASSERT_EQ(resumed->status, 200);
  const std::string second_id = propose(receiver, second_offer);
  auto second = resumed->next_event(kEventTimeoutMs);
  ASSERT_TRUE(second);
  EXPECT_EQ(Json::parse(second->data)["exchange_id"], second_id);
  EXPECT_GT(std::stoll(second->id), std::stoll(first->id));

  // EventSource cannot send headers: a single-use ticket and the last id come in the query.
  auto ticket = inbox(provider).post("/v1/notifications/stream-ticket");
  ASSERT_EQ(ticket.status, 201) << ticket.body;
  auto from_query = std::make_unique<SseClient>(
      notify->url(), "/v1/notifications/stream?ticket=" + ticket.json().value("ticket", "") +
                         "&last_event_id=" + first->id);
  ASSERT_EQ(from_query->status, 200);
  auto backlog = from_query->next_event(kEventTimeoutMs);
  ASSERT_TRUE(backlog);
  EXPECT_EQ(backlog->id, second->id);
}

TEST_F(ExchangeNotificationsTest, a_stream_ends_with_its_session_and_sends_nothing_after) {
  MemberInfo provider = member("Lina"), receiver = member("Marius");
  const std::string first_offer = offer(provider), second_offer = offer(provider);
  auto by_header = open_stream(provider);
  ASSERT_EQ(by_header->status, 200);
  auto ticket = inbox(provider).post("/v1/notifications/stream-ticket");
  ASSERT_EQ(ticket.status, 201) << ticket.body;
  auto by_ticket = std::make_unique<SseClient>(
      notify->url(), "/v1/notifications/stream?ticket=" + ticket.json().value("ticket", ""));
  ASSERT_EQ(by_ticket->status, 200);
  propose(receiver, first_offer);
  for (SseClient* live : {by_header.get(), by_ticket.get()}) {
    auto before = next_of(*live, "exchange.proposed");
    ASSERT_TRUE(before) << "no event before the logout";
  }

  auto out = Client(world->members->url(), provider.token).post("/v1/auth/logout");
  ASSERT_EQ(out.status, 204) << out.body;
  propose(receiver, second_offer);
  // Neither stream of the ended session gets the new proposal; both end.
  for (SseClient* live : {by_header.get(), by_ticket.get()}) {
    auto after = live->next_event(kEventTimeoutMs);
    EXPECT_FALSE(after) << "sent after the logout: " << after->data;
    EXPECT_TRUE(live->ends_within(kEventTimeoutMs));
  }
}

TEST_F(ExchangeNotificationsTest, stream_needs_a_token_and_refuses_beyond_its_bound) {
  SseClient anonymous(notify->url(), "/v1/notifications/stream");
  EXPECT_EQ(anonymous.status, 401);
  SseClient bad_query(notify->url(), "/v1/notifications/stream?ticket=nope");
  EXPECT_EQ(bad_query.status, 401);

  MemberInfo reader = member("Quentin");
  std::vector<std::unique_ptr<SseClient>> open;
  // Other tests' streams are closed by now, but the server may take a poll to notice.
  ASSERT_TRUE(eventually([&] {
    while (static_cast<int>(open.size()) < kStreamsMax) {
      auto s = stream(reader);
      if (s->status != 200) return false;
      open.push_back(std::move(s));
    }
    return true;
  }));
  auto refused = stream(reader);
  EXPECT_EQ(refused->status, 503);
  EXPECT_EQ(refused->headers["content-type"], "application/problem+json");
  EXPECT_EQ(Json::parse(refused->body())["code"], "too-many-streams");

  open.front()->close();  // a client going away frees its place
  EXPECT_TRUE(eventually([&] { return stream(reader)->status == 200; }, kEventTimeoutMs));
}

TEST_F(ExchangeNotificationsTest, unaccepted_proposal_expires_after_proposal_days) {
  MemberInfo provider = member("Rose"), receiver = member("Samir");
  const std::string offer_id = offer(provider);
  const std::string id = propose(receiver, offer_id);
  auto live = open_stream(receiver);
  ASSERT_EQ(live->status, 200);

  move_clock(kProposalDays * kDayS - 3600);  // not yet
  // The expiry job goes round a few times on the moved clock.
  ASSERT_TRUE(job_goes_round(exchange->url(), "expire-exchange-proposals"));
  EXPECT_EQ(ex(receiver).get("/v1/exchanges/" + id).json()["state"], "proposed");

  move_clock(kProposalDays * kDayS + 60);
  auto expired = next_of(*live, "exchange.expired");
  ASSERT_TRUE(expired) << "no expiry notification";
  EXPECT_EQ(Json::parse(expired->data)["exchange_id"], id);
  const Json after = ex(provider).get("/v1/exchanges/" + id).json();
  EXPECT_EQ(after["state"], "expired");
  EXPECT_EQ(after["history"].back()["state"], "expired");
  EXPECT_EQ(Client(offers->url(), provider.token).get("/v1/offers/" + offer_id).json()["status"],
            "active");
  EXPECT_EQ(ex(provider).post("/v1/exchanges/" + id + "/accept").status, 409);
}

}  // namespace
}  // namespace maillon::testing
