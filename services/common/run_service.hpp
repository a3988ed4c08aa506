// What a service's main() needs and nothing more: main.cpp includes this and its service's
// register.hpp, so that it compiles in a blink instead of parsing the whole runtime.
#pragma once

#include <cstddef>
#include <cstdint>

namespace maillon {

class Service;

// Registers a service's routes, consumers and jobs on the Service being built.
using WireService = void (*)(Service&);

// The whole of a service's main(): reads the environment, builds the Service, lets `wire`
// register routes, consumers and jobs, runs until SIGTERM. Start-up errors exit non-zero.
int run_service(const char* name, const char* schema, uint16_t default_port, WireService wire);
// The same for a service whose requests are larger (the media service's photos): the request
// body limit is at least min_body_limit_bytes, whatever the configuration says.
int run_service(const char* name, const char* schema, uint16_t default_port, WireService wire,
                std::size_t min_body_limit_bytes);

}  // namespace maillon
