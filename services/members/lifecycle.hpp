// Members lifecycle and moderation: approval, suspension, reports, staff and community
// administrators, members registered at the desk, and the other services' part of the RGPD
// export and erasure. Routes in http_moderation.cpp, use cases in usecases_moderation.cpp.
#pragma once

#include "services/members/lifecycle_requests.hpp"

namespace maillon {
class Service;
}

namespace maillon::members {

// Routes of http_moderation.cpp.
void register_moderation(Service& service);

}  // namespace maillon::members
