// The offers service's entry point, all that main.cpp needs: the listing service run for the offer
// side (listings.hpp has the rest).
#pragma once

#include "services/common/run_service.hpp"  // Service, declared

namespace maillon::offers {
void register_service(Service& service);
}  // namespace maillon::offers
