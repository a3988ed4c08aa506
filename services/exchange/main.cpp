// maillon-exchange: exchanges between members, their saga over the ledger, the desk, the inbox.
#include "services/common/run_service.hpp"
#include "services/exchange/register.hpp"

int main() {
  return maillon::run_service("exchange", "exchange", 8085, maillon::exchange::register_service);
}
