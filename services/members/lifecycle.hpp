// Members lifecycle and moderation: approval, suspension, reports, staff and community
// administrators, members registered at the desk, and the other services' part of the RGPD
// export and erasure. Routes in http_moderation.cpp; hooks the core routes call are below.
#pragma once

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <string>

#include "services/members/lifecycle_requests.hpp"

namespace maillon {
class Service;
}

namespace maillon::members {

// Routes of http_moderation.cpp.
void register_moderation(Service& service);

// Hooks for the core routes (http_members.cpp), each inside the route's transaction:
// login: 403 `suspended` while the member is suspended (share-locks the member, so a suspension
// being written is either seen here or revokes the session about to be opened).
void refuse_suspended_login(pqxx::work& tx, const std::string& member_id);
// GET /v1/me/export: each service's member_export(member) under its name, the reports filed.
void add_service_exports(pqxx::work& tx, const std::string& member_id, nlohmann::json& body);
// DELETE /v1/me: 409 `open-loan` while the member holds a lent object; the texts of the reports
// they filed are erased with them.
void before_erasure(pqxx::work& tx, const std::string& member_id);

}  // namespace maillon::members
