// The in-memory search read model of a listing service (see the header).
#include "services/offers/search_index.hpp"

#include <algorithm>
#include <cmath>
#include <tuple>

#include "exchange/text_search.hpp"
#include "services/common/db.hpp"
#include "services/common/federation_partners.hpp"
#include "services/common/log.hpp"
#include "services/offers/listing_json.hpp"

namespace maillon::listings {
namespace {

constexpr std::size_t kQueryCacheMax = 4096;
constexpr double kEarthRadiusM = 6371008.8;
constexpr double kRadiansPerDegree = 0.0174532925199432957692;

// The statuses a search can ask for that the model holds; closed and expired listings only
// grow in number and are read from PostgreSQL.
bool held(ListingStatus status) {
  return status == ListingStatus::active || status == ListingStatus::paused ||
         status == ListingStatus::reserved;
}

// The haversine distance of repository.cpp's SQL, in the same order of operations, between
// two snapped points.
double distance_m(const ListingLocation& a, const ListingLocation& b) {
  double half_dlat = (b.lat - a.lat) * kRadiansPerDegree / 2;
  double half_dlon = (b.lon - a.lon) * kRadiansPerDegree / 2;
  double h = std::pow(std::sin(half_dlat), 2) + std::cos(a.lat * kRadiansPerDegree) *
                                                    std::cos(b.lat * kRadiansPerDegree) *
                                                    std::pow(std::sin(half_dlon), 2);
  return 2 * kEarthRadiusM * std::asin(std::min(1.0, std::sqrt(h)));
}

bool contains(const std::vector<std::string>& list, const std::string& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

// Every filter of the query but the text and the position.
bool passes_fields(const ListQuery& q, const ListingRow& row) {
  const Listing& l = row.listing;
  if (to_string(l.status) != q.status) return false;
  if (q.categories && !contains(*q.categories, l.category)) return false;
  if (q.kind && to_string(l.kind) != *q.kind) return false;
  if (q.mode && to_string(l.mode) != *q.mode) return false;
  if (q.site_id && l.site_id != q.site_id) return false;
  if (q.member_id && l.member_id != *q.member_id) return false;
  // As the SQL search: a hidden listing is shown to its owner only.
  if (row.hidden() && l.member_id != q.hidden_shown_to) return false;
  return true;
}

}  // namespace

struct SearchIndex::Entry {
  ListingRow row;
  TsVector text;
  std::string community_json;
  std::string editor_json;
};

SearchIndex::SearchIndex(Db& db, std::chrono::milliseconds poll_interval)
    : db_(db), poll_interval_(poll_interval) {}

SearchIndex::~SearchIndex() {
  stop();
}

void SearchIndex::start() {
  catch_up();
  loaded_ = true;
  log::info("search read model loaded", {{"listings", std::to_string(size())}});
  poller_.start("search read model feed", poll_interval_, [this] { catch_up(); });
}

void SearchIndex::stop() {
  poller_.stop();
}

void SearchIndex::catch_up() {
  uint64_t ticket;
  {
    std::lock_guard lock(request_mutex_);
    ticket = ++requested_;
  }
  std::lock_guard feed(feed_mutex_);
  // A read that began after this call was made has completed: it saw what the caller committed.
  if (started_ >= ticket) return;
  uint64_t begin;
  {
    std::lock_guard lock(request_mutex_);
    begin = requested_;
  }
  read_feed();
  started_ = begin;
}

void SearchIndex::read_feed() {
  // The partners with the feed, at most every kPartnersReadEvery: a handful of rows, and that
  // bounds how long a suspended link still lets listings cross. A create waiting for its own
  // listing reads the feed; reading the links each time cost a statement per create.
  constexpr auto kPartnersReadEvery = std::chrono::milliseconds(200);
  const auto now = std::chrono::steady_clock::now();
  const bool links_due = now - partners_read_ >= kPartnersReadEvery;
  auto [feed, partners] = read_only(db_, [&](pqxx::transaction_base& tx) {
    auto rows = read_listing_feed(tx, next_xact_);
    return std::pair{std::move(rows),
                     links_due ? std::optional(federation_partners::all_active(tx)) : std::nullopt};
  });
  apply(std::move(feed.rows));
  if (partners) {
    std::unique_lock lock(model_mutex_);
    partners_ = std::move(*partners);
    partners_read_ = now;
  }
  next_xact_ = std::move(feed.next_xact);
}

std::vector<std::string> SearchIndex::partners_of(const std::string& community_id) const {
  std::shared_lock lock(model_mutex_);
  auto it = partners_.find(community_id);
  return it == partners_.end() ? std::vector<std::string>{} : it->second;
}

// Each row is moved into its entry, through the structured binding that clang-tidy 14 does not
// follow: NOLINTNEXTLINE(performance-unnecessary-value-param)
void SearchIndex::apply(std::vector<std::pair<ListingRow, std::string>> rows) {
  std::vector<std::shared_ptr<const Entry>> entries;
  std::vector<std::string> gone;  // rows no search holds (closed, expired): only taken out
  entries.reserve(rows.size());
  {
    // A feed read returns again every row of the transactions still running at the last one:
    // under a steady flow of writes most of them are held already, at the same revision (every
    // change counts one), and are not parsed and rendered again.
    std::shared_lock lock(model_mutex_);
    std::erase_if(rows, [&](const auto& r) { return holds_locked(r.first); });
  }
  for (auto& [row, printed] : rows) {
    if (!held(row.listing.status)) {
      gone.push_back(row.listing.id);
      continue;
    }
    auto text = parse_tsvector(printed);
    if (!text) {
      log::warn("search read model: unreadable tsvector", {{"listing_id", row.listing.id}});
      text = TsVector{};
    }
    std::string community = listing_view(row, Audience::community).dump();
    std::string editor = listing_view(row, Audience::editor).dump();
    entries.push_back(std::make_shared<const Entry>(
        Entry{std::move(row), std::move(*text), std::move(community), std::move(editor)}));
  }
  std::unique_lock lock(model_mutex_);
  for (const auto& id : gone) remove_locked(id);
  for (auto& entry : entries) {
    const Listing& l = entry->row.listing;
    remove_locked(l.id);
    Key key{entry->row.created_at_us, l.id};
    where_[l.id] = {l.community_id, key};
    by_community_[l.community_id][key] = std::move(entry);
  }
}

bool SearchIndex::holds_locked(const ListingRow& row) const {
  auto at = where_.find(row.listing.id);
  if (at == where_.end()) return false;
  auto community = by_community_.find(at->second.first);
  if (community == by_community_.end()) return false;
  auto entry = community->second.find(at->second.second);
  return entry != community->second.end() && entry->second->row.revision == row.revision;
}

void SearchIndex::remove_locked(const std::string& id) {
  auto it = where_.find(id);
  if (it == where_.end()) return;
  auto community = by_community_.find(it->second.first);
  if (community != by_community_.end()) community->second.erase(it->second.second);
  where_.erase(it);
}

std::size_t SearchIndex::size() const {
  std::shared_lock lock(model_mutex_);
  return where_.size();
}

std::optional<std::shared_ptr<const TsQuery>> SearchIndex::text_query(const std::string& text) {
  {
    std::lock_guard lock(query_mutex_);
    auto it = queries_.find(text);
    if (it != queries_.end()) {
      if (!it->second) return std::nullopt;
      return it->second;
    }
  }
  std::string printed =
      read_only(db_, [&](pqxx::transaction_base& tx) { return printed_search_query(tx, text); });
  TsQueryResult parsed = parse_tsquery(printed);
  std::shared_ptr<const TsQuery> query;
  if (parsed.outcome == TsQueryParse::ok) {
    query = std::make_shared<const TsQuery>(std::move(parsed.query));
  }
  std::lock_guard lock(query_mutex_);
  if (queries_.size() >= kQueryCacheMax) queries_.clear();  // distinct texts are few; stay bounded
  queries_[text] = query;
  if (!query) return std::nullopt;
  return query;
}

std::optional<std::vector<SearchHit>> SearchIndex::search(const ListQuery& q) {
  auto status = parse_listing_status(q.status);
  if (!loaded_ || !status || !held(*status)) return std::nullopt;
  std::shared_ptr<const TsQuery> text;
  if (q.text) {
    auto parsed = text_query(*q.text);
    if (!parsed) return std::nullopt;
    text = std::move(*parsed);
  }
  std::vector<SearchHit> page;
  std::shared_lock lock(model_mutex_);
  scan(q, q.community_id, true, text, page);
  // Partners' listings cross only near a point (each side's reach is judged from it).
  if (q.partner_community_ids.empty() || !q.near || *status != ListingStatus::active) return page;
  for (const std::string& partner : q.partner_community_ids) scan(q, partner, false, text, page);
  // One page in the order of a single community's: newest first, then by id.
  auto newer = [](const SearchHit& a, const SearchHit& b) {
    return std::tie(a.row->created_at_us, a.row->listing.id) >
           std::tie(b.row->created_at_us, b.row->listing.id);
  };
  std::sort(page.begin(), page.end(), newer);
  if (page.size() > static_cast<std::size_t>(q.limit))
    page.resize(static_cast<std::size_t>(q.limit));
  return page;
}

void SearchIndex::scan(const ListQuery& q, const std::string& community_id, bool home,
                       const std::shared_ptr<const TsQuery>& text,
                       std::vector<SearchHit>& page) const {
  auto community = by_community_.find(community_id);
  if (community == by_community_.end()) return;
  const Ordered& ordered = community->second;
  auto it = q.after ? ordered.upper_bound(Key{q.after->first, q.after->second}) : ordered.begin();
  std::size_t found = 0;
  for (; it != ordered.end() && found < static_cast<std::size_t>(q.limit); ++it) {
    const std::shared_ptr<const Entry>& held_entry = it->second;
    const Entry& entry = *held_entry;
    if (!home && !crosses_communities(entry.row.listing.visibility)) continue;
    if (!passes_fields(q, entry.row)) continue;
    std::optional<double> distance;
    if (q.near) {
      distance = distance_m(*q.near, entry.row.grid);
      if (*distance > q.radius_m) continue;
    }
    if (!home &&
        !visible_to_community(entry.row.listing, q.community_id, true, distance, q.radius_m)) {
      continue;
    }
    if (text && !ts_matches(*text, entry.text)) continue;
    // Aliasing pointers: the page keeps the entry alive after a later write replaces it.
    page.push_back({std::shared_ptr<const ListingRow>(held_entry, &entry.row),
                    std::shared_ptr<const std::string>(held_entry, &entry.community_json),
                    std::shared_ptr<const std::string>(held_entry, &entry.editor_json), distance});
    ++found;
  }
}

}  // namespace maillon::listings
