// The depot tests' world (tests/integration/depot/depot_world.hpp), compiled into this
// executable too: the depot trust cases start the same service the same way.
#include "depot/depot_world.cpp"
