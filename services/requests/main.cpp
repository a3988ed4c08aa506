// maillon-requests: what members need; the offers service's listing code run for the other side.
#include "services/common/run_service.hpp"
#include "services/requests/register.hpp"

int main() {
  return maillon::run_service("requests", "requests", 8083, maillon::requests::register_service);
}
