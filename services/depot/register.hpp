// The depot service's entry point, all that main.cpp needs: its routes, consumers and jobs
// (services/depot/depot.hpp has the rest).
#pragma once

namespace maillon {
class Service;
}

namespace maillon::depot {
void register_service(Service& service);
}  // namespace maillon::depot
