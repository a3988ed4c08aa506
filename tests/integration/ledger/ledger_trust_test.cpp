// The ledger's trust rules (api.md, "Trust"): a saga's hold is settled by its saga only, ids the
// system mints cannot be squatted, a NUL in a text is a 400 and the ledger goes on, staff grant
// only from the community's account and never to themselves, large grants wait for a second pair
// of eyes, and a member awaiting approval neither transfers nor receives the joining bonus.
#include <algorithm>
#include <thread>

#include "ledger_world.hpp"

namespace maillon::testing {
namespace {

class LedgerTrust : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    w = new LedgerWorld("trust", 8);
    // A second staff member of the same site, and one of another site of the community.
    colleague = new MemberInfo(w->world.register_member(w->community, "colleague", w->site));
    w->world.make_staff(w->site, colleague->id);
    other_site = w->world.create_site(w->community, "Autre lieu trust", 50.60, 3.05);
    far_staff = new MemberInfo(w->world.register_member(w->community, "far", other_site));
    w->world.make_staff(other_site, far_staff->id);
    w->wait_for_account(*colleague);
    w->wait_for_account(*far_staff);
  }
  static void TearDownTestSuite() {
    delete colleague;
    delete far_staff;
    delete w;
    w = nullptr;
  }
  static LedgerWorld* w;
  static MemberInfo* colleague;
  static MemberInfo* far_staff;
  static std::string other_site;

  static const MemberInfo& member(std::size_t i) { return w->members[i]; }
  static Client as(const MemberInfo& m) { return w->client(m); }
  static Client admin() { return Client(w->ledgers[0]->url(), w->world.admin_token); }
  static Json account(const std::string& member_id) {
    return as(w->staff).get("/v1/ledger/accounts/" + member_id).json();
  }
  static int64_t balance(const std::string& member_id) {
    return account(member_id).value("balance_minutes", int64_t{-1});
  }
  static std::string transfer_path(const std::string& id) { return "/v1/ledger/transfers/" + id; }
  static std::string state_of(const std::string& id) {
    return as(w->staff).get(transfer_path(id)).json().value("state", "");
  }
  static std::vector<Json> ledger_events(const std::string& type, const std::string& id) {
    std::vector<Json> found;
    for (auto& e : stream_events(*w, "ledger.events")) {
      if (e["type"] == type && e["data"].value("transfer_id", "") == id) found.push_back(e);
    }
    return found;
  }
  static void command(const std::string& type, const Json& data) {
    publish(*w, "ledger.commands", event_envelope(w->community, type, data));
  }
  static std::vector<int> statuses(const HttpResult& r) {
    EXPECT_EQ(r.status, 200) << r.body;
    std::vector<int> out;
    const Json answer = r.json();
    for (const auto& item : answer["results"]) out.push_back(item["status"].get<int>());
    return out;
  }
  static std::string actor_of(const std::string& transfer_id) {
    auto conn = w->sql();
    pqxx::work tx(*conn);
    const auto r =
        tx.exec_params("SELECT COALESCE(actor_id, '') FROM transfers WHERE id = $1", transfer_id);
    return r.empty() ? "" : r[0][0].c_str();
  }
  static std::vector<std::string> grant_ids(const Client& as, const std::string& state) {
    const auto r =
        as.get("/v1/ledger/grants?community_id=" + w->community + "&state=" + state + "&limit=100");
    EXPECT_EQ(r.status, 200) << r.body;
    std::vector<std::string> ids;
    const Json page = r.json();
    for (const auto& g : page["items"]) ids.push_back(g["id"]);
    return ids;
  }
  static bool contains(const std::vector<std::string>& ids, const std::string& id) {
    return std::find(ids.begin(), ids.end(), id) != ids.end();
  }
};
LedgerWorld* LedgerTrust::w = nullptr;
MemberInfo* LedgerTrust::colleague = nullptr;
MemberInfo* LedgerTrust::far_staff = nullptr;
std::string LedgerTrust::other_site;

// --- A saga's hold belongs to the saga ------------------------------------------------------

TEST_F(LedgerTrust, ledger_lets_no_caller_settle_a_sagas_hold) {
  const MemberInfo& payer = member(0);
  const MemberInfo& payee = member(1);
  const std::string hold_id = "exchange:" + new_uuid() + ":1";
  command("ledger.hold", {{"transfer_id", hold_id},
                          {"from_member_id", payer.id},
                          {"to_member_id", payee.id},
                          {"minutes", 30},
                          {"kind", "exchange"},
                          {"ref", "exchange:trust"},
                          {"timeout_s", 3600}});
  ASSERT_TRUE(eventually([&] { return state_of(hold_id) == "pending"; }, 10000));

  const std::vector<std::pair<std::string, Client>> callers = {
      {"payer", as(payer)}, {"payee", as(payee)}, {"staff", as(w->staff)}, {"admin", admin()}};
  for (const auto& [who, client] : callers) {
    for (const char* verb : {"/post", "/void"}) {
      const auto r = client.wrong().post(transfer_path(hold_id) + verb, {{"minutes", 1}});
      EXPECT_EQ(r.status, 403) << who << verb << ": " << r.body;
      EXPECT_EQ(problem_code(r), "owned-by-saga") << who << verb;
    }
    const auto whole = client.post(transfer_path(hold_id) + "/void");
    EXPECT_EQ(problem_code(whole), "owned-by-saga") << who;
  }
  EXPECT_EQ(state_of(hold_id), "pending");
  EXPECT_EQ(account(payer.id)["pending_debit_minutes"], 30);

  // The saga itself still settles it, in full.
  command("ledger.post", {{"transfer_id", hold_id}});
  ASSERT_TRUE(eventually([&] { return state_of(hold_id) == "posted"; }, 10000));
  EXPECT_EQ(as(payee).get(transfer_path(hold_id)).json()["posted_minutes"], 30);
}

TEST_F(LedgerTrust, ledger_lets_no_caller_void_a_grant_or_bonus_it_minted) {
  const MemberInfo& depositor = member(2);
  const std::string reward_id = "deposit:" + new_uuid();
  command("ledger.grant", {{"transfer_id", reward_id},
                           {"to_member_id", depositor.id},
                           {"minutes", 5},
                           {"kind", "deposit_reward"},
                           {"ref", "item:trust"}});
  ASSERT_TRUE(eventually([&] { return state_of(reward_id) == "posted"; }, 10000));
  for (const std::string& id : {reward_id, "bonus:" + depositor.id}) {
    EXPECT_EQ(problem_code(as(depositor).post(transfer_path(id) + "/void")), "owned-by-saga") << id;
    EXPECT_EQ(problem_code(as(w->staff).post(transfer_path(id) + "/post")), "owned-by-saga") << id;
  }
}

TEST_F(LedgerTrust, ledger_keeps_client_ids_and_system_ids_apart) {
  const MemberInfo& payer = member(0);
  // A client cannot create an id of the system's namespace, alone or in a batch...
  Json squat = transfer_to(member(1).id, 1);
  squat["id"] = "exchange:" + new_uuid() + ":1";
  const auto single = as(payer).wrong().post("/v1/ledger/transfers", squat);
  EXPECT_EQ(single.status, 400) << single.body;
  const auto batch = post_batch(as(payer).wrong(), {squat, transfer_to(member(1).id, 1)});
  EXPECT_EQ(statuses(batch), (std::vector<int>{400, 201}));
  // ...and a saga cannot name (nor so settle) a client's transfer: its command is refused.
  const Json client_hold = hold_to(member(1).id, 3);
  ASSERT_EQ(as(payer).post("/v1/ledger/transfers", client_hold).status, 201);
  const std::string client_id = client_hold["id"];
  command("ledger.void", {{"transfer_id", client_id}});
  ASSERT_TRUE(
      eventually([&] { return !ledger_events("transfer.rejected", client_id).empty(); }, 10000));
  EXPECT_EQ(ledger_events("transfer.rejected", client_id)[0]["data"]["reason"], "invalid-command");
  EXPECT_EQ(state_of(client_id), "pending");
  // The payer still settles their own hold.
  EXPECT_EQ(as(payer).post(transfer_path(client_id) + "/void").status, 200);
}

// A retry must answer the first result even when the rules would now refuse the transfer (the
// payer is at their floor): the writer, which does not read new ids, looks the refused ones up.
TEST_F(LedgerTrust, ledger_answers_a_replay_its_rules_would_now_refuse_with_the_first_result) {
  const MemberInfo& payer = member(2);
  const int64_t everything = account(payer.id)["available_minutes"].get<int64_t>() + 200;
  const Json body = transfer_to(member(1).id, everything);
  const auto first = as(payer).post("/v1/ledger/transfers", body);
  ASSERT_EQ(first.status, 201) << first.body;
  const auto again = as(payer).post("/v1/ledger/transfers", body);
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(again.json()["created_at"], first.json()["created_at"]);
  EXPECT_EQ(account(payer.id)["available_minutes"], -200);
}

// A UUID is one id whatever the case of its letters: a retry in upper case (or a payee named so)
// finds the first transfer and moves nothing again.
TEST_F(LedgerTrust, ledger_takes_an_id_in_upper_case_for_the_same_transfer) {
  const MemberInfo& payer = member(3);
  const int64_t before = balance(payer.id);
  Json body = transfer_to(member(1).id, 1);
  const auto first = as(payer).post("/v1/ledger/transfers", body);
  ASSERT_EQ(first.status, 201) << first.body;
  std::string upper_id = body["id"], upper_payee = body["to_member_id"];
  for (std::string* text : {&upper_id, &upper_payee}) {
    for (char& c : *text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  body["id"] = upper_id;
  body["to_member_id"] = upper_payee;
  const auto again = as(payer).post("/v1/ledger/transfers", body);
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(again.json()["id"], first.json()["id"]);
  EXPECT_EQ(balance(payer.id), before - 1);
}

// --- Ids the system mints cannot be squatted ------------------------------------------------

TEST_F(LedgerTrust, ledger_pays_a_bonus_whose_old_id_a_client_took_first) {
  const std::string newcomer = new_uuid();
  publish(*w, "members",
          event_envelope(w->community, "member.registered",
                         {{"member_id", newcomer},
                          {"community_id", w->community},
                          {"home_site_id", w->site},
                          {"status", "pending"}}));
  ASSERT_TRUE(eventually(
      [&] { return as(w->staff).get("/v1/ledger/accounts/" + newcomer).status == 200; }, 10000));
  EXPECT_EQ(balance(newcomer), 0) << "no bonus before approval";

  // The id the bonus was named with before: anyone could compute it and take it first.
  const MemberInfo& squatter = member(3);
  Json squat = transfer_to(newcomer, 1);
  squat["id"] = uuid_from_name("bonus:" + newcomer);
  ASSERT_EQ(as(squatter).post("/v1/ledger/transfers", squat).status, 201);
  squat["id"] = "bonus:" + newcomer;  // the id it has now is out of a client's reach
  EXPECT_EQ(as(squatter).wrong().post("/v1/ledger/transfers", squat).status, 400);

  const Json approved = {{"member_id", newcomer}, {"community_id", w->community}};
  publish(*w, "members", event_envelope(w->community, "member.approved", approved));
  const int64_t bonus = tight_policy()["signup_bonus"];
  ASSERT_TRUE(eventually([&] { return balance(newcomer) == bonus + 1; }, 10000))
      << balance(newcomer);

  // Approved twice (a replay, or a second approval): paid once. Another member registered after
  // it tells when the stream has been read past the second approval.
  publish(*w, "members", event_envelope(w->community, "member.approved", approved));
  const std::string marker = new_uuid();
  publish(*w, "members",
          event_envelope(w->community, "member.registered",
                         {{"member_id", marker}, {"community_id", w->community}}));
  ASSERT_TRUE(eventually([&] { return balance(marker) == bonus; }, 10000));
  EXPECT_EQ(balance(newcomer), bonus + 1);
  const Json page = as(w->staff).get("/v1/ledger/accounts/" + newcomer + "/entries").json();
  const Json& entries = page["items"];
  int bonuses = 0;
  for (const auto& e : entries) {
    if (e["kind"] == "bonus") {
      ++bonuses;
      EXPECT_EQ(e["transfer_id"], "bonus:" + newcomer);
    }
  }
  EXPECT_EQ(bonuses, 1) << entries.dump();
}

// --- A NUL in a text ---------------------------------------------------------------------------

TEST_F(LedgerTrust, ledger_refuses_a_nul_in_a_memo_and_goes_on) {
  const MemberInfo& payer = member(4);
  const MemberInfo& payee = member(5);
  const int64_t before = balance(payer.id);
  Json nul_memo = transfer_to(payee.id, 2);
  nul_memo["memo"] = std::string("merci\0pour tout", 15);
  const auto refused = as(payer).post("/v1/ledger/transfers", nul_memo);
  ASSERT_EQ(refused.status, 400) << refused.body;
  const Json problem = refused.json();
  ASSERT_EQ(problem["errors"].size(), 1u) << refused.body;
  EXPECT_EQ(problem["errors"][0]["field"], "memo");
  EXPECT_NE(problem["errors"][0]["message"].get<std::string>().find("contrôle"), std::string::npos);

  Json nul_ref = transfer_to(payee.id, 2);
  nul_ref["ref"] = std::string("a\0b", 3);
  Json bell_memo = transfer_to(payee.id, 2);
  bell_memo["memo"] = "\x07";
  Json multi_line = transfer_to(payee.id, 2);
  multi_line["memo"] = "ligne 1\nligne 2\tfin\r\n";
  const auto batch = post_batch(
      as(payer).wrong(), {nul_memo, nul_ref, bell_memo, multi_line, transfer_to(payee.id, 1)});
  EXPECT_EQ(statuses(batch), (std::vector<int>{400, 400, 400, 201, 201}));
  EXPECT_EQ(batch.json()["results"][1]["problem"]["errors"][0]["field"], "ref");

  // The ledger goes on: the next transfer and a corrected retry under the refused id both pass.
  nul_memo["memo"] = "merci pour tout";
  EXPECT_EQ(as(payer).post("/v1/ledger/transfers", nul_memo).status, 201);
  EXPECT_EQ(as(payer).post("/v1/ledger/transfers", transfer_to(payee.id, 1)).status, 201);
  EXPECT_EQ(balance(payer.id), before - 2 - 2 - 1 - 1);

  // Through ledger.commands too: refused with its reason, the next command applied.
  const std::string bad = "deposit:" + new_uuid(), good = "deposit:" + new_uuid();
  command("ledger.grant", {{"transfer_id", bad},
                           {"to_member_id", payee.id},
                           {"minutes", 1},
                           {"kind", "deposit_reward"},
                           {"memo", std::string("\0", 1)}});
  command("ledger.grant",
          {{"transfer_id", good}, {"to_member_id", payee.id}, {"minutes", 1}, {"kind", "loan"}});
  ASSERT_TRUE(eventually([&] { return state_of(good) == "posted"; }, 10000));
  ASSERT_TRUE(eventually([&] { return !ledger_events("transfer.rejected", bad).empty(); }, 10000));
  EXPECT_EQ(ledger_events("transfer.rejected", bad)[0]["data"]["reason"], "invalid-memo");
}

// --- Staff powers are narrow -----------------------------------------------------------------

TEST_F(LedgerTrust, ledger_refuses_staff_a_grant_to_themselves) {
  const int64_t before = balance(w->staff.id);
  const auto r = as(w->staff).post("/v1/ledger/transfers", transfer_to(w->staff.id, 10));
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(problem_code(r), "self-grant");
  const auto batch = post_batch(as(w->staff), {transfer_to(w->staff.id, 10)});
  EXPECT_EQ(statuses(batch), (std::vector<int>{403}));
  // Nor through a member they act for.
  const auto acting = as(w->staff).acting_for(member(6).id);
  EXPECT_EQ(acting.post("/v1/ledger/transfers", transfer_to(w->staff.id, 10)).status, 403);
  EXPECT_EQ(balance(w->staff.id), before);
  // A grant to someone else still goes, from the community's account.
  const auto grant = as(w->staff).post("/v1/ledger/transfers", transfer_to(colleague->id, 10));
  ASSERT_EQ(grant.status, 201) << grant.body;
  EXPECT_TRUE(grant.json()["from_member_id"].is_null());
  EXPECT_EQ(grant.json()["kind"], "manual");
}

TEST_F(LedgerTrust, ledger_refuses_staff_a_debit_of_a_member_unless_acting_for_them) {
  const MemberInfo& alice = member(6);
  const MemberInfo& bob = member(7);
  const int64_t alice_before = balance(alice.id), bob_before = balance(bob.id);
  const Json debit = with_from(transfer_to(bob.id, 7), alice.id);
  const auto refused = as(w->staff).post("/v1/ledger/transfers", debit);
  EXPECT_EQ(refused.status, 403) << refused.body;
  EXPECT_EQ(statuses(post_batch(as(w->staff), {with_from(transfer_to(bob.id, 7), alice.id)})),
            (std::vector<int>{403}));
  // Acting for bob does not open alice's account either.
  EXPECT_EQ(as(w->staff).acting_for(bob.id).post("/v1/ledger/transfers", debit).status, 403);
  EXPECT_EQ(balance(alice.id), alice_before);

  // Acting for alice, the staff member pays from her account; both ids are recorded.
  const auto paid = as(w->staff).acting_for(alice.id).post("/v1/ledger/transfers", debit);
  ASSERT_EQ(paid.status, 201) << paid.body;
  EXPECT_EQ(paid.json()["from_member_id"], alice.id);
  EXPECT_EQ(paid.json()["kind"], "exchange");
  EXPECT_EQ(actor_of(debit["id"]), w->staff.id);
  const auto implicit =
      as(w->staff).acting_for(alice.id).post("/v1/ledger/transfers", transfer_to(bob.id, 3));
  ASSERT_EQ(implicit.status, 201) << implicit.body;
  EXPECT_EQ(implicit.json()["from_member_id"], alice.id) << "acting for her, not granting";
  EXPECT_EQ(balance(alice.id), alice_before - 10);
  EXPECT_EQ(balance(bob.id), bob_before + 10);
}

// --- Four eyes on large grants -----------------------------------------------------------------

TEST_F(LedgerTrust, ledger_posts_a_large_grant_only_once_a_second_staff_member_approves) {
  const MemberInfo& carol = member(5);
  const int64_t before = balance(carol.id);
  const Json body = transfer_to(carol.id, 301);  // grant_review_minutes is 300 by default
  const std::string id = body["id"];
  const auto asked = as(w->staff).post("/v1/ledger/transfers", body);
  ASSERT_EQ(asked.status, 202) << asked.body;
  const Json review = asked.json();
  EXPECT_EQ(review["id"], id);
  EXPECT_EQ(review["state"], "awaiting_review");
  EXPECT_EQ(review["to_member_id"], carol.id);
  EXPECT_EQ(review["minutes"], 301);
  EXPECT_EQ(review["requested_by"], w->staff.id);
  EXPECT_EQ(balance(carol.id), before) << "nothing moves before the review";
  EXPECT_EQ(as(w->staff).get(transfer_path(id)).status, 404);

  // The same request again gives the same answer; another body under the id is a conflict.
  const auto again = as(w->staff).post("/v1/ledger/transfers", body);
  EXPECT_EQ(again.status, 202);
  EXPECT_EQ(again.json(), review);
  Json other = body;
  other["minutes"] = 302;
  EXPECT_EQ(as(w->staff).post("/v1/ledger/transfers", other).status, 409);

  // On the desk's list; for staff and admins only.
  EXPECT_TRUE(contains(grant_ids(as(*colleague), "awaiting_review"), id));
  EXPECT_EQ(as(carol).get("/v1/ledger/grants?community_id=" + w->community).status, 403);

  const std::string approve = "/v1/ledger/grants/" + id + "/approve";
  const auto own = as(w->staff).post(approve);
  EXPECT_EQ(own.status, 403) << own.body;
  EXPECT_EQ(problem_code(own), "four-eyes");
  EXPECT_EQ(as(*far_staff).post(approve).status, 403) << "staff of another site";
  EXPECT_EQ(as(carol).post(approve).status, 404);
  const auto acting = as(w->staff).acting_for(carol.id).post(approve);
  EXPECT_EQ(acting.status, 403) << "acting lends no second pair of eyes: " << acting.body;
  EXPECT_EQ(problem_code(acting), "four-eyes");
  EXPECT_EQ(balance(carol.id), before);

  const auto approved = as(*colleague).post(approve);
  ASSERT_EQ(approved.status, 200) << approved.body;
  EXPECT_EQ(approved.json()["id"], id);
  EXPECT_EQ(approved.json()["state"], "posted");
  EXPECT_EQ(approved.json()["posted_minutes"], 301);
  EXPECT_TRUE(approved.json()["from_member_id"].is_null());
  EXPECT_EQ(balance(carol.id), before + 301);
  EXPECT_EQ(actor_of(id), w->staff.id);

  // Approving twice, or the requester's replay, gives the same transfer and moves nothing.
  const auto twice = as(*colleague).post(approve);
  ASSERT_EQ(twice.status, 200) << twice.body;
  EXPECT_EQ(twice.json()["created_at"], approved.json()["created_at"]);
  const auto replay = as(w->staff).post("/v1/ledger/transfers", body);
  EXPECT_EQ(replay.status, 200) << replay.body;
  EXPECT_EQ(balance(carol.id), before + 301);
  EXPECT_FALSE(contains(grant_ids(as(*colleague), "awaiting_review"), id));
  EXPECT_TRUE(contains(grant_ids(admin(), "approved"), id));
}

TEST_F(LedgerTrust, the_member_a_large_grant_goes_to_never_approves_it) {
  // A staff member asks for a colleague: the colleague is not the second pair of eyes.
  const int64_t before = balance(colleague->id);
  const Json body = transfer_to(colleague->id, 301);
  const std::string id = body["id"];
  const auto asked = as(w->staff).post("/v1/ledger/transfers", body);
  ASSERT_EQ(asked.status, 202) << asked.body;

  const std::string approve = "/v1/ledger/grants/" + id + "/approve";
  const auto own = as(*colleague).post(approve);
  EXPECT_EQ(own.status, 403) << own.body;
  EXPECT_EQ(problem_code(own), "four-eyes");
  EXPECT_EQ(balance(colleague->id), before);
  EXPECT_TRUE(contains(grant_ids(as(*colleague), "awaiting_review"), id));

  const auto approved = admin().post(approve);  // a third person
  ASSERT_EQ(approved.status, 200) << approved.body;
  EXPECT_EQ(balance(colleague->id), before + 301);
}

TEST_F(LedgerTrust, ledger_lets_an_admin_approve_and_maps_the_ledgers_refusal) {
  const MemberInfo& dan = member(3);
  // Over the cap of 600 once posted: the review waits, the approval answers the ledger's refusal.
  const Json too_much = transfer_to(dan.id, 600);
  ASSERT_EQ(as(w->staff).post("/v1/ledger/transfers", too_much).status, 202);
  const std::string too_much_id = too_much["id"];
  const auto capped = admin().post("/v1/ledger/grants/" + too_much_id + "/approve");
  EXPECT_EQ(capped.status, 422) << capped.body;
  EXPECT_EQ(problem_code(capped), "balance-cap");
  EXPECT_TRUE(contains(grant_ids(as(*colleague), "awaiting_review"), too_much_id));

  // In a batch, a large grant waits and the others go on.
  const int64_t before = balance(dan.id);
  const Json large = transfer_to(dan.id, 350);
  const auto batch = post_batch(as(w->staff), {large, transfer_to(dan.id, 4)});
  EXPECT_EQ(statuses(batch), (std::vector<int>{202, 201}));
  EXPECT_EQ(batch.json()["results"][0]["grant"]["state"], "awaiting_review");
  EXPECT_EQ(balance(dan.id), before + 4);
  const auto approved =
      admin().post("/v1/ledger/grants/" + large["id"].get<std::string>() + "/approve");
  ASSERT_EQ(approved.status, 200) << approved.body;
  EXPECT_EQ(balance(dan.id), before + 4 + 350);
}

// A staff member of the site, of this test alone (each one's day of grants is their own).
MemberInfo new_member(LedgerWorld& w, const std::string& name) {
  MemberInfo m = w.world.register_member(w.community, name, w.site);
  w.wait_for_account(m);
  return m;
}
MemberInfo new_staff(LedgerWorld& w, const std::string& name) {
  MemberInfo m = w.world.register_member(w.community, name, w.site);
  w.world.make_staff(w.site, m.id);
  w.wait_for_account(m);
  return m;
}

TEST_F(LedgerTrust, ledger_sends_a_grant_split_into_small_ones_to_review) {
  const MemberInfo desk = new_staff(*w, "guichet");
  const MemberInfo erin = new_member(*w, "erin");
  const MemberInfo fred = new_member(*w, "fred");
  const int64_t erin_before = balance(erin.id);

  // 300 minutes to one member in a day post at once, in two grants; one more minute waits.
  const Json first = transfer_to(erin.id, 200);
  ASSERT_EQ(as(desk).post("/v1/ledger/transfers", first).status, 201);
  ASSERT_EQ(as(desk).post("/v1/ledger/transfers", transfer_to(erin.id, 100)).status, 201);
  const auto third = as(desk).post("/v1/ledger/transfers", transfer_to(erin.id, 1));
  ASSERT_EQ(third.status, 202) << third.body;
  EXPECT_EQ(third.json()["state"], "awaiting_review");
  EXPECT_EQ(balance(erin.id), erin_before + 300);
  // A replay of a grant already counted answers as before, and is not counted twice.
  const auto replay = as(desk).post("/v1/ledger/transfers", first);
  EXPECT_EQ(replay.status, 200) << replay.body;
  EXPECT_EQ(balance(erin.id), erin_before + 300);

  // Split in one batch: the first goes, the others wait (the batch counts as a whole).
  const auto batch = post_batch(
      as(desk), {transfer_to(fred.id, 150), transfer_to(fred.id, 150), transfer_to(fred.id, 150)});
  EXPECT_EQ(statuses(batch), (std::vector<int>{201, 201, 202})) << batch.body;

  // Another staff member's day is their own; an approved grant counts for nobody's.
  const auto colleagues = as(*colleague).post("/v1/ledger/transfers", transfer_to(fred.id, 10));
  EXPECT_EQ(colleagues.status, 201) << colleagues.body;
  const std::string waiting = third.json()["id"];
  ASSERT_EQ(as(*colleague).post("/v1/ledger/grants/" + waiting + "/approve").status, 200);
  EXPECT_EQ(balance(erin.id), erin_before + 301);
  EXPECT_EQ(as(desk).post("/v1/ledger/transfers", transfer_to(erin.id, 1)).status, 202);
}

TEST_F(LedgerTrust, ledger_counts_concurrent_small_grants_one_after_the_other) {
  const MemberInfo desk = new_staff(*w, "guichet-concurrent");
  const MemberInfo gwen = new_member(*w, "gwen");
  const int64_t before = balance(gwen.id);
  constexpr int kGrants = 10;
  std::vector<int> answers(kGrants, 0);
  std::vector<std::thread> threads;
  for (int i = 0; i < kGrants; ++i) {
    threads.emplace_back([&, i] {
      answers[i] = as(desk).post("/v1/ledger/transfers", transfer_to(gwen.id, 100)).status;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(std::count(answers.begin(), answers.end(), 201), 3);
  EXPECT_EQ(std::count(answers.begin(), answers.end(), 202), kGrants - 3);
  EXPECT_EQ(balance(gwen.id), before + 300);
}

TEST_F(LedgerTrust, ledger_forgets_a_refused_grant_in_the_day_of_its_staff_member) {
  const MemberInfo desk = new_staff(*w, "guichet-plafond");
  const MemberInfo bea = new_member(*w, "bea");
  const MemberInfo hugo = new_member(*w, "hugo");
  // Bea near the payee's cap of 600: a reviewed grant of 400 on top of her joining bonus.
  const Json reviewed = transfer_to(bea.id, 400);
  ASSERT_EQ(as(*colleague).post("/v1/ledger/transfers", reviewed).status, 202);
  ASSERT_EQ(as(w->staff)
                .post("/v1/ledger/grants/" + reviewed["id"].get<std::string>() + "/approve")
                .status,
            200);
  ASSERT_EQ(balance(bea.id), 520);
  // Over her cap: refused, it moved nothing, so it no longer counts in the desk's day.
  const auto capped = as(desk).post("/v1/ledger/transfers", transfer_to(bea.id, 290));
  EXPECT_EQ(capped.status, 422) << capped.body;
  EXPECT_EQ(problem_code(capped), "balance-cap");
  ASSERT_EQ(as(bea).post("/v1/ledger/transfers", transfer_to(hugo.id, 280)).status, 201);
  const auto granted = as(desk).post("/v1/ledger/transfers", transfer_to(bea.id, 290));
  EXPECT_EQ(granted.status, 201) << granted.body;
  EXPECT_EQ(balance(bea.id), 530);
}

TEST_F(LedgerTrust, ledger_takes_no_credits_for_an_erased_member) {
  const MemberInfo leaving = new_member(*w, "partante");
  const MemberInfo payer = new_member(*w, "payeur");
  // The account is in the writer's memory: the erasure must reach it all the same.
  ASSERT_EQ(as(payer).post("/v1/ledger/transfers", transfer_to(leaving.id, 1)).status, 201);
  const auto erased = Client(w->world.members->url(), leaving.token)
                          .call("DELETE", "/v1/me", Json{{"password", "mot-de-passe-1"}}.dump());
  ASSERT_EQ(erased.status, 202) << erased.body;
  ASSERT_TRUE(eventually(
      [&] {
        const auto paid = as(payer).post("/v1/ledger/transfers", transfer_to(leaving.id, 1));
        return paid.status == 404 && problem_code(paid) == "account-not-found";
      },
      10000));
  const int64_t before = balance(leaving.id);  // what was paid before the erasure reached it
  const auto granted = as(w->staff).post("/v1/ledger/transfers", transfer_to(leaving.id, 1));
  EXPECT_EQ(granted.status, 404) << granted.body;
  const auto large = as(w->staff).post("/v1/ledger/transfers", transfer_to(leaving.id, 301));
  EXPECT_EQ(large.status, 404) << "no review for a grant nobody could post: " << large.body;
  const auto batch = post_batch(as(payer), {transfer_to(leaving.id, 1)});
  EXPECT_EQ(statuses(batch), (std::vector<int>{404})) << batch.body;
  EXPECT_EQ(balance(leaving.id), before);
}

TEST_F(LedgerTrust, ledger_audits_a_community_for_its_administrators_and_knows_no_other) {
  const MemberInfo keeper = new_member(*w, "gardienne");
  const std::string audit = "/v1/ledger/audit?community_id=" + w->community;
  EXPECT_EQ(as(keeper).get(audit).status, 403);
  ASSERT_EQ(w->world.admin()
                .post("/v1/communities/" + w->community + "/admins", {{"member_id", keeper.id}})
                .status,
            204);
  ASSERT_TRUE(eventually([&] { return as(keeper).get(audit).status == 200; }, 10000));
  const auto unknown = admin().get("/v1/ledger/audit?community_id=" + new_uuid());
  EXPECT_EQ(unknown.status, 404) << unknown.body;
  EXPECT_EQ(as(w->staff).get("/v1/ledger/audit?community_id=" + new_uuid()).status, 403);
}

TEST_F(LedgerTrust, ledger_refuses_a_body_naming_the_amount_twice) {
  // A proxy or a log reader taking the first "minutes" would see 1 where 100 would move.
  const MemberInfo payer = new_member(*w, "doublon");
  const std::string body = R"({"id": ")" + new_uuid() + R"(", "to_member_id": ")" + member(0).id +
                           R"(", "minutes": 1, "minutes": 100})";
  const auto r = as(payer).wrong().call("POST", "/v1/ledger/transfers", body);
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("champ en double"), std::string::npos) << r.body;
  EXPECT_EQ(balance(payer.id), 120);
}

TEST_F(LedgerTrust, ledger_keeps_the_books_under_the_trust_rules) {
  const auto audit = as(w->staff).get("/v1/ledger/audit?community_id=" + w->community);
  ASSERT_EQ(audit.status, 200) << audit.body;
  EXPECT_EQ(audit.json()["sum_balances_minutes"], 0);
  EXPECT_TRUE(audit.json()["violations"].empty()) << audit.body;
}

// --- Membership awaiting approval ------------------------------------------------------------

TEST_F(LedgerTrust, ledger_refuses_transfers_to_a_pending_member_until_approved) {
  Json policy = tight_policy();
  policy["membership"] = "approval";
  const std::string community = w->world.create_community("Adhésion trust", policy);
  const std::string site = w->world.create_site(community, "Lieu adhésion", 50.62, 3.06);
  const MemberInfo newcomer = w->world.register_member(community, "nouvelle", site);
  const MemberInfo neighbour = w->world.register_member(community, "voisin", site);
  w->wait_for_account(newcomer);
  w->wait_for_account(neighbour);
  EXPECT_EQ(ledger_balance(as(newcomer), newcomer.id).balance, 0) << "no bonus before approval";

  const auto single = as(newcomer).post("/v1/ledger/transfers", transfer_to(neighbour.id, 1));
  EXPECT_EQ(single.status, 403) << single.body;
  EXPECT_EQ(problem_code(single), "membership-pending");
  const auto batch = post_batch(as(newcomer), {transfer_to(neighbour.id, 1)});
  EXPECT_EQ(batch.status, 403) << batch.body;
  EXPECT_EQ(problem_code(batch), "membership-pending");

  const auto approved = w->world.admin().post("/v1/members/" + newcomer.id + "/approve");
  ASSERT_EQ(approved.status, 200) << approved.body;
  const int64_t bonus = tight_policy()["signup_bonus"];
  ASSERT_TRUE(eventually([&] { return ledger_balance(as(newcomer), newcomer.id).balance == bonus; },
                         10000));
  ASSERT_TRUE(eventually(
      [&] {
        return as(newcomer).post("/v1/ledger/transfers", transfer_to(neighbour.id, 1)).status ==
               201;
      },
      10000));
  EXPECT_EQ(w->world.admin().post("/v1/members/" + newcomer.id + "/approve").status, 200);
  EXPECT_EQ(ledger_balance(as(newcomer), newcomer.id).balance, bonus - 1);
}

// Last: it moves the ledger's clock a day ahead.
TEST_F(LedgerTrust, ledger_counts_a_staff_members_grants_over_the_last_day_only) {
  const MemberInfo desk = new_staff(*w, "guichet-jour");
  const MemberInfo carol = new_member(*w, "carole");
  ASSERT_EQ(as(desk).post("/v1/ledger/transfers", transfer_to(carol.id, 5)).status, 201);
  ASSERT_EQ(as(desk).post("/v1/ledger/transfers", transfer_to(carol.id, 296)).status, 202);
  w->clock.advance_s(24 * 3600 + 60);
  const auto next_day = as(desk).post("/v1/ledger/transfers", transfer_to(carol.id, 296));
  EXPECT_EQ(next_day.status, 201) << next_day.body;
}

}  // namespace
}  // namespace maillon::testing
