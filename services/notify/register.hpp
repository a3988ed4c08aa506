// The notify service's entry point, all that main.cpp needs (notify_service.hpp has the rest).
#pragma once

#include "services/common/run_service.hpp"  // Service, declared

namespace maillon::notify {
void register_service(Service& service);
}  // namespace maillon::notify
