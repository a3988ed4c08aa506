// The service's view of the matching engine: translation of read-model rows into engine
// listings, one engine per community, and the reader/writer lock around them.
#include "services/matching/index.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <limits>
#include <mutex>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "exchange/invariant.hpp"

namespace maillon::matching_service {
namespace {

using matching::CategoryId;

void number_categories(const nlohmann::json& nodes, CategoryId parent, CategoryIds& out,
                       std::size_t depth) {
  if (!nodes.is_array() || depth > 8) {
    throw std::invalid_argument("categories.json: children must be arrays, at most 8 levels");
  }
  for (const auto& node : nodes) {
    if (!node.is_object() || !node.contains("slug") || !node["slug"].is_string()) {
      throw std::invalid_argument("categories.json: each entry needs a slug");
    }
    if (out.parents.size() >= matching::kMaxCategories) {
      throw std::invalid_argument("categories.json: too many categories");
    }
    const auto id = static_cast<CategoryId>(out.parents.size());
    if (!out.id_of_slug.emplace(node["slug"].get<std::string>(), id).second) {
      throw std::invalid_argument("categories.json: duplicate slug");
    }
    out.parents.push_back(parent);
    number_categories(node.value("children", nlohmann::json::array()), id, out, depth + 1);
  }
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

uint32_t fnv1a(std::string_view word) {
  uint32_t hash = 2166136261u;
  for (char c : word) hash = (hash ^ static_cast<unsigned char>(c)) * 16777619u;
  return hash == 0 ? 1 : hash;  // 0 marks an empty word slot
}

template <class E>
std::optional<E> parse_enum(std::string_view text, std::initializer_list<std::string_view> names) {
  int i = 0;
  for (std::string_view name : names) {
    if (text == name) return static_cast<E>(i);
    ++i;
  }
  return std::nullopt;
}

std::vector<Proposal> to_proposals(const std::vector<matching::Match>& matches) {
  std::vector<Proposal> out;
  out.reserve(matches.size());
  for (const auto& m : matches) out.push_back(Proposal{uuid_of(m.other), m.score, m.distance_m});
  return out;
}

// A community's own and its partners' candidates as one list, best first (score, then id, as
// the engine orders them), at most k.
std::vector<Proposal> best_of(std::vector<Proposal> home, std::vector<Proposal> across,
                              std::size_t k) {
  if (across.empty()) return home;
  home.insert(home.end(), across.begin(), across.end());
  std::sort(home.begin(), home.end(), [](const Proposal& a, const Proposal& b) {
    return a.score != b.score ? a.score > b.score : a.other_id < b.other_id;
  });
  if (home.size() > k) home.resize(k);
  return home;
}

bool crosses(const ReadListing& row) {
  return row.status == "active" && row.visibility != "community";
}

}  // namespace

CategoryIds load_category_ids(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::invalid_argument("cannot read " + path);
  const auto tree = nlohmann::json::parse(in, nullptr, false);
  if (tree.is_discarded()) throw std::invalid_argument(path + " is not JSON");
  CategoryIds ids;
  number_categories(tree, matching::kNoParent, ids, 0);
  return ids;
}

matching::ListingId listing_id_of(std::string_view uuid) {
  matching::ListingId id;
  int nibbles = 0;
  for (char c : uuid) {
    const int v = hex_value(c);
    if (v < 0) continue;  // the dashes
    uint64_t& half = nibbles < 16 ? id.hi : id.lo;
    half = half << 4 | static_cast<uint64_t>(v);
    ++nibbles;
  }
  MAILLON_INVARIANT(nibbles == 32, "a listing id is a UUID of 32 hex digits");
  return id;
}

std::string uuid_of(matching::ListingId id) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 32; ++i) {
    const uint64_t half = i < 16 ? id.hi : id.lo;
    out.push_back(kHex[(half >> (4 * (15 - i % 16))) & 0xF]);
    if (i == 7 || i == 11 || i == 15 || i == 19) out.push_back('-');
  }
  return out;
}

matching::Words hash_words(std::string_view text) {
  matching::Words words{};
  std::size_t count = 0;
  std::string word;
  auto flush = [&] {
    if (word.size() >= 3 && count < matching::kMaxWords) {
      const uint32_t h = fnv1a(word);
      if (std::find(words.begin(), words.begin() + static_cast<long>(count), h) ==
          words.begin() + static_cast<long>(count)) {
        words[count++] = h;
      }
    }
    word.clear();
  };
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    // Bytes of multi-byte UTF-8 characters (accents) belong to words.
    if (std::isalnum(u) || u >= 0x80) {
      word.push_back(static_cast<char>(std::tolower(u)));
    } else {
      flush();
    }
  }
  flush();
  return words;
}

MatchIndex::MatchIndex(CategoryIds categories)
    : categories_(std::move(categories)),
      crossing_(std::make_unique<matching::Engine>(categories_.parents)) {}

bool MatchIndex::knows_category(std::string_view slug) const {
  return categories_.id_of_slug.find(slug) != categories_.id_of_slug.end();
}

matching::MemberIndex MatchIndex::member_index(const std::string& member_id) {
  const auto next = static_cast<matching::MemberIndex>(members_.size());
  const auto [it, added] = members_.emplace(member_id, next);
  // More members than the engine's handle space would be a deployment far beyond one replica.
  MAILLON_INVARIANT(!added || next < matching::kMaxMembers,
                    "no more members than the engine holds");
  return it->second;
}

matching::Engine& MatchIndex::engine_of(const std::string& community_id) {
  auto& engine = engines_[community_id];
  if (!engine) {
    engine = std::make_unique<matching::Engine>(categories_.parents);
    for (const auto& [member, reliability] : reliability_)
      engine->set_reliability(member, reliability);
    for (const auto& [member, recent] : recent_proposals_)
      engine->set_recent_proposals(member, recent);
  }
  return *engine;
}

matching::Listing MatchIndex::to_engine(const ReadListing& row) {
  using namespace matching;
  matching::Listing l;  // not maillon::Listing (exchange/listing.hpp)
  l.id = listing_id_of(row.id);
  l.side = row.side == "offer" ? Side::offer : Side::request;
  l.member = member_index(row.member_id);
  const auto category = categories_.id_of_slug.find(row.category);
  // An unknown slug (a tree newer than ours) is out of range: the engine rejects it.
  l.category = category == categories_.id_of_slug.end()
                   ? static_cast<CategoryId>(categories_.parents.size())
                   : category->second;
  l.kind = row.kind == "service" ? Kind::service : Kind::good;
  l.mode = parse_enum<Mode>(row.mode, {"give", "lend", "swap", "service"}).value_or(Mode::give);
  l.position = GeoPoint{row.lat, row.lon};
  if (row.at_site) l.site = l.position;
  l.reach_m = static_cast<uint32_t>(std::clamp<int64_t>(row.reach_m, 0, kMaxReachM));
  l.available_from_s = row.available_from_s.value_or(std::numeric_limits<int64_t>::min());
  l.available_until_s = row.available_until_s.value_or(std::numeric_limits<int64_t>::max());
  l.status = parse_enum<Status>(row.status, {"active", "paused", "reserved", "closed", "expired"})
                 .value_or(Status::closed);
  l.created_at_s = row.created_at_s;
  l.words = hash_words(row.words);
  return l;
}

std::size_t MatchIndex::rebuild(const std::vector<ReadListing>& rows) {
  std::unique_lock lock(mutex_);
  revisions_.clear();
  std::map<std::string, std::vector<matching::Listing>> by_community;
  for (const ReadListing& row : rows) {
    revisions_[row.id] = row.revision;
    by_community[row.community_id].push_back(to_engine(row));
  }
  std::size_t indexed = 0;
  for (auto& [community, listings] : by_community) {
    indexed += engine_of(community).build(listings);
  }
  std::vector<matching::Listing> crossing;
  crossing_community_.clear();
  for (const ReadListing& row : rows) {
    if (!crosses(row)) continue;
    crossing.push_back(to_engine(row));
    crossing_community_[row.id] = row.community_id;
  }
  crossing_->build(crossing);
  return indexed;
}

void MatchIndex::upsert_crossing(const ReadListing& row, const matching::Listing& listing) {
  if (!crosses(row)) {
    remove_crossing(row.id);
    return;
  }
  const auto outcome = crossing_->upsert(listing);
  if (outcome == matching::UpsertOutcome::inserted || outcome == matching::UpsertOutcome::replaced)
    crossing_community_[row.id] = row.community_id;
}

void MatchIndex::remove_crossing(std::string_view listing_id) {
  const auto it = crossing_community_.find(std::string(listing_id));
  if (it == crossing_community_.end()) return;
  crossing_->remove(listing_id_of(listing_id));
  crossing_community_.erase(it);
}

bool MatchIndex::linked(const std::string& a, const std::string& b) const {
  for (const auto& [from, to] : {std::pair{&a, &b}, std::pair{&b, &a}}) {
    const auto partners = partners_.find(*from);
    if (partners != partners_.end() &&
        std::find(partners->second.begin(), partners->second.end(), *to) != partners->second.end())
      return true;
  }
  return false;
}

bool MatchIndex::partner_listing(const std::string& community_id, const std::string& other) const {
  const auto of = crossing_community_.find(other);
  // A link with another installation is only ours to know: its partner's offers (the copies its
  // ledger sent ours) have no row of links here, and pair with our side of the link.
  return of != crossing_community_.end() && of->second != community_id &&
         linked(community_id, of->second);
}

std::vector<Proposal> MatchIndex::crossing_matches(const std::string& community_id,
                                                   matching::ListingId id, std::size_t k,
                                                   int64_t now_s) const {
  // The engine knows no communities: the best candidates of all, kept to partners' listings.
  auto candidates = to_proposals(crossing_->top_matches(id, matching::kMaxResults, now_s));
  std::erase_if(candidates,
                [&](const Proposal& p) { return !partner_listing(community_id, p.other_id); });
  if (candidates.size() > k) candidates.resize(k);
  return candidates;
}

std::optional<bool> MatchIndex::pair_holds(const std::string& community_id,
                                           std::string_view listing_id, const std::string& other,
                                           int64_t now_s) const {
  const matching::ListingId id = listing_id_of(listing_id);
  const auto of = crossing_community_.find(other);
  if (of != crossing_community_.end() && of->second != community_id) {
    // Across: the other must still be a partner's crossing listing, and so must this one.
    if (!partner_listing(community_id, other)) return false;
    if (crossing_community_.find(std::string(listing_id)) == crossing_community_.end())
      return false;
    return crossing_->pair_holds(id, listing_id_of(other), now_s);
  }
  const auto engine = engines_.find(community_id);
  if (engine == engines_.end()) return std::nullopt;
  return engine->second->pair_holds(id, listing_id_of(other), now_s);
}

std::vector<Proposal> MatchIndex::matches_with_partner(const ReadListing& listing,
                                                       const std::string& partner, std::size_t k,
                                                       int64_t now_s) const {
  std::shared_lock lock(mutex_);
  if (crossing_community_.find(listing.id) == crossing_community_.end()) return {};
  auto candidates =
      to_proposals(crossing_->top_matches(listing_id_of(listing.id), matching::kMaxResults, now_s));
  std::erase_if(candidates, [&](const Proposal& p) {
    const auto of = crossing_community_.find(p.other_id);
    return of == crossing_community_.end() || of->second != partner ||
           !partner_listing(listing.community_id, p.other_id);
  });
  if (candidates.size() > k) candidates.resize(k);
  return candidates;
}

void MatchIndex::set_partners(std::unordered_map<std::string, std::vector<std::string>> partners) {
  std::unique_lock lock(mutex_);
  partners_ = std::move(partners);
}

std::vector<Proposal> MatchIndex::upsert_and_match(const ReadListing& row, std::size_t k,
                                                   int64_t now_s) {
  std::unique_lock lock(mutex_);
  int64_t& revision = revisions_[row.id];
  if (row.revision < revision) return {};
  revision = row.revision;
  matching::Engine& engine = engine_of(row.community_id);
  const matching::Listing listing = to_engine(row);
  const auto outcome = engine.upsert(listing);
  upsert_crossing(row, listing);
  if (outcome != matching::UpsertOutcome::inserted &&
      outcome != matching::UpsertOutcome::replaced) {
    return {};
  }
  auto home = to_proposals(engine.top_matches(listing.id, k, now_s));
  if (!crosses(row)) return home;
  return best_of(std::move(home), crossing_matches(row.community_id, listing.id, k, now_s), k);
}

void MatchIndex::remove(const std::string& community_id, std::string_view listing_id) {
  std::unique_lock lock(mutex_);
  revisions_[std::string(listing_id)] = std::numeric_limits<int64_t>::max();
  const auto it = engines_.find(community_id);
  if (it != engines_.end()) it->second->remove(listing_id_of(listing_id));
  remove_crossing(listing_id);
}

std::vector<Proposal> MatchIndex::still_holding(const ReadListing& listing,
                                                std::vector<Proposal> proposals,
                                                const std::map<std::string, int64_t>& locked,
                                                int64_t now_s) const {
  std::shared_lock lock(mutex_);
  const auto at_indexed_revision = [&](const std::string& id) {
    const auto row = locked.find(id);
    const auto indexed = revisions_.find(id);
    return row != locked.end() && indexed != revisions_.end() && row->second == indexed->second;
  };
  if (engines_.find(listing.community_id) == engines_.end() || !at_indexed_revision(listing.id))
    return {};
  std::erase_if(proposals, [&](const Proposal& p) {
    return !at_indexed_revision(p.other_id) ||
           pair_holds(listing.community_id, listing.id, p.other_id, now_s) != true;
  });
  return proposals;
}

std::vector<std::string> MatchIndex::broken_pairs(const std::string& community_id,
                                                  std::string_view listing_id,
                                                  const std::vector<std::string>& other_ids,
                                                  int64_t now_s) const {
  std::shared_lock lock(mutex_);
  std::vector<std::string> broken;
  for (const std::string& other : other_ids) {
    if (pair_holds(community_id, listing_id, other, now_s) == false) broken.push_back(other);
  }
  return broken;
}

std::vector<Proposal> MatchIndex::nearby(const NearbyInput& input) const {
  std::shared_lock lock(mutex_);
  const auto engine = engines_.find(input.community_id);
  matching::NearbyQuery q;
  q.at = input.at;
  q.radius_m = input.radius_m;
  if (input.category) q.category = categories_.id_of_slug.find(*input.category)->second;
  q.side = input.side;
  q.words = hash_words(input.words);
  q.k = input.k;
  q.now_s = input.now_s;
  const auto viewer = members_.find(input.viewer_member_id);
  if (viewer != members_.end()) q.viewer = viewer->second;
  // A community with no listing of its own yet still sees its partners'.
  auto home =
      engine == engines_.end() ? std::vector<Proposal>{} : to_proposals(engine->second->nearby(q));
  if (partners_.find(input.community_id) == partners_.end()) return home;
  // Partners' listings that cross, within the radius and their own reach (issue 23).
  matching::NearbyQuery across = q;
  across.within_candidate_reach = true;
  across.k = matching::kMaxResults;
  auto found = to_proposals(crossing_->nearby(across));
  std::erase_if(
      found, [&](const Proposal& p) { return !partner_listing(input.community_id, p.other_id); });
  return best_of(std::move(home), std::move(found), input.k);
}

void MatchIndex::set_reliability(const std::string& member_id, double reliability) {
  std::unique_lock lock(mutex_);
  const auto member = member_index(member_id);
  reliability_[member] = reliability;
  for (auto& [community, engine] : engines_) engine->set_reliability(member, reliability);
  crossing_->set_reliability(member, reliability);
}

void MatchIndex::set_recent_proposals(const std::string& member_id, uint32_t proposals) {
  std::unique_lock lock(mutex_);
  const auto member = member_index(member_id);
  recent_proposals_[member] = proposals;
  for (auto& [community, engine] : engines_) engine->set_recent_proposals(member, proposals);
  crossing_->set_recent_proposals(member, proposals);
}

std::size_t MatchIndex::size() const {
  std::shared_lock lock(mutex_);
  std::size_t total = 0;
  for (const auto& [community, engine] : engines_) total += engine->size();
  return total;
}

}  // namespace maillon::matching_service
