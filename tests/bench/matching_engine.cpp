// Benchmark of the matching engine on 1,000,000 listings spread over the Hauts-de-France by
// population: build time, bytes per listing, and nearby queries (radius 1, 5, 25 km, top 20)
// for the engine, for PostGIS on the same points (the anchor, when MAILLON_TEST_DATABASE_URL
// names a PostgreSQL with PostGIS; tests/bench/postgis_anchor.hpp) and for a brute-force scan
// with the engine's own rules (which also checks the engine's results).
//
// Usage: maillon_bench_matching_engine [--towns FILE] [--listings N] [--queries N]
//        [--dump-points FILE] [--dump-queries FILE] [--load-queries FILE]
// The towns file defaults to $MAILLON_TOWNS_CSV, else ../shared/data/towns.csv (from the repo
// root).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iostream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "matching/engine.hpp"
#include "postgis_anchor.hpp"

namespace {
using namespace maillon::matching;
using Clock = std::chrono::steady_clock;

constexpr int64_t kNow = 1'750'000'000;
constexpr int64_t kDay = 86'400;
constexpr std::size_t kCategories = 50;  // 10 families of 4 sub-categories
constexpr std::size_t kTopK = 20;
constexpr uint32_t kVocabulary = 3000;

struct Town {
  GeoPoint centre;
  double population = 0;
};

struct Query {
  uint32_t radius_m = 0;
  CategoryId category = 0;
  GeoPoint at;
};

struct Options {
  std::string towns_path;
  std::size_t listings = 1'000'000;
  std::size_t queries = 20'000;  // per radius for the engine; the anchor runs 1/100 of them
  std::string dump_points, dump_queries, load_queries;
};

Options parse(int argc, char** argv) {
  Options o;
  const char* env = std::getenv("MAILLON_TOWNS_CSV");
  o.towns_path = env ? env : "../shared/data/towns.csv";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--towns") o.towns_path = value;
    if (flag == "--listings") o.listings = std::stoul(value);
    if (flag == "--queries") o.queries = std::stoul(value);
    if (flag == "--dump-points") o.dump_points = value;
    if (flag == "--dump-queries") o.dump_queries = value;
    if (flag == "--load-queries") o.load_queries = value;
  }
  return o;
}

std::vector<Town> read_towns(const std::string& path) {
  std::ifstream in(path);
  std::vector<Town> towns;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#' || line.rfind("commune", 0) == 0) continue;
    std::stringstream fields(line);
    std::string name, lat, lon, population;
    std::getline(fields, name, ',');
    std::getline(fields, lat, ',');
    std::getline(fields, lon, ',');
    std::getline(fields, population, ',');
    towns.push_back(Town{{std::stod(lat), std::stod(lon)}, std::stod(population)});
  }
  return towns;
}

std::vector<CategoryId> category_tree() {
  std::vector<CategoryId> parents(kCategories, kNoParent);
  for (std::size_t c = 10; c < kCategories; ++c) parents[c] = CategoryId((c - 10) / 4);
  return parents;
}

// A point drawn by population: a town by weight, then a Gaussian of 2 to 5 km around it
// (wider for bigger towns, whose built-up area is wider).
class PointSource {
 public:
  explicit PointSource(const std::vector<Town>& towns) : towns_(towns) {
    std::vector<double> weights;
    double biggest = 1;
    for (const Town& t : towns)
      weights.push_back(t.population), biggest = std::max(biggest, t.population);
    pick_ = std::discrete_distribution<std::size_t>(weights.begin(), weights.end());
    for (const Town& t : towns) sigma_m_.push_back(2000 + 3000 * std::sqrt(t.population / biggest));
  }
  GeoPoint operator()(std::mt19937_64& random) {
    const std::size_t i = pick_(random);
    std::normal_distribution<double> offset(0, sigma_m_[i]);
    const GeoPoint c = towns_[i].centre;
    return {c.lat + offset(random) / kMetresPerDegree,
            c.lon + offset(random) / (kMetresPerDegree * std::cos(c.lat * kDegToRad))};
  }

 private:
  std::vector<Town> towns_;
  std::vector<double> sigma_m_;
  std::discrete_distribution<std::size_t> pick_;
};

std::vector<Listing> make_listings(std::size_t count, PointSource& points,
                                   std::mt19937_64& random) {
  std::vector<Listing> listings(count);
  std::uniform_int_distribution<uint32_t> word(1, kVocabulary), reach_m(1000, 10'000);
  for (std::size_t i = 0; i < count; ++i) {
    Listing& l = listings[i];
    l.id = ListingId{random(), i};
    l.side = random() % 2 ? Side::offer : Side::request;
    l.member = MemberIndex(random() % (count / 5 + 1));
    l.category = CategoryId(random() % kCategories);
    l.mode = static_cast<Mode>(random() % 4);
    l.kind = l.mode == Mode::service ? Kind::service : Kind::good;
    l.position = points(random);
    l.reach_m = reach_m(random);
    l.available_from_s = kNow - int64_t(random() % 30) * kDay;
    l.available_until_s = kNow + int64_t(random() % 90 + 1) * kDay;
    l.created_at_s = kNow - int64_t(random() % 60) * kDay;
    for (std::size_t w = 0; w < 4; ++w) l.words[w] = word(random);
  }
  return listings;
}

std::vector<Query> make_queries(std::size_t per_radius, PointSource& points,
                                std::mt19937_64& random) {
  std::vector<Query> queries;
  for (uint32_t radius_m : {1000u, 5000u, 25'000u}) {
    for (std::size_t i = 0; i < per_radius; ++i) {
      queries.push_back(Query{radius_m, CategoryId(random() % kCategories), points(random)});
    }
  }
  return queries;
}

void dump_queries(const std::string& path, const std::vector<Query>& queries) {
  std::ofstream out(path);
  out << "radius_m,category,lat,lon\n";
  out.precision(9);
  for (const Query& q : queries)
    out << q.radius_m << ',' << q.category << ',' << q.at.lat << ',' << q.at.lon << '\n';
}

std::vector<Query> load_queries(const std::string& path) {
  std::ifstream in(path);
  std::vector<Query> queries;
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    Query q;
    char comma;
    unsigned category;
    std::stringstream(line) >> q.radius_m >> comma >> category >> comma >> q.at.lat >> comma >>
        q.at.lon;
    q.category = CategoryId(category);
    queries.push_back(q);
  }
  return queries;
}

void dump_points(const std::string& path, const std::vector<Listing>& listings) {
  std::ofstream out(path);
  out << "id,category,lat,lon\n";
  out.precision(9);
  for (std::size_t i = 0; i < listings.size(); ++i) {
    const GeoPoint p = handover_point(listings[i]);
    out << i << ',' << listings[i].category << ',' << p.lat << ',' << p.lon << '\n';
  }
}

NearbyQuery nearby_of(const Query& q) {
  NearbyQuery n;
  n.at = q.at;
  n.radius_m = q.radius_m;
  n.category = q.category;
  n.side = Side::offer;
  n.words = Words{1, 2, 3};
  n.k = kTopK;
  n.now_s = kNow;
  return n;
}

// The anchor: every listing read, the same rules and scores as the engine's nearby().
class BruteForce {
 public:
  BruteForce(const std::vector<Listing>& listings, const std::vector<CategoryId>& parents,
             const std::vector<double>& reliability, const std::vector<uint32_t>& proposals)
      : listings_(listings), tree_(parents), reliability_(reliability), proposals_(proposals) {
    for (const Listing& l : listings) points_.push_back(handover_point(l));
  }
  std::vector<Match> nearby(const NearbyQuery& q) const {
    std::vector<bool> related(tree_.size(), false);
    for (CategoryId c : tree_.related(*q.category)) related[c] = true;
    const GeoPoint from = snap_to_grid(q.at);
    std::vector<Match> found;
    for (std::size_t i = 0; i < listings_.size(); ++i) {
      const Listing& l = listings_[i];
      if (!related[l.category] || l.side != *q.side || l.available_until_s <= q.now_s) continue;
      const double d = haversine_m(from, points_[i]);
      if (d > q.radius_m) continue;
      found.push_back(Match{l.id, score(inputs_of(l, d, q)), d});
    }
    const auto better = [](const Match& a, const Match& b) {
      return a.score > b.score || (a.score == b.score && a.other < b.other);
    };
    const std::size_t k = std::min(found.size(), q.k);
    std::partial_sort(found.begin(), found.begin() + std::ptrdiff_t(k), found.end(), better);
    found.resize(k);
    return found;
  }

 private:
  ScoreInputs inputs_of(const Listing& l, double d, const NearbyQuery& q) const {
    ScoreInputs in;
    in.distance_m = d;
    uint32_t mine = 0, theirs = 0;
    for (uint32_t w : q.words) mine += w != 0;
    for (uint32_t w : l.words) theirs += w != 0;
    for (uint32_t w : q.words) {
      in.shared_words += w != 0 && std::find(l.words.begin(), l.words.end(), w) != l.words.end();
    }
    in.fewer_words = std::min(mine, theirs);
    in.age_s = q.now_s - l.created_at_s;
    in.reliability = reliability_[l.member];
    in.recent_proposals = proposals_[l.member];
    return in;
  }
  const std::vector<Listing>& listings_;
  std::vector<GeoPoint> points_;
  CategoryTree tree_;
  const std::vector<double>& reliability_;
  const std::vector<uint32_t>& proposals_;
};

// Members as the exchange history would describe them: most completed every exchange, some
// abandoned a few; most received no proposal lately, a few received many.
struct Members {
  std::vector<double> reliability;
  std::vector<uint32_t> proposals;
};

Members make_members(std::size_t count, std::mt19937_64& random) {
  Members m;
  std::uniform_real_distribution<double> unreliable(0.3, 1.0);
  for (std::size_t i = 0; i < count; ++i) {
    m.reliability.push_back(random() % 10 < 7 ? 1.0 : unreliable(random));
    m.proposals.push_back(random() % 4 == 0 ? uint32_t(random() % 10) : 0);
  }
  return m;
}

struct Timing {
  double qps = 0, p50_us = 0, p99_us = 0;
  double cpu_p50_us = 0, cpu_p99_us = 0;  // this thread's CPU time: what preemption leaves out
  std::size_t results = 0;
};

// On a loaded machine the wall-clock tail measures the scheduler as much as the index; the
// thread's CPU time per query shows the index's own work.
double thread_cpu_us() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return double(t.tv_sec) * 1e6 + double(t.tv_nsec) / 1e3;
}

template <class Run>
Timing time_queries(const std::vector<Query>& queries, Run run) {
  std::vector<double> latencies_us, cpu_us;
  Timing t;
  const auto start = Clock::now();
  for (const Query& q : queries) {
    const auto before = Clock::now();
    const double cpu_before_us = thread_cpu_us();
    t.results += run(nearby_of(q)).size();
    cpu_us.push_back(thread_cpu_us() - cpu_before_us);
    latencies_us.push_back(
        std::chrono::duration<double, std::micro>(Clock::now() - before).count());
  }
  const double total_s = std::chrono::duration<double>(Clock::now() - start).count();
  std::sort(latencies_us.begin(), latencies_us.end());
  std::sort(cpu_us.begin(), cpu_us.end());
  t.cpu_p50_us = cpu_us[cpu_us.size() / 2];
  t.cpu_p99_us = cpu_us[cpu_us.size() * 99 / 100];
  t.qps = double(queries.size()) / total_s;
  t.p50_us = latencies_us[latencies_us.size() / 2];
  t.p99_us = latencies_us[latencies_us.size() * 99 / 100];
  return t;
}

std::vector<Query> of_radius(const std::vector<Query>& all, uint32_t radius_m,
                             std::size_t at_most) {
  std::vector<Query> some;
  for (const Query& q : all) {
    if (q.radius_m == radius_m && some.size() < at_most) some.push_back(q);
  }
  return some;
}

void bench_radius(const Engine& engine, const BruteForce& brute,
                  maillon::bench::PostgisAnchor* postgis, const std::vector<Query>& all,
                  uint32_t radius_m, std::size_t count) {
  const std::vector<Query> ours_queries = of_radius(all, radius_m, count);
  // The brute-force scan reads all 1M listings per query: fewer of them keep the run short.
  const std::vector<Query> brute_queries =
      of_radius(all, radius_m, std::max<std::size_t>(20, count / 400));
  const std::vector<Query> anchor_queries =
      of_radius(all, radius_m, std::max<std::size_t>(20, count / 100));
  const Timing ours =
      time_queries(ours_queries, [&](const NearbyQuery& q) { return engine.nearby(q); });
  const Timing scan =
      time_queries(brute_queries, [&](const NearbyQuery& q) { return brute.nearby(q); });
  std::size_t mismatches = 0;
  for (const Query& q : brute_queries)
    mismatches += engine.nearby(nearby_of(q)) != brute.nearby(nearby_of(q));
  const std::string name = "matching.r" + std::to_string(radius_m / 1000) + "km";
  // PostGIS takes milliseconds to tenths of a second per query: the same first queries, fewer,
  // after a few untimed ones so that the first does not pay for planning and a cold cache.
  for (std::size_t i = 0; postgis && i < 5; ++i) postgis->nearby(nearby_of(anchor_queries[i]));
  const Timing anchor =
      postgis
          ? time_queries(anchor_queries, [&](const NearbyQuery& q) { return postgis->nearby(q); })
          : scan;
  std::printf("BENCH %s ours=%.0f anchor=%.1f ratio=%.1f\n", name.c_str(), ours.qps, anchor.qps,
              ours.qps / anchor.qps);
  std::printf("BENCH %s.latency_us ours_p50=%.1f ours_p99=%.1f anchor_p50=%.0f anchor_p99=%.0f\n",
              name.c_str(), ours.p50_us, ours.p99_us, anchor.p50_us, anchor.p99_us);
  std::printf("BENCH %s.cpu_us ours_p50=%.1f ours_p99=%.1f\n", name.c_str(), ours.cpu_p50_us,
              ours.cpu_p99_us);
  std::printf("BENCH %s.brute_force ours=%.0f anchor=%.1f ratio=%.1f\n", name.c_str(), ours.qps,
              scan.qps, ours.qps / scan.qps);
  std::printf(
      "INFO %s anchor=%s queries=%zu anchor_queries=%zu mean_results=%.1f "
      "anchor_mean_results=%.1f mismatches_vs_brute_force=%zu\n",
      name.c_str(), postgis ? "postgis" : "brute-force", ours_queries.size(),
      postgis ? anchor_queries.size() : brute_queries.size(),
      double(ours.results) / double(ours_queries.size()),
      double(anchor.results) / double(postgis ? anchor_queries.size() : brute_queries.size()),
      mismatches);
}

// PostGIS on the test database when there is one; the benchmark still runs without it.
std::unique_ptr<maillon::bench::PostgisAnchor> postgis_anchor(
    const std::vector<Listing>& listings) {
  const char* url = std::getenv("MAILLON_TEST_DATABASE_URL");
  if (url == nullptr || *url == '\0') {
    std::printf("INFO no MAILLON_TEST_DATABASE_URL: the anchor is the brute-force scan\n");
    return nullptr;
  }
  auto anchor = std::make_unique<maillon::bench::PostgisAnchor>(url, category_tree());
  const double load_s = anchor->load(listings);
  std::printf("BENCH matching.postgis_load s=%.1f listings=%zu\n", load_s, listings.size());
  return anchor;
}

// Updates in place: a listing moved and re-categorised, then removed and put back.
void bench_updates(Engine& engine, const std::vector<Listing>& listings, std::mt19937_64& random) {
  const std::size_t count = std::min<std::size_t>(100'000, listings.size());
  const auto start = Clock::now();
  for (std::size_t i = 0; i < count; ++i) {
    Listing l = listings[random() % listings.size()];
    l.category = CategoryId(random() % kCategories);
    engine.upsert(l);
    engine.remove(l.id);
    engine.upsert(l);
  }
  const double s = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("BENCH matching.update ops_per_s=%.0f\n", double(3 * count) / s);
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = parse(argc, argv);
  const std::vector<Town> towns = read_towns(options.towns_path);
  if (towns.empty()) {
    std::fprintf(stderr, "no towns read from %s (pass --towns or MAILLON_TOWNS_CSV)\n",
                 options.towns_path.c_str());
    return 2;
  }
  std::mt19937_64 random(20'240'601);
  PointSource points(towns);
  const std::vector<Listing> listings = make_listings(options.listings, points, random);
  const std::vector<Query> queries = options.load_queries.empty()
                                         ? make_queries(options.queries, points, random)
                                         : load_queries(options.load_queries);
  if (!options.dump_points.empty()) dump_points(options.dump_points, listings);
  if (!options.dump_queries.empty()) dump_queries(options.dump_queries, queries);

  const Members members = make_members(options.listings / 5 + 1, random);
  Engine engine(category_tree());
  const auto start = Clock::now();
  const std::size_t indexed = engine.build(listings);
  const double build_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  std::printf("BENCH matching.build_1m ms=%.0f\n", build_ms * 1'000'000.0 / double(indexed));
  std::printf("BENCH matching.bytes_per_listing value=%.1f\n",
              double(engine.memory_bytes()) / double(indexed));
  std::printf("INFO listings=%zu indexed=%zu towns=%zu build_ms_measured=%.0f\n", listings.size(),
              indexed, towns.size(), build_ms);

  for (std::size_t m = 0; m < members.reliability.size(); ++m) {
    engine.set_reliability(MemberIndex(m), members.reliability[m]);
    engine.set_recent_proposals(MemberIndex(m), members.proposals[m]);
  }
  const BruteForce brute(listings, category_tree(), members.reliability, members.proposals);
  const auto postgis = postgis_anchor(listings);
  bench_radius(engine, brute, postgis.get(), queries, 1000, options.queries);
  bench_radius(engine, brute, postgis.get(), queries, 5000, options.queries);
  bench_radius(engine, brute, postgis.get(), queries, 25'000, options.queries / 4);
  bench_updates(engine, listings, random);
  return 0;
}
