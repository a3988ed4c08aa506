// The notify service's entry point, all that main.cpp needs (notify_service.hpp has the rest).
#pragma once

namespace maillon {
class Service;
}

namespace maillon::notify {
void register_service(Service& service);
}  // namespace maillon::notify
