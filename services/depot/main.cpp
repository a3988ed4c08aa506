// maillon-depot: items dropped at sites, reservations, loans, redirection, and impact figures.
#include "services/common/run_service.hpp"
#include "services/depot/register.hpp"

int main() {
  return maillon::run_service("depot", "depot", 8087, maillon::depot::register_service);
}
