// The exchange service's entry point, all that main.cpp needs: its routes, saga, consumers and jobs
// (exchange_service.hpp has the rest).
#pragma once

#include "services/common/run_service.hpp"  // Service, declared

namespace maillon::exchange {
void register_service(Service& service);
}  // namespace maillon::exchange
