// The exchange service's wiring: its routes, saga, consumers and jobs. The in-app inbox it used
// to keep is the notify service's now.
#include "services/exchange/register.hpp"

#include <memory>

#include "services/common/service.hpp"
#include "services/exchange/exchange_service.hpp"
#include "services/exchange/holds.hpp"

namespace maillon::exchange {

void register_service(Service& service) {
  auto workflow = std::make_shared<Workflow>(service);
  register_routes(service, workflow);
  register_consumers(service, workflow);
  register_holds(service, workflow);
}

}  // namespace maillon::exchange
