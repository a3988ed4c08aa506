// JSON at the listing service's edges: request bodies into the domain's drafts and patches,
// listings into API views (with the privacy rules) and event payloads. Times are RFC 3339.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "exchange/listing.hpp"
#include "services/common/time.hpp"
#include "services/offers/repository.hpp"

namespace maillon::listings {

using Json = nlohmann::json;

// "2026-05-01T10:00:00Z", "...+02:00", with an optional fraction (dropped) → Unix seconds.

// Request bodies. Unknown and read-only keys are refused first (refuse_unsettable_fields), then
// wrong JSON types; either throws a 400 naming every bad field. The domain validates the rest.
ListingDraft parse_draft(std::string_view body);
ListingPatch parse_patch(std::string_view body);

// Whom a listing is shown to: its owner and the staff who may edit it see the exact location;
// other members of the community see only `area`, the position rounded to 0.01° (about 1 km:
// coarse_degrees in exchange/listing.hpp).
enum class Audience { editor, community };

Json listing_view(const ListingRow& row, Audience audience);
// The whole listing with its exact handover point: what the matching engine needs.
Json listing_event_data(const ListingRow& row);
// reason: "closed" (owner or staff), "expired" (job), "completed" (exchange), "withdrawn" (owner
// erased).
Json closed_event_data(const ListingRow& row, std::string_view reason);

}  // namespace maillon::listings
