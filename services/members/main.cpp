// maillon-members: communities, sites, members, roles and sessions.
#include "services/common/service.hpp"
#include "services/members/members.hpp"

int main() {
  return maillon::run_service("members", "members", 8081, maillon::members::register_service);
}
