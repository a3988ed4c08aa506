// The federation's listing copies on ledger.events (issue 23): see FederationListingShared.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>

#include "services/common/typed_events.hpp"

namespace maillon {

// A listing of a partner installation's community, told to us over a federation link (issue
// 23), as the ledger that received the signed listing.publish or listing.withdraw announces it on
// ledger.events (federation.listing.shared.schema.json): the envelope's community_id is ours,
// the link's side that received it. Offers (side offer) and requests (side request) keep a copy
// that their searches show to the communities linked with the partner's.
struct FederationListingShared {
  std::string link_id;
  std::string community_id;  // ours
  std::string partner_community_id;
  std::string partner_url;  // the partner installation, where the listing lives
  std::string side;         // offer | request
  std::string listing_id;
  int64_t revision = 0;   // the partner's revision of it: a copy keeps the newest
  bool crossing = false;  // false: withdrawn (closed, paused, reserved or back to its community)
  // The listing as the partner shows it (no exact location: the privacy grid), JSON text; empty
  // when withdrawn.
  std::string listing;

  static Read<FederationListingShared> read(const Event& e);
  nlohmann::json data() const;
  static std::string type_name() { return "federation.listing.shared"; }
};

}  // namespace maillon
