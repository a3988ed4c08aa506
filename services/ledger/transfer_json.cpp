// A transfer as JSON, as a tree and as text written by hand (the text for the batch paths).
#include "services/ledger/transfer_json.hpp"

#include <cstdio>
#include <ctime>

#include "services/common/events.hpp"
#include "services/ledger/ledger_service.hpp"

namespace maillon::ledger {
namespace {

using Json = nlohmann::json;

void append_member(std::string& out, const AccountId& account_id) {
  const std::string member = member_of_account(account_id);
  if (member.empty()) {
    out += "null";
  } else {
    append_json_string(out, member);
  }
}

void append_time_or_null(std::string& out, std::optional<int64_t> at_us) {
  if (at_us) {
    append_json_string(out, rfc3339_from_us(*at_us));
  } else {
    out += "null";
  }
}

std::string event_type(TransferState state) {
  switch (state) {
    case TransferState::pending:
      return "transfer.pending";
    case TransferState::posted:
      return "transfer.posted";
    case TransferState::voided:
    case TransferState::expired:
      break;
  }
  return "transfer.voided";
}

Json transfer_event_data(const Transfer& t) {
  Json data = {{"transfer_id", t.request.id},
               {"from_member_id", nullable_member(t.request.from_account_id)},
               {"to_member_id", nullable_member(t.request.to_account_id)},
               {"amount_minutes", t.request.amount_minutes},
               {"posted_minutes", t.posted_minutes},
               {"kind", std::string(to_string(t.request.kind))},
               {"ref", t.request.ref},
               {"state", std::string(to_string(t.state))}};
  if (t.state == TransferState::voided || t.state == TransferState::expired) {
    data["reason"] = t.state == TransferState::expired ? "expired" : "voided";
  }
  return data;
}

}  // namespace

std::string rfc3339_from_us(int64_t at_us) {
  const std::time_t seconds = static_cast<std::time_t>(at_us / 1'000'000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[40];
  const std::size_t n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(text + n, sizeof text - n, ".%06lldZ", static_cast<long long>(at_us % 1'000'000));
  return text;
}

void append_json_string(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  // Runs that need no escape (nearly every id and text) go in whole.
  std::size_t run = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && c != '"' && c != '\\') continue;
    out.append(text, run, i - run);
    run = i + 1;
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\b') {
      out += "\\b";
    } else if (c == '\f') {
      out += "\\f";
    } else {
      out += "\\u00";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xF];
    }
  }
  out.append(text, run, text.size() - run);
  out += '"';
}

Json nullable_member(const AccountId& account_id) {
  const std::string member = member_of_account(account_id);
  return member.empty() ? Json(nullptr) : Json(member);
}

Json transfer_json(const Transfer& t) {
  const auto deadline_us = transfer_deadline_us(t);
  return {
      {"id", t.request.id},
      {"state", std::string(to_string(t.state))},
      {"from_member_id", nullable_member(t.request.from_account_id)},
      {"to_member_id", nullable_member(t.request.to_account_id)},
      {"minutes", t.request.amount_minutes},
      {"posted_minutes", t.posted_minutes},
      {"pending", t.request.pending},
      {"timeout_s", t.request.timeout_s},
      {"kind", std::string(to_string(t.request.kind))},
      {"memo", t.request.memo},
      {"ref", t.request.ref},
      {"created_at", rfc3339_from_us(t.created_at_us)},
      {"resolved_at", t.resolved_at_us ? Json(rfc3339_from_us(t.resolved_at_us)) : Json(nullptr)},
      {"expires_at", deadline_us ? Json(rfc3339_from_us(*deadline_us)) : Json(nullptr)}};
}

// Keys in the tree's order (sorted), as its dump writes them.
void append_transfer_json(std::string& out, const Transfer& t) {
  out += "{\"created_at\":";
  append_json_string(out, rfc3339_from_us(t.created_at_us));
  out += ",\"expires_at\":";
  append_time_or_null(out, transfer_deadline_us(t));
  out += ",\"from_member_id\":";
  append_member(out, t.request.from_account_id);
  out += ",\"id\":";
  append_json_string(out, t.request.id);
  out += ",\"kind\":";
  append_json_string(out, to_string(t.request.kind));
  out += ",\"memo\":";
  append_json_string(out, t.request.memo);
  out += ",\"minutes\":";
  out += std::to_string(t.request.amount_minutes);
  out += ",\"pending\":";
  out += t.request.pending ? "true" : "false";
  out += ",\"posted_minutes\":";
  out += std::to_string(t.posted_minutes);
  out += ",\"ref\":";
  append_json_string(out, t.request.ref);
  out += ",\"resolved_at\":";
  append_time_or_null(out,
                      t.resolved_at_us ? std::optional<int64_t>(t.resolved_at_us) : std::nullopt);
  out += ",\"state\":";
  append_json_string(out, to_string(t.state));
  out += ",\"timeout_s\":";
  out += std::to_string(t.request.timeout_s);
  out += ",\"to_member_id\":";
  append_member(out, t.request.to_account_id);
  out += '}';
}

// Written by hand: a batch publishes thousands of these inside its transaction, and building a
// JSON tree per event cost as much as inserting the transfers. Same document as
// Event::to_json() of transfer_event_data (tests/integration/ledger/ledger_rules_test.cpp).
std::string transfer_event_json(const std::string& event_id, const std::string& community_id,
                                const std::string& occurred_at, const Transfer& t) {
  std::string out;
  out.reserve(480 + t.request.id.size() + t.request.ref.size());
  out += R"({"community_id":)";
  append_json_string(out, community_id);
  out += R"(,"data":{"amount_minutes":)";
  out += std::to_string(t.request.amount_minutes);
  out += ",\"from_member_id\":";
  append_member(out, t.request.from_account_id);
  out += ",\"kind\":";
  append_json_string(out, to_string(t.request.kind));
  out += ",\"posted_minutes\":";
  out += std::to_string(t.posted_minutes);
  if (t.state == TransferState::voided || t.state == TransferState::expired) {
    out += ",\"reason\":";
    append_json_string(out, t.state == TransferState::expired ? "expired" : "voided");
  }
  out += ",\"ref\":";
  append_json_string(out, t.request.ref);
  out += ",\"state\":";
  append_json_string(out, to_string(t.state));
  out += ",\"to_member_id\":";
  append_member(out, t.request.to_account_id);
  out += ",\"transfer_id\":";
  append_json_string(out, t.request.id);
  out += "},\"id\":";
  append_json_string(out, event_id);
  out += ",\"occurred_at\":";
  append_json_string(out, occurred_at);
  out += ",\"type\":";
  append_json_string(out, event_type(t.state));
  out += ",\"version\":1}";
  return out;
}

Event transfer_event(const std::string& event_id, const std::string& community_id,
                     const std::string& occurred_at, const Transfer& t) {
  Event e;
  e.id = event_id;
  e.type = event_type(t.state);
  e.occurred_at = occurred_at;
  e.community_id = community_id;
  e.data = transfer_event_data(t);
  return e;
}

}  // namespace maillon::ledger
