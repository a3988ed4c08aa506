// maillon-depot: items dropped at sites, reservations, loans, redirection, and impact figures.
#include "services/common/service.hpp"
#include "services/depot/depot.hpp"

int main() {
  return maillon::run_service("depot", "depot", 8087, maillon::depot::register_service);
}
