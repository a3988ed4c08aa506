#include "services/common/events_listing_shares.hpp"

#include <nlohmann/json.hpp>

#include "services/common/event_fields.hpp"

namespace maillon {

namespace {
using Shared = FederationListingShared;
const auto kSharedFields = std::tuple{
    event_field("link_id", &Shared::link_id, &EventFields::uuid),
    event_field("community_id", &Shared::community_id, &EventFields::uuid),
    event_field("partner_community_id", &Shared::partner_community_id, &EventFields::uuid),
    event_field("partner_url", &Shared::partner_url, &EventFields::text),
    event_field("side", &Shared::side, &EventFields::text),
    event_field("listing_id", &Shared::listing_id, &EventFields::uuid),
    event_field("revision", &Shared::revision, &EventFields::integer),
    event_field("crossing", &Shared::crossing, &EventFields::boolean)};
}  // namespace

Read<FederationListingShared> FederationListingShared::read(const Event& e) {
  auto read = [](EventFields& f, FederationListingShared& d) {
    read_fields(f, d, kSharedFields);
    if (d.side != "offer" && d.side != "request") {
      f.fail("side must be offer or request");
      return;
    }
    const nlohmann::json* listing = f.raw("listing");
    if (d.crossing && (listing == nullptr || !listing->is_object())) {
      f.fail("a crossing listing needs its listing object");
      return;
    }
    if (listing != nullptr && listing->is_object()) d.listing = listing->dump();
  };
  return read_event<FederationListingShared>(e, e.type == type_name(),
                                             "not a federation listing event: ", read);
}

nlohmann::json FederationListingShared::data() const {
  nlohmann::json data = nlohmann::json::object();
  write_fields(data, *this, kSharedFields);
  if (!listing.empty()) data["listing"] = nlohmann::json::parse(listing);
  return data;
}

}  // namespace maillon
