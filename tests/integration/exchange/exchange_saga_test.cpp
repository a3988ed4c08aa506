// The exchange service with the real ledger, members and offers services, through HTTP on real
// PostgreSQL and Redis: the saga end to end with balances before and after, refusals, who may
// see and act, staff at the desk and acting for a member, idempotence of doubled requests, and
// the published events against their schemas.
#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <array>
#include <atomic>
#include <set>
#include <thread>

#include "exchange/sse_test_client.hpp"
#include "harness.hpp"
#include "json_schema.hpp"
#include "listing_bodies.hpp"
#include "services/common/redis.hpp"
#include "services/common/time.hpp"

namespace maillon::testing {
namespace {

constexpr int kSagaTimeoutMs = 15000;

using Balance = LedgerBalance;

class ExchangeSagaTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    world = new MembersWorld("exchange", {{"MAILLON_LOGIN_RATE_PER_MIN", "100000"},
                                          {"MAILLON_LOGIN_BURST", "100000"},
                                          {"MAILLON_RATE_LIMIT", "10000"},
                                          {"MAILLON_RATE_BURST", "10000"}});
    // min_balance 0: a member spends only what they earned, so "insufficient" is easy to reach.
    community = world->create_community(
        "Métropole Européenne de Lille",
        {{"min_balance", 0}, {"signup_bonus", 120}, {"monthly_allowance", 0}});
    site = world->create_site(community, "Conciergerie de Fives", 50.6297, 3.0917, "conciergerie");
    other_site = world->create_site(community, "Tiers-lieu de Roubaix", 50.69, 3.18);
    offers = new ServiceProcess("offers", world->env());
    requests = new ServiceProcess("requests", world->env());
    ledger = new ServiceProcess("ledger", world->env());
    exchange = new ServiceProcess("exchange", world->env());
    notify = new ServiceProcess("notify", world->env());  // the inbox of the exchange's events
    for (auto* p : {offers, requests, ledger, exchange, notify}) p->start();
    staff = world->register_member(community, "nadia", site);
    world->make_staff(site, staff.id);
  }
  static void TearDownTestSuite() {
    for (auto* p : {notify, exchange, ledger, requests, offers}) delete p;
    delete world;
  }

  static inline MembersWorld* world = nullptr;
  static inline ServiceProcess* offers = nullptr;
  static inline ServiceProcess* requests = nullptr;
  static inline ServiceProcess* ledger = nullptr;
  static inline ServiceProcess* exchange = nullptr;
  static inline ServiceProcess* notify = nullptr;
  static inline std::string community, site, other_site;
  static inline MemberInfo staff;

  // Builders ---------------------------------------------------------------------------------
  static MemberInfo member(const std::string& name) {
    MemberInfo m = world->register_member(community, name, site);
    // The ledger opens the account with the signup bonus from member.registered.
    EXPECT_TRUE(eventually([&] { return balance_of(m).balance == 120; }, kSagaTimeoutMs))
        << name << " never got the signup bonus";
    return m;
  }
  static Client ex(const MemberInfo& m) { return Client(exchange->url(), m.token); }
  static Client inbox_of(const MemberInfo& m) { return Client(notify->url(), m.token); }

  static std::string offer(const MemberInfo& owner, int64_t price_minutes,
                           std::optional<std::string> at_site = std::nullopt) {
    auto r = Client(offers->url(), owner.token)
                 .post("/v1/offers", service_offer(price_minutes, at_site));
    EXPECT_EQ(r.status, 201) << r.body;
    return r.json().value("id", "");
  }

  // A good given for `price_minutes`: its exchange reserves it, then closes it.
  static std::string gift(const MemberInfo& owner, int64_t price_minutes) {
    auto r = Client(offers->url(), owner.token).post("/v1/offers", gift_offer(price_minutes));
    EXPECT_EQ(r.status, 201) << r.body;
    return r.json().value("id", "");
  }

  static std::string offer_status(const MemberInfo& owner, const std::string& id) {
    return Client(offers->url(), owner.token).get("/v1/offers/" + id).json().value("status", "");
  }

  // Proposes once the exchange service has heard of the listing (it learns it from the stream).
  static HttpResult propose(const MemberInfo& who, const Json& body) {
    HttpResult r;
    eventually(
        [&] {
          r = ex(who).post("/v1/exchanges", body);
          return !(r.status == 422 && r.json().value("code", "") == "unknown-listing");
        },
        kSagaTimeoutMs);
    return r;
  }

  static Balance balance_of(const MemberInfo& m) {
    return ledger_balance(Client(ledger->url(), m.token), m.id);
  }

  static bool balance_becomes(const MemberInfo& m, const Balance& expected) {
    return eventually([&] { return balance_of(m) == expected; }, kSagaTimeoutMs);
  }

  static std::string state_of(const MemberInfo& who, const std::string& id) {
    return ex(who).get("/v1/exchanges/" + id).json().value("state", "");
  }

  static bool state_becomes(const MemberInfo& who, const std::string& id,
                            const std::string& state) {
    return eventually([&] { return state_of(who, id) == state; }, kSagaTimeoutMs);
  }

  // Three exchanges of one listing, each proposed by one of three members, and the owner's
  // accepts of all three sent at once (a thread each), in the proposers' order.
  struct AcceptRace {
    std::array<std::string, 3> ids;
    std::array<HttpResult, 3> answers;
  };
  static void accept_at_once(const MemberInfo& owner, const std::array<MemberInfo, 3>& takers,
                             const std::string& offer_id, AcceptRace& race) {
    for (std::size_t i = 0; i < race.ids.size(); ++i) {
      auto created = propose(takers[i], {{"offer_id", offer_id}});
      ASSERT_EQ(created.status, 201) << created.body;
      race.ids[i] = created.json()["id"];
    }
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < race.ids.size(); ++i) {
      threads.emplace_back(
          [&, i] { race.answers[i] = ex(owner).post("/v1/exchanges/" + race.ids[i] + "/accept"); });
    }
    for (auto& t : threads) t.join();
  }

  // An exchange of `minutes` from provider's offer, proposed by the receiver, accepted, held.
  static std::string accepted_exchange(const MemberInfo& provider, const MemberInfo& receiver,
                                       int64_t minutes, std::optional<std::string> at_site = {}) {
    auto created = propose(receiver, {{"offer_id", offer(provider, minutes, at_site)}});
    EXPECT_EQ(created.status, 201) << created.body;
    const std::string id = created.json().value("id", "");
    EXPECT_EQ(ex(provider).post("/v1/exchanges/" + id + "/accept").status, 202);
    EXPECT_TRUE(state_becomes(provider, id, "accepted")) << state_of(provider, id);
    return id;
  }
};

TEST_F(ExchangeSagaTest, happy_path_holds_on_accept_and_completes_once_the_ledger_posted) {
  MemberInfo provider = member("Karim"), receiver = member("Lucie");
  const std::string offer_id = gift(provider, 60);
  auto created = propose(receiver, {{"offer_id", offer_id}, {"message", "Mercredi 17 h ?"}});
  ASSERT_EQ(created.status, 201) << created.body;
  const Json proposal = created.json();
  EXPECT_EQ(proposal["state"], "proposed");
  EXPECT_EQ(proposal["provider_id"], provider.id);
  EXPECT_EQ(proposal["receiver_id"], receiver.id);
  EXPECT_EQ(proposal["minutes"], 60);  // from the offer's price
  const std::string id = proposal["id"];

  auto accepted = ex(provider).post("/v1/exchanges/" + id + "/accept");
  ASSERT_EQ(accepted.status, 202) << accepted.body;
  EXPECT_EQ(accepted.json()["state"], "accepting");
  ASSERT_TRUE(state_becomes(provider, id, "accepted"));
  EXPECT_TRUE(balance_becomes(receiver, {120, 60, 0, 60}));
  EXPECT_TRUE(balance_becomes(provider, {120, 0, 60, 120}));
  EXPECT_TRUE(eventually([&] { return offer_status(provider, offer_id) == "reserved"; }));

  auto first = ex(provider).post("/v1/exchanges/" + id + "/complete");
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(first.json()["state"], "accepted");  // the receiver has not confirmed yet
  auto second = ex(receiver).post("/v1/exchanges/" + id + "/complete");
  ASSERT_EQ(second.status, 200) << second.body;
  EXPECT_EQ(second.json()["state"], "completing");  // the post is on its way to the ledger

  // Completed only once the ledger posted: by then the credits have moved.
  ASSERT_TRUE(state_becomes(receiver, id, "completed")) << state_of(receiver, id);
  EXPECT_EQ(balance_of(receiver), (Balance{60, 0, 0, 60}));
  EXPECT_EQ(balance_of(provider), (Balance{180, 0, 0, 180}));
  EXPECT_TRUE(eventually([&] { return offer_status(provider, offer_id) == "closed"; }));
  const Json done = ex(receiver).get("/v1/exchanges/" + id).json();
  std::vector<std::string> states;
  for (const auto& h : done["history"]) states.push_back(h["state"]);
  EXPECT_EQ(states, (std::vector<std::string>{"proposed", "accepting", "accepted", "accepted",
                                              "completing", "completed"}));
  EXPECT_TRUE(done["history"].back()["actor_id"].is_null());  // the ledger's answer
}

TEST_F(ExchangeSagaTest, insufficient_credits_sends_the_exchange_back_to_proposed) {
  MemberInfo provider = member("Marc"), receiver = member("Ines");
  auto created = propose(receiver, {{"offer_id", offer(provider, 60)}, {"minutes", 500}});
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id = created.json()["id"];
  ASSERT_EQ(ex(provider).post("/v1/exchanges/" + id + "/accept").status, 202);

  ASSERT_TRUE(state_becomes(provider, id, "proposed")) << state_of(provider, id);
  const Json back = ex(receiver).get("/v1/exchanges/" + id).json();
  EXPECT_EQ(back["reason"], "insufficient-credits");
  EXPECT_EQ(back["history"].back()["note"], "insufficient-credits");
  EXPECT_EQ(balance_of(receiver), (Balance{120, 0, 0, 120}));
  EXPECT_EQ(balance_of(provider), (Balance{120, 0, 0, 120}));
}

TEST_F(ExchangeSagaTest, cancel_after_accept_returns_the_credits_and_the_listing) {
  MemberInfo provider = member("Yanis"), receiver = member("Chloe");
  auto created = propose(receiver, {{"offer_id", gift(provider, 45)}});
  const std::string id = created.json()["id"];
  const std::string offer_id = created.json()["offer_id"];
  ASSERT_EQ(ex(provider).post("/v1/exchanges/" + id + "/accept").status, 202);
  ASSERT_TRUE(state_becomes(provider, id, "accepted"));
  ASSERT_TRUE(balance_becomes(receiver, {120, 45, 0, 75}));
  ASSERT_TRUE(eventually([&] { return offer_status(provider, offer_id) == "reserved"; }));

  auto cancelled = ex(receiver).post("/v1/exchanges/" + id + "/cancel");
  ASSERT_EQ(cancelled.status, 200) << cancelled.body;
  EXPECT_EQ(cancelled.json()["state"], "cancelled");
  EXPECT_TRUE(balance_becomes(receiver, {120, 0, 0, 120}));
  EXPECT_TRUE(balance_becomes(provider, {120, 0, 0, 120}));
  EXPECT_TRUE(eventually([&] { return offer_status(provider, offer_id) == "active"; }));
  EXPECT_EQ(ex(provider).post("/v1/exchanges/" + id + "/complete").status, 409);
}

TEST_F(ExchangeSagaTest, dispute_resolved_partially_by_staff_pays_the_agreed_part) {
  MemberInfo provider = member("Sami"), receiver = member("Elodie");
  const std::string id = accepted_exchange(provider, receiver, 60, site);
  auto disputed = ex(receiver).post("/v1/exchanges/" + id + "/dispute");
  ASSERT_EQ(disputed.status, 200) << disputed.body;
  EXPECT_EQ(disputed.json()["state"], "disputed");

  auto desk = ex(staff).get("/v1/sites/" + site + "/desk");
  ASSERT_EQ(desk.status, 200) << desk.body;
  std::set<std::string> on_desk;
  const Json sections = desk.json();
  for (const auto& e : sections["disputed"]) on_desk.insert(e["id"].get<std::string>());
  EXPECT_TRUE(on_desk.contains(id));
  EXPECT_EQ(ex(receiver).get("/v1/sites/" + site + "/desk").status, 403);

  EXPECT_EQ(ex(receiver).post("/v1/exchanges/" + id + "/resolve", {{"outcome", "post"}}).status,
            403);
  EXPECT_EQ(ex(staff).post("/v1/exchanges/" + id + "/resolve", {{"outcome", "partial"}}).status,
            400);
  // Minutes given but out of range: one error, about the range, not "missing" as well.
  const auto negative = ex(staff).wrong().post("/v1/exchanges/" + id + "/resolve",
                                               {{"outcome", "partial"}, {"minutes", -1}});
  EXPECT_EQ(negative.status, 400) << negative.body;
  EXPECT_EQ(negative.json()["errors"].size(), 1u) << negative.body;
  EXPECT_EQ(ex(staff)
                .post("/v1/exchanges/" + id + "/resolve", {{"outcome", "partial"}, {"minutes", 61}})
                .status,
            422);
  auto resolved =
      ex(staff).post("/v1/exchanges/" + id + "/resolve", {{"outcome", "partial"}, {"minutes", 20}});
  ASSERT_EQ(resolved.status, 200) << resolved.body;
  EXPECT_EQ(resolved.json()["state"], "resolved");
  EXPECT_EQ(resolved.json()["history"].back()["actor_id"], staff.id);
  EXPECT_TRUE(balance_becomes(receiver, {100, 0, 0, 100}));
  EXPECT_TRUE(balance_becomes(provider, {140, 0, 0, 140}));
}

TEST_F(ExchangeSagaTest, staff_confirming_for_a_member_is_recorded_with_both_ids) {
  MemberInfo provider = member("Hugo"), receiver = member("Fatima");
  const std::string id = accepted_exchange(provider, receiver, 30, site);
  auto r = Client(exchange->url(), staff.token)
               .acting_for(receiver.id)
               .post("/v1/exchanges/" + id + "/complete");
  ASSERT_EQ(r.status, 200) << r.body;
  const Json entry = r.json()["history"].back();
  EXPECT_EQ(entry["actor_id"], staff.id);
  EXPECT_EQ(entry["on_behalf_of"], receiver.id);
  EXPECT_EQ(entry["note"], "confirmation: receiver");
  EXPECT_EQ(ex(provider).post("/v1/exchanges/" + id + "/complete").json()["state"], "completing");
  EXPECT_TRUE(state_becomes(provider, id, "completed"));
  EXPECT_EQ(balance_of(provider), (Balance{150, 0, 0, 150}));
}

TEST_F(ExchangeSagaTest, another_member_can_neither_see_nor_act_on_the_exchange) {
  MemberInfo provider = member("Paul"), receiver = member("Zoe"), stranger = member("Tom");
  auto created = propose(receiver, {{"offer_id", offer(provider, 30)}});
  const std::string id = created.json()["id"];
  EXPECT_EQ(ex(stranger).get("/v1/exchanges/" + id).status, 404);
  // Each action with the body its operation documents: only the caller is wrong.
  const std::pair<const char*, Json> actions[] = {
      {"accept", Json::object()},          {"decline", Json::object()},
      {"cancel", Json::object()},          {"complete", Json::object()},
      {"dispute", {{"reason", "coucou"}}}, {"messages", {{"body", "coucou"}}}};
  for (const auto& [action, body] : actions) {
    EXPECT_EQ(ex(stranger).post("/v1/exchanges/" + id + "/" + action, body).status, 404) << action;
  }
  EXPECT_EQ(ex(stranger).get("/v1/exchanges/" + id + "/messages").status, 404);
  const Json mine = ex(stranger).get("/v1/exchanges").json();
  EXPECT_TRUE(mine["items"].empty());
  EXPECT_EQ(state_of(receiver, id), "proposed");
  // The proposer may not accept their own proposal.
  EXPECT_EQ(ex(receiver).post("/v1/exchanges/" + id + "/accept").status, 403);
}

TEST_F(ExchangeSagaTest, doubled_accepts_and_confirmations_hold_and_pay_once) {
  MemberInfo provider = member("Lea"), receiver = member("Omar");
  auto created = propose(receiver, {{"offer_id", offer(provider, 40)}});
  const std::string id = created.json()["id"];
  std::atomic<int> accepted{0}, conflicts{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      int status = ex(provider).post("/v1/exchanges/" + id + "/accept").status;
      (status == 202 ? accepted : conflicts)++;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(accepted.load(), 1);
  EXPECT_EQ(conflicts.load(), 3);
  ASSERT_TRUE(state_becomes(provider, id, "accepted"));
  EXPECT_TRUE(balance_becomes(receiver, {120, 40, 0, 80}));

  threads.clear();
  std::atomic<int> ok{0}, refused{0};
  for (int i = 0; i < 6; ++i) {
    const MemberInfo& who = i % 2 ? provider : receiver;
    threads.emplace_back([&, who] {
      int status = ex(who).post("/v1/exchanges/" + id + "/complete").status;
      (status == 200 ? ok : refused)++;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 2);
  EXPECT_EQ(refused.load(), 4);
  EXPECT_TRUE(state_becomes(provider, id, "completed")) << state_of(provider, id);
  EXPECT_TRUE(balance_becomes(receiver, {80, 0, 0, 80}));
  EXPECT_TRUE(balance_becomes(provider, {160, 0, 0, 160}));
  EXPECT_EQ(ex(provider).post("/v1/exchanges/" + id + "/accept").status, 409);
}

// An hour of tutoring taken by three members with room for two at a time: the three accepts
// arrive together and one is refused; so is a new proposal while both places are taken; once
// one exchange is completed the refused member is served. The offer stays active throughout:
// a gift accepted after each step, which the same stream reserves and closes, tells when the
// offers service has read that far.
TEST_F(ExchangeSagaTest, a_service_offer_stays_active_and_runs_at_most_its_capacity_at_once) {
  MemberInfo tutor = member("Mathilde");
  const std::array<MemberInfo, 3> pupils = {member("Noe"), member("Rose"), member("Yacine")};
  Json body = service_offer(20);
  body["capacity"] = 2;
  auto posted = Client(offers->url(), tutor.token).post("/v1/offers", body);
  ASSERT_EQ(posted.status, 201) << posted.body;
  EXPECT_EQ(posted.json()["capacity"], 2);
  const std::string offer_id = posted.json()["id"];
  AcceptRace race;
  ASSERT_NO_FATAL_FAILURE(accept_at_once(tutor, pupils, offer_id, race));
  const std::array<std::string, 3>& ids = race.ids;
  const std::array<HttpResult, 3>& answers = race.answers;
  std::size_t refused = ids.size();
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (answers[i].status == 202) continue;
    EXPECT_EQ(answers[i].status, 409) << answers[i].body;
    EXPECT_EQ(answers[i].json()["code"], "capacity-reached");
    refused = i;
  }
  ASSERT_LT(refused, ids.size()) << "three accepts on a service with room for two";
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i != refused) {
      ASSERT_TRUE(state_becomes(tutor, ids[i], "accepted"));
    }
  }
  EXPECT_EQ(state_of(tutor, ids[refused]), "proposed");
  MemberInfo late = member("Zelie");
  auto turned_away = propose(late, {{"offer_id", offer_id}});
  EXPECT_EQ(turned_away.status, 409) << turned_away.body;
  EXPECT_EQ(turned_away.json()["code"], "capacity-reached");
  const std::string sentinel = gift(tutor, 0);
  auto gift_taken = propose(late, {{"offer_id", sentinel}});
  ASSERT_EQ(gift_taken.status, 201) << gift_taken.body;
  ASSERT_EQ(ex(tutor)
                .post("/v1/exchanges/" + gift_taken.json()["id"].get<std::string>() + "/accept")
                .status,
            202);
  ASSERT_TRUE(eventually([&] { return offer_status(tutor, sentinel) == "reserved"; }));
  EXPECT_EQ(offer_status(tutor, offer_id), "active");

  const std::size_t first = refused == 0 ? 1 : 0;
  ASSERT_EQ(ex(tutor).post("/v1/exchanges/" + ids[first] + "/complete").status, 200);
  ASSERT_EQ(ex(pupils[first]).post("/v1/exchanges/" + ids[first] + "/complete").status, 200);
  ASSERT_TRUE(state_becomes(tutor, ids[first], "completed"));
  auto served = ex(tutor).post("/v1/exchanges/" + ids[refused] + "/accept");
  ASSERT_EQ(served.status, 202) << served.body;
  EXPECT_TRUE(state_becomes(tutor, ids[refused], "accepted"));
  const std::string after = gift(tutor, 0);
  auto second_gift = propose(late, {{"offer_id", after}});
  ASSERT_EQ(second_gift.status, 201) << second_gift.body;
  ASSERT_EQ(ex(tutor)
                .post("/v1/exchanges/" + second_gift.json()["id"].get<std::string>() + "/accept")
                .status,
            202);
  ASSERT_TRUE(eventually([&] { return offer_status(tutor, after) == "reserved"; }));
  EXPECT_EQ(offer_status(tutor, offer_id), "active");
}

// A given object goes to one member: of three proposals accepted at once, one is, the others
// answer 409 listing-reserved and stay proposed (issue 21: were a second one accepted, cancelling
// the first would show the object free while the second still runs). Once the first is
// cancelled, another may be accepted, and it reserves the object again.
TEST_F(ExchangeSagaTest, a_given_object_is_accepted_for_one_exchange_at_a_time) {
  MemberInfo giver = member("Solene");
  const std::array<MemberInfo, 3> takers = {member("Hugo"), member("Ines"), member("Karim")};
  const std::string offer_id = gift(giver, 10);
  AcceptRace race;
  ASSERT_NO_FATAL_FAILURE(accept_at_once(giver, takers, offer_id, race));
  const std::array<std::string, 3>& ids = race.ids;
  const std::array<HttpResult, 3>& answers = race.answers;
  std::vector<std::size_t> accepted, refused;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (answers[i].status == 202) {
      accepted.push_back(i);
      continue;
    }
    EXPECT_EQ(answers[i].status, 409) << answers[i].body;
    EXPECT_EQ(answers[i].json()["code"], "listing-reserved") << answers[i].body;
    refused.push_back(i);
  }
  ASSERT_EQ(accepted.size(), 1u) << "one object, accepted for several exchanges";
  const std::string first = ids[accepted[0]], next = ids[refused[0]];
  ASSERT_TRUE(state_becomes(giver, first, "accepted"));
  for (std::size_t i : refused) EXPECT_EQ(state_of(giver, ids[i]), "proposed");
  ASSERT_TRUE(eventually([&] { return offer_status(giver, offer_id) == "reserved"; }));
  auto again = ex(giver).post("/v1/exchanges/" + next + "/accept");
  EXPECT_EQ(again.status, 409) << again.body;

  ASSERT_EQ(ex(giver).post("/v1/exchanges/" + first + "/cancel").status, 200);
  ASSERT_TRUE(eventually([&] { return offer_status(giver, offer_id) == "active"; }));
  auto served = ex(giver).post("/v1/exchanges/" + next + "/accept");
  ASSERT_EQ(served.status, 202) << served.body;
  EXPECT_TRUE(state_becomes(giver, next, "accepted"));
  EXPECT_TRUE(eventually([&] { return offer_status(giver, offer_id) == "reserved"; }));
}

TEST_F(ExchangeSagaTest, decline_messages_ratings_lists_and_notifications) {
  MemberInfo provider = member("Amandine"), receiver = member("Bilal");
  auto first = propose(receiver, {{"offer_id", offer(provider, 15)}});
  const std::string declined_id = first.json()["id"];
  auto declined = ex(provider).post("/v1/exchanges/" + declined_id + "/decline");
  ASSERT_EQ(declined.status, 200) << declined.body;
  EXPECT_EQ(declined.json()["state"], "declined");

  const std::string id = accepted_exchange(provider, receiver, 15);
  auto posted = ex(receiver).post("/v1/exchanges/" + id + "/messages", {{"body", "À demain !"}});
  ASSERT_EQ(posted.status, 201) << posted.body;
  EXPECT_EQ(ex(receiver).wrong().post("/v1/exchanges/" + id + "/messages", {{"body", ""}}).status,
            400);
  const Json messages = ex(provider).get("/v1/exchanges/" + id + "/messages").json();
  ASSERT_EQ(messages["items"].size(), 1u);
  EXPECT_EQ(messages["items"][0]["body"], "À demain !");

  EXPECT_EQ(ex(receiver).post("/v1/exchanges/" + id + "/rating", {{"stars", 5}}).status, 409);
  ex(provider).post("/v1/exchanges/" + id + "/complete");
  ex(receiver).post("/v1/exchanges/" + id + "/complete");
  ASSERT_TRUE(state_becomes(receiver, id, "completed"));  // rated once the ledger posted
  EXPECT_EQ(ex(receiver).wrong().post("/v1/exchanges/" + id + "/rating", {{"stars", 6}}).status,
            400);
  auto rated =
      ex(receiver).post("/v1/exchanges/" + id + "/rating", {{"stars", 5}, {"comment", "Top"}});
  EXPECT_EQ(rated.status, 201) << rated.body;
  EXPECT_EQ(ex(receiver).post("/v1/exchanges/" + id + "/rating", {{"stars", 4}}).status, 409);

  const Json as_provider = ex(provider).get("/v1/exchanges?role=provider&state=completed").json();
  ASSERT_EQ(as_provider["items"].size(), 1u);
  EXPECT_EQ(as_provider["items"][0]["id"], id);
  EXPECT_TRUE(ex(provider).get("/v1/exchanges?role=receiver").json()["items"].empty());
  EXPECT_EQ(ex(provider).get("/v1/exchanges?role=boss").status, 400);

  // The provider hears of the proposals, the message, the confirmation and the rating.
  std::set<std::string> types;
  ASSERT_TRUE(eventually([&] {
    types.clear();
    const Json inbox = inbox_of(provider).get("/v1/notifications?limit=100").json();
    for (const auto& n : inbox["items"]) types.insert(n["type"].get<std::string>());
    return types.contains("exchange.rated");
  })) << Json(types).dump();
  EXPECT_TRUE(types.contains("exchange.proposed"));
  EXPECT_TRUE(types.contains("exchange.message"));
  EXPECT_FALSE(types.contains("exchange.declined"));  // the provider declined it themself
  const Json unread = inbox_of(provider).get("/v1/notifications?unread=true&limit=100").json();
  ASSERT_FALSE(unread["items"].empty());
  const std::string one = unread["items"][0]["id"];
  EXPECT_EQ(inbox_of(provider).post("/v1/notifications/" + one + "/read").status, 204);
  EXPECT_EQ(inbox_of(receiver).post("/v1/notifications/" + one + "/read").status, 404);
  // The stream from the start of the inbox replays it, the rating included.
  SseClient stream(notify->url(), "/v1/notifications/stream?last_event_id=0",
                   {{"Authorization", "Bearer " + provider.token}});
  EXPECT_EQ(stream.status, 200);
  bool rated_seen = false;
  for (int i = 0; i < 100 && !rated_seen; ++i) {
    auto event = stream.next_event(5000);
    if (!event) break;
    rated_seen = event->event == "exchange.rated";
  }
  EXPECT_TRUE(rated_seen);
  EXPECT_EQ(inbox_of(provider).post("/v1/notifications/read").status, 200);
  EXPECT_TRUE(inbox_of(provider).get("/v1/notifications?unread=true").json()["items"].empty());
}

// The policy an exchange's answers apply is read with the exchange, in the same statement: a
// policy changed in the directory is the one the next read and the next action answer with.
TEST_F(ExchangeSagaTest, an_exchange_is_answered_with_its_communitys_policy_as_it_is_now) {
  const std::string avesnois = world->create_community("Avesnois", {{"min_balance", 0},
                                                                    {"signup_bonus", 120},
                                                                    {"monthly_allowance", 0},
                                                                    {"proposal_days", 7},
                                                                    {"max_renewals", 2}});
  const std::string fourmies = world->create_site(avesnois, "Tiers-lieu de Fourmies", 50.01, 4.05);
  const MemberInfo owner = world->register_member(avesnois, "Mathilde", fourmies);
  const MemberInfo taker = world->register_member(avesnois, "Bastien", fourmies);
  ASSERT_TRUE(eventually([&] { return balance_of(taker).balance == 120; }, kSagaTimeoutMs));
  const std::string offer_id = offer(owner, 20);
  const auto created = propose(taker, {{"offer_id", offer_id}});
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id = created.json().value("id", "");
  const auto expires_after = [&](const Json& view) {
    return *parse_rfc3339_s(view.value("expires_at", "")) -
           *parse_rfc3339_s(view.value("proposed_at", ""));
  };
  const Json before = ex(taker).get("/v1/exchanges/" + id).json();
  EXPECT_EQ(expires_after(before), 7 * 86400) << before.dump();
  EXPECT_EQ(before["max_renewals"], 2);

  const auto patched = world->admin().patch(
      "/v1/communities/" + avesnois, {{"policy", {{"proposal_days", 3}, {"max_renewals", 4}}}});
  ASSERT_EQ(patched.status, 200) << patched.body;
  // The exchange service hears of it from the members stream.
  Json after;
  ASSERT_TRUE(eventually(
      [&] {
        after = ex(taker).get("/v1/exchanges/" + id).json();
        return after.value("max_renewals", 0) == 4;
      },
      kSagaTimeoutMs))
      << after.dump();
  EXPECT_EQ(expires_after(after), 3 * 86400) << after.dump();
  bool listed = false;
  const Json page = ex(owner).get("/v1/exchanges").json();
  for (const auto& item : page["items"]) {
    if (item.value("id", "") != id) continue;
    listed = true;
    EXPECT_EQ(expires_after(item), 3 * 86400) << item.dump();
    EXPECT_EQ(item["max_renewals"], 4);
  }
  EXPECT_TRUE(listed) << page.dump();
  // An action reads the exchange locked, and its policy with it.
  const auto declined = ex(owner).post("/v1/exchanges/" + id + "/decline");
  ASSERT_EQ(declined.status, 200) << declined.body;
  EXPECT_EQ(declined.json()["max_renewals"], 4) << declined.body;
}

TEST_F(ExchangeSagaTest, proposals_are_refused_for_own_unknown_or_missing_listings) {
  MemberInfo provider = member("Jeanne");
  const std::string offer_id = offer(provider, 10);
  auto own = propose(provider, {{"offer_id", offer_id}});
  EXPECT_EQ(own.status, 422) << own.body;
  EXPECT_EQ(own.json()["code"], "own-listing");
  EXPECT_EQ(ex(provider).wrong().post("/v1/exchanges", Json::object()).status, 400);
  EXPECT_EQ(ex(provider)
                .wrong()
                .post("/v1/exchanges", {{"offer_id", offer_id}, {"provider_id", provider.id}})
                .status,
            400);
  EXPECT_EQ(Client(exchange->url()).post("/v1/exchanges", {{"offer_id", offer_id}}).status, 401);
}

TEST_F(ExchangeSagaTest, published_exchange_events_match_their_schemas) {
  MemberInfo provider = member("Victor"), receiver = member("Nina");
  const std::string id = accepted_exchange(provider, receiver, 5);
  ex(receiver).post("/v1/exchanges/" + id + "/cancel");
  Redis redis(redis_url());
  std::vector<Json> events;
  std::set<std::string> types;
  ASSERT_TRUE(eventually([&] {
    events.clear();
    types.clear();
    auto entries = redis.command({"XRANGE", world->prefix + ":exchanges", "-", "+"});
    for (std::size_t i = 0; i < entries->elements; ++i) {
      events.push_back(Json::parse(reply_string(entries->element[i]->element[1]->element[1])));
      types.insert(events.back()["type"].get<std::string>());
    }
    return types.contains("exchange.abandoned");
  })) << Json(types).dump();
  JsonSchemaSet schemas(std::string(MAILLON_SOURCE_DIR) + "/schemas/events");
  for (const Json& event : events) {
    const std::string type = event["type"];
    auto violations = schemas.validate(type + ".schema.json", event);
    EXPECT_TRUE(violations.empty()) << type << ": " << violations.front() << "\n" << event.dump();
  }
}

}  // namespace
}  // namespace maillon::testing
