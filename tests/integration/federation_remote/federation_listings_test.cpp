// Listings that cross between two installations on one machine (issue 23): a listing of the
// north's community with visibility federation or public reaches the south's searches through
// the ledgers' signed link (listing.publish, listing.withdraw), with its area on the privacy grid
// only; a community listing never leaves; an edit, a close, a suspension and a resumption reach
// the other side; a copy cannot be changed where it is shown; a partner cannot pass off a
// listing as another community's or overwrite one of ours.
#include <pqxx/pqxx>

#include "federation_remote_world.hpp"
#include "listing_bodies.hpp"
#include "services/common/signing.hpp"
#include "services/common/time.hpp"

namespace maillon::testing {
namespace {

constexpr int kCrossMs = 30'000;
constexpr double kLat = 50.63;
constexpr double kLon = 3.07;

// An installation with its listing services: offers and requests beside its ledger.
struct ListingInstallation {
  explicit ListingInstallation(const std::string& label, const TestClock& clock)
      : side(label, clock, 2),
        offers(std::make_unique<ServiceProcess>("offers", side.world.env())),
        requests(std::make_unique<ServiceProcess>("requests", side.world.env())),
        exchange(std::make_unique<ServiceProcess>("exchange", side.world.env())),
        matching(std::make_unique<ServiceProcess>("matching", side.world.env())) {
    offers->start();
    requests->start();
    exchange->start();
    matching->start();
  }
  Client offers_as(int member) const { return Client(offers->url(), side.members[member].token); }
  Client requests_as(int member) const {
    return Client(requests->url(), side.members[member].token);
  }

  Installation side;
  std::unique_ptr<ServiceProcess> offers;
  std::unique_ptr<ServiceProcess> requests;
  std::unique_ptr<ServiceProcess> exchange;
  std::unique_ptr<ServiceProcess> matching;
};

class FederationListings : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    clock_ = new TestClock();
    north_ = new ListingInstallation("nord", *clock_);
    south_ = new ListingInstallation("sud", *clock_);
    link_id_ = agree(north_->side, south_->side, 500, 100);
  }
  static void TearDownTestSuite() {
    delete south_;
    delete north_;
    delete clock_;
  }
  static ListingInstallation& north() { return *north_; }
  static ListingInstallation& south() { return *south_; }

  // A listing of the north's first member, near the shared point: its id.
  static std::string north_offer(Json body, const std::string& visibility) {
    body["visibility"] = visibility;
    body["location"] = {{"lat", kLat + 0.001}, {"lon", kLon + 0.001}};
    const HttpResult r = north().offers_as(0).post("/v1/offers", body);
    EXPECT_EQ(r.status, 201) << r.body;
    return r.json().value("id", "");
  }

  // The items of a search near the shared point, as the south's first member, by id.
  static std::map<std::string, Json> found(const Client& client, const std::string& side) {
    const HttpResult r = client.get("/v1/" + side + "?near=" + std::to_string(kLat) + "," +
                                    std::to_string(kLon) + "&radius_km=5");
    std::map<std::string, Json> out;
    if (r.status != 200) return out;
    const Json page = r.json();
    for (const auto& item : page["items"]) out[item.value("id", "")] = item;
    return out;
  }
  static std::map<std::string, Json> south_offers() {
    return found(south().offers_as(0), "offers");
  }

  static bool south_sees(const std::string& id) { return south_offers().count(id) > 0; }

  // A listing.publish (or `type`) the north's key signs, sent straight to the south's ledger.
  static HttpResult publish_as_north(const Json& listing,
                                     const std::string& type = "listing.publish") {
    return signed_message(north(), south(), listing, type);
  }
  // A message `from` signs, sent straight to `to`'s ledger.
  static HttpResult signed_message(ListingInstallation& from, ListingInstallation& to,
                                   const Json& payload, const std::string& type) {
    const auto secret = base64_decode(from.side.secret_key_base64());
    const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count() +
                        static_cast<int64_t>(clock_->offset_s());
    const std::string body = Json{
        {"id", new_uuid()},
        {"link_id", link_id_},
        {"from_community_id", from.side.community},
        {"to_community_id", to.side.community},
        {"type", type},
        {"sent_at", format_rfc3339(now)},
        {"payload", payload}}.dump();
    return http_request(to.side.ledger->url(), "POST", "/federation/v1/messages", body,
                        {{"Maillon-Signature", signature_header(body, *secret)}});
  }
  // A listing as the north's ledger sends one, for the forged messages.
  static Json listing_payload(const std::string& id, const std::string& community_id) {
    return {{"id", id},
            {"side", "offer"},
            {"member_id", north().side.members[0].id},
            {"community_id", community_id},
            {"kind", "good"},
            {"mode", "give"},
            {"category", "perceuses"},
            {"title", "Perceuse imposteur"},
            {"description", ""},
            {"tags", Json::array()},
            {"grid", {{"lat", kLat}, {"lon", kLon}}},
            {"reach_km", 5},
            {"price_minutes", 0},
            {"visibility", "federation"},
            {"created_at", "2026-12-01T10:00:00Z"},
            {"revision", 1000}};
  }

  // The exchange service of an installation, as one of its members.
  static Client exchange_as(ListingInstallation& at, int member) {
    return Client(at.exchange->url(), at.side.members[member].token);
  }
  static int64_t balance_of(ListingInstallation& at, int member) {
    const MemberInfo& m = at.side.members[member];
    return ledger_balance(at.side.as(m), m.id).balance;
  }
  // The exchange's state as `member` of `at` sees it ("" while it cannot see it).
  static std::string state_at(ListingInstallation& at, int member, const std::string& id) {
    const HttpResult r = exchange_as(at, member).get("/v1/exchanges/" + id);
    return r.status == 200 ? r.json().value("state", "") : std::string();
  }
  static bool state_becomes(ListingInstallation& at, int member, const std::string& id,
                            const std::string& state) {
    return eventually([&] { return state_at(at, member, id) == state; }, kCrossMs);
  }
  // Both ledgers sum to zero with nothing held, and the clearing accounts mirror each other.
  static void expect_books_agree() {
    EXPECT_EQ(north().side.sum_balances(), 0);
    EXPECT_EQ(south().side.sum_balances(), 0);
    EXPECT_TRUE(eventually(
        [] { return north().side.pending_sum() == 0 && south().side.pending_sum() == 0; },
        kCrossMs));
    EXPECT_EQ(north().side.clearing_balance(south().side.community),
              -south().side.clearing_balance(north().side.community));
  }

  static inline TestClock* clock_ = nullptr;
  static inline ListingInstallation* north_ = nullptr;
  static inline ListingInstallation* south_ = nullptr;
  static inline std::string link_id_;
};

TEST_F(FederationListings, a_federation_listing_reaches_the_partner_installations_search) {
  const std::string shared = north_offer(gift_offer(0), "federation");
  const std::string kept = north_offer(service_offer(30), "community");
  ASSERT_TRUE(eventually([&] { return south_sees(shared); }, kCrossMs)) << shared;
  const Json copy = south_offers()[shared];
  // Where it lives, and where it is: the grid's area only, never the owner's exact spot.
  EXPECT_EQ(copy.value("partner_url", ""), north().side.ledger->url()) << copy.dump();
  EXPECT_EQ(copy.value("community_id", ""), north().side.community);
  EXPECT_EQ(copy.value("title", ""), "Perceuse à donner");
  EXPECT_EQ(copy.value("visibility", ""), "federation");
  EXPECT_FALSE(copy.contains("location")) << copy.dump();
  EXPECT_NE(copy["area"].value("lat", 0.0), kLat + 0.001);
  // The same listing, read by id; a community listing is neither found nor readable.
  const HttpResult read = south().offers_as(0).get("/v1/offers/" + shared);
  ASSERT_EQ(read.status, 200) << read.body;
  EXPECT_EQ(read.json().value("partner_url", ""), north().side.ledger->url());
  EXPECT_EQ(south().offers_as(0).get("/v1/offers/" + kept).status, 404);
  EXPECT_FALSE(south_sees(kept));
  // Its own installation shows it as its own (no partner_url).
  const HttpResult home = north().offers_as(1).get("/v1/offers/" + shared);
  ASSERT_EQ(home.status, 200) << home.body;
  EXPECT_FALSE(home.json().contains("partner_url"));
  // The copy is read here, never changed here: it lives at the north.
  EXPECT_EQ(south().offers_as(0).patch("/v1/offers/" + shared, {{"title", "Volée"}}).status, 404);
  EXPECT_EQ(north()
                .side
                .query("SELECT count(*) FROM offers.listings WHERE id = $1 AND "
                       "partner_url IS NOT NULL",
                       shared)[0][0]
                .as<int>(),
            0);
  // At the south, the copy keeps no exact location.
  const auto row = south().side.query(
      "SELECT lat IS NULL, position_lat = grid_lat FROM offers.listings WHERE id = $1", shared);
  ASSERT_EQ(row.size(), 1u);
  EXPECT_TRUE(row[0][0].as<bool>());
  EXPECT_TRUE(row[0][1].as<bool>());
}

TEST_F(FederationListings, an_edit_and_a_close_reach_the_partner_and_a_public_request_crosses) {
  const std::string id = north_offer(service_offer(20), "public");
  ASSERT_TRUE(eventually([&] { return south_sees(id); }, kCrossMs));
  ASSERT_EQ(north().offers_as(0).patch("/v1/offers/" + id, {{"title", "Cours de vélo"}}).status,
            200);
  EXPECT_TRUE(eventually([&] { return south_offers()[id].value("title", "") == "Cours de vélo"; },
                         kCrossMs));
  // Back to its community: withdrawn over there.
  ASSERT_EQ(north().offers_as(0).patch("/v1/offers/" + id, {{"visibility", "community"}}).status,
            200);
  EXPECT_TRUE(eventually([&] { return !south_sees(id); }, kCrossMs));
  EXPECT_EQ(south().offers_as(0).get("/v1/offers/" + id).status, 404);
  // Crossing again, then closed at home: gone over there too.
  ASSERT_EQ(north().offers_as(0).patch("/v1/offers/" + id, {{"visibility", "federation"}}).status,
            200);
  ASSERT_TRUE(eventually([&] { return south_sees(id); }, kCrossMs));
  // Paused: withdrawn, and back when active again.
  ASSERT_EQ(north().offers_as(0).patch("/v1/offers/" + id, {{"status", "paused"}}).status, 200);
  EXPECT_TRUE(eventually([&] { return !south_sees(id); }, kCrossMs));
  ASSERT_EQ(north().offers_as(0).patch("/v1/offers/" + id, {{"status", "active"}}).status, 200);
  ASSERT_TRUE(eventually([&] { return south_sees(id); }, kCrossMs));
  ASSERT_EQ(north().offers_as(0).del("/v1/offers/" + id).status, 204);
  EXPECT_TRUE(eventually([&] { return !south_sees(id); }, kCrossMs));

  // A request crosses the same way, into the partner's requests.
  Json wanted = {{"kind", "good"},
                 {"mode", "lend"},
                 {"category", "perceuses"},
                 {"title", "Cherche une perceuse"},
                 {"price_minutes", 10},
                 {"visibility", "public"},
                 {"location", {{"lat", kLat}, {"lon", kLon}}}};
  const HttpResult r = north().requests_as(1).post("/v1/requests", wanted);
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string request_id = r.json().value("id", "");
  EXPECT_TRUE(eventually(
      [&] { return found(south().requests_as(1), "requests").count(request_id) > 0; }, kCrossMs));
  EXPECT_EQ(found(south().offers_as(1), "offers").count(request_id), 0u);
}

TEST_F(FederationListings, a_suspended_link_hides_the_partners_listings_until_resumed) {
  const std::string id = north_offer(gift_offer(0), "federation");
  ASSERT_TRUE(eventually([&] { return south_sees(id); }, kCrossMs));
  const std::string path = "/v1/federation/links/" + link_id_;
  ASSERT_EQ(south().side.admin().post(path + "/suspend").status, 200);
  EXPECT_TRUE(eventually([&] { return !south_sees(id); }, kCrossMs));
  EXPECT_EQ(south().offers_as(0).get("/v1/offers/" + id).status, 404);
  // Listed while suspended: told once the link is active again.
  const std::string later = north_offer(service_offer(15), "federation");
  ASSERT_EQ(south().side.admin().post(path + "/resume").status, 200);
  EXPECT_TRUE(eventually([&] { return south_sees(id) && south_sees(later); }, kCrossMs));
}

TEST_F(FederationListings, a_partner_cannot_pass_off_or_overwrite_listings_that_are_not_its_own) {
  // One of the south's own listings, and one crossing from the north.
  const HttpResult own = south().offers_as(1).post("/v1/offers", gift_offer(0));
  ASSERT_EQ(own.status, 201) << own.body;
  const std::string own_id = own.json().value("id", "");
  // A listing said to be of the south's own community: refused, nothing written.
  const HttpResult posing = publish_as_north(listing_payload(new_uuid(), south().side.community));
  ASSERT_EQ(posing.status, 200) << posing.body;
  EXPECT_EQ(posing.json().value("status", ""), "refused") << posing.body;
  // A listing said to be owned by one of the south's members: refused (it would pass as theirs).
  Json impostor = listing_payload(new_uuid(), north().side.community);
  impostor["member_id"] = south().side.members[0].id;
  const HttpResult as_ours = publish_as_north(impostor);
  ASSERT_EQ(as_ours.status, 200) << as_ours.body;
  EXPECT_EQ(as_ours.json().value("status", ""), "refused") << as_ours.body;
  // A listing with the id of one of the south's: answered, but the south's stays as it was.
  const HttpResult overwrite = publish_as_north(listing_payload(own_id, north().side.community));
  ASSERT_EQ(overwrite.status, 200) << overwrite.body;
  // A well-formed one of the north's is kept: once it shows, the one above has been applied too.
  const std::string genuine = new_uuid();
  ASSERT_EQ(publish_as_north(listing_payload(genuine, north().side.community)).status, 200);
  ASSERT_TRUE(eventually([&] { return south_sees(genuine); }, kCrossMs));
  const HttpResult mine = south().offers_as(1).get("/v1/offers/" + own_id);
  ASSERT_EQ(mine.status, 200) << mine.body;
  EXPECT_EQ(mine.json().value("title", ""), "Perceuse à donner");
  EXPECT_FALSE(mine.json().contains("partner_url"));
  EXPECT_EQ(mine.json().value("community_id", ""), south().side.community);
  // Out of bounds (a title too long, an exact point passed off as the grid's is snapped): refused
  // or snapped, never stored as sent.
  Json too_long = listing_payload(new_uuid(), north().side.community);
  too_long["title"] = std::string(200, 'x');
  const HttpResult refused = publish_as_north(too_long);
  ASSERT_EQ(refused.status, 200) << refused.body;
  EXPECT_EQ(refused.json().value("status", ""), "refused");
  Json precise = listing_payload(new_uuid(), north().side.community);
  precise["grid"] = {{"lat", 50.6312345}, {"lon", 3.0712345}};
  ASSERT_EQ(publish_as_north(precise).status, 200);
  ASSERT_TRUE(eventually([&] { return south_sees(precise["id"].get<std::string>()); }, kCrossMs));
  const auto stored = south().side.query("SELECT grid_lat::text FROM offers.listings WHERE id = $1",
                                         precise["id"].get<std::string>());
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_NE(std::string(stored[0][0].c_str()), "50.6312345");
}

// The partner's messages arrive, or are applied, out of order: the newest revision wins, and a
// withdrawal read before an older publication keeps the copy closed.
TEST_F(FederationListings, an_older_publication_after_a_withdrawal_changes_nothing) {
  const std::string id = new_uuid();
  Json listing = listing_payload(id, north().side.community);
  listing["revision"] = 21;
  ASSERT_EQ(publish_as_north(listing, "listing.withdraw").json().value("status", ""), "received");
  listing["revision"] = 20;
  ASSERT_EQ(publish_as_north(listing).json().value("status", ""), "received");
  // A later listing of the north's, published after both: once it shows, both were applied.
  const std::string later = new_uuid();
  ASSERT_EQ(publish_as_north(listing_payload(later, north().side.community)).status, 200);
  ASSERT_TRUE(eventually([&] { return south_sees(later); }, kCrossMs));
  EXPECT_FALSE(south_sees(id));
  // A newer publication shows it; an older withdrawal does not take it away.
  listing["revision"] = 22;
  ASSERT_EQ(publish_as_north(listing).json().value("status", ""), "received");
  ASSERT_TRUE(eventually([&] { return south_sees(id); }, kCrossMs));
  listing["revision"] = 19;
  ASSERT_EQ(publish_as_north(listing, "listing.withdraw").json().value("status", ""), "received");
  listing["revision"] = 23;
  listing["title"] = "Perceuse revue";
  ASSERT_EQ(publish_as_north(listing).json().value("status", ""), "received");
  EXPECT_TRUE(eventually([&] { return south_offers()[id].value("title", "") == "Perceuse revue"; },
                         kCrossMs));
}

// An exchange on a partner installation's offer (issue 23): it lives at the south, where its
// receiver proposed it on the copy; the owner sees a mirror of it at the north and acts there;
// each action crosses signed through the ledgers, and the payment is held on both sides until
// both confirmed, then posted on both.
TEST_F(FederationListings, a_service_across_installations_is_accepted_there_and_paid_across) {
  Json body = service_offer(30);
  body["title"] = "Aide au jardin";
  body["visibility"] = "federation";
  body["location"] = {{"lat", kLat + 0.001}, {"lon", kLon + 0.001}};
  const HttpResult posted = north().offers_as(1).post("/v1/offers", body);
  ASSERT_EQ(posted.status, 201) << posted.body;
  const std::string offer = posted.json()["id"];
  ASSERT_TRUE(eventually([&] { return south_sees(offer); }, kCrossMs));
  const int64_t provider_before = balance_of(north(), 1), receiver_before = balance_of(south(), 1);

  const HttpResult proposed = exchange_as(south(), 1).post("/v1/exchanges", {{"offer_id", offer}});
  ASSERT_EQ(proposed.status, 201) << proposed.body;
  const Json exchange = proposed.json();
  const std::string id = exchange["id"], path = "/v1/exchanges/" + id;
  EXPECT_EQ(exchange.value("partner_url", ""), north().side.ledger->url());
  EXPECT_EQ(exchange.value("provider_id", ""), north().side.members[1].id);
  EXPECT_EQ(exchange.value("community_id", ""), north().side.community);
  EXPECT_EQ(exchange.value("partner_community_id", ""), south().side.community);

  // The owner's mirror, at the north: the same exchange, pointing at where it lives.
  ASSERT_TRUE(state_becomes(north(), 1, id, "proposed"));
  const Json mirror = exchange_as(north(), 1).get(path).json();
  EXPECT_EQ(mirror.value("partner_url", ""), south().side.ledger->url()) << mirror.dump();
  EXPECT_EQ(mirror.value("receiver_id", ""), south().side.members[1].id);
  EXPECT_EQ(mirror.value("minutes", 0), 30);
  // Nobody else at the north sees it; a message or a rating is not taken across.
  EXPECT_EQ(exchange_as(north(), 0).get(path).status, 404);
  const HttpResult message =
      exchange_as(north(), 1).post(path + "/messages", {{"body", "Bonjour !"}});
  EXPECT_EQ(message.status, 422) << message.body;
  EXPECT_EQ(message.json().value("code", ""), "partner-exchange");
  // What the mirror's state refuses is refused at once (no confirmation before the accept).
  EXPECT_EQ(exchange_as(north(), 1).post(path + "/complete").status, 409);

  // Accepted from the north: sent to the south, which holds the payment on both sides.
  const HttpResult accepted = exchange_as(north(), 1).post(path + "/accept");
  ASSERT_EQ(accepted.status, 202) << accepted.body;
  ASSERT_TRUE(state_becomes(south(), 1, id, "accepted")) << state_at(south(), 1, id);
  ASSERT_TRUE(state_becomes(north(), 1, id, "accepted")) << state_at(north(), 1, id);
  EXPECT_EQ(balance_of(south(), 1), receiver_before);  // held, not paid
  EXPECT_EQ(balance_of(north(), 1), provider_before);

  // A dispute nobody here could resolve is not opened across.
  const HttpResult dispute =
      exchange_as(south(), 1).post(path + "/dispute", {{"reason", "Pas venu"}});
  EXPECT_EQ(dispute.status, 422) << dispute.body;
  EXPECT_EQ(dispute.json().value("code", ""), "partner-exchange");
  ASSERT_EQ(exchange_as(south(), 1).post(path + "/complete").status, 200);
  const HttpResult confirmed = exchange_as(north(), 1).post(path + "/complete");
  ASSERT_EQ(confirmed.status, 202) << confirmed.body;
  ASSERT_TRUE(state_becomes(south(), 1, id, "completed")) << state_at(south(), 1, id);
  ASSERT_TRUE(state_becomes(north(), 1, id, "completed")) << state_at(north(), 1, id);
  EXPECT_TRUE(eventually([&] { return balance_of(north(), 1) == provider_before + 30; }, kCrossMs))
      << balance_of(north(), 1);
  EXPECT_EQ(balance_of(south(), 1), receiver_before - 30);
  expect_books_agree();
  // The mirror keeps both confirmations, as the exchange has them.
  const Json done = exchange_as(north(), 1).get(path).json();
  EXPECT_TRUE(done["confirmations"].value("provider", false)) << done.dump();
  EXPECT_TRUE(done["confirmations"].value("receiver", false)) << done.dump();
}

// A loan with its deposit, across: the owner's ledger is down while the accept is on its way and
// comes back; the object is handed over and returned, each side confirming where it is; the
// loan's cost is paid across and the deposit released on both sides.
TEST_F(FederationListings, a_loan_across_installations_survives_its_owners_ledger_going_down) {
  Json body = {{"kind", "good"},
               {"mode", "lend"},
               {"category", "perceuses"},
               {"title", "Perceuse à prêter"},
               {"deposit_minutes", 20},
               {"visibility", "public"},
               {"location", {{"lat", kLat + 0.001}, {"lon", kLon + 0.001}}}};
  const HttpResult posted = north().offers_as(1).post("/v1/offers", body);
  ASSERT_EQ(posted.status, 201) << posted.body;
  const std::string offer = posted.json()["id"];
  ASSERT_TRUE(eventually([&] { return south_sees(offer); }, kCrossMs));
  const int64_t owner_before = balance_of(north(), 1), borrower_before = balance_of(south(), 1);
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  const HttpResult proposed =
      exchange_as(south(), 1)
          .post("/v1/exchanges", {{"offer_id", offer},
                                  {"starts_at", format_rfc3339(now + 3600)},
                                  {"due_at", format_rfc3339(now + 3 * 86400)}});
  ASSERT_EQ(proposed.status, 201) << proposed.body;
  const std::string id = proposed.json()["id"], path = "/v1/exchanges/" + id;
  const int64_t cost = proposed.json()["minutes"];
  ASSERT_TRUE(state_becomes(north(), 1, id, "proposed"));

  north().side.ledger->kill9();  // the accept waits on ledger.commands for the ledger
  const int accept_status = exchange_as(north(), 1).post(path + "/accept").status;
  north().side.ledger->start();
  ASSERT_EQ(accept_status, 202);
  ASSERT_TRUE(state_becomes(south(), 1, id, "accepted")) << state_at(south(), 1, id);
  // The deposit held reaches the owner's mirror as a later state than the accept: until then a
  // handover there is refused as deposit-pending, as it would be over there.
  for (ListingInstallation* side : {&south(), &north()}) {
    ASSERT_TRUE(eventually(
        [&] { return exchange_as(*side, 1).get(path).json().value("deposit_state", "") == "held"; },
        kCrossMs));
  }
  ASSERT_TRUE(state_becomes(north(), 1, id, "accepted"));

  ASSERT_EQ(exchange_as(south(), 1).post(path + "/handover").status, 200);
  ASSERT_EQ(exchange_as(north(), 1).post(path + "/handover").status, 202);
  ASSERT_TRUE(state_becomes(south(), 1, id, "handed_over")) << state_at(south(), 1, id);
  ASSERT_TRUE(state_becomes(north(), 1, id, "handed_over"));
  EXPECT_TRUE(eventually([&] { return balance_of(north(), 1) == owner_before + cost; }, kCrossMs))
      << balance_of(north(), 1);

  ASSERT_EQ(exchange_as(south(), 1).post(path + "/return").status, 200);
  ASSERT_EQ(exchange_as(north(), 1).post(path + "/return").status, 202);
  ASSERT_TRUE(state_becomes(south(), 1, id, "completed")) << state_at(south(), 1, id);
  ASSERT_TRUE(state_becomes(north(), 1, id, "completed"));
  EXPECT_EQ(balance_of(south(), 1), borrower_before - cost);
  EXPECT_EQ(balance_of(north(), 1), owner_before + cost);
  expect_books_agree();
}

// A partner cannot act for another member nor write a mirror of an exchange it could not have
// opened: messages signed with the real partner key, each dropped by the exchange service.
TEST_F(FederationListings, a_partners_forged_exchange_messages_change_nothing) {
  const std::string offer = north_offer(gift_offer(0), "federation");
  ASSERT_TRUE(eventually([&] { return south_sees(offer); }, kCrossMs));
  const HttpResult proposed = exchange_as(south(), 0).post("/v1/exchanges", {{"offer_id", offer}});
  ASSERT_EQ(proposed.status, 201) << proposed.body;
  const std::string id = proposed.json()["id"];
  ASSERT_TRUE(state_becomes(north(), 0, id, "proposed"));
  // An accept said to come from a member of the north who is not the owner: not applied.
  const Json forged_act = {{"exchange_id", id},
                           {"act_id", new_uuid()},
                           {"member_id", north().side.members[1].id},
                           {"action", "accept"}};
  ASSERT_EQ(publish_as_north(forged_act, "exchange.act").json().value("status", ""), "received");
  // An accept naming one of the south's own members is refused at the door.
  Json ours = forged_act;
  ours["act_id"] = new_uuid();
  ours["member_id"] = south().side.members[0].id;
  const HttpResult refused = publish_as_north(ours, "exchange.act");
  EXPECT_EQ(refused.json().value("status", ""), "refused") << refused.body;
  // The owner's own decline, sent after: once it applied, the forged accept had not.
  ASSERT_EQ(exchange_as(north(), 0).post("/v1/exchanges/" + id + "/decline").status, 202);
  ASSERT_TRUE(state_becomes(south(), 0, id, "declined")) << state_at(south(), 0, id);
  const Json history = exchange_as(south(), 0).get("/v1/exchanges/" + id).json()["history"];
  for (const auto& h : history) EXPECT_NE(h.value("state", ""), "accepting") << history.dump();
  EXPECT_EQ(south().side.pending_sum(), 0);

  // The other way, states signed with the south's real key, copied from a true one: one that
  // names the north's offer with another provider than its owner, one on an offer that stays
  // home. No mirror is made of either.
  const auto sent_state = south().side.query(
      "SELECT payload FROM ledger.federation_outbox WHERE type = 'exchange.state' AND "
      "transfer_id LIKE '%' || $1 ORDER BY created_at_us DESC LIMIT 1",
      id);
  ASSERT_EQ(sent_state.size(), 1u);
  const Json true_state = Json::parse(sent_state[0][0].c_str());
  const std::string kept = north_offer(gift_offer(0), "community");
  auto forged_state = [&](const std::string& offer_id, const std::string& provider) {
    Json state = true_state;
    const std::string forged_id = new_uuid();
    state["exchange_id"] = forged_id;
    state["exchange"]["id"] = forged_id;
    state["offer_id"] = offer_id;
    state["exchange"]["provider_id"] = provider;
    return state;
  };
  std::vector<std::string> forged;
  for (const Json& state : {forged_state(offer, north().side.members[1].id),
                            forged_state(kept, north().side.members[0].id)}) {
    forged.push_back(state["exchange_id"]);
    const HttpResult sent = signed_message(south(), north(), state, "exchange.state");
    EXPECT_EQ(sent.json().value("status", ""), "received") << sent.body;
  }
  // A true proposal after them reaches the north's mirrors: by then both were read, and dropped.
  const std::string later_offer = north_offer(gift_offer(0), "federation");
  ASSERT_TRUE(eventually([&] { return south_sees(later_offer); }, kCrossMs));
  const HttpResult later =
      exchange_as(south(), 0).post("/v1/exchanges", {{"offer_id", later_offer}});
  ASSERT_EQ(later.status, 201) << later.body;
  ASSERT_TRUE(state_becomes(north(), 0, later.json()["id"], "proposed"));
  for (const std::string& forged_id : forged) {
    EXPECT_EQ(
        north()
            .side.query("SELECT count(*) FROM exchange.exchanges WHERE id = $1", forged_id)[0][0]
            .as<int>(),
        0)
        << forged_id;
  }
}

// Matching across installations: the south's request that crosses is matched with the north's
// offer (matching indexes the partner's offers at their grid point); its owner is told of the
// match at the south, proposes on it there, the owner accepts from the north, and once the gift
// is done each listing closes in its own installation.
TEST_F(FederationListings, a_request_is_matched_with_a_partner_installations_offer) {
  const MemberInfo& taker = south().side.members[1];
  const Json wanted = {{"kind", "good"},
                       {"mode", "give"},
                       {"category", "tondeuses"},
                       {"title", "Cherche une tondeuse"},
                       {"visibility", "federation"},
                       {"location", {{"lat", kLat}, {"lon", kLon}}}};
  const HttpResult request = south().requests_as(1).post("/v1/requests", wanted);
  ASSERT_EQ(request.status, 201) << request.body;
  const std::string request_id = request.json()["id"];
  const HttpResult offered = north().offers_as(1).post(
      "/v1/offers", {{"kind", "good"},
                     {"mode", "give"},
                     {"category", "tondeuses"},
                     {"title", "Tondeuse à donner"},
                     {"visibility", "federation"},
                     {"location", {{"lat", kLat + 0.002}, {"lon", kLon + 0.002}}}});
  ASSERT_EQ(offered.status, 201) << offered.body;
  const std::string offer_id = offered.json()["id"];

  std::string match_id;
  const Client matches(south().matching->url(), taker.token);
  ASSERT_TRUE(eventually(
      [&] {
        const HttpResult r = matches.get("/v1/matches?listing=request:" + request_id);
        if (r.status != 200) return false;
        const Json page = r.json();  // kept: its items are read below
        for (const auto& m : page["items"])
          if (m.value("offer_id", "") == offer_id) match_id = m.value("id", "");
        return !match_id.empty();
      },
      kCrossMs))
      << "never matched across installations";
  // The partner's offer is matched at its grid point: never its owner's exact spot.
  const auto row = south().side.query(
      "SELECT partner_url, lat::text FROM matching.listings WHERE id = $1", offer_id);
  ASSERT_EQ(row.size(), 1u);
  EXPECT_EQ(std::string(row[0][0].c_str()), north().side.ledger->url());
  EXPECT_NE(std::string(row[0][1].c_str()), std::to_string(kLat + 0.002));

  const HttpResult proposed =
      exchange_as(south(), 1).post("/v1/exchanges", {{"match_id", match_id}});
  ASSERT_EQ(proposed.status, 201) << proposed.body;
  const std::string id = proposed.json()["id"], path = "/v1/exchanges/" + id;
  EXPECT_EQ(proposed.json().value("request_id", ""), request_id);
  EXPECT_EQ(proposed.json().value("provider_id", ""), north().side.members[1].id);
  ASSERT_TRUE(state_becomes(north(), 1, id, "proposed"));
  ASSERT_EQ(exchange_as(north(), 1).post(path + "/accept").status, 202);
  ASSERT_TRUE(state_becomes(south(), 1, id, "accepted")) << state_at(south(), 1, id);
  ASSERT_TRUE(state_becomes(north(), 1, id, "accepted")) << state_at(north(), 1, id);
  ASSERT_EQ(exchange_as(south(), 1).post(path + "/complete").status, 200);
  ASSERT_EQ(exchange_as(north(), 1).post(path + "/complete").status, 202);
  ASSERT_TRUE(state_becomes(south(), 1, id, "completed")) << state_at(south(), 1, id);
  ASSERT_TRUE(state_becomes(north(), 1, id, "completed"));
  // Each listing closes where it lives: the offer at the north (its mirror's events), the
  // request at the south; the offer's copy leaves the south's search.
  EXPECT_TRUE(eventually(
      [&] {
        return north().offers_as(1).get("/v1/offers/" + offer_id).json().value("status", "") ==
               "closed";
      },
      kCrossMs));
  EXPECT_TRUE(eventually(
      [&] {
        return south()
                   .requests_as(1)
                   .get("/v1/requests/" + request_id)
                   .json()
                   .value("status", "") == "closed";
      },
      kCrossMs));
  EXPECT_TRUE(eventually([&] { return !south_sees(offer_id); }, kCrossMs));
}

// The owner leaves their installation (suspended there): the exchange living at the partner
// installation is cancelled there by the system, its hold voided on both sides. Last of the
// suite: the north's first member stays suspended.
TEST_F(FederationListings, an_owner_suspended_at_home_cancels_the_exchange_over_there) {
  const std::string offer = north_offer(service_offer(15), "federation");
  ASSERT_TRUE(eventually([&] { return south_sees(offer); }, kCrossMs));
  const HttpResult proposed = exchange_as(south(), 0).post("/v1/exchanges", {{"offer_id", offer}});
  ASSERT_EQ(proposed.status, 201) << proposed.body;
  const std::string id = proposed.json()["id"];
  ASSERT_TRUE(state_becomes(north(), 0, id, "proposed"));
  ASSERT_EQ(exchange_as(north(), 0).post("/v1/exchanges/" + id + "/accept").status, 202);
  ASSERT_TRUE(state_becomes(south(), 0, id, "accepted")) << state_at(south(), 0, id);

  const HttpResult suspended = north().side.world.admin().post(
      "/v1/members/" + north().side.members[0].id + "/suspend", {{"reason", "Départ"}});
  ASSERT_EQ(suspended.status, 200) << suspended.body;
  ASSERT_TRUE(state_becomes(south(), 0, id, "cancelled")) << state_at(south(), 0, id);
  const Json cancelled = exchange_as(south(), 0).get("/v1/exchanges/" + id).json();
  EXPECT_EQ(cancelled.value("reason", ""), "member-suspended") << cancelled.dump();
  expect_books_agree();
}

}  // namespace
}  // namespace maillon::testing
