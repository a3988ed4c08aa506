// The notify service against real PostgreSQL, Redis and SMTP (Debian's aiosmtpd writing a
// Maildir): a match two streets away reaches both members in the app and by mail; the mail's
// unsubscribe link stops that kind; a reminder is told once however often its job runs; and a
// notify killed -9 while a thousand notifications flow puts each in the inbox once and mails each
// once (no Message-ID twice in the Maildir). The relay down for a minute: notify_outage_test.cpp;
// the daily digests: notify_digest_test.cpp.
#include <gtest/gtest.h>

#include <atomic>
#include <ctime>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <pqxx/pqxx>
#include <set>
#include <string>
#include <thread>

#include "notify/notify_world.hpp"
#include "services/common/ids.hpp"
#include "services/common/redis.hpp"
#include "services/common/time.hpp"
#include "services/notify/notify_service.hpp"

namespace maillon::testing {
namespace {

class NotifyTest : public NotifyFixture {};

TEST_F(NotifyTest, a_match_two_streets_away_reaches_both_members_in_the_app_and_by_mail) {
  const MemberInfo seeker = verified_member("Salome"), lender = verified_member("Lucas");
  const std::string request_id =
      post(requests, "/v1/requests", seeker, listing("Cherche une perceuse", 50.6900, 3.1700));
  const std::string offer_id =
      post(offers, "/v1/offers", lender, listing("Perceuse à percussion", 50.6915, 3.1720));

  // In the app, on both sides, with the bucketed distance.
  Json seen;
  ASSERT_TRUE(eventually(
      [&] {
        seen = notifications_of(seeker, "match.proposed");
        return !seen.empty() && !notifications_of(lender, "match.proposed").empty();
      },
      kMailTimeoutMs));
  EXPECT_EQ(seen[0]["data"]["offer_id"], offer_id);
  EXPECT_EQ(seen[0]["data"]["request_id"], request_id);
  EXPECT_EQ(seen[0]["data"]["distance_m"].get<int64_t>() % 100, 0);

  // By mail, on both sides: French text and HTML, the kind, a link, RFC 8058 unsubscribe.
  const auto to_seeker = wait_mails(seeker.email, "match.new", 1);
  const auto to_lender = wait_mails(lender.email, "match.new", 1);
  ASSERT_EQ(to_seeker.size(), 1u);
  ASSERT_EQ(to_lender.size(), 1u);
  const CaughtMail& mail = to_seeker.front();
  EXPECT_FALSE(mail.header("Message-ID").empty());
  EXPECT_NE(mail.header("Message-ID"), to_lender.front().header("Message-ID"));
  EXPECT_NE(
      mail.header("List-Unsubscribe").find(std::string(kPublicUrl) + "/v1/unsubscribe?token="),
      std::string::npos);
  EXPECT_EQ(mail.header("List-Unsubscribe-Post"), "List-Unsubscribe=One-Click");
  EXPECT_NE(mail.header("Content-Type").find("multipart/alternative"), std::string::npos);
  EXPECT_NE(mail.raw.find("text/html"), std::string::npos);
  EXPECT_NE(mail.raw.find("Perceuse à percussion"), std::string::npos);
  EXPECT_NE(mail.raw.find("/annonces/offre/" + offer_id), std::string::npos);
  EXPECT_NE(mail.raw.find("Tiers-lieu de l'Alma"), std::string::npos);
}

// A notice told before the member's address is verified (or before notify has read it: the
// members stream and the matches stream are read apart) is not lost: in the app at once, by mail
// once the address is verified, and never to an address still unverified.
TEST_F(NotifyTest, a_match_told_before_the_address_is_verified_is_mailed_once_it_is) {
  const MemberInfo lender = verified_member("Anouk");
  const MemberInfo seeker = world->register_member(community, "Maxence", site);
  post(requests, "/v1/requests", seeker, listing("Cherche une ponceuse", 50.7450, 3.2650));
  post(offers, "/v1/offers", lender, listing("Ponceuse orbitale", 50.7460, 3.2665));
  ASSERT_TRUE(eventually([&] { return !notifications_of(seeker, "match.proposed").empty(); },
                         kMailTimeoutMs));
  // The lender's mail went: notify decided both sides (one transaction per match).
  ASSERT_EQ(wait_mails(lender.email, "match.new", 1).size(), 1u);
  EXPECT_TRUE(smtp->mails(seeker.email, "match.new").empty());

  // The member follows the verification link: the mail that waited goes, once.
  std::optional<CaughtMail> verify;
  ASSERT_TRUE(eventually(
      [&] {
        auto all = smtp->mails(seeker.email, "account.verify");
        if (!all.empty()) verify = all.front();
        return verify.has_value();
      },
      kMailTimeoutMs, 50));
  const std::string token = verify->token_for(kPublicUrl, "/verifier");
  ASSERT_EQ(Client(world->members->url()).post("/v1/auth/verify", {{"token", token}}).status, 200);
  const auto mails = wait_mails(seeker.email, "match.new", 1);
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_NE(mails[0].raw.find("Ponceuse orbitale"), std::string::npos);
  EXPECT_FALSE(mails[0].header("List-Unsubscribe").empty());
  // Nothing waits any more (taken in the transaction that queued the mail), so nothing goes twice.
  pqxx::connection c(world->database);
  pqxx::nontransaction tx(c);
  EXPECT_EQ(
      tx.exec_params1("SELECT count(*) FROM notify.mails_awaiting_address WHERE member_id = $1",
                      seeker.id)[0]
          .as<int>(),
      0);
  EXPECT_EQ(smtp->mails(seeker.email, "match.new").size(), 1u);
}

// The members stream and the matches stream are read apart, each event in its own transaction:
// a notice for a member whose verified address is being written at that very moment (its
// transaction not committed yet) must neither wait forever for an address already taken care
// of, nor miss the address that comes just after it waited; nor wait once the member is erased.
// Both orders of each, run in-process on the notify schema with two transactions held open at the
// moment that matters.
TEST_F(NotifyTest, a_notice_told_while_the_address_is_being_verified_is_mailed_in_either_order) {
  const auto open = [&](pqxx::connection& c) {
    auto tx = std::make_unique<pqxx::work>(c);
    tx->exec("SET LOCAL search_path TO notify, public");
    return tx;
  };
  const auto notice_for = [](const std::string& member_id) {
    notify::Notice n;
    n.cause = "event:" + new_uuid();
    n.member_id = member_id;
    n.type = "match.proposed";
    n.kind = "match.new";
    n.data = {{"distance_m", 300}};
    n.subject = "Une perceuse à environ 300 m";
    n.paragraphs = {"Une perceuse est proposée à environ 300 m de chez vous."};
    n.link_path = "/annonces/offre/" + new_uuid();
    return n;
  };
  const auto verify_contact = [](pqxx::work& tx, const std::string& member_id,
                                 const std::string& email) {
    notify::repo::upsert_contact(tx, member_id, std::nullopt, email, true, "Léna",
                                 "2026-12-07T10:00:00Z");
    notify::release_awaiting_mails(tx, member_id, std::time(nullptr));
  };
  pqxx::connection watcher(world->database);
  // Whether the backend `pid` waits for a lock (the other transaction's).
  const auto waiting = [&](int pid) {
    pqxx::nontransaction tx(watcher);
    return tx.exec_params1(
                 "SELECT count(*) FROM pg_stat_activity WHERE pid = $1 "
                 "AND wait_event_type = 'Lock'",
                 pid)[0]
               .as<int>() == 1;
  };
  // `first` runs and stays open; `second` runs on another connection meanwhile; then `first`
  // commits, and `second` once it is done. Whether `second` waited for `first`.
  const auto race = [&](const std::function<void(pqxx::work&)>& first,
                        const std::function<void(pqxx::work&)>& second) {
    pqxx::connection a(world->database), b(world->database);
    auto first_tx = open(a);
    first(*first_tx);
    std::atomic<bool> second_done = false;
    std::thread other([&] {
      auto second_tx = open(b);
      second(*second_tx);
      second_tx->commit();
      second_done = true;
    });
    // The second waits for the first, or (were there nothing to wait for) is done already.
    bool waited = false;
    EXPECT_TRUE(eventually(
        [&] {
          waited = waiting(b.backendpid());
          return waited || second_done.load();
        },
        kMailTimeoutMs));
    first_tx->commit();
    other.join();
    return waited;
  };
  const auto awaiting = [&](const std::string& member_id) {
    pqxx::nontransaction tx(watcher);
    return tx
        .exec_params1(
            "SELECT count(*) FROM notify.mails_awaiting_address "
            "WHERE member_id = $1",
            member_id)[0]
        .as<int>();
  };

  // The address is being verified when the notice is told: the notice is mailed to it.
  const std::string early = new_uuid(), early_email = "lena-" + unique_suffix() + "@example.org";
  notify::Told told;
  EXPECT_TRUE(race(
      [&](pqxx::work& tx) { verify_contact(tx, early, early_email); },
      [&](pqxx::work& tx) { told = notify::tell(tx, notice_for(early), std::time(nullptr)); }));
  EXPECT_TRUE(told.inbox);
  EXPECT_TRUE(told.mail);
  EXPECT_EQ(awaiting(early), 0);
  EXPECT_EQ(wait_mails(early_email, "match.new", 1).size(), 1u);

  // The notice waits when the address is verified: the contact takes it and mails it.
  const std::string late = new_uuid(), late_email = "lena-" + unique_suffix() + "@example.org";
  EXPECT_TRUE(
      race([&](pqxx::work& tx) { told = notify::tell(tx, notice_for(late), std::time(nullptr)); },
           [&](pqxx::work& tx) { verify_contact(tx, late, late_email); }));
  EXPECT_TRUE(told.inbox);
  EXPECT_FALSE(told.mail);  // it waited
  EXPECT_EQ(awaiting(late), 0);
  EXPECT_EQ(wait_mails(late_email, "match.new", 1).size(), 1u);

  // Two notices for a member whose address is still to come never wait for each other: both
  // wait for the address.
  const std::string pending = new_uuid();
  EXPECT_FALSE(race(
      [&](pqxx::work& tx) { told = notify::tell(tx, notice_for(pending), std::time(nullptr)); },
      [&](pqxx::work& tx) { notify::tell(tx, notice_for(pending), std::time(nullptr)); }));
  EXPECT_EQ(awaiting(pending), 2);

  // A member erased while a notice for them is told: nothing of the notice waits, whichever
  // commits first (the address they gave was still unverified).
  for (const bool erased_first : {false, true}) {
    const std::string leaving = new_uuid();
    {
      pqxx::connection c(world->database);
      auto tx = open(c);
      notify::repo::upsert_contact(*tx, leaving, std::nullopt,
                                   "lena-" + unique_suffix() + "@example.org", false, "Léna",
                                   "2026-12-07T10:00:00Z");
      tx->commit();
    }
    const auto erase = [&](pqxx::work& tx) { notify::repo::erase_recipient(tx, leaving); };
    const auto tell = [&](pqxx::work& tx) {
      notify::tell(tx, notice_for(leaving), std::time(nullptr));
    };
    EXPECT_TRUE(erased_first ? race(erase, tell) : race(tell, erase));
    EXPECT_EQ(awaiting(leaving), 0) << (erased_first ? "erased first" : "told first");
  }
}

TEST_F(NotifyTest, a_members_contacts_read_out_of_order_keep_the_newest) {
  // Two replicas read the members stream: the verification's contact can be applied before the
  // registration's (address not verified yet), which must not undo it.
  const std::string member_id = new_uuid();
  auto contact = [&](const std::string& id, bool verified, const std::string& at) {
    return Json{{"id", new_uuid()},
                {"type", "member.contact"},
                {"version", 1},
                {"occurred_at", at},
                {"community_id", community},
                {"data",
                 {{"member_id", id},
                  {"email", "ordre." + id.substr(0, 8) + "@test.maillon"},
                  {"email_verified", verified},
                  {"display_name", "Ordre"}}}};
  };
  Redis redis(redis_url());
  auto publish = [&](const Json& event) {
    redis.command({"XADD", world->prefix + ":members", "*", "event", event.dump()});
  };
  publish(contact(member_id, true, "2026-12-06T10:00:01.000000Z"));
  publish(contact(member_id, false, "2026-12-06T10:00:00.500000Z"));
  // A last one, read after both: once it is there, the two before were applied.
  const std::string marker = new_uuid();
  publish(contact(marker, false, "2026-12-06T10:00:02.000000Z"));
  pqxx::connection conn(world->database);
  auto verified_of = [&](const std::string& id) -> std::optional<bool> {
    pqxx::nontransaction tx(conn);
    const auto r = tx.exec_params(
        "SELECT email_verified FROM notify.recipients WHERE member_id = $1::uuid", id);
    if (r.empty()) return std::nullopt;
    return r[0][0].as<bool>();
  };
  ASSERT_TRUE(eventually([&] { return verified_of(marker).has_value(); }, kMailTimeoutMs));
  EXPECT_EQ(verified_of(member_id), std::optional<bool>(true));
}

TEST_F(NotifyTest, the_mails_unsubscribe_link_stops_that_kind_of_mail_only) {
  const MemberInfo seeker = verified_member("Ines"), lender = verified_member("Noe");
  post(requests, "/v1/requests", seeker, listing("Cherche perceuse", 50.3800, 3.1800));
  post(offers, "/v1/offers", lender, listing("Perceuse sans fil", 50.3810, 3.1810));
  const auto first = wait_mails(seeker.email, "match.new", 1);
  ASSERT_EQ(first.size(), 1u);

  // The one-click POST of a mail client (RFC 8058): no login, the token is the key.
  const std::string token = unsubscribe_token(first.front());
  ASSERT_FALSE(token.empty()) << first.front().header("List-Unsubscribe");
  auto r = Client(notify->url()).post("/v1/unsubscribe?token=" + token);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json()["kind"], "match.new");
  const Json prefs = inbox(seeker).get("/v1/me/preferences").json();
  EXPECT_EQ(prefs["kinds"]["match.new"]["email"], "off");
  EXPECT_EQ(prefs["kinds"]["match.new"]["in_app"], true);
  EXPECT_EQ(prefs["kinds"]["exchange.update"]["email"], "instant");
  EXPECT_EQ(Client(notify->url()).wrong().get("/v1/unsubscribe?token=nope").status, 404);

  // A second match: the lender is mailed (the sign that it was decided), the seeker is not, but
  // still sees it in the app.
  post(offers, "/v1/offers", lender, listing("Perceuse visseuse", 50.3805, 3.1805));
  ASSERT_EQ(wait_mails(lender.email, "match.new", 2).size(), 2u);
  ASSERT_TRUE(eventually([&] { return notifications_of(seeker, "match.proposed").size() == 2; },
                         kMailTimeoutMs));
  EXPECT_EQ(smtp->mails(seeker.email, "match.new").size(), 1u);
}

TEST_F(NotifyTest, preferences_keep_what_the_member_chose_and_refuse_unknown_kinds) {
  const MemberInfo m = world->register_member(community, "Pauline", site);
  const Json defaults = inbox(m).get("/v1/me/preferences").json();
  EXPECT_EQ(defaults["kinds"]["desk.digest"]["email"], "digest");
  EXPECT_EQ(defaults["kinds"]["exchange.message"]["email"], "instant");
  EXPECT_GE(defaults["kinds"].size(), 9u);  // the contract's kinds (its schema checks which)
  auto r =
      Client(notify->url(), m.token)
          .call("PUT", "/v1/me/preferences",
                Json{{"kinds", {{"exchange.message", {{"in_app", false}, {"email", "digest"}}}}}}
                    .dump());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json()["kinds"]["exchange.message"]["email"], "digest");
  EXPECT_EQ(inbox(m).get("/v1/me/preferences").json()["kinds"]["exchange.message"]["in_app"],
            false);
  const auto refused = Client(notify->url(), m.token)
                           .wrong()
                           .call("PUT", "/v1/me/preferences",
                                 Json{{"kinds", {{"weather", {{"email", "off"}}}}}}.dump());
  EXPECT_EQ(refused.status, 400);
  EXPECT_EQ(Client(notify->url()).get("/v1/me/preferences").status, 401);
}

TEST_F(NotifyTest, a_reservation_about_to_lapse_is_told_once_however_often_the_job_runs) {
  const MemberInfo desk = world->register_member(community, "Equipe", site);
  world->make_staff(site, desk.id);
  const MemberInfo resident = verified_member("Rayan");
  std::string item_id;
  ASSERT_TRUE(eventually(
      [&] {  // once the depot has heard of the site
        auto r = Client(depot->url(), desk.token)
                     .post("/v1/sites/" + site + "/items", {{"category", "perceuses"},
                                                            {"title", "Perceuse de l'atelier"},
                                                            {"condition", "good"},
                                                            {"weight_g", 2500},
                                                            {"mode", "give"}});
        item_id = r.status == 201 ? r.json().value("id", "") : "";
        return !item_id.empty();
      },
      kMailTimeoutMs));
  HttpResult reserved;
  ASSERT_TRUE(eventually(
      [&] {  // once the depot has heard of the resident
        reserved = Client(depot->url(), resident.token).post("/v1/items/" + item_id + "/reserve");
        return reserved.status == 200;
      },
      kMailTimeoutMs))
      << reserved.body;
  const int64_t until_s =
      parse_rfc3339_s(reserved.json()["reserved_until"].get<std::string>()).value();

  // Notify's clock an hour before the end of the reservation (within its 3 h warning); the
  // job goes round many times there.
  ASSERT_TRUE(eventually(
      [&] {
        std::ofstream(clock_path) << (until_s - 3600 - static_cast<int64_t>(std::time(nullptr)));
        return !notifications_of(resident, "reservation.expiring").empty();
      },
      kMailTimeoutMs));
  const int64_t runs = job_runs(notify->url(), "notify-reservations-expiring");
  ASSERT_TRUE(eventually(
      [&] { return job_runs(notify->url(), "notify-reservations-expiring") >= runs + 10; },
      kMailTimeoutMs));
  EXPECT_EQ(notifications_of(resident, "reservation.expiring").size(), 1u);
  ASSERT_EQ(wait_mails(resident.email, "reservation.expiring", 1).size(), 1u);
  EXPECT_EQ(smtp->mails(resident.email, "reservation.expiring").size(), 1u);
  std::ofstream(clock_path) << 0;
}

TEST_F(NotifyTest, a_loan_due_tomorrow_is_reminded_once_however_often_the_job_runs) {
  constexpr int64_t kHour = 3600, kDay = 24 * kHour;
  const MemberInfo owner = verified_member("Basile"), borrower = verified_member("Camille");
  Json offer = listing("Perceuse à prêter", 50.2000, 3.2000);
  offer.erase("reach_km");
  const std::string offer_id = post(offers, "/v1/offers", owner, offer);
  const int64_t now = static_cast<int64_t>(std::time(nullptr));
  const std::string due_at = format_rfc3339(now + 2 * kDay);
  const Json body = {
      {"offer_id", offer_id}, {"starts_at", format_rfc3339(now + kHour)}, {"due_at", due_at}};
  const Client as_owner(exchange->url(), owner.token), as_borrower(exchange->url(), borrower.token);
  std::string id;
  HttpResult created;
  ASSERT_TRUE(eventually(
      [&] {  // once the exchange service has heard of the offer and the ledger of the borrower
        created = as_borrower.post("/v1/exchanges", body);
        id = created.status == 201 ? created.json().value("id", "") : "";
        return !id.empty();
      },
      kMailTimeoutMs))
      << created.body;
  const std::string path = "/v1/exchanges/" + id;
  auto accepted = as_owner.post(path + "/accept");
  ASSERT_EQ(accepted.status, 202) << accepted.body;
  ASSERT_TRUE(eventually([&] { return as_owner.get(path).json().value("state", "") == "accepted"; },
                         kMailTimeoutMs))
      << as_owner.get(path).body;
  ASSERT_EQ(as_borrower.post(path + "/handover").status, 200);
  ASSERT_EQ(as_owner.post(path + "/handover").status, 200);
  ASSERT_TRUE(
      eventually([&] { return as_owner.get(path).json().value("state", "") == "handed_over"; },
                 kMailTimeoutMs))
      << as_owner.get(path).body;

  // Two days ahead: the job goes round without a word.
  ASSERT_TRUE(job_goes_round("notify-loans-due", 3));
  EXPECT_TRUE(notifications_of(borrower, "loan.reminder").empty());

  // Notify's clock the day before, twelve hours ahead of the due date; the job goes round many
  // times there.
  const int64_t due_s = parse_rfc3339_s(due_at).value();
  ASSERT_TRUE(eventually(
      [&] {
        std::ofstream(clock_path) << (due_s - 12 * kHour -
                                      static_cast<int64_t>(std::time(nullptr)));
        return !notifications_of(borrower, "loan.reminder").empty();
      },
      kMailTimeoutMs));
  const int64_t runs = job_runs(notify->url(), "notify-loans-due");
  ASSERT_TRUE(eventually([&] { return job_runs(notify->url(), "notify-loans-due") >= runs + 10; },
                         kMailTimeoutMs));
  const Json told = notifications_of(borrower, "loan.reminder");
  ASSERT_EQ(told.size(), 1u) << told.dump();
  EXPECT_EQ(told[0]["data"]["exchange_id"], id);
  EXPECT_TRUE(notifications_of(owner, "loan.reminder").empty());
  ASSERT_EQ(wait_mails(borrower.email, "loan.reminder", 1).size(), 1u);
  EXPECT_EQ(smtp->mails(borrower.email, "loan.reminder").size(), 1u);
  EXPECT_TRUE(smtp->mails(owner.email, "loan.reminder").empty());
  std::ofstream(clock_path) << 0;
}

TEST_F(NotifyTest, a_depot_loan_due_tomorrow_is_reminded_once_however_often_the_jobs_run) {
  const MemberInfo desk = world->register_member(community, "Comptoir", site);
  world->make_staff(site, desk.id);
  const MemberInfo borrower = verified_member("Agathe");
  const Client as_desk(depot->url(), desk.token);
  std::string item_id;
  ASSERT_TRUE(eventually(
      [&] {  // once the depot has heard of the site
        auto r = as_desk.post("/v1/sites/" + site + "/items", {{"category", "perceuses"},
                                                               {"title", "Scie sauteuse"},
                                                               {"condition", "good"},
                                                               {"weight_g", 2000},
                                                               {"mode", "lend"}});
        item_id = r.status == 201 ? r.json().value("id", "") : "";
        return !item_id.empty();
      },
      kMailTimeoutMs));
  // Due in twenty hours: the depot's day-before notice is due at once.
  const std::string due_at = format_rfc3339(static_cast<int64_t>(std::time(nullptr)) + 20 * 3600);
  HttpResult lent;
  ASSERT_TRUE(eventually(
      [&] {  // once the depot has heard of the borrower
        lent = as_desk.post("/v1/items/" + item_id + "/lend",
                            {{"member_id", borrower.id}, {"due_at", due_at}});
        return lent.status == 200;
      },
      kMailTimeoutMs))
      << lent.status << " " << lent.body;

  ASSERT_TRUE(eventually([&] { return !notifications_of(borrower, "loan.reminder").empty(); },
                         kMailTimeoutMs));
  const int64_t depot_runs = job_runs(depot->url(), "depot-loan-notices");
  const int64_t notify_runs = job_runs(notify->url(), "notify-loans-due");
  ASSERT_TRUE(eventually(
      [&] {
        return job_runs(depot->url(), "depot-loan-notices") >= depot_runs + 10 &&
               job_runs(notify->url(), "notify-loans-due") >= notify_runs + 10;
      },
      kMailTimeoutMs));
  EXPECT_EQ(notifications_of(borrower, "loan.reminder").size(), 1u);
  ASSERT_EQ(wait_mails(borrower.email, "loan.reminder", 1).size(), 1u);
  EXPECT_EQ(smtp->mails(borrower.email, "loan.reminder").size(), 1u);
}

TEST_F(NotifyTest, notify_killed_while_a_thousand_notifications_flow_tells_each_once) {
  constexpr int kMessages = 1000;
  const MemberInfo provider = verified_member("Odette"), receiver = verified_member("Remi");
  const std::string offer_id = post(offers, "/v1/offers", provider, service_offer(30, site));
  std::string exchange_id;
  ASSERT_TRUE(eventually(
      [&] {
        auto r =
            Client(exchange->url(), receiver.token).post("/v1/exchanges", {{"offer_id", offer_id}});
        exchange_id = r.status == 201 ? r.json().value("id", "") : "";
        return !exchange_id.empty();
      },
      kMailTimeoutMs));

  std::thread writer([&] {
    const Client as_receiver(exchange->url(), receiver.token);
    for (int i = 0; i < kMessages; ++i) {
      auto r = as_receiver.post("/v1/exchanges/" + exchange_id + "/messages",
                                {{"body", "Message numéro " + std::to_string(i)}});
      EXPECT_EQ(r.status, 201) << r.body;
    }
  });
  // Killed mid-flow: after some notifications and mails, before the last ones.
  eventually([&] { return smtp->mails(provider.email, "exchange.message").size() >= 150; },
             kMailTimeoutMs, 20);
  const std::string killed_log = notify->log_path();
  notify->kill9();
  delete notify;
  notify = new ServiceProcess("notify", notify_env());
  notify->start();
  writer.join();

  // Every message once in the inbox.
  std::set<std::string> notification_ids;
  ASSERT_TRUE(eventually(
      [&] {
        notification_ids.clear();
        std::string cursor;
        int seen = 0;
        for (int page = 0; page < 30; ++page) {
          auto r = inbox(provider).get("/v1/notifications?limit=100" +
                                       (cursor.empty() ? "" : "&cursor=" + cursor));
          if (r.status != 200) return false;
          const Json body = r.json();
          for (const auto& n : body["items"]) {
            if (n["type"] != "exchange.message") continue;
            ++seen;
            notification_ids.insert(n["id"].get<std::string>());
          }
          if (body["next_cursor"].is_null()) break;
          cursor = body["next_cursor"].get<std::string>();
        }
        return seen >= kMessages;
      },
      120'000, 200));
  EXPECT_EQ(notification_ids.size(), static_cast<std::size_t>(kMessages));

  // Every mail once: as many mails as messages, no Message-ID twice. A thousand mails through
  // one SMTP catcher take their time on a loaded machine (961 had come after 30 s in one run of
  // script/test): as long as the inbox may take.
  const auto mails = wait_mails(provider.email, "exchange.message", kMessages, 120'000);
  std::map<std::string, int> by_id;
  for (const auto& m : mails) ++by_id[m.header("Message-ID")];
  if (by_id.size() < static_cast<std::size_t>(kMessages)) {
    // What became of the queued mails that never came: taken as sent (the kill landed between
    // the stamp and the final dot), waiting for a later try, or still claimed.
    // A Message-ID reads <queue id@sender's domain>.
    std::set<std::string> came;
    for (const auto& [header, count] : by_id) came.insert(header.substr(1, header.find('@') - 1));
    pqxx::connection c(world->database);
    pqxx::nontransaction tx(c);
    for (const auto& row : tx.exec_params(
             "SELECT message_id, state, attempts, sent_at::text, next_attempt_at::text, "
             "COALESCE(last_error, '') FROM notify.mail_queue WHERE recipient = $1 AND kind = "
             "'exchange.message'",
             provider.email)) {
      const std::string message_id = row[0].as<std::string>();
      if (came.count(message_id) != 0) continue;
      ADD_FAILURE() << "mail " << message_id << " never came: state " << row[1].c_str()
                    << ", attempts " << row[2].c_str() << ", sent_at " << row[3].c_str()
                    << ", next_attempt_at " << row[4].c_str() << ", last error '" << row[5].c_str()
                    << "' (notify's logs: " << killed_log << ", then " << notify->log_path() << ")";
    }
  }
  EXPECT_EQ(by_id.size(), static_cast<std::size_t>(kMessages));
  for (const auto& [id, count] : by_id) EXPECT_EQ(count, 1) << "Message-ID " << id << " twice";
}

}  // namespace
}  // namespace maillon::testing
