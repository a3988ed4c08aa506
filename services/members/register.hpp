// The members service's entry point, all that main.cpp needs: its routes, first-admin bootstrap and
// consumer (members.hpp has the rest).
#pragma once

#include "services/common/run_service.hpp"  // Service, declared

namespace maillon::members {
void register_service(Service& service);
}  // namespace maillon::members
