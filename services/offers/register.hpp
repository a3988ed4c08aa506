// The offers service's entry point, all that main.cpp needs: the listing service run for the offer
// side (listings.hpp has the rest).
#pragma once

namespace maillon {
class Service;
}

namespace maillon::offers {
void register_service(Service& service);
}  // namespace maillon::offers
