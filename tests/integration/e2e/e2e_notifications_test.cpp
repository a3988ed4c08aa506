// The live notification stream through the nginx gateway, as a browser's EventSource opens it
// (token and last id in the query): an exchange proposal reaches the still-open connection at
// once, and a reconnection with Last-Event-ID resumes without a duplicate.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <thread>

#include "e2e_suite.hpp"
#include "exchange/sse_test_client.hpp"

namespace maillon::testing {
namespace {

class E2eNotificationsTest : public E2eSuite {
 protected:
  static void SetUpTestSuite() {
    E2eSuite::SetUpTestSuite();
    community = new GatewayCommunity(gateway->community("Notifications", Json::object()));
  }
  static void TearDownTestSuite() {
    delete community;
    E2eSuite::TearDownTestSuite();
  }

  static inline GatewayCommunity* community = nullptr;

  // Builders ---------------------------------------------------------------------------------
  static MemberInfo member(const std::string& name) { return gateway->member(*community, name); }

  // The receiver's proposal on the offer, once the exchange service has heard of it.
  static std::string proposal(const MemberInfo& receiver, const std::string& offer_id) {
    auto r = propose(receiver, {{"offer_id", offer_id}});
    EXPECT_EQ(r.status, 201) << r.body;
    return r.json().value("id", "");
  }
};

TEST_F(E2eNotificationsTest, gateway_streams_a_proposal_live_and_resumes_without_duplicate) {
  const MemberInfo provider = member("ophelie"), receiver = member("tom");
  const std::string first_offer = offer(provider, 30, community->site),
                    second_offer = offer(provider, 30, community->site);

  // What EventSource sends: no header of its own, a single-use ticket in the query.
  auto ticket = as(provider).post("/v1/notifications/stream-ticket");
  ASSERT_EQ(ticket.status, 201) << ticket.body;
  auto live = std::make_unique<SseClient>(
      gateway->url(), "/v1/notifications/stream?ticket=" + ticket.json().value("ticket", ""));
  ASSERT_EQ(live->status, 200);
  EXPECT_EQ(live->headers["content-type"], "text/event-stream");

  const std::string first_id = proposal(receiver, first_offer);
  auto first = live->next_event(kGatewayTimeoutMs);
  ASSERT_TRUE(first) << "no event through the gateway on the open stream";
  EXPECT_EQ(first->event, "exchange.proposed");
  const Json first_data = Json::parse(first->data);
  EXPECT_EQ(first_data["exchange_id"], first_id);
  EXPECT_EQ(first_data["data"]["receiver_id"], receiver.id);
  EXPECT_EQ(first->id, std::to_string(first_data["seq"].get<int64_t>()));
  live->close();

  auto resumed = std::make_unique<SseClient>(
      gateway->url(), "/v1/notifications/stream",
      Headers{{"Authorization", "Bearer " + provider.token}, {"Last-Event-ID", first->id}});
  ASSERT_EQ(resumed->status, 200);
  const std::string second_id = proposal(receiver, second_offer);
  auto second = resumed->next_event(kGatewayTimeoutMs);
  ASSERT_TRUE(second);
  EXPECT_EQ(Json::parse(second->data)["exchange_id"], second_id);
  EXPECT_GT(std::stoll(second->id), std::stoll(first->id));
}

}  // namespace
}  // namespace maillon::testing
