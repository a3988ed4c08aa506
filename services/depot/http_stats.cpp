// Impact and open data: totals over a period and the per-site, per-day CSV, read from the
// daily_stats counters (never from members: the export cannot leak a person).
//
// Small counts re-identify: "one loan at this site on Tuesday" points at a neighbour. Every
// figure that counts people's events (loans, completed exchanges, active members) is published
// per site and day only from kPublishedCountMin on, "<5" below, and the minutes of a cell whose
// exchanges are hidden are hidden too (empty in the CSV). A total of /v1/stats is the sum of
// those published cells, never of the raw ones: subtracting two overlapping periods, or a site
// from its community, then yields only what the CSV already shows. The price: a total adds
// nothing for quiet cells (so it may read "<5" over a month of one exchange a day), and
// active_members over a period counts member-days, since a distinct count over free periods
// could be differenced down to one person. Kilograms and item counts are about objects: exact.
#include <cstdio>

#include "services/common/errors.hpp"
#include "services/common/http.hpp"
#include "services/common/json_body.hpp"
#include "services/common/service.hpp"
#include "services/depot/depot.hpp"
#include "services/depot/messages.hpp"

namespace maillon::depot {
namespace {

constexpr int kCsvRowsMax = 100'000;  // ten years of a hundred sites and days fit in it
constexpr int64_t kDefaultPeriodDays = 30;
constexpr int64_t kPublishedCountMin = 5;
constexpr const char* kSmallCount = "<5";  // what is shown below kPublishedCountMin
static_assert(kPublishedCountMin == 5, "kSmallCount spells the threshold");

Json published_count(int64_t count) {
  if (count < kPublishedCountMin) return kSmallCount;
  return count;
}

std::string published_count_text(int64_t count) {
  return count < kPublishedCountMin ? kSmallCount : std::to_string(count);
}

std::string day_param(const Request& req, const char* name, const std::string& fallback,
                      FieldErrors& errors) {
  std::optional<std::string> text = req.query_value(name);
  if (!text) return fallback;
  std::string day = text->substr(0, 10);
  if (text->size() != 10 || !parse_rfc3339_s(day + "T00:00:00Z")) {
    errors.push_back({name, message(DepotRefusal::day_invalid)});
  }
  return day;
}

StatsQuery stats_query(const Request& req, int64_t now_s, bool with_site) {
  StatsQuery q;
  FieldErrors errors;
  q.community_id = req.query_value("community_id");
  if (q.community_id && !is_uuid(*q.community_id))
    errors.push_back({"community_id", message(DepotRefusal::community_id_invalid)});
  if (with_site) {
    q.site_key = req.query_value("site_id");
    if (q.site_key && *q.site_key != kNetworkSite && !is_uuid(*q.site_key)) {
      errors.push_back({"site_id", message(DepotRefusal::site_id_invalid)});
    }
  }
  q.to_day = day_param(req, "to", format_day(now_s), errors);
  q.from_day = day_param(req, "from", format_day(now_s - kDefaultPeriodDays * 86400), errors);
  if (errors.empty() && q.from_day > q.to_day)
    errors.push_back({"from", message(DepotRefusal::period_reversed)});
  if (!errors.empty()) throw problem(DepotRefusal::stats_invalid, errors);
  return q;
}

double kg(int64_t grams) {
  return static_cast<double>(grams) / 1000.0;
}

std::string kg_text(int64_t grams) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", kg(grams));
  return buf;
}

Json totals_json(const StatsQuery& q, const DayCounters& c) {
  const ItemFigures& i = c.items;
  int64_t redirected_g = i.redirected_reuse_g + i.redirected_recycle_g + i.redirected_waste_g;
  return {{"from", q.from_day},
          {"to", q.to_day},
          {"exchanges_completed", published_count(c.exchanges_completed)},
          {"minutes_exchanged", c.minutes_exchanged},
          {"active_members", published_count(c.active_members)},
          {"items_in", i.items_in},
          {"items_reused", i.items_reused},
          {"kg_reused", kg(i.reused_g)},
          {"kg_redirected", kg(redirected_g)},
          {"kg_redirected_by_outlet",
           {{"reuse", kg(i.redirected_reuse_g)},
            {"recycle", kg(i.redirected_recycle_g)},
            {"waste", kg(i.redirected_waste_g)}}},
          {"loans", published_count(i.loans)}};
}

std::string csv(const std::vector<StatsRow>& rows) {
  std::string out =
      "site_id,day,items_in,items_reused,kg_reused,kg_redirected_reuse,kg_redirected_recycle,"
      "kg_redirected_waste,loans,exchanges_completed,minutes_exchanged,active_members\n";
  for (const StatsRow& r : rows) {
    const DayCounters& c = r.counters;
    const ItemFigures& i = c.items;
    // The minutes of fewer than kPublishedCountMin exchanges would tell what one of them was worth.
    std::string minutes = c.exchanges_completed < kPublishedCountMin
                              ? std::string()
                              : std::to_string(c.minutes_exchanged);
    out += r.site_key + "," + r.day + "," + std::to_string(i.items_in) + "," +
           std::to_string(i.items_reused) + "," + kg_text(i.reused_g) + "," +
           kg_text(i.redirected_reuse_g) + "," + kg_text(i.redirected_recycle_g) + "," +
           kg_text(i.redirected_waste_g) + "," + published_count_text(i.loans) + "," +
           published_count_text(c.exchanges_completed) + "," + minutes + "," +
           published_count_text(c.active_members) + "\n";
  }
  return out;
}

}  // namespace

void register_stats_routes(const std::shared_ptr<const DepotContext>& c) {
  c->service.http.route("GET", "/v1/stats", [c](const Request& req) {
    StatsQuery q = stats_query(req, c->now_s(), true);
    DayCounters totals = c->service.db.transact(
        [&](pqxx::work& tx) { return stats_totals(tx, q, kPublishedCountMin); });
    return json_response(200, totals_json(q, totals));
  });
  c->service.http.route("GET", "/v1/stats/export.csv", [c](const Request& req) {
    StatsQuery q = stats_query(req, c->now_s(), false);
    std::vector<StatsRow> rows =
        c->service.db.transact([&](pqxx::work& tx) { return stats_rows(tx, q, kCsvRowsMax); });
    Response r = Response::text(200, csv(rows), "text/csv; charset=utf-8");
    r.headers.emplace_back("Content-Disposition", "attachment; filename=\"maillon-impact.csv\"");
    return r;
  });
}

}  // namespace maillon::depot
