// Depot items as offers: the offers service follows the `depot` stream and keeps one listing per
// item, placed at the item's site, so members find it in search and the matching engine sees it.
#pragma once

#include <memory>

#include "exchange/listing.hpp"

namespace maillon::listings {

struct ListingContext;

// A depot item's listing has the item's id and is owned by its site (member_id = site_id): the
// site is the place and the giver. Members' ids and sites' ids are both random UUIDs from the
// members service, so no member's listing looks like this.
bool is_depot_listing(const Listing& listing);

// The offer side only: consumes `depot` (item.*) and publishes offer.published/updated/closed.
void register_depot_consumer(const std::shared_ptr<const ListingContext>& context);

}  // namespace maillon::listings
