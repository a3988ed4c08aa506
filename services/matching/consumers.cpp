// Stream handlers of the matching service. Each runs in the transaction that records the
// event: it writes the read model first, then updates the engine (so a failed write never
// leaves the engine ahead of the database; a transaction failing later is redelivered and every
// step is idempotent), then stores the new matches and their match.proposed events.
#include <algorithm>
#include <chrono>
#include <tuple>

#include "exchange/listing.hpp"
#include "services/common/events_exchanges.hpp"
#include "services/common/events_ledger.hpp"
#include "services/common/events_listing_shares.hpp"
#include "services/common/events_listings.hpp"
#include "services/common/events_matches.hpp"
#include "services/common/events_members.hpp"
#include "services/common/federation_partners.hpp"
#include "services/common/ids.hpp"
#include "services/common/json_body.hpp"
#include "services/common/log.hpp"
#include "services/common/service.hpp"
#include "services/matching/repository.hpp"
#include "services/matching/wiring.hpp"

namespace maillon::matching_service {
namespace {

using Json = nlohmann::json;

// The listing payload of offer.* / request.* (schemas/events/listing.schema.json). The side
// comes from the event type ("request.updated"): the stream and type say which service wrote
// it, whatever the payload claims. What the engine needs and the event lacks: dead-lettered.
repo::ListingWrite listing_write(const ListingStreamEvent& x) {
  repo::ListingWrite w;
  ReadListing& l = w.listing;
  l.id = x.id;
  l.side = std::string(to_string(x.side));
  l.member_id = x.member_id;
  l.community_id = x.community_id;
  l.category = required(x.category, "category");
  l.kind = required(x.kind, "kind");
  l.mode = std::string(to_string(required(x.mode, "mode")));
  l.lat = required(x.lat, "location");
  l.lon = required(x.lon, "location");
  l.at_site = x.location_source == "site";
  l.reach_m = std::llround(required(x.reach_km, "reach_km") * 1000.0);
  l.status = std::string(to_string(x.status));
  l.visibility = std::string(to_string(x.visibility.value_or(ListingVisibility::community)));
  l.title = required(x.title, "title");
  l.words = l.title;
  for (const std::string& tag : x.tags) l.words += " " + tag;
  w.site_id = x.site_id;
  w.available_from = x.available_from;
  w.available_until = x.available_until;
  w.created_at = required(x.created_at, "created_at");
  w.updated_at = x.updated_at.value_or(w.created_at);
  return w;
}

repo::MatchRow match_row(const ReadListing& listing, const repo::ListingSummary& other,
                         const Proposal& p) {
  const bool is_offer = listing.side == "offer";
  repo::MatchRow m;
  m.community_id = listing.community_id;
  m.offer_id = is_offer ? listing.id : other.id;
  m.request_id = is_offer ? other.id : listing.id;
  m.offer_member_id = is_offer ? listing.member_id : other.member_id;
  m.request_member_id = is_offer ? other.member_id : listing.member_id;
  m.id = uuid_from_name("match:" + m.offer_id + ":" + m.request_id);
  m.score = p.score;
  m.distance_m = distance_bucket_m(p.distance_m);
  return m;
}

MatchProposed proposed(const repo::MatchRow& m) {
  return {m.id,    m.offer_id,   m.request_id,  m.offer_member_id, m.request_member_id,
          m.score, m.distance_m, m.community_id};
}

// `cause` is the event that led to these proposals: a pair withdrawn and later proposed again
// gets a new event id, while a redelivery of the same cause gets the same one.
void store_matches(Service& s, MatchIndex& index, pqxx::work& tx, const ReadListing& listing,
                   const std::vector<Proposal>& proposals, const std::string& cause) {
  std::vector<std::string> ids;
  ids.reserve(proposals.size());
  for (const Proposal& p : proposals) ids.push_back(p.other_id);
  const auto others = repo::summaries(tx, ids);
  std::vector<repo::MatchRow> rows;
  for (const Proposal& p : proposals) {
    const auto other = others.find(p.other_id);
    if (other == others.end()) continue;  // indexed but not stored: cannot happen after a rebuild
    rows.push_back(match_row(listing, other->second, p));
  }
  const std::set<std::string> added = repo::upsert_matches(tx, rows);
  std::vector<std::string> proposed_to;
  for (const repo::MatchRow& m : rows) {
    if (added.count(m.id) == 0) continue;
    s.outbox.add(tx, kMatchesStream, MatchProposed::type_name(), m.community_id, proposed(m).data(),
                 uuid_from_name("match.proposed:" + m.id + ":" + cause));
    const bool is_offer = listing.side == "offer";
    proposed_to.push_back(is_offer ? m.request_member_id : m.offer_member_id);
  }
  // Counted in the database with the pairs, so that every replica's follower scores alike.
  for (const auto& [member, recent] : repo::count_proposals(tx, proposed_to)) {
    index.set_recent_proposals(member, recent);
  }
}

// A listing that changed its category, mode, place or window may no longer make a pair with
// the listings it was matched with: those matches go, rather than linger as proposals.
void withdraw_broken_matches(const MatchIndex& index, pqxx::work& tx, const ReadListing& listing,
                             int64_t at_s) {
  if (listing.status != "active") return;  // hidden while inactive, re-checked on return
  const auto others = repo::proposed_counterparts(tx, listing.id);
  if (others.empty()) return;
  const auto broken = index.broken_pairs(listing.community_id, listing.id, others, at_s);
  repo::delete_proposed_matches(tx, listing.id, broken);
}

void on_listing_event(Service& s, MatchIndex& index, pqxx::work& tx, const Event& e) {
  const ListingStreamEvent x = ListingStreamEvent::read(e).value();
  if (x.change == ListingChange::closed) {
    const std::string status = x.reason == ListingCloseReason::expired ? "expired" : "closed";
    const auto community = repo::close_listing(tx, x.id, status);
    if (community) index.remove(*community, x.id);
    return;
  }
  const auto stored = repo::upsert_listing(tx, listing_write(x));
  if (!stored) return;  // older than what we hold, or already closed
  const int64_t at_s = s.clock.now_s();
  const auto proposals = index.upsert_and_match(*stored, kMatchesPerListing, at_s);
  // A first publication has no stored match yet: only an update can have broken one.
  if (x.change == ListingChange::updated) withdraw_broken_matches(index, tx, *stored, at_s);
  store_matches(s, index, tx, *stored, proposals, e.id);
}

// Open copies of one partner community's offers at most: a partner cannot fill the index.
constexpr int64_t kPartnerCopiesMax = 20'000;

// A partner installation's offer as our ledger was told it (issue 23): indexed beside ours and
// matched with our requests that cross, so that their owners are told and propose from here
// (the exchange then lives here). Requests are not: an offer of ours matched with a partner's
// request would be taken up over there, which our members cannot do from here.
void on_partner_listing(Service& s, MatchIndex& index, pqxx::work& tx, const Event& e) {
  const FederationListingShared shared = FederationListingShared::read(e).value();
  if (shared.side != "offer") return;
  if (!shared.crossing) {
    const auto community =
        repo::withdraw_partner_listing(tx, shared.listing_id, shared.partner_url, shared.revision);
    if (community) index.remove(*community, shared.listing_id);
    return;
  }
  // Checked field by field by the ledger that received it (federation_listings.cpp).
  const Json j = Json::parse(shared.listing);
  repo::ListingWrite w;
  ReadListing& l = w.listing;
  l.id = shared.listing_id;
  l.side = "offer";
  l.member_id = j.at("member_id").get<std::string>();
  l.community_id = shared.partner_community_id;
  l.category = j.at("category").get<std::string>();
  l.kind = j.at("kind").get<std::string>();
  l.mode = j.at("mode").get<std::string>();
  l.lat = j.at("grid").at("lat").get<double>();
  l.lon = j.at("grid").at("lon").get<double>();
  l.reach_m = std::llround(j.at("reach_km").get<double>() * 1000.0);
  l.status = "active";
  l.visibility = j.at("visibility").get<std::string>();
  l.title = j.at("title").get<std::string>();
  l.words = l.title;
  for (const auto& tag : j.at("tags")) l.words += " " + tag.get<std::string>();
  for (auto [name, field] : {std::pair{"available_from", &w.available_from},
                             std::pair{"available_until", &w.available_until}}) {
    const auto it = j.find(name);
    if (it != j.end() && it->is_string()) *field = it->get<std::string>();
  }
  w.created_at = j.at("created_at").get<std::string>();
  const auto stored =
      repo::upsert_partner_listing(tx, w, shared.partner_url, shared.revision, kPartnerCopiesMax);
  if (!stored) return;
  const auto proposals = index.upsert_and_match(*stored, kMatchesPerListing, s.clock.now_s());
  store_matches(s, index, tx, *stored, proposals, e.id);
}

void on_member_event(MatchIndex& index, pqxx::work& tx, const Event& e) {
  if (e.type != "member.erased") return;
  const MemberErased erased = MemberErased::read(e).value();
  for (const ReadListing& l : repo::close_listings_of_member(tx, erased.member_id)) {
    index.remove(l.community_id, l.id);
  }
}

double reliability_of(std::pair<int64_t, int64_t> counts) {
  // Laplace prior, as the members service shows it: a newcomer starts at 0.5.
  return (double(counts.first) + 1.0) / (double(counts.first + counts.second) + 2.0);
}

// exchange.completed counts for both parties; an exchange abandoned after acceptance counts
// against whoever cancelled it (never when the system cancelled for a party who left); a no-show
// against the party who did not come.
void on_exchange_event(MatchIndex& index, pqxx::work& tx, const Event& e) {
  const ExchangeEvent x = ExchangeEvent::read(e).value();
  std::vector<std::pair<std::string, bool>> outcomes;
  if (x.type == ExchangeEventType::completed) {
    for (const auto* party : {&x.provider_id, &x.receiver_id}) {
      if (*party) outcomes.emplace_back(**party, true);
    }
  } else if (x.type == ExchangeEventType::abandoned) {
    const auto& by = x.cancelled_by;
    if (by && is_uuid(*by)) outcomes.emplace_back(*by, false);  // "system" is nobody
  } else if (x.type == ExchangeEventType::no_show && x.no_show_member_id) {
    outcomes.emplace_back(*x.no_show_member_id, false);  // the absent party, not who told
  }
  for (const auto& [member, completed] : outcomes) {
    index.set_reliability(member, reliability_of(repo::count_exchange(tx, member, completed)));
  }
}

// The (community, partner) pairs active in `now` and not in `before`, each way round.
std::vector<std::pair<std::string, std::string>> links_gained(
    const std::unordered_map<std::string, std::vector<std::string>>& before,
    const std::unordered_map<std::string, std::vector<std::string>>& now) {
  std::vector<std::pair<std::string, std::string>> gained;
  for (const auto& [community, partners] : now) {
    const auto was = before.find(community);
    for (const std::string& partner : partners) {
      if (was == before.end() ||
          std::find(was->second.begin(), was->second.end(), partner) == was->second.end())
        gained.emplace_back(community, partner);
    }
  }
  return gained;
}

}  // namespace

std::string rebuild_index(Service& s, MatchIndex& index) {
  const auto started = std::chrono::steady_clock::now();
  // The position first: whatever commits after the rows are read has a later one.
  const auto [position, rows, reliability, proposals, partners] = s.db.transact([](pqxx::work& tx) {
    std::string at = repo::feed_position(tx);
    return std::make_tuple(at, repo::active_listings(tx), repo::all_reliability(tx),
                           repo::all_recent_proposals(tx), federation_partners::all_active(tx));
  });
  index.set_partners(partners);
  const std::size_t indexed = index.rebuild(rows);
  for (const auto& [member, counts] : reliability)
    index.set_reliability(member, reliability_of(counts));
  for (const auto& [member, recent] : proposals) index.set_recent_proposals(member, recent);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  log::info("matching index rebuilt",
            {{"listings", std::to_string(indexed)}, {"ms", std::to_string(ms.count())}});
  return position;
}

IndexFollower::IndexFollower(Service& service, std::shared_ptr<MatchIndex> index)
    : s_(service), index_(std::move(index)) {}

void IndexFollower::start(std::string position, std::chrono::milliseconds interval) {
  position_ = std::move(position);
  thread_.start("matching index feed", interval, [this] { follow_once(); });
}

void IndexFollower::follow_once() {
  auto [rows, next] =
      read_only(s_.db, [&](pqxx::transaction_base& tx) { return repo::index_feed(tx, position_); });
  // Outcomes another replica's consumer counted (each exchange event reaches one replica).
  // Read after the listings, from the same position: this later snapshot sees every transaction
  // older than `next`, so none falls between two rounds. Applied before matching again.
  const auto [counted, proposed_to] = read_only(s_.db, [&](pqxx::transaction_base& tx) {
    return std::make_pair(repo::reliability_since(tx, position_),
                          repo::proposals_since(tx, position_));
  });
  for (const auto& [member, counts] : counted) {
    index_->set_reliability(member, reliability_of(counts));
  }
  for (const auto& [member, recent] : proposed_to) index_->set_recent_proposals(member, recent);
  // Federation links as the ledger.events consumer last stored them (any replica's): a few rows,
  // so one poll bounds how long a suspended link still pairs and shows listings across.
  auto partners = read_only(
      s_.db, [](pqxx::transaction_base& tx) { return federation_partners::all_active(tx); });
  const auto gained = links_gained(partners_, partners);
  index_->set_partners(partners);
  std::vector<std::pair<const ReadListing*, std::vector<Proposal>>> found;
  std::vector<std::string> involved;
  for (const ReadListing& row : rows) {
    // What this replica's consumer applied comes back too, and is matched again: its own
    // transaction could not see a counterpart committed by a concurrent one, this read can.
    // A row a consumer has since overtaken changes nothing (the index keeps the newer one).
    auto proposals = index_->upsert_and_match(row, kMatchesPerListing, s_.clock.now_s());
    if (proposals.empty()) continue;
    involved.push_back(row.id);
    for (const Proposal& p : proposals) involved.push_back(p.other_id);
    found.emplace_back(&row, std::move(proposals));
  }
  // A link that became active: the listings of each side that cross, with the other side's. Read
  // after the feed was applied, so the index holds them at least as new as this read.
  std::vector<ReadListing> across;
  if (!gained.empty()) {
    std::vector<std::string> communities;
    communities.reserve(gained.size());
    for (const auto& [community, partner] : gained) communities.push_back(community);
    across = read_only(s_.db, [&](pqxx::transaction_base& tx) {
      return repo::crossing_listings_of(tx, communities);
    });
  }
  for (const ReadListing& row : across) {
    std::vector<Proposal> proposals;
    for (const auto& [community, partner] : gained) {
      if (community != row.community_id) continue;
      auto with = index_->matches_with_partner(row, partner, kMatchesPerListing, s_.clock.now_s());
      proposals.insert(proposals.end(), with.begin(), with.end());
    }
    if (proposals.empty()) continue;
    involved.push_back(row.id);
    for (const Proposal& p : proposals) involved.push_back(p.other_id);
    found.emplace_back(&row, std::move(proposals));
  }
  // One transaction (one commit) for the whole read: at a steady flow the feed brings back
  // every listing the consumers applied, and a commit each doubled the service's commits.
  if (!found.empty()) {
    const std::string source = "index-feed:" + next;  // clang 14 cannot capture a binding
    s_.db.transact([&](pqxx::work& tx) {
      // A consumer may have changed a listing (and withdrawn its pairs) since this read: a pair
      // is stored only when both listings are, under a share lock, as the index holds them.
      const auto locked = repo::lock_active_revisions(tx, involved);
      for (const auto& [row, proposals] : found) {
        const auto holding = index_->still_holding(*row, proposals, locked, s_.clock.now_s());
        store_matches(s_, *index_, tx, *row, holding, source);
      }
    });
  }
  // Only once stored: a poll that failed pairs the same links again at the next one.
  partners_ = std::move(partners);
  position_ = std::move(next);
}

void register_consumers(Service& s, const std::shared_ptr<MatchIndex>& index) {
  // Each handler holds the index: it lives as long as the service's consumers.
  for (const char* stream : {"offers", "requests"}) {
    s.consume(stream,
              [&s, index](pqxx::work& tx, const Event& e) { on_listing_event(s, *index, tx, e); });
  }
  s.consume("members", [index](pqxx::work& tx, const Event& e) { on_member_event(*index, tx, e); });
  using T = ExchangeEventType;
  s.consume(
      "exchanges", [index](pqxx::work& tx, const Event& e) { on_exchange_event(*index, tx, e); },
      type_names({T::completed, T::abandoned, T::no_show}), Pace::unhurried);
  // Federation links (issue 23); transfers, the stream's bulk, change nothing here.
  // Partner installations' offers that cross to ours, as our ledger was told them.
  s.consume(
      kLedgerEventsStream,
      [&s, index](pqxx::work& tx, const Event& e) {
        if (!federation_partners::apply(tx, e)) on_partner_listing(s, *index, tx, e);
      },
      {FederationLinkUpdated::type_name(), FederationListingShared::type_name()}, Pace::unhurried);
}

}  // namespace maillon::matching_service
