// The search read model of a listing service: every active, paused or reserved listing held in
// memory, kept up to date from PostgreSQL's change feed, so GET /v1/offers answers without a
// query. PostgreSQL stays the source of truth and the one place where French text becomes
// lexemes: the read model holds each listing's tsvector and asks PostgreSQL once per distinct
// search text for its tsquery.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "services/common/periodic.hpp"
#include "services/offers/repository.hpp"

namespace maillon {
class Db;
struct TsQuery;
}  // namespace maillon

namespace maillon::listings {

// One listing of a page served from memory: the row as stored, its two JSON views (rendered
// once per write, not per search; null when the page came from PostgreSQL) and the distance.
struct SearchHit {
  std::shared_ptr<const ListingRow> row;
  std::shared_ptr<const std::string> community_json;  // listing_view(row, community), no distance
  std::shared_ptr<const std::string> editor_json;     // listing_view(row, editor), no distance
  std::optional<double> distance_m;
};

class SearchIndex {
 public:
  explicit SearchIndex(Db& db, std::chrono::milliseconds poll_interval);
  ~SearchIndex();
  SearchIndex(const SearchIndex&) = delete;
  SearchIndex& operator=(const SearchIndex&) = delete;

  // Loads every listing, then follows the feed every poll interval in a thread of its own
  // (writes of other replicas and of this process's consumers and jobs).
  void start();
  void stop();
  // Brings the model up to at least what was committed before the call: writers call it after
  // their commit, so a client sees its own write at once. Concurrent callers share one read.
  void catch_up();

  // The page `query` asks for (limit rows at most, distance_m set when near), or nullopt when
  // this query is not served from memory (closed/expired listings, a text whose tsquery has a
  // form the evaluator leaves to PostgreSQL, or a model not loaded yet): ask PostgreSQL then.
  std::optional<std::vector<SearchHit>> search(const ListQuery& query);

  std::size_t size() const;

  // The active federation partners of a community (services/common/federation_partners.hpp), as
  // of the last feed read: a search of that community also reads those partners' listings that
  // cross (exchange/listing.hpp: visible_to_community).
  std::vector<std::string> partners_of(const std::string& community_id) const;

 private:
  struct Entry;
  using Key = std::pair<int64_t, std::string>;  // (created_at_us, id), newest first
  using Ordered = std::map<Key, std::shared_ptr<const Entry>, std::greater<>>;

  Db& db_;
  std::chrono::milliseconds poll_interval_;

  mutable std::shared_mutex model_mutex_;
  std::unordered_map<std::string, Ordered> by_community_;
  std::unordered_map<std::string, std::pair<std::string, Key>> where_;  // id → (community, key)
  std::unordered_map<std::string, std::vector<std::string>> partners_;  // community → partners
  std::atomic<bool> loaded_{false};

  std::mutex feed_mutex_;  // one feed read at a time; guards next_xact_ and the counters
  std::string next_xact_ = "0";
  // When the partners were last read (guarded by feed_mutex_): a create that waits for its own
  // listing in the index reads the feed, and the links need not be read again each time.
  std::chrono::steady_clock::time_point partners_read_{};
  uint64_t requested_ = 0, started_ = 0, completed_ = 0;
  std::mutex request_mutex_;

  std::mutex query_mutex_;
  std::unordered_map<std::string, std::shared_ptr<const TsQuery>> queries_;  // null: unsupported

  PeriodicThread poller_;

  void read_feed();
  void apply(std::vector<std::pair<ListingRow, std::string>> rows);
  // The page of one community's listings: its own (home) or a partner's that cross to the reader.
  void scan(const ListQuery& q, const std::string& community_id, bool home,
            const std::shared_ptr<const TsQuery>& text, std::vector<SearchHit>& page) const;
  void remove_locked(const std::string& id);
  // Whether the model holds this listing at this revision (model_mutex_ held, shared or not).
  bool holds_locked(const ListingRow& row) const;
  std::optional<std::shared_ptr<const TsQuery>> text_query(const std::string& text);
};

}  // namespace maillon::listings
