// maillon-offers: what members give, lend, swap or do for others (the listing service, offer side).
#include "services/common/run_service.hpp"
#include "services/offers/register.hpp"

int main() {
  return maillon::run_service("offers", "offers", 8082, maillon::offers::register_service);
}
