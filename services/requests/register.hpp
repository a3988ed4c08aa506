// The requests service's entry point, all that main.cpp needs: the listing service run for the
// request side (services/offers/listings.hpp).
#pragma once

#include "services/common/run_service.hpp"  // Service, declared

namespace maillon::requests {
void register_service(Service& service);
}  // namespace maillon::requests
