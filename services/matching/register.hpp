// The matching service's entry point, all that main.cpp needs: its routes, read model and consumers
// (matching_service.hpp has the rest).
#pragma once

namespace maillon {
class Service;
}

namespace maillon::matching_service {
void register_service(Service& service);
}  // namespace maillon::matching_service
