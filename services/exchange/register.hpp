// The exchange service's entry point, all that main.cpp needs: its routes, saga, consumers and jobs
// (exchange_service.hpp has the rest).
#pragma once

namespace maillon {
class Service;
}

namespace maillon::exchange {
void register_service(Service& service);
}  // namespace maillon::exchange
