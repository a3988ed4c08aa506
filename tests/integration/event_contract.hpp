// The event contract: every event a service published (through its outbox) on the streams of a
// test's world is valid against schemas/events/<type>.schema.json, and an event type without a
// schema is a failure. Checked when the harness stops a service (ServiceProcess::terminate), so
// every test checks what it caused. Entries a test wrote itself with XADD (hand-made fixtures,
// some deliberately wrong) are not a service's word and are left out: the relay marks its own
// entries (field "by" = "outbox").
#pragma once

#include <map>
#include <string>
#include <vector>

namespace maillon::testing {

// Violations among the entries of every stream "<prefix>:*" published since the last call for
// this prefix (dead-letter streams skipped), each "<stream> <entry> <type>: <why>".
std::vector<std::string> event_contract_violations(const std::string& redis_url,
                                                   const std::string& prefix);

// The same for a service's environment (REDIS_URL, MAILLON_STREAM_PREFIX); each violation fails
// the running test (ADD_FAILURE). Does nothing when the environment names no stream prefix.
void expect_event_contract(const std::map<std::string, std::string>& service_env);

}  // namespace maillon::testing
