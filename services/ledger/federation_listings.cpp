// Listings that cross to partner installations (issue 23). The sending side: the ledger keeps
// each listing that may leave this installation (federation or public visibility, active, not
// hidden) from the offers and requests streams, and a round of the federation sender queues
// listing.publish or listing.withdraw to each active link whose partner has not heard of its
// newest revision (signed, retried until answered, like every message of the link). The
// receiving side: a partner's listing, checked field by field and rebuilt, is announced on
// ledger.events (federation.listing.shared) for the offers and requests services, which keep a
// copy their searches show to our communities linked with the partner's.
#include <map>
#include <nlohmann/json.hpp>

#include "exchange/listing.hpp"
#include "matching/geo.hpp"
#include "services/common/db.hpp"
#include "services/common/events.hpp"
#include "services/common/events_ledger.hpp"
#include "services/common/events_listing_shares.hpp"
#include "services/common/events_listings.hpp"
#include "services/common/ids.hpp"
#include "services/common/json_body.hpp"
#include "services/common/service.hpp"
#include "services/common/time.hpp"
#include "services/ledger/federation_listings_sql.hpp"
#include "services/ledger/federation_remote_internal.hpp"
#include "services/ledger/federation_repository.hpp"

namespace maillon::ledger::remote {
namespace {

// What one sending round queues at most (the rest go in the next rounds).
constexpr int kShareBatchMax = 256;

Json json_or_null(const auto& value) {
  return value ? Json(*value) : Json(nullptr);
}

// The listing as partners are sent it, or nothing when it does not cross (or an event lacks what
// a partner needs to show it). Only the privacy grid's point leaves: never the exact location.
std::optional<Json> crossing_body(const ListingStreamEvent& l, const Event& e) {
  if (l.change == ListingChange::closed || !l.visibility || !crosses_communities(*l.visibility) ||
      l.status != ListingStatus::active || l.hidden || !l.revision || !l.kind || !l.mode ||
      !l.category || !l.title || !l.lat || !l.lon)
    return std::nullopt;
  const matching::GeoPoint grid = matching::snap_to_grid({*l.lat, *l.lon});
  return Json{{"id", l.id},
              {"side", to_string(l.side)},
              {"member_id", l.member_id},
              {"community_id", l.community_id},
              {"kind", *l.kind},
              {"mode", to_string(*l.mode)},
              {"category", *l.category},
              {"title", *l.title},
              {"description", l.description.value_or("")},
              {"tags", l.tags},
              {"grid", {{"lat", grid.lat}, {"lon", grid.lon}}},
              {"reach_km", l.reach_km.value_or(kReachKmDefault)},
              {"price_minutes", l.price_minutes.value_or(0)},
              {"duration_minutes", json_or_null(l.duration_minutes)},
              {"deposit_minutes", json_or_null(l.deposit_minutes)},
              {"capacity", json_or_null(l.capacity)},
              {"visibility", to_string(*l.visibility)},
              {"available_from", json_or_null(l.available_from)},
              {"available_until", json_or_null(l.available_until)},
              {"created_at", l.created_at.value_or(e.occurred_at)},
              {"revision", *l.revision}};
}

const Json* field_in(const Json& j, const char* name) {
  const auto it = j.find(name);
  return it == j.end() ? nullptr : &*it;
}

std::optional<std::string> listing_text(const Json& j, const char* name, std::size_t min_points,
                                        std::size_t max_points) {
  const Json* v = field_in(j, name);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  const std::string text = v->get<std::string>();
  const auto points = utf8_code_points(text);
  if (!points || *points < min_points || *points > max_points) return std::nullopt;
  return text;
}

std::optional<int64_t> listing_integer(const Json& j, const char* name, int64_t min, int64_t max) {
  const Json* v = field_in(j, name);
  if (v == nullptr || !v->is_number_integer()) return std::nullopt;
  const auto n = v->get<int64_t>();
  if (n < min || n > max) return std::nullopt;
  return n;
}

std::optional<double> listing_number(const Json& j, const char* name, double min, double max) {
  const Json* v = field_in(j, name);
  if (v == nullptr || !v->is_number()) return std::nullopt;
  const double n = v->get<double>();
  if (!(n >= min && n <= max)) return std::nullopt;
  return n;
}

// An optional field: absent or null gives null, a value must pass `check`.
template <class Check>
std::optional<Json> listing_nullable(const Json& j, const char* name, Check check) {
  const Json* v = field_in(j, name);
  if (v == nullptr || v->is_null()) return Json(nullptr);
  auto checked = check();
  if (!checked) return std::nullopt;
  return Json(*checked);
}

std::optional<std::string> listing_time(const Json& j, const char* name) {
  auto text = listing_text(j, name, 1, 64);
  if (!text || !parse_rfc3339_s(*text)) return std::nullopt;
  return text;
}

// A partner's listing rebuilt from what its message says, every field checked against the same
// limits as ours (and its grid point snapped again: a partner cannot place it more precisely);
// nothing when any is missing or out of bounds.
std::optional<Json> partner_listing(const Json& p, const Link& link) {
  const auto id = listing_text(p, "id", 36, 36);
  const auto side = listing_text(p, "side", 5, 7);
  const auto member_id = listing_text(p, "member_id", 36, 36);
  const auto community_id = listing_text(p, "community_id", 36, 36);
  const auto kind = listing_text(p, "kind", 4, 7);
  const auto mode = listing_text(p, "mode", 4, 7);
  const auto category = listing_text(p, "category", 1, 100);
  const auto title = listing_text(p, "title", 1, kTitleCodePointsMax);
  const auto description = listing_text(p, "description", 0, kDescriptionCodePointsMax);
  const auto visibility = listing_text(p, "visibility", 6, 10);
  const Json* grid = field_in(p, "grid");
  const auto lat = grid && grid->is_object() ? listing_number(*grid, "lat", -90, 90) : std::nullopt;
  const auto lon =
      grid && grid->is_object() ? listing_number(*grid, "lon", -180, 180) : std::nullopt;
  const auto reach = listing_number(p, "reach_km", kReachKmMin, kReachKmMax);
  const auto price = listing_integer(p, "price_minutes", 0, kPriceMinutesMax);
  const auto revision = listing_integer(p, "revision", 0, INT64_MAX);
  const auto created_at = listing_time(p, "created_at");
  const auto duration = listing_nullable(p, "duration_minutes", [&] {
    return listing_integer(p, "duration_minutes", kDurationMinutesMin, kDurationMinutesMax);
  });
  const auto deposit = listing_nullable(p, "deposit_minutes", [&] {
    return listing_integer(p, "deposit_minutes", 0, kPriceMinutesMax);
  });
  const auto capacity = listing_nullable(
      p, "capacity", [&] { return listing_integer(p, "capacity", 1, kCapacityMax); });
  const auto from =
      listing_nullable(p, "available_from", [&] { return listing_time(p, "available_from"); });
  const auto until =
      listing_nullable(p, "available_until", [&] { return listing_time(p, "available_until"); });
  if (!id || !is_uuid(*id) || !side || (*side != "offer" && *side != "request") || !member_id ||
      !is_uuid(*member_id) || !community_id || *community_id != link.partner_community_id ||
      !kind || (*kind != "good" && *kind != "service") || !mode || !parse_listing_mode(*mode) ||
      !category || !title || !description || !visibility ||
      (*visibility != "federation" && *visibility != "public") || !lat || !lon || !reach ||
      !price || !revision || !created_at || !duration || !deposit || !capacity || !from || !until)
    return std::nullopt;
  const Json* tags = field_in(p, "tags");
  Json kept_tags = Json::array();
  if (tags == nullptr || !tags->is_array() || tags->size() > kTagCountMax) return std::nullopt;
  for (const auto& tag : *tags) {
    if (!tag.is_string()) return std::nullopt;
    const auto points = utf8_code_points(tag.get<std::string>());
    if (!points || *points == 0 || *points > kTagCodePointsMax) return std::nullopt;
    kept_tags.push_back(tag);
  }
  const matching::GeoPoint snapped = matching::snap_to_grid({*lat, *lon});
  return Json{{"id", *id},
              {"side", *side},
              {"member_id", *member_id},
              {"community_id", *community_id},
              {"kind", *kind},
              {"mode", *mode},
              {"category", *category},
              {"title", *title},
              {"description", *description},
              {"tags", kept_tags},
              {"grid", {{"lat", snapped.lat}, {"lon", snapped.lon}}},
              {"reach_km", *reach},
              {"price_minutes", *price},
              {"duration_minutes", *duration},
              {"deposit_minutes", *deposit},
              {"capacity", *capacity},
              {"visibility", *visibility},
              {"available_from", *from},
              {"available_until", *until},
              {"created_at", *created_at},
              {"revision", *revision}};
}

Json listing_answer(std::string_view status, std::string_view reason = "") {
  Json a = {{"status", status}};
  if (!reason.empty()) a["reason"] = reason;
  return a;
}

}  // namespace

bool is_our_member(pqxx::work& tx, const std::string& member_id) {
  return !exec_cached(tx, kIsOurMember, member_id).empty();
}

void keep_listing_event(pqxx::work& tx, const Event& e) {
  const ListingStreamEvent l = ListingStreamEvent::read(e).value();
  if (!l.revision) return;  // a previous release's event: nothing to order it by, never crossed
  if (const auto body = crossing_body(l, e)) {
    exec_cached(tx, kKeepCrossing, l.id, std::string(to_string(l.side)), l.community_id,
                *l.revision, body->dump());
  } else {
    exec_cached(tx, kStopCrossing, l.id, *l.revision);
  }
}

std::size_t share_listings(RemoteFederation& f) {
  return f.service().db.transact([&](pqxx::work& tx) {
    const pqxx::result due = exec_cached(tx, kToShare, kShareBatchMax);
    const int64_t now_us = f.service().clock.now_us();
    std::map<std::pair<std::string, std::string>, std::optional<Link>> links;
    for (const auto& row : due) {
      const std::string link_id = row[0].c_str();
      const std::string community_id = row[1].c_str();
      const std::string listing_id = row[2].c_str();
      const auto revision = row[3].as<int64_t>();
      const bool crossing = row[4].as<bool>();
      auto& link = links[{link_id, community_id}];
      if (!link) link = federation::find_link(tx, link_id, community_id);
      if (!link || !link->remote()) continue;
      // One message per listing and link on its way: a newer revision replaces what was not
      // answered yet (the partner keeps the newest anyway, whatever order they arrive in).
      std::string key = "listing:" + link_id;
      key += ":";
      key += listing_id;
      repo::cancel_messages(tx, key, std::string(kListingPublish));
      repo::cancel_messages(tx, key, std::string(kListingWithdraw));
      // A withdrawal carries the listing as last sent, at its new revision: a partner that gets
      // it before an older publish (replicas apply events in any order) keeps the copy closed.
      Json payload = Json::parse(row[5].c_str());
      payload["revision"] = revision;
      queue_message(tx, *link, crossing ? kListingPublish : kListingWithdraw, payload, key, now_us);
      exec_cached(tx, kRecordShare, link_id, community_id, listing_id, revision, crossing);
    }
    return static_cast<std::size_t>(due.size());
  });
}

Json on_listing_message(RemoteFederation& f, pqxx::work& tx, const Link& link, const Envelope& e) {
  FederationListingShared shared;
  shared.link_id = link.id;
  shared.community_id = link.community_id;
  shared.partner_community_id = link.partner_community_id;
  shared.partner_url = link.partner_url.value_or("");
  // A "partner" naming one of our own communities would show its listings as that community's.
  if (federation::repo::community_name(tx, link.partner_community_id))
    return listing_answer("refused", "partner-community-is-ours");
  shared.crossing = e.type == kListingPublish;
  if (const auto listing = partner_listing(e.payload, link)) {
    if (is_our_member(tx, (*listing)["member_id"].get<std::string>()))
      return listing_answer("refused", "invalid-listing");
    shared.side = (*listing)["side"];
    shared.listing_id = (*listing)["id"];
    shared.revision = (*listing)["revision"];
    shared.listing = listing->dump();
  } else if (shared.crossing) {
    return listing_answer("refused", "invalid-listing");
  } else {
    // A withdrawal with nothing but the listing's id, side and revision.
    const auto id = listing_text(e.payload, "id", 36, 36);
    const auto side = listing_text(e.payload, "side", 5, 7);
    const auto revision = listing_integer(e.payload, "revision", 0, INT64_MAX);
    if (!id || !is_uuid(*id) || !side || (*side != "offer" && *side != "request") || !revision)
      return listing_answer("refused", "invalid-listing");
    shared.side = *side;
    shared.listing_id = *id;
    shared.revision = *revision;
  }
  f.service().outbox.add(
      tx, kLedgerEventsStream, FederationListingShared::type_name(), link.community_id,
      shared.data(),
      uuid_from_name("federation.listing.shared:" + link.id + ":" + link.community_id + ":" +
                     shared.listing_id + ":" + std::to_string(shared.revision) + ":" + e.type));
  return listing_answer("received");
}

}  // namespace maillon::ledger::remote
