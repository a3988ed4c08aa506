// A transfer as JSON: the API's Transfer (answers) and the transfer.* event (the outbox). The
// batch paths write thousands of them, so both also exist as text written by hand, byte for byte
// the dump of the JSON tree (tests/integration/ledger/ledger_rules_test.cpp checks it).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "exchange/ledger.hpp"

namespace maillon {
struct Event;
}

namespace maillon::ledger {

// 2026-11-29T10:25:46.123456Z
std::string rfc3339_from_us(int64_t at_us);
// A JSON string as nlohmann::json writes it (quote, backslash and control characters escaped;
// the text is valid UTF-8 already, checked where it entered), appended to `out`.
void append_json_string(std::string& out, std::string_view text);

// The member behind an account, or null for a community account.
nlohmann::json nullable_member(const AccountId& account_id);

nlohmann::json transfer_json(const Transfer& t);
// transfer_json(t).dump(), written without the tree.
void append_transfer_json(std::string& out, const Transfer& t);

// The transfer.* event of a transfer in its current state: the envelope and payload as a JSON
// text (what a batch writes), and as an Event (the reference the tests compare it with).
std::string transfer_event_json(const std::string& event_id, const std::string& community_id,
                                const std::string& occurred_at, const Transfer& t);
Event transfer_event(const std::string& event_id, const std::string& community_id,
                     const std::string& occurred_at, const Transfer& t);

}  // namespace maillon::ledger
