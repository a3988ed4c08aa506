// Wires the notify service: the inbox and preference routes, the consumers that decide who
// hears of what, the reminder and digest jobs, and the mail sender of its queue.
#include "services/notify/register.hpp"

#include "services/common/mail.hpp"
#include "services/common/service.hpp"
#include "services/notify/notify_service.hpp"

namespace maillon::notify {

void register_service(Service& service) {
  register_notification_routes(service);
  register_preference_routes(service);
  register_consumers(service);
  register_jobs(service);
  mail::start_sender(service, kSchema);
}

}  // namespace maillon::notify
