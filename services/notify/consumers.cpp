// What notify learns from the streams and whom it tells: a match (both sides, with the bucketed
// distance), every exchange step (each party hears of what the other one, staff or the system
// did, never of their own action), a dispute (the site's staff), the depot's loan notices and
// unclaimed objects (consumers_depot.cpp), a federation link's reconciliation differences (the
// community's admins); and the read models its jobs scan.
#include <algorithm>
#include <iterator>
#include <stdexcept>

#include "services/common/events_exchanges.hpp"
#include "services/common/events_ledger.hpp"
#include "services/common/events_listings.hpp"
#include "services/common/events_matches.hpp"
#include "services/common/service.hpp"
#include "services/common/time.hpp"
#include "services/notify/messages.hpp"
#include "services/notify/notify_service.hpp"

namespace maillon::notify {

// consumers_holds.cpp: a hold's object back, a late loan told again (true: told there).
bool tell_hold_notice(pqxx::work& tx, const Event& e, const ExchangeEvent& x, int64_t now_s);

namespace {

void apply_listing_event(pqxx::work& tx, const Event& e) {
  const ListingStreamEvent l = ListingStreamEvent::read(e).value();
  if (l.change == ListingChange::closed || !l.title) return;
  repo::upsert_listing(tx,
                       {l.id, std::string(to_string(l.side)), l.member_id, *l.title, l.site_id});
}

// Matches ---------------------------------------------------------------------------------

std::string quoted_title(const std::optional<repo::Listing>& l) {
  return l && !l->title.empty() ? "« " + l->title + " »" : "votre annonce";
}

// How long a match waits for its listings' own events (another stream, read by another
// consumer) so that its notice can name them; past it, the notice says "votre annonce".
constexpr int64_t kListingWaitS = 5;

void apply_match_event(pqxx::work& tx, const Event& e, int64_t now_s) {
  const MatchProposed m = MatchProposed::read(e).value();
  const auto offer = repo::listing(tx, m.offer_id);
  const auto request = repo::listing(tx, m.request_id);
  const std::optional<int64_t> occurred_s = parse_rfc3339_s(e.occurred_at);
  if ((!offer || !request) && occurred_s && now_s - *occurred_s < kListingWaitS) {
    // Retried by the consumer about once a second, nothing written meanwhile.
    throw std::runtime_error("a listing of this match is not known yet");
  }
  const int64_t distance_m = bucket_distance_m(m.distance_m);
  const Json data = {{"match_id", m.id},
                     {"offer_id", m.offer_id},
                     {"request_id", m.request_id},
                     {"distance_m", distance_m}};
  const std::string where = distance_words(m.distance_m);
  // Each party hears of the other's listing: the requester of the offer, the offerer of the
  // request. What differs between the two notices, once.
  struct Party {
    const std::string* member_id;
    const char* subject;
    const char* theirs;  // what they are told of
    const std::optional<repo::Listing>* their_listing;
    const char* yours;
    const std::optional<repo::Listing>* your_listing;
    std::string link_path;
  };
  const Party parties[] = {
      {&m.request_member_id, "Une offre correspond à votre demande", "L'offre ", &offer,
       " correspond à votre demande ", &request, "/annonces/offre/" + m.offer_id},
      {&m.offer_member_id, "Quelqu'un cherche ce que vous proposez", "La demande ", &request,
       " correspond à votre offre ", &offer, "/annonces/demande/" + m.request_id}};
  for (const Party& party : parties) {
    if (party.member_id->empty()) continue;
    const auto& theirs = *party.their_listing;
    Notice n{"event:" + e.id, *party.member_id, e.type, "match.new", std::nullopt, data};
    n.subject = party.subject;
    n.paragraphs = {party.theirs + quoted_title(theirs) + party.yours +
                    quoted_title(*party.your_listing) + ", " + where + " de chez vous."};
    n.link_path = party.link_path;
    n.site_id = theirs ? theirs->site_id : std::nullopt;
    tell(tx, n, now_s);
  }
}

// Exchanges -------------------------------------------------------------------------------

// By the event's name rather than its enum: the loan steps (exchange.handed_over ...) are told
// the same way whichever version of the exchange service wrote them.
constexpr std::pair<std::string_view, std::string_view> kStepSubjects[] = {
    {"exchange.proposed", "Nouvelle proposition d'échange"},
    {"exchange.accepted", "Votre échange est accepté"},
    {"exchange.confirmed", "Échange confirmé"},
    {"exchange.refused", "Échange refusé"},
    {"exchange.completed", "Échange terminé"},
    {"exchange.declined", "Proposition déclinée"},
    {"exchange.cancelled", "Échange annulé"},
    {"exchange.expired", "Proposition expirée"},
    {"exchange.disputed", "Un litige a été ouvert sur votre échange"},
    {"exchange.resolved", "Le litige de votre échange est réglé"},
    {"exchange.message", "Nouveau message dans votre échange"},
    {"exchange.rated", "Vous avez reçu une évaluation"},
    {"exchange.handed_over", "Remise confirmée"},
    {"exchange.returned", "Retour confirmé"},
    {"exchange.renewal_requested", "Demande de prolongation de prêt"},
    {"exchange.renewed", "Prêt prolongé"},
    {"exchange.late", "Prêt en retard"},
    {"exchange.lost", "Objet déclaré perdu"},
    {"exchange.no_show", "Absence signalée à un rendez-vous"},
};

std::string step_subject(std::string_view type) {
  for (const auto& [name, subject] : kStepSubjects) {
    if (name == type) return std::string(subject);
  }
  return "Du nouveau sur votre échange";
}

std::string step_kind(std::string_view type) {
  if (type == "exchange.message") return "exchange.message";
  if (type == "exchange.late") return "loan.late";
  return "exchange.update";
}

// Loans between members: kept while open for the due-tomorrow reminder. A loan is an exchange
// whose data says mode "lend" and a due_at.
void follow_loan(pqxx::work& tx, const Event& e, const ExchangeEvent& x) {
  static constexpr std::string_view kClosing[] = {
      "exchange.returned", "exchange.completed", "exchange.cancelled", "exchange.lost",
      "exchange.declined", "exchange.expired",   "exchange.abandoned"};
  static constexpr std::string_view kDating[] = {"exchange.accepted", "exchange.handed_over",
                                                 "exchange.renewed"};
  if (std::find(std::begin(kClosing), std::end(kClosing), e.type) != std::end(kClosing)) {
    repo::close_exchange_loan(tx, x.exchange_id);
    return;
  }
  const auto due_at = e.data.find("due_at");
  const bool lend = e.data.value("mode", std::string()) == "lend";
  if (lend && due_at != e.data.end() && due_at->is_string() &&
      std::find(std::begin(kDating), std::end(kDating), e.type) != std::end(kDating)) {
    repo::upsert_exchange_loan(tx, x.exchange_id, x.provider_id, x.receiver_id, x.site_id,
                               due_at->get<std::string>());
  }
}

void tell_staff_of_dispute(pqxx::work& tx, const Event& e, const ExchangeEvent& x, int64_t now_s) {
  // An exchange with no site is settled at its desk site (Exchange::desk_site_id: the
  // proposer's home site, else the other party's).
  const std::optional<std::string>& site = x.site_id ? x.site_id : x.desk_site_id;
  if (!site) return;
  repo::open_dispute(tx, x.exchange_id, site, now_s);
  const Json data = {{"exchange_id", x.exchange_id}, {"site_id", *site}};
  for (const std::string& staff : repo::staff_of_site(tx, *site)) {
    Notice n{"event:" + e.id + ":desk", staff, e.type, "desk.dispute", x.exchange_id, data};
    n.subject = "Un litige attend le comptoir";
    n.paragraphs = {std::string(x.site_id ? "Un échange de votre site est contesté"
                                          : "Un échange entre membres de votre site est contesté") +
                    (x.dispute_reason ? " : « " + *x.dispute_reason + " »." : std::string("."))};
    n.link_path = "/desk";
    n.site_id = site;
    tell(tx, n, now_s);
    Notice digest = n;
    digest.cause = "event:" + e.id + ":digest";
    digest.kind = "desk.digest";
    digest.subject = "Litige ouvert sur l'échange " + x.exchange_id.substr(0, 8);
    tell(tx, digest, now_s);
  }
}

void apply_exchange_event(pqxx::work& tx, const Event& e, int64_t now_s) {
  const ExchangeEvent x = ExchangeEvent::read(e).value();
  if (tell_hold_notice(tx, e, x, now_s)) return;  // holds and weekly late notices

  using T = ExchangeEventType;
  follow_loan(tx, e, x);
  if (x.type == T::resolved) repo::resolve_dispute(tx, x.exchange_id);
  if (x.type == T::disputed) tell_staff_of_dispute(tx, e, x, now_s);
  // Steps the system takes on its way (the hold, the post) are told by their outcome.
  if (x.type == T::accepting || x.type == T::completing || x.type == T::abandoned) return;
  std::string self = x.on_behalf_of ? std::string() : x.actor_id.value_or("");
  if (x.type == T::message) self = x.author_id.value_or("");
  if (x.type == T::rated) self = x.rater_id.value_or("");
  const auto offer = x.offer_id ? repo::listing(tx, *x.offer_id) : std::nullopt;
  for (const std::optional<std::string>* party : {&x.provider_id, &x.receiver_id}) {
    if (!*party || **party == self) continue;
    Notice n{"event:" + e.id, **party, e.type, step_kind(e.type), x.exchange_id, e.data};
    n.subject = step_subject(e.type);
    n.paragraphs = {n.subject + (offer ? " : " + quoted_title(offer) + "." : ".")};
    n.link_path = "/echanges/" + x.exchange_id;
    n.site_id = x.site_id;
    tell(tx, n, now_s);
  }
}

// Federation ------------------------------------------------------------------------------

// A link's daily reconciliation found differences: each administrator of our community hears
// of it (the partner installation's ledger tells its own). Transfers, the stream's bulk, and the
// links' changes tell nobody.
void apply_ledger_event(pqxx::work& tx, const Event& e, int64_t now_s) {
  if (e.type != FederationReconciliationDiffered::type_name()) return;
  const auto d = FederationReconciliationDiffered::read(e).value();
  for (const std::string& admin : repo::admins_of_community(tx, d.community_id)) {
    Notice n{"event:" + e.id, admin, e.type, "federation.reconciliation", std::nullopt, e.data};
    n.subject = reconciliation_subject();
    n.paragraphs = {reconciliation_paragraph(d.differences, d.day)};
    n.link_path = "/notifications";
    tell(tx, n, now_s);
  }
}

}  // namespace

int64_t event_time_s(const Event& e, const Clock& clock) {
  return parse_rfc3339_s(e.occurred_at).value_or(clock.now_s());
}

void register_consumers(Service& s) {
  register_members_consumer(s);
  // Notices are for members to read when they come: no request waits on one, so every stream
  // is read unhurried (Pace), in pages under a steady flow.
  constexpr Pace kUnhurried = Pace::unhurried;
  s.consume(
      "offers", [](pqxx::work& tx, const Event& e) { apply_listing_event(tx, e); }, {}, kUnhurried);
  s.consume(
      "requests", [](pqxx::work& tx, const Event& e) { apply_listing_event(tx, e); }, {},
      kUnhurried);
  s.consume(
      "matches",
      [&s](pqxx::work& tx, const Event& e) { apply_match_event(tx, e, event_time_s(e, s.clock)); },
      {}, kUnhurried);
  s.consume(
      "exchanges",
      [&s](pqxx::work& tx, const Event& e) {
        apply_exchange_event(tx, e, event_time_s(e, s.clock));
      },
      {}, kUnhurried);
  register_depot_consumer(s);
  // Only the reconciliation's differences: the transfers, the stream's bulk, cost no commit here.
  s.consume(
      kLedgerEventsStream,
      [&s](pqxx::work& tx, const Event& e) { apply_ledger_event(tx, e, event_time_s(e, s.clock)); },
      {FederationReconciliationDiffered::type_name()}, kUnhurried);
}

}  // namespace maillon::notify
