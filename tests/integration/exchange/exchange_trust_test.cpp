// Trust in the exchange saga, with the real members, offers, requests and ledger services: an
// exchange is completed only once the ledger posted its hold (and disputed, on the desk, when the
// hold went away under it); a party never judges its own dispute nor acts for its counterpart;
// disputes keep their reason and resolutions their note; pending members do not exchange; a
// member who leaves (suspended, erased) has their open exchanges cancelled by the system.
#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <pqxx/pqxx>
#include <set>

#include "harness.hpp"
#include "json_schema.hpp"
#include "listing_bodies.hpp"
#include "services/common/ids.hpp"
#include "services/common/redis.hpp"
#include "services/common/time.hpp"

namespace maillon::testing {
namespace {

constexpr int kTrustTimeoutMs = 15000;

using Balance = LedgerBalance;

class ExchangeTrustTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    world = new MembersWorld("exchange_trust", {{"MAILLON_LOGIN_RATE_PER_MIN", "100000"},
                                                {"MAILLON_LOGIN_BURST", "100000"},
                                                {"MAILLON_RATE_LIMIT", "10000"},
                                                {"MAILLON_RATE_BURST", "10000"}});
    community = world->create_community(
        "Métropole Européenne de Lille",
        {{"min_balance", 0}, {"signup_bonus", 120}, {"monthly_allowance", 0}});
    site = world->create_site(community, "Conciergerie de Fives", 50.6297, 3.0917, "conciergerie");
    offers = new ServiceProcess("offers", world->env());
    requests = new ServiceProcess("requests", world->env());
    ledger = new ServiceProcess("ledger", world->env());
    matching = new ServiceProcess("matching", world->env());  // its match_copy, for proposals
    // The exchange service reads its clock's offset here: the desk's "overdue" is about time.
    clock_path = "/tmp/maillon-exchange-trust-clock-" + unique_suffix();
    move_clock(0);
    auto exchange_env = world->env();
    exchange_env["MAILLON_CLOCK_OFFSET_FILE"] = clock_path;
    exchange = new ServiceProcess("exchange", exchange_env);
    for (auto* p : {offers, requests, ledger, matching, exchange}) p->start();
    staff = member("nadia");
    world->make_staff(site, staff.id);
    other_staff = member("bruno");
    world->make_staff(site, other_staff.id);
  }
  static void TearDownTestSuite() {
    for (auto* p : {exchange, matching, ledger, requests, offers}) delete p;
    delete world;
    std::remove(clock_path.c_str());
  }
  // A test that stops the ledger leaves it running for the next one, whatever happened.
  void TearDown() override {
    if (!ledger->alive()) ledger->start();
    move_clock(0);
  }
  static void move_clock(int64_t offset_s) { std::ofstream(clock_path) << offset_s; }

  static inline MembersWorld* world = nullptr;
  static inline ServiceProcess* offers = nullptr;
  static inline ServiceProcess* requests = nullptr;
  static inline ServiceProcess* ledger = nullptr;
  static inline ServiceProcess* matching = nullptr;
  static inline ServiceProcess* exchange = nullptr;
  static inline std::string community, site, clock_path;
  static inline MemberInfo staff, other_staff;

  // Builders ---------------------------------------------------------------------------------
  static MemberInfo member(const std::string& name) {
    MemberInfo m = world->register_member(community, name, site);
    EXPECT_TRUE(eventually([&] { return balance_of(m).balance == 120; }, kTrustTimeoutMs))
        << name << " never got the signup bonus";
    return m;
  }
  static Client ex(const MemberInfo& m) { return Client(exchange->url(), m.token); }

  static std::string offer(const MemberInfo& owner, int64_t price_minutes) {
    auto r =
        Client(offers->url(), owner.token).post("/v1/offers", service_offer(price_minutes, site));
    EXPECT_EQ(r.status, 201) << r.body;
    return r.json().value("id", "");
  }

  // A good given for `price_minutes`: its exchange reserves it, then closes it.
  static std::string gift(const MemberInfo& owner, int64_t price_minutes) {
    auto r = Client(offers->url(), owner.token).post("/v1/offers", gift_offer(price_minutes, site));
    EXPECT_EQ(r.status, 201) << r.body;
    return r.json().value("id", "");
  }

  static std::string offer_status(const MemberInfo& owner, const std::string& id) {
    return Client(offers->url(), owner.token).get("/v1/offers/" + id).json().value("status", "");
  }

  static HttpResult propose(const MemberInfo& who, const Json& body) {
    HttpResult r;
    eventually(
        [&] {
          r = ex(who).post("/v1/exchanges", body);
          return !(r.status == 422 && r.json().value("code", "") == "unknown-listing");
        },
        kTrustTimeoutMs);
    return r;
  }

  static Balance balance_of(const MemberInfo& m) {
    return ledger_balance(Client(ledger->url(), m.token), m.id);
  }

  static Json exchange_of(const MemberInfo& who, const std::string& id) {
    return ex(who).get("/v1/exchanges/" + id).json();
  }

  static bool state_becomes(const MemberInfo& who, const std::string& id,
                            const std::string& state) {
    return eventually([&] { return exchange_of(who, id).value("state", "") == state; },
                      kTrustTimeoutMs);
  }

  static std::string proposed_exchange(const MemberInfo& provider, const MemberInfo& receiver,
                                       int64_t minutes) {
    auto created = propose(receiver, {{"offer_id", offer(provider, minutes)}});
    EXPECT_EQ(created.status, 201) << created.body;
    return created.json().value("id", "");
  }

  // Proposed by the receiver on the provider's offer at the site, accepted, held.
  static std::string accepted_exchange(const MemberInfo& provider, const MemberInfo& receiver,
                                       int64_t minutes) {
    const std::string id = proposed_exchange(provider, receiver, minutes);
    EXPECT_EQ(ex(provider).post("/v1/exchanges/" + id + "/accept").status, 202);
    EXPECT_TRUE(state_becomes(provider, id, "accepted")) << exchange_of(provider, id).dump();
    return id;
  }

  static std::string disputed_exchange(const MemberInfo& provider, const MemberInfo& receiver,
                                       int64_t minutes) {
    const std::string id = accepted_exchange(provider, receiver, minutes);
    auto r = ex(receiver).post("/v1/exchanges/" + id + "/dispute");
    EXPECT_EQ(r.status, 200) << r.body;
    return id;
  }

  // An event written on one of the world's streams, as its owner's outbox relay writes it.
  static void publish(const std::string& stream, const std::string& type, const Json& data) {
    const Json envelope = {{"id", new_uuid()},
                           {"type", type},
                           {"version", 1},
                           {"occurred_at", format_rfc3339(std::time(nullptr))},
                           {"community_id", community},
                           {"data", data}};
    Redis redis(redis_url());
    auto r = redis.command({"XADD", world->prefix + ":" + stream, "*", "event", envelope.dump()});
    ASSERT_FALSE(is_error(r.get())) << reply_string(r.get());
  }

  static std::vector<Json> stream_events(const std::string& stream) {
    Redis redis(redis_url());
    std::vector<Json> events;
    auto entries = redis.command({"XRANGE", world->prefix + ":" + stream, "-", "+"});
    for (std::size_t i = 0; i < entries->elements; ++i) {
      events.push_back(Json::parse(reply_string(entries->element[i]->element[1]->element[1])));
    }
    return events;
  }

  static bool on_desk(const std::string& id, const char* section = "disputed") {
    const Json desk = ex(staff).get("/v1/sites/" + site + "/desk").json();
    for (const auto& e : desk.value(section, Json::array())) {
      if (e.value("id", "") == id) return true;
    }
    return false;
  }

  static std::string code_of(const HttpResult& r) { return r.json().value("code", ""); }
};

TEST_F(ExchangeTrustTest, an_exchange_is_completed_only_once_the_ledger_posted) {
  MemberInfo provider = member("Karim"), receiver = member("Lucie");
  const std::string id = accepted_exchange(provider, receiver, 60);
  ledger->terminate();  // the post waits on ledger.commands
  EXPECT_EQ(ex(provider).post("/v1/exchanges/" + id + "/complete").json()["state"], "accepted");
  auto second = ex(receiver).post("/v1/exchanges/" + id + "/complete");
  ASSERT_EQ(second.status, 200) << second.body;
  EXPECT_EQ(second.json()["state"], "completing");
  EXPECT_EQ(exchange_of(receiver, id)["state"], "completing");
  // Not rated, not cancelled, not disputed while the ledger has not answered.
  EXPECT_EQ(ex(receiver).post("/v1/exchanges/" + id + "/rating", {{"stars", 5}}).status, 409);
  EXPECT_EQ(ex(receiver).post("/v1/exchanges/" + id + "/cancel").status, 409);
  EXPECT_EQ(ex(receiver).post("/v1/exchanges/" + id + "/dispute").status, 409);

  ledger->start();
  ASSERT_TRUE(state_becomes(receiver, id, "completed")) << exchange_of(receiver, id).dump();
  // The state reads completed: the credits have moved already.
  EXPECT_EQ(balance_of(provider), (Balance{180, 0, 0, 180}));
  EXPECT_EQ(balance_of(receiver), (Balance{60, 0, 0, 60}));
  EXPECT_EQ(ex(receiver).post("/v1/exchanges/" + id + "/rating", {{"stars", 5}}).status, 201);
}

TEST_F(ExchangeTrustTest, a_posting_the_ledger_leaves_unanswered_shows_overdue_on_the_desk) {
  MemberInfo provider = member("Ines"), receiver = member("Hugo");
  const std::string id = accepted_exchange(provider, receiver, 30);
  ledger->terminate();  // the post waits on ledger.commands, unanswered
  ASSERT_EQ(ex(provider).post("/v1/exchanges/" + id + "/complete").status, 200);
  ASSERT_EQ(ex(receiver).post("/v1/exchanges/" + id + "/complete").json()["state"], "completing");
  EXPECT_FALSE(on_desk(id, "overdue"));  // a moment's wait is normal
  move_clock(16 * 60);
  EXPECT_TRUE(on_desk(id, "overdue")) << "a payment unanswered for 16 min must reach staff";
  move_clock(0);
  ledger->start();
  ASSERT_TRUE(state_becomes(receiver, id, "completed")) << exchange_of(receiver, id).dump();
  move_clock(16 * 60);
  EXPECT_FALSE(on_desk(id, "overdue"));
}

TEST_F(ExchangeTrustTest, a_hold_gone_under_a_completing_exchange_puts_it_on_the_desk) {
  MemberInfo provider = member("Sami"), receiver = member("Elodie");
  const std::string offer_id = gift(provider, 45);
  auto created = propose(receiver, {{"offer_id", offer_id}});
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id = created.json()["id"];
  ASSERT_EQ(ex(provider).post("/v1/exchanges/" + id + "/accept").status, 202);
  ASSERT_TRUE(state_becomes(provider, id, "accepted"));
  ASSERT_TRUE(eventually([&] { return offer_status(provider, offer_id) == "reserved"; }));
  const std::string transfer_id = exchange_of(provider, id)["transfer_id"];

  // The hold is voided out of the exchange's hands before its post reaches the ledger.
  ledger->terminate();
  publish("ledger.commands", "ledger.void",
          {{"transfer_id", transfer_id}, {"ref", "exchange:" + id}});
  ex(provider).post("/v1/exchanges/" + id + "/complete");
  EXPECT_EQ(ex(receiver).post("/v1/exchanges/" + id + "/complete").json()["state"], "completing");
  ledger->start();

  ASSERT_TRUE(state_becomes(receiver, id, "disputed")) << exchange_of(receiver, id).dump();
  const Json disputed = exchange_of(receiver, id);
  EXPECT_EQ(disputed["reason"], "ledger:voided");
  EXPECT_EQ(disputed["hold_lost"], true);
  EXPECT_TRUE(disputed["history"].back()["actor_id"].is_null());
  EXPECT_TRUE(on_desk(id));
  // Staff serving a member at the desk keep their own desk; the member never gets one.
  EXPECT_EQ(ex(other_staff).acting_for(receiver.id).get("/v1/sites/" + site + "/desk").status, 200);
  EXPECT_EQ(ex(receiver).get("/v1/sites/" + site + "/desk").status, 403);
  EXPECT_TRUE(eventually([&] { return balance_of(receiver) == Balance{120, 0, 0, 120}; }));
  EXPECT_EQ(balance_of(provider), (Balance{120, 0, 0, 120}));  // never paid for nothing

  // Nothing is left to post: staff close the case, and the offer is free again.
  auto post = ex(staff).post("/v1/exchanges/" + id + "/resolve", {{"outcome", "post"}});
  EXPECT_EQ(post.status, 409) << post.body;
  EXPECT_EQ(code_of(post), "hold-gone");
  auto voided = ex(staff).post("/v1/exchanges/" + id + "/resolve", {{"outcome", "void"}});
  ASSERT_EQ(voided.status, 200) << voided.body;
  EXPECT_EQ(voided.json()["state"], "resolved");
  EXPECT_TRUE(eventually([&] { return offer_status(provider, offer_id) == "active"; }));
  EXPECT_FALSE(on_desk(id));
}

TEST_F(ExchangeTrustTest, a_party_never_resolves_its_own_dispute_even_as_staff) {
  // nadia runs the desk and is the receiver of this exchange.
  MemberInfo provider = member("Hugo");
  const std::string offer_id = offer(provider, 30);
  auto created = propose(staff, {{"offer_id", offer_id}});
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id = created.json()["id"];
  ASSERT_EQ(ex(provider).post("/v1/exchanges/" + id + "/accept").status, 202);
  ASSERT_TRUE(state_becomes(provider, id, "accepted"));

  std::string too_long;
  for (int i = 0; i < 1001; ++i) too_long += "é";
  EXPECT_EQ(
      ex(staff).wrong().post("/v1/exchanges/" + id + "/dispute", {{"reason", too_long}}).status,
      400);
  EXPECT_EQ(ex(staff)
                .post("/v1/exchanges/" + id + "/dispute", {{"reason", std::string("a\0b", 3)}})
                .status,
            400);
  auto disputed =
      ex(staff).post("/v1/exchanges/" + id + "/dispute", {{"reason", "Le cours n'a pas eu lieu."}});
  ASSERT_EQ(disputed.status, 200) << disputed.body;
  EXPECT_EQ(disputed.json()["dispute_reason"], "Le cours n'a pas eu lieu.");
  EXPECT_EQ(disputed.json()["history"].back()["comment"], "Le cours n'a pas eu lieu.");

  // The party, as staff, for the other party, and another staff member for a party: refused.
  const Json post = {{"outcome", "post"}};
  for (const Client& judge : {ex(staff), ex(staff).acting_for(provider.id),
                              ex(other_staff).acting_for(provider.id), ex(provider)}) {
    auto r = judge.post("/v1/exchanges/" + id + "/resolve", post);
    EXPECT_EQ(r.status, 403) << r.body;
    EXPECT_EQ(code_of(r), "party-to-exchange") << r.body;
  }
  // Outcomes are named exactly; notes are bounded.
  for (const Json& bad :
       {Json{{"outcome", ""}}, Json{{"outcome", "POST"}}, Json{{"outcome", "pay"}},
        Json{{"outcome", 1}}, Json::object(), Json{{"outcome", "post"}, {"minutes", 10}},
        Json{{"outcome", "void"}, {"note", too_long}},
        Json{{"outcome", "void"}, {"note", std::string("x\0y", 3)}}}) {
    auto r = ex(other_staff).wrong().post("/v1/exchanges/" + id + "/resolve", bad);
    EXPECT_EQ(r.status, 400) << bad.dump() << " " << r.body;
  }
  EXPECT_EQ(exchange_of(provider, id)["state"], "disputed");

  auto resolved =
      ex(other_staff)
          .post("/v1/exchanges/" + id + "/resolve",
                {{"outcome", "void"}, {"note", "Cours annulé, vu avec les deux membres."}});
  ASSERT_EQ(resolved.status, 200) << resolved.body;
  const Json done = resolved.json();
  EXPECT_EQ(done["resolution"]["outcome"], "void");
  EXPECT_EQ(done["resolution"]["note"], "Cours annulé, vu avec les deux membres.");
  EXPECT_EQ(done["history"].back()["comment"], "Cours annulé, vu avec les deux membres.");
  EXPECT_EQ(done["history"].back()["actor_id"], other_staff.id);
  EXPECT_EQ(done["dispute_reason"], "Le cours n'a pas eu lieu.");
  EXPECT_TRUE(eventually([&] { return offer_status(provider, offer_id) == "active"; }));
  EXPECT_TRUE(eventually([&] { return balance_of(staff).pending_debit == 0; }));  // hold voided
}

TEST_F(ExchangeTrustTest, a_paid_resolution_closes_the_listing) {
  MemberInfo provider = member("Yanis"), receiver = member("Chloe");
  const std::string offer_id = gift(provider, 40);
  auto created = propose(receiver, {{"offer_id", offer_id}});
  const std::string id = created.json()["id"];
  ASSERT_EQ(ex(provider).post("/v1/exchanges/" + id + "/accept").status, 202);
  ASSERT_TRUE(state_becomes(provider, id, "accepted"));
  ASSERT_EQ(ex(provider).post("/v1/exchanges/" + id + "/dispute").status, 200);
  auto resolved = ex(staff).post("/v1/exchanges/" + id + "/resolve", {{"outcome", "post"}});
  ASSERT_EQ(resolved.status, 200) << resolved.body;
  EXPECT_TRUE(resolved.json()["resolution"]["note"].is_null());
  EXPECT_TRUE(eventually([&] { return offer_status(provider, offer_id) == "closed"; }));
  EXPECT_TRUE(eventually([&] { return balance_of(provider) == Balance{160, 0, 0, 160}; }));
}

TEST_F(ExchangeTrustTest, staff_who_are_a_party_never_act_for_their_counterpart) {
  // nadia offers; the receiver is a plain member of her site, whom she may otherwise serve.
  MemberInfo receiver = member("Fatima");
  const std::string id = proposed_exchange(staff, receiver, 20);
  ASSERT_EQ(ex(staff).post("/v1/exchanges/" + id + "/accept").status, 202);
  ASSERT_TRUE(state_becomes(staff, id, "accepted"));
  const Client for_receiver = ex(staff).acting_for(receiver.id);
  for (const char* action : {"complete", "cancel", "dispute"}) {
    auto r = for_receiver.post("/v1/exchanges/" + id + "/" + action);
    EXPECT_EQ(r.status, 403) << action << " " << r.body;
    EXPECT_EQ(code_of(r), "party-to-exchange") << action;
  }
  auto message = for_receiver.post("/v1/exchanges/" + id + "/messages", {{"body", "C'est fait."}});
  EXPECT_EQ(message.status, 403) << message.body;
  // Her own confirmation counts as the provider's, never as staff completing alone.
  auto own = ex(staff).post("/v1/exchanges/" + id + "/complete");
  ASSERT_EQ(own.status, 200) << own.body;
  EXPECT_EQ(own.json()["state"], "accepted");
  EXPECT_EQ(own.json()["confirmations"]["provider"], true);
  EXPECT_EQ(own.json()["confirmations"]["staff"], false);
  EXPECT_EQ(balance_of(staff).pending_credit, 20);
  // Another staff member may act for the receiver.
  auto helped = ex(other_staff).acting_for(receiver.id).post("/v1/exchanges/" + id + "/complete");
  ASSERT_EQ(helped.status, 200) << helped.body;
  EXPECT_TRUE(state_becomes(staff, id, "completed"));
}

TEST_F(ExchangeTrustTest, messages_refuse_a_nul_byte_with_a_clear_answer) {
  MemberInfo provider = member("Paul"), receiver = member("Zoe");
  const std::string id = proposed_exchange(provider, receiver, 10);
  auto r =
      ex(receiver).post("/v1/exchanges/" + id + "/messages", {{"body", std::string("a\0b", 3)}});
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(ex(receiver).post("/v1/exchanges/" + id + "/messages", {{"body", "Bonjour"}}).status,
            201);
  auto proposal = propose(
      receiver, {{"offer_id", offer(provider, 10)}, {"message", std::string("Mardi\0?", 7)}});
  EXPECT_EQ(proposal.status, 400) << proposal.body;
}

TEST_F(ExchangeTrustTest, a_transfer_borrowing_an_exchanges_id_is_never_taken_for_its_hold) {
  MemberInfo provider = member("Jeanne"), receiver = member("Louis"), other = member("Malik");
  const std::string id = proposed_exchange(provider, receiver, 30);
  // Someone else's hold under the id the exchange will use reaches the ledger just before the
  // exchange's own: its answer comes while the exchange waits for a hold.
  ledger->terminate();
  publish("ledger.commands", "ledger.hold",
          {{"transfer_id", "exchange:" + id + ":1"},
           {"from_member_id", other.id},
           {"to_member_id", provider.id},
           {"minutes", 30},
           {"kind", "exchange"},
           {"ref", "exchange:" + id}});
  ASSERT_EQ(ex(provider).post("/v1/exchanges/" + id + "/accept").json()["state"], "accepting");
  ledger->start();
  ASSERT_TRUE(eventually([&] { return balance_of(other).pending_debit == 30; }));
  // The ledger refuses the exchange's own hold under a taken id: back to proposed, never
  // accepted on the strength of someone else's credits.
  ASSERT_TRUE(state_becomes(provider, id, "proposed")) << exchange_of(provider, id).dump();
  const Json back = exchange_of(provider, id);
  EXPECT_EQ(back["reason"], "exists-with-different-body");
  for (const auto& h : back["history"]) EXPECT_NE(h["state"], "accepted");
  EXPECT_EQ(balance_of(receiver), (Balance{120, 0, 0, 120}));
}

TEST_F(ExchangeTrustTest, a_suspended_member_s_open_exchanges_are_cancelled_by_the_system) {
  MemberInfo leaving = member("Marc"), p1 = member("Ines"), p2 = member("Omar"), p3 = member("Lea");
  const std::string proposed = proposed_exchange(p1, leaving, 15);
  const std::string offer_id = offer(p2, 25);
  auto created = propose(leaving, {{"offer_id", offer_id}});
  const std::string accepted = created.json()["id"];
  ASSERT_EQ(ex(p2).post("/v1/exchanges/" + accepted + "/accept").status, 202);
  ASSERT_TRUE(state_becomes(p2, accepted, "accepted"));
  const std::string handed_over = disputed_exchange(p3, leaving, 30);
  ASSERT_TRUE(eventually([&] { return balance_of(leaving) == Balance{120, 55, 0, 65}; }));

  publish("members", "member.suspended",
          {{"member_id", leaving.id}, {"community_id", community}, {"reason", "Incivilités"}});

  for (const auto& [id, party] : {std::pair{proposed, p1}, std::pair{accepted, p2}}) {
    ASSERT_TRUE(state_becomes(party, id, "cancelled")) << exchange_of(party, id).dump();
    const Json cancelled = exchange_of(party, id);
    EXPECT_EQ(cancelled["reason"], "member-suspended");
    EXPECT_TRUE(cancelled["history"].back()["actor_id"].is_null());
  }
  EXPECT_EQ(exchange_of(p3, handed_over)["state"], "disputed");  // handed over: staff decide
  EXPECT_TRUE(eventually([&] {
    return balance_of(leaving) == Balance{120, 30, 0, 90};
  })) << balance_of(leaving);
  EXPECT_TRUE(eventually([&] { return offer_status(p2, offer_id) == "active"; }));
  std::set<std::string> cancelled_by;
  for (const Json& e : stream_events("exchanges")) {
    if (e["type"] == "exchange.cancelled" &&
        (e["data"]["exchange_id"] == proposed || e["data"]["exchange_id"] == accepted)) {
      cancelled_by.insert(e["data"].value("cancelled_by", ""));
    }
  }
  EXPECT_EQ(cancelled_by, std::set<std::string>{"system"});
}

TEST_F(ExchangeTrustTest, an_erased_member_is_ancien_membre_in_others_conversations) {
  MemberInfo leaving = member("Victor"), provider = member("Nina");
  const std::string id = proposed_exchange(provider, leaving, 10);
  ASSERT_EQ(ex(leaving).post("/v1/exchanges/" + id + "/messages", {{"body", "Mardi ?"}}).status,
            201);
  ASSERT_EQ(ex(provider).post("/v1/exchanges/" + id + "/messages", {{"body", "D'accord"}}).status,
            201);

  publish("members", "member.erased",
          {{"member_id", leaving.id},
           {"community_id", community},
           {"pseudonym", "membre-" + leaving.id.substr(0, 8)}});

  ASSERT_TRUE(state_becomes(provider, id, "cancelled"));
  EXPECT_EQ(exchange_of(provider, id)["reason"], "member-erased");
  const Json messages = ex(provider).get("/v1/exchanges/" + id + "/messages").json();
  ASSERT_EQ(messages["items"].size(), 2u);
  EXPECT_EQ(messages["items"][0]["author_name"], "ancien membre");
  EXPECT_EQ(messages["items"][0]["body"], "Mardi ?");
  EXPECT_TRUE(messages["items"][1]["author_name"].is_null());
}

TEST_F(ExchangeTrustTest, a_pending_member_neither_proposes_nor_accepts) {
  const std::string approval = world->create_community(
      "Tiers-lieu sur adhésion",
      {{"min_balance", 0}, {"signup_bonus", 0}, {"membership", "approval"}});
  const std::string approval_site = world->create_site(approval, "La Fabrique", 50.63, 3.06);
  MemberInfo newcomer = world->register_member(approval, "Anouk", approval_site);
  MemberInfo owner = world->register_member(approval, "Rose", approval_site);
  auto approved = world->admin().post("/v1/members/" + owner.id + "/approve");
  ASSERT_EQ(approved.status, 200) << approved.body;
  // The newcomer may post a listing but not exchange on someone else's.
  Json body = {
      {"kind", "service"},       {"mode", "service"},      {"category", "aide-aux-devoirs"},
      {"title", "Couture"},      {"duration_minutes", 60}, {"price_minutes", 0},
      {"site_id", approval_site}};
  // The offers service learns of the new site from its event: until then, "lieu inconnu" (400).
  HttpResult own;
  ASSERT_TRUE(eventually(
      [&] {
        own = Client(offers->url(), newcomer.token).post("/v1/offers", body);
        return own.status != 400;
      },
      kTrustTimeoutMs));
  ASSERT_EQ(own.status, 201) << own.body;
  auto theirs = Client(offers->url(), owner.token).post("/v1/offers", body);
  ASSERT_EQ(theirs.status, 201) << theirs.body;
  auto proposal = propose(newcomer, {{"offer_id", theirs.json()["id"]}});
  EXPECT_EQ(proposal.status, 403) << proposal.body;
  EXPECT_EQ(code_of(proposal), "membership-pending");
  // Someone proposes on the newcomer's offer: the newcomer cannot accept it yet.
  auto offered = propose(owner, {{"offer_id", own.json()["id"]}});
  ASSERT_EQ(offered.status, 201) << offered.body;
  const std::string id = offered.json()["id"];
  auto accept = ex(newcomer).post("/v1/exchanges/" + id + "/accept");
  EXPECT_EQ(accept.status, 403) << accept.body;
  EXPECT_EQ(code_of(accept), "membership-pending");
  EXPECT_EQ(exchange_of(owner, id)["state"], "proposed");
}

// A consumer may read a listing's events out of order (entries of a killed consumer, claimed
// after newer ones were applied): the exchange's copy keeps the newest revision.
TEST_F(ExchangeTrustTest, a_listing_event_read_late_never_replaces_a_newer_state) {
  MemberInfo owner = member("Odile"), taker = member("Paul");
  const std::string kept = gift(owner, 10), closed = gift(owner, 10);
  auto patched =
      Client(offers->url(), owner.token).patch("/v1/offers/" + kept, {{"title", "Perceuse"}});
  ASSERT_EQ(patched.status, 200) << patched.body;
  auto updated_on_stream = [&] {
    for (const Json& e : stream_events("offers")) {
      if (e.value("type", "") == "offer.updated" && e["data"].value("id", "") == kept)
        return e["data"].value("revision", -1) == 1;
    }
    return false;
  };
  ASSERT_TRUE(eventually(updated_on_stream)) << "the change is revision 1, on the stream";
  auto closing = [&](const std::string& id, int64_t revision) {
    return Json{{"id", id},           {"side", "offer"},     {"member_id", owner.id},
                {"reason", "closed"}, {"acted_by", nullptr}, {"revision", revision}};
  };
  publish("offers", "offer.closed", closing(kept, 0));  // older than the change before it
  publish("offers", "offer.closed", closing(closed, 2));
  auto code = [&](const std::string& id) {
    return propose(taker, {{"offer_id", id}}).json().value("code", "");
  };
  ASSERT_TRUE(eventually([&] { return code(closed) == "listing-unavailable"; }))
      << "the newer closing, read after the older one, applies";
  auto proposed = propose(taker, {{"offer_id", kept}});
  EXPECT_EQ(proposed.status, 201) << "the older closing changed the copy: " << proposed.body;
}

// A listing the exchange has not heard of is read from its owner (listing_copy) with its revision:
// an event older than that lookup, read after it, changes nothing. The listings are written
// straight into the offers schema, so that no event announces them and only the lookup can know.
TEST_F(ExchangeTrustTest, a_listing_looked_up_from_its_owner_keeps_its_revision) {
  MemberInfo owner = member("Lucie"), taker = member("Marc"), other_taker = member("Noah");
  auto unannounced = [&](int64_t revision) {
    const std::string id = new_uuid();
    pqxx::connection conn(world->database);
    pqxx::work tx(conn);
    tx.exec_params(
        "INSERT INTO offers.listings (id, member_id, community_id, kind, mode, category, title, "
        "position_lat, position_lon, grid_lat, grid_lon, reach_km, price_minutes, status, "
        "revision) VALUES ($1, $2, $3, 'good', 'give', 'perceuses', 'Perceuse', 50.63, 3.07, "
        "50.63, 3.07, 5, 10, 'active', $4)",
        id, owner.id, community, revision);
    tx.commit();
    return id;
  };
  const std::string kept = unannounced(5), closed = unannounced(5);
  for (const std::string& id : {kept, closed}) {
    auto proposed = ex(taker).post("/v1/exchanges", {{"offer_id", id}});
    ASSERT_EQ(proposed.status, 201) << "looked up from offers: " << proposed.body;
  }
  auto closing = [&](const std::string& id, int64_t revision) {
    return Json{{"id", id},           {"side", "offer"},     {"member_id", owner.id},
                {"reason", "closed"}, {"acted_by", nullptr}, {"revision", revision}};
  };
  publish("offers", "offer.closed", closing(kept, 4));  // older than the revision looked up
  publish("offers", "offer.closed", closing(closed, 6));
  auto code = [&](const std::string& id) {
    return ex(other_taker).post("/v1/exchanges", {{"offer_id", id}}).json().value("code", "");
  };
  ASSERT_TRUE(eventually([&] { return code(closed) == "listing-unavailable"; }))
      << "the newer closing, read after the older one, applies";
  auto proposed = ex(other_taker).post("/v1/exchanges", {{"offer_id", kept}});
  EXPECT_EQ(proposed.status, 201) << "the older closing changed the looked-up copy: "
                                  << proposed.body;
}

// A match the exchange has not heard of is read from matching (match_copy): a member proposes on
// a match the moment it shows among their matches, before the exchange (or the replica that
// answers) has read its event. The match and its two listings are written straight into their
// owners' schemas, so that no event announces them and only the lookups can know.
TEST_F(ExchangeTrustTest, a_match_not_announced_yet_is_looked_up_from_matching) {
  MemberInfo giver = member("Samia"), taker = member("Hugo"), outsider = member("Ines");
  const std::string offer_id = new_uuid(), request_id = new_uuid(), match_id = new_uuid();
  {
    pqxx::connection conn(world->database);
    pqxx::work tx(conn);
    for (const char* side : {"offers", "requests"}) {
      const bool offer = std::string(side) == "offers";
      tx.exec_params(std::string("INSERT INTO ") + side +
                         ".listings (id, member_id, community_id, kind, mode, category, title, "
                         "position_lat, position_lon, grid_lat, grid_lon, reach_km, "
                         "price_minutes, status) VALUES ($1, $2, $3, 'good', 'give', "
                         "'perceuses', 'Perceuse', 50.63, 3.07, 50.63, 3.07, 5, 10, 'active')",
                     offer ? offer_id : request_id, offer ? giver.id : taker.id, community);
    }
    tx.exec_params(
        "INSERT INTO matching.matches (id, community_id, offer_id, request_id, offer_member_id, "
        "request_member_id, score, distance_m) VALUES ($1, $2, $3, $4, $5, $6, 0.9, 120)",
        match_id, community, offer_id, request_id, giver.id, taker.id);
    tx.commit();
  }
  auto unknown = ex(taker).post("/v1/exchanges", {{"match_id", new_uuid()}});
  EXPECT_EQ(unknown.status, 422) << unknown.body;
  EXPECT_EQ(unknown.json().value("code", ""), "unknown-match");
  auto stranger = ex(outsider).post("/v1/exchanges", {{"match_id", match_id}});
  EXPECT_EQ(stranger.status, 403) << "only a party opens on a match: " << stranger.body;
  auto proposed = ex(taker).post("/v1/exchanges", {{"match_id", match_id}});
  ASSERT_EQ(proposed.status, 201) << "looked up from matching: " << proposed.body;
  EXPECT_EQ(proposed.json()["provider_id"], giver.id);
  EXPECT_EQ(proposed.json()["receiver_id"], taker.id);
  pqxx::connection conn(world->database);
  pqxx::work tx(conn);
  EXPECT_EQ(tx.exec_params("SELECT count(*) FROM exchange.matches WHERE id = $1", match_id)[0][0]
                .as<int>(),
            1)
      << "kept as the exchange's copy";
}

TEST_F(ExchangeTrustTest, published_events_match_their_schemas) {
  MemberInfo provider = member("Amandine"), receiver = member("Bilal");
  const std::string completed = accepted_exchange(provider, receiver, 5);
  ex(provider).post("/v1/exchanges/" + completed + "/complete");
  ex(receiver).post("/v1/exchanges/" + completed + "/complete");
  const std::string resolved = accepted_exchange(provider, receiver, 5);
  ex(receiver).post("/v1/exchanges/" + resolved + "/dispute", {{"reason", "Pas venu"}});
  ex(staff).post("/v1/exchanges/" + resolved + "/resolve", {{"outcome", "void"}, {"note", "Vu"}});
  const std::string cancelled = accepted_exchange(provider, receiver, 5);
  ex(provider).post("/v1/exchanges/" + cancelled + "/cancel");
  ASSERT_TRUE(state_becomes(provider, completed, "completed"));

  JsonSchemaSet schemas(std::string(MAILLON_SOURCE_DIR) + "/schemas/events");
  const std::set<std::string> wanted = {"exchange.completing", "exchange.completed",
                                        "exchange.disputed",   "exchange.resolved",
                                        "exchange.cancelled",  "exchange.abandoned"};
  std::set<std::string> types;
  ASSERT_TRUE(eventually([&] {
    types.clear();
    for (const Json& event : stream_events("exchanges")) {
      const std::string id = event["data"].value("exchange_id", "");
      if (id == completed || id == resolved || id == cancelled) types.insert(event["type"]);
    }
    return std::includes(types.begin(), types.end(), wanted.begin(), wanted.end());
  })) << Json(types).dump();
  for (const Json& event : stream_events("exchanges")) {
    const std::string type = event["type"];
    auto violations = schemas.validate(type + ".schema.json", event);
    EXPECT_TRUE(violations.empty()) << type << ": " << violations.front() << "\n" << event.dump();
  }
}

}  // namespace
}  // namespace maillon::testing
