// The depot's items on a site's desk: reserved items to hand out and unclaimed ones to send to a
// partner, copied from the `depot` stream into the exchange schema (exactly once, in order).
#pragma once

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <string>

namespace maillon {
class Service;
class Authenticator;
}  // namespace maillon

namespace maillon::exchange {

inline constexpr int kDeskItemsMax = 100;  // rows per desk section, like the exchange sections

// Consumes item.* events of the `depot` stream into desk_items.
void register_desk_items(Service& service);

struct DeskItems {
  nlohmann::json to_hand_out = nlohmann::json::array();  // reserved, soonest lapse first
  nlohmann::json to_redirect = nlohmann::json::array();  // unclaimed and on the shelf
};
DeskItems desk_items(pqxx::work& tx, const std::string& site_id);

// Adds `reserved_by`, the reserver's display name, to each item to hand out. Read at each call
// rather than copied: a member who changes or erases their name is not kept here.
void name_reservers(nlohmann::json& items, Authenticator& auth);

}  // namespace maillon::exchange
