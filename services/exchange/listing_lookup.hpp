// Read your own writes across services: a listing the exchange has not heard of yet (its event
// still on the way) is asked of the service that owns it before a proposal is refused.
#pragma once

#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <utility>

#include "services/exchange/exchange_service.hpp"

namespace maillon::exchange {

// The listing as its owner (the offers or requests schema, by `side`: "offer" or "request")
// has it now, also kept as the exchange's copy (the event, when it comes, writes the same);
// nullopt when the owner has no such listing either.
std::optional<ListingCopy> listing_from_owner(pqxx::work& tx, const std::string& id,
                                              const std::string& side);

// A partner installation's offer as offers keeps it (never stored here: it is read at each
// proposal); nullopt when there is no open copy of a crossing offer under that id.
std::optional<ListingCopy> partner_offer_copy(pqxx::work& tx, const std::string& id);

// The match as matching has it now (its offer's and request's ids), also kept as the exchange's
// copy; nullopt when matching has no such match either (or is of a release without the function).
std::optional<std::pair<std::string, std::string>> match_from_owner(pqxx::work& tx,
                                                                    const std::string& id);

}  // namespace maillon::exchange
