// The members service's entry point, all that main.cpp needs: its routes, first-admin bootstrap and
// consumer (members.hpp has the rest).
#pragma once

namespace maillon {
class Service;
}

namespace maillon::members {
void register_service(Service& service);
}  // namespace maillon::members
