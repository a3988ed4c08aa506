// maillon-notify: the inbox, preferences, reminders and the outgoing mail of the network.
#include "services/common/run_service.hpp"
#include "services/notify/register.hpp"

int main() {
  return maillon::run_service("notify", "notify", 8088, maillon::notify::register_service);
}
