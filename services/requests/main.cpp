// maillon-requests: what members need; the offers service's listing code run for the other side.
#include "services/common/service.hpp"
#include "services/offers/listings.hpp"

int main() {
  return maillon::run_service("requests", "requests", 8083, maillon::requests::register_service);
}
