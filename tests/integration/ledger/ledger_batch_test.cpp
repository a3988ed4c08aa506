// POST /v1/ledger/transfers/batch: every item answered in order exactly as the single call would
// answer it (status, transfer or problem), checked and authorized one by one, idempotent per item.
#include "ledger_world.hpp"

namespace maillon::testing {
namespace {

class LedgerBatch : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { w_ = new LedgerWorld("batch", 4); }
  static void TearDownTestSuite() {
    delete w_;
    w_ = nullptr;
  }

  static LedgerWorld& w() { return *w_; }
  static Client member(int i) { return w().client(w().members[static_cast<std::size_t>(i)]); }
  static const std::string& id_of(int i) { return w().members[static_cast<std::size_t>(i)].id; }
  static int64_t balance(int i) {
    const auto r = w().client(w().staff).get("/v1/ledger/accounts/" + id_of(i));
    EXPECT_EQ(r.status, 200) << r.body;
    return r.json().value("balance_minutes", int64_t{0});
  }
  // The statuses of a batch answer, in order.
  static std::vector<int> statuses(const HttpResult& r) {
    EXPECT_EQ(r.status, 200) << r.body;
    std::vector<int> out;
    const Json j = r.json();
    for (const auto& item : j["results"]) out.push_back(item["status"].get<int>());
    return out;
  }

  static LedgerWorld* w_;
};
LedgerWorld* LedgerBatch::w_ = nullptr;

TEST_F(LedgerBatch, ledger_batch_answers_each_item_as_the_single_call_would) {
  const int64_t before_payer = balance(0), before_payee = balance(1);
  const Json good = transfer_to(id_of(1), 10);
  const Json zero_minutes = transfer_to(id_of(1), 0);
  const Json unknown_payee = transfer_to(new_uuid(), 5);
  const auto r = post_batch(member(0).wrong(),
                            {good, zero_minutes, unknown_payee, Json("pas un objet"), good});
  EXPECT_EQ(statuses(r), (std::vector<int>{201, 400, 404, 400, 200}));
  const Json j = r.json();
  const Json& results = j["results"];
  EXPECT_EQ(results[0]["id"], good["id"]);
  EXPECT_EQ(results[0]["transfer"]["state"], "posted");
  EXPECT_EQ(results[0]["transfer"]["minutes"], 10);
  EXPECT_EQ(results[1]["id"], zero_minutes["id"]);
  EXPECT_EQ(results[1]["problem"]["errors"][0]["field"], "minutes");
  EXPECT_EQ(results[2]["problem"]["code"], "account-not-found");
  EXPECT_TRUE(results[3]["id"].is_null());
  EXPECT_EQ(results[4]["transfer"], results[0]["transfer"]) << "a replay answers the first result";
  EXPECT_EQ(balance(0), before_payer - 10);
  EXPECT_EQ(balance(1), before_payee + 10);
}

TEST_F(LedgerBatch, ledger_batch_items_are_idempotent_inside_and_across_batches) {
  const int64_t before = balance(2);
  const Json first = transfer_to(id_of(3), 7);
  Json other_body = first;
  other_body["minutes"] = 8;
  const Json second = transfer_to(id_of(3), 3);
  EXPECT_EQ(statuses(post_batch(member(2), {first, first, other_body, second})),
            (std::vector<int>{201, 200, 409, 201}));
  EXPECT_EQ(statuses(post_batch(member(2), {second, first, other_body})),
            (std::vector<int>{200, 200, 409}));
  // The same ids through the single endpoint: the same answers, nothing moves again.
  EXPECT_EQ(member(2).post("/v1/ledger/transfers", first).status, 200);
  EXPECT_EQ(balance(2), before - 10);
}

TEST_F(LedgerBatch, ledger_batch_refuses_the_item_that_crosses_a_limit_and_applies_the_rest) {
  // Member 3 may go down to min_balance -200: after 150 + 150 the next 100 does not fit, 20 does.
  const int64_t room = balance(3) + 200;
  ASSERT_GE(room, 320);
  const int64_t first = room - 170;
  const auto r = post_batch(member(3), {transfer_to(id_of(0), first), transfer_to(id_of(0), 150),
                                        transfer_to(id_of(0), 100), transfer_to(id_of(0), 20)});
  EXPECT_EQ(statuses(r), (std::vector<int>{201, 201, 422, 201}));
  EXPECT_EQ(r.json()["results"][2]["problem"]["code"], "insufficient-credits");
  EXPECT_EQ(balance(3), -200);
}

TEST_F(LedgerBatch, ledger_batch_authorizes_each_item) {
  const int64_t before = balance(1);
  // A member pays only from their own account; the other items still go through.
  const auto r = post_batch(member(0), {with_from(transfer_to(id_of(2), 5), id_of(1)),
                                        with_from(transfer_to(id_of(2), 5), id_of(0))});
  EXPECT_EQ(statuses(r), (std::vector<int>{403, 201}));
  EXPECT_EQ(balance(1), before);
  // Staff grant from the community account (kind manual) but debit a member only while acting
  // for that member.
  const auto staff =
      post_batch(w().client(w().staff),
                 {transfer_to(id_of(1), 4), with_from(transfer_to(id_of(2), 2), id_of(1))});
  EXPECT_EQ(statuses(staff), (std::vector<int>{201, 403}));
  const Json j = staff.json();
  EXPECT_TRUE(j["results"][0]["transfer"]["from_member_id"].is_null());
  EXPECT_EQ(j["results"][0]["transfer"]["kind"], "manual");
  const auto acting = post_batch(w().client(w().staff).acting_for(id_of(1)),
                                 {with_from(transfer_to(id_of(2), 2), id_of(1))});
  EXPECT_EQ(statuses(acting), (std::vector<int>{201}));
  EXPECT_EQ(acting.json()["results"][0]["transfer"]["kind"], "exchange");
  EXPECT_EQ(balance(1), before + 4 - 2);
  // Without a token nothing is looked at.
  EXPECT_EQ(post_batch(Client(w().ledgers[0]->url()), {transfer_to(id_of(2), 1)}).status, 401);
}

TEST_F(LedgerBatch, ledger_batch_refuses_an_empty_or_oversized_list) {
  EXPECT_EQ(post_batch(member(0).wrong(), {}).status, 400);
  EXPECT_EQ(member(0).wrong().post("/v1/ledger/transfers/batch", Json::object()).status, 400);
  const std::vector<Json> too_many(1001, transfer_to(id_of(1), 1));
  const auto r = post_batch(member(0).wrong(), too_many);
  // Either the body limit or the item limit refuses it; nothing is applied either way.
  EXPECT_TRUE(r.status == 400 || r.status == 413) << r.status;
}

TEST_F(LedgerBatch, ledger_batch_keeps_the_books) {
  const auto audit = w().client(w().staff).get("/v1/ledger/audit?community_id=" + w().community);
  ASSERT_EQ(audit.status, 200) << audit.body;
  EXPECT_EQ(audit.json()["sum_balances_minutes"], 0);
  EXPECT_TRUE(audit.json()["violations"].empty()) << audit.body;
}

}  // namespace
}  // namespace maillon::testing
