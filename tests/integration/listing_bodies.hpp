// The listing bodies the exchange tests post, service-level and end to end alike.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace maillon::testing {

// An hour of homework help for `price_minutes`, handed over at `at_site`, or near Lille when
// there is none.
inline nlohmann::json service_offer(int64_t price_minutes,
                                    const std::optional<std::string>& at_site = std::nullopt) {
  nlohmann::json body = {{"kind", "service"},
                         {"mode", "service"},
                         {"category", "aide-aux-devoirs"},
                         {"title", "Aide aux devoirs de maths"},
                         {"duration_minutes", 60},
                         {"price_minutes", price_minutes}};
  if (at_site) {
    body["site_id"] = *at_site;
  } else {
    body["location"] = {{"lat", 50.63}, {"lon", 3.07}};
  }
  return body;
}

// A drill given away for `price_minutes`: a good whose exchange reserves the offer while it
// runs and closes it once done (an offered service stays active instead).
inline nlohmann::json gift_offer(int64_t price_minutes,
                                 const std::optional<std::string>& at_site = std::nullopt) {
  nlohmann::json body = {{"kind", "good"},
                         {"mode", "give"},
                         {"category", "perceuses"},
                         {"title", "Perceuse à donner"},
                         {"price_minutes", price_minutes}};
  if (at_site) {
    body["site_id"] = *at_site;
  } else {
    body["location"] = {{"lat", 50.63}, {"lon", 3.07}};
  }
  return body;
}

}  // namespace maillon::testing
