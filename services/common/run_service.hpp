// What a service's main() needs and nothing more: main.cpp includes this and its service's
// register.hpp, so that it compiles in a blink instead of parsing the whole runtime.
#pragma once

#include <cstdint>

namespace maillon {

class Service;

// Registers a service's routes, consumers and jobs on the Service being built.
using WireService = void (*)(Service&);

// The whole of a service's main(): reads the environment, builds the Service, lets `wire`
// register routes, consumers and jobs, runs until SIGTERM. Start-up errors exit non-zero.
int run_service(const char* name, const char* schema, uint16_t default_port, WireService wire);

}  // namespace maillon
