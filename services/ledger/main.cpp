// maillon-ledger: the time-credit ledger (accounts, two-phase transfers, audit).
#include "services/common/run_service.hpp"
#include "services/ledger/register.hpp"

int main() {
  return maillon::run_service("ledger", "ledger", 8086, maillon::ledger::register_service);
}
