// A community with one depot site, its staff and members, the depot service started against
// them with a clock the test moves (MAILLON_CLOCK_OFFSET_FILE), and readers of its streams.
#pragma once

#include <hiredis/hiredis.h>

#include <ctime>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "harness.hpp"
#include "services/common/redis.hpp"

namespace maillon::testing {

struct StreamEvent {
  Json envelope;
  const Json& data() const { return envelope["data"]; }
  std::string type() const { return envelope["type"].get<std::string>(); }
};

class DepotWorld {
 public:
  explicit DepotWorld(const std::string& label, const Json& policy = Json::object())
      : world(label) {
    community = world.create_community("Depot " + label, policy);
    site = world.create_site(community, "Ressourcerie " + label, 50.63, 3.06);
    staff = world.register_member(community, "Equipe", site);
    world.make_staff(site, staff.id);
    clock_path = "/tmp/maillon-depot-clock-" + unique_suffix();
    set_clock(std::time(nullptr));
    depot = std::make_unique<ServiceProcess>("depot",
                                             world.env({{"MAILLON_CLOCK_OFFSET_FILE", clock_path},
                                                        {"MAILLON_DEPOT_JOB_INTERVAL_MS", "100"},
                                                        {"MAILLON_RATE_LIMIT", "1000000"},
                                                        {"MAILLON_RATE_BURST", "1000000"},
                                                        {"MAILLON_WORKERS", "16"},
                                                        {"MAILLON_DB_POOL", "16"}}));
    depot->start();
    // The site reaches the depot through the members stream.
    bool known =
        eventually([&] { return desk().get("/v1/sites/" + site + "/items").status == 200; }, 10000);
    if (!known) throw std::runtime_error("the depot never learnt the site");
  }

  // The depot's clock reads `unix_s` from now on (the offset is taken against the system clock).
  void set_clock(int64_t unix_s) {
    std::ofstream(clock_path) << (unix_s - static_cast<int64_t>(std::time(nullptr)));
    clock_s = unix_s;
  }
  void advance(int64_t seconds) { set_clock(clock_s + seconds); }
  // What the depot's clock reads now: clock_s plus the real time gone by since it was set.
  int64_t now_s() const {
    std::ifstream in(clock_path);
    int64_t offset = 0;
    in >> offset;
    return static_cast<int64_t>(std::time(nullptr)) + offset;
  }

  Client desk() const { return Client(depot->url(), staff.token); }
  Client as(const MemberInfo& m) const { return Client(depot->url(), m.token); }
  MemberInfo member(const std::string& name) {
    return world.register_member(community, name, site);
  }

  // Staff take an item in; returns its id.
  std::string intake(const std::string& mode = "give", int64_t weight_g = 1000,
                     const std::string& dropped_by = "", const std::string& on_site = "") {
    Json body = {{"category", "perceuses"},
                 {"title", "Perceuse à percussion"},
                 {"condition", "good"},
                 {"weight_g", weight_g},
                 {"mode", mode}};
    if (!dropped_by.empty()) body["dropped_by_member_id"] = dropped_by;
    auto r = desk().post("/v1/sites/" + (on_site.empty() ? site : on_site) + "/items", body);
    if (r.status != 201) throw std::runtime_error("intake failed: " + r.body);
    return r.json()["id"].get<std::string>();
  }

  std::vector<StreamEvent> events(const std::string& stream) const {
    Redis redis(redis_url());
    auto reply = redis.command({"XRANGE", world.prefix + ":" + stream, "-", "+"});
    std::vector<StreamEvent> out;
    for (size_t k = 0; reply && k < reply->elements; ++k) {
      const redisReply* fields = reply->element[k]->element[1];
      out.push_back({Json::parse(std::string(fields->element[1]->str, fields->element[1]->len))});
    }
    return out;
  }
  std::vector<StreamEvent> events_of(const std::string& stream, const std::string& type,
                                     const std::string& item_id = "") const {
    std::vector<StreamEvent> out;
    for (auto& e : events(stream)) {
      if (e.type() != type) continue;
      if (!item_id.empty() && e.data().value("item_id", std::string()) != item_id &&
          e.data().value("ref", std::string()) != "item:" + item_id) {
        continue;
      }
      out.push_back(e);
    }
    return out;
  }
  // Appends an event as another service would publish it.
  void inject(const std::string& stream, const std::string& type, const std::string& occurred_at,
              const Json& data) const {
    Json envelope = {{"id", uuid()},
                     {"type", type},
                     {"version", 1},
                     {"occurred_at", occurred_at},
                     {"community_id", community},
                     {"data", data}};
    Redis redis(redis_url());
    redis.command({"XADD", world.prefix + ":" + stream, "*", "event", envelope.dump()});
  }
  static std::string uuid();

  MembersWorld world;
  std::string community;
  std::string site;
  MemberInfo staff;
  std::string clock_path;
  int64_t clock_s = 0;
  std::unique_ptr<ServiceProcess> depot;
};

std::string rfc3339(int64_t unix_s);

}  // namespace maillon::testing
