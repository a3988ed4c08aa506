// The matching service's entry point, all that main.cpp needs: its routes, read model and consumers
// (matching_service.hpp has the rest).
#pragma once

#include "services/common/run_service.hpp"  // Service, declared

namespace maillon::matching_service {
void register_service(Service& service);
}  // namespace maillon::matching_service
