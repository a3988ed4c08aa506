// maillon-ledger: the time-credit ledger (accounts, two-phase transfers, audit).
#include "services/common/service.hpp"
#include "services/ledger/ledger_service.hpp"

int main() {
  return maillon::run_service("ledger", "ledger", 8086, maillon::ledger::register_service);
}
