// The ledger service's entry point, all that main.cpp needs: its routes, batch writer, consumers
// and jobs (ledger_service.hpp has the rest).
#pragma once

#include "services/common/run_service.hpp"  // Service, declared

namespace maillon::ledger {
void register_service(Service& service);
}  // namespace maillon::ledger
