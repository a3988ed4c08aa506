// The depot service's entry point, all that main.cpp needs: its routes, consumers and jobs
// (services/depot/depot.hpp has the rest).
#pragma once

#include "services/common/run_service.hpp"  // Service, declared

namespace maillon::depot {
void register_service(Service& service);
}  // namespace maillon::depot
