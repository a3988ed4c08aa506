// maillon-members: communities, sites, members, roles and sessions.
#include "services/common/run_service.hpp"
#include "services/members/register.hpp"

int main() {
  return maillon::run_service("members", "members", 8081, maillon::members::register_service);
}
