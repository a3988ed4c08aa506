// maillon-matching: proposes matches between offers and requests near each other.
#include "services/common/run_service.hpp"
#include "services/matching/register.hpp"

int main() {
  return maillon::run_service("matching", "matching", 8084,
                              maillon::matching_service::register_service);
}
