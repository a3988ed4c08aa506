// Commands from other services on ledger.commands: applied once, results on ledger.events, every
// published event valid against its schema.
#include <hiredis/hiredis.h>

#include "json_schema.hpp"
#include "ledger_world.hpp"
#include "services/common/redis.hpp"

namespace maillon::testing {
namespace {

class LedgerCommands : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { w = new LedgerWorld("commands", 2); }
  static void TearDownTestSuite() {
    delete w;
    w = nullptr;
  }
  static LedgerWorld* w;

  static Json envelope(const std::string& type, const Json& data,
                       const std::string& id = new_uuid()) {
    return {{"id", id},
            {"type", type},
            {"version", 1},
            {"occurred_at", "2026-05-01T10:00:00Z"},
            {"community_id", w->community},
            {"data", data}};
  }
  static void send(const Json& command) {
    Redis redis(redis_url());
    redis.command({"XADD", w->world.prefix + ":ledger.commands", "*", "event", command.dump()});
  }
  static std::vector<Json> events() {
    Redis redis(redis_url());
    const auto reply = redis.command({"XRANGE", w->world.prefix + ":ledger.events", "-", "+"});
    std::vector<Json> out;
    for (std::size_t i = 0; i < reply->elements; ++i) {
      const redisReply* fields = reply->element[i]->element[1];
      out.push_back(Json::parse(std::string(fields->element[1]->str, fields->element[1]->len)));
    }
    return out;
  }
  static std::vector<Json> events_for(const std::string& transfer_id, const std::string& type) {
    std::vector<Json> found;
    for (auto& e : events()) {
      if (e["type"] == type && e["data"].value("transfer_id", "") == transfer_id)
        found.push_back(e);
    }
    return found;
  }
};
LedgerWorld* LedgerCommands::w = nullptr;

TEST_F(LedgerCommands, ledger_applies_a_hold_command_once_and_publishes_its_result) {
  const std::string transfer_id = "exchange:" + new_uuid() + ":1";
  const Json hold = envelope("ledger.hold", {{"transfer_id", transfer_id},
                                             {"from_member_id", w->members[0].id},
                                             {"to_member_id", w->members[1].id},
                                             {"minutes", 45},
                                             {"kind", "exchange"},
                                             {"ref", "exchange:test"},
                                             {"timeout_s", 3600}});
  JsonSchemaSet schemas(std::string(MAILLON_SOURCE_DIR) + "/schemas/events");
  EXPECT_TRUE(schemas.validate("ledger.hold.schema.json", hold).empty());
  send(hold);
  send(hold);                                   // redelivered: same event id
  send(envelope("ledger.hold", hold["data"]));  // re-sent: new event id, same transfer
  ASSERT_TRUE(
      eventually([&] { return !events_for(transfer_id, "transfer.pending").empty(); }, 10000));
  const Json account =
      w->client(w->members[0]).get("/v1/ledger/accounts/" + w->members[0].id).json();
  EXPECT_EQ(account["pending_debit_minutes"], 45);

  send(envelope("ledger.post", {{"transfer_id", transfer_id}, {"minutes", 30}}));
  ASSERT_TRUE(
      eventually([&] { return !events_for(transfer_id, "transfer.posted").empty(); }, 10000));
  send(envelope("ledger.void", {{"transfer_id", transfer_id}, {"ref", "exchange:test"}}));
  ASSERT_TRUE(
      eventually([&] { return !events_for(transfer_id, "transfer.rejected").empty(); }, 10000));

  EXPECT_EQ(events_for(transfer_id, "transfer.pending").size(), 1u);
  EXPECT_EQ(events_for(transfer_id, "transfer.posted").size(), 1u);
  const auto rejected = events_for(transfer_id, "transfer.rejected");
  ASSERT_EQ(rejected.size(), 1u);
  EXPECT_EQ(rejected[0]["data"]["reason"], "already-posted");
  EXPECT_EQ(events_for(transfer_id, "transfer.posted")[0]["data"]["posted_minutes"], 30);
  for (const auto& e : events()) {
    const auto errors = schemas.validate(e["type"].get<std::string>() + ".schema.json", e);
    EXPECT_TRUE(errors.empty()) << e.dump() << "\n" << (errors.empty() ? "" : errors[0]);
  }
}

TEST_F(LedgerCommands, ledger_rejects_a_grant_over_the_cap_with_the_reason) {
  const std::string transfer_id = "deposit:" + new_uuid();
  send(envelope("ledger.grant", {{"transfer_id", transfer_id},
                                 {"to_member_id", w->members[1].id},
                                 {"minutes", 5000},
                                 {"kind", "deposit_reward"},
                                 {"ref", "item:1"}}));
  ASSERT_TRUE(
      eventually([&] { return !events_for(transfer_id, "transfer.rejected").empty(); }, 10000));
  const Json rejected = events_for(transfer_id, "transfer.rejected")[0];
  EXPECT_EQ(rejected["data"]["reason"], "balance-cap");
  EXPECT_EQ(rejected["data"]["ref"], "item:1");
}

// The HTTP writer keeps the balances of its last batch; a command applied by the consumer in
// between changes them (and counts a batch), so the next transfer must be decided on the new
// balance: here it spends every credit the grant made available.
TEST_F(LedgerCommands, ledger_transfers_see_what_a_command_changed_in_between) {
  const MemberInfo& payer = w->members[0];
  const MemberInfo& payee = w->members[1];
  ASSERT_EQ(w->client(payer).post("/v1/ledger/transfers", transfer_to(payee.id, 1)).status, 201);
  const std::string grant_id = "deposit:" + new_uuid();
  send(envelope("ledger.grant", {{"transfer_id", grant_id},
                                 {"to_member_id", payer.id},
                                 {"minutes", 40},
                                 {"kind", "deposit_reward"},
                                 {"ref", "item:2"}}));
  ASSERT_TRUE(eventually([&] { return !events_for(grant_id, "transfer.posted").empty(); }, 10000));
  const Json before = w->client(payer).get("/v1/ledger/accounts/" + payer.id).json();
  // Down to min_balance (-200): 40 minutes more than the balance held before the grant allows.
  const int64_t everything = before["available_minutes"].get<int64_t>() + 200;
  const auto spent =
      w->client(payer).post("/v1/ledger/transfers", transfer_to(payee.id, everything));
  EXPECT_EQ(spent.status, 201) << spent.body;
  const Json after = w->client(payer).get("/v1/ledger/accounts/" + payer.id).json();
  EXPECT_EQ(after["available_minutes"], -200);
  EXPECT_EQ(w->client(payer).post("/v1/ledger/transfers", transfer_to(payee.id, 1)).status, 422);
}

}  // namespace
}  // namespace maillon::testing
