#include "services/common/events_ledger.hpp"

#include "services/common/event_fields.hpp"

namespace maillon {
namespace {

constexpr EnumName<LedgerCommandType> kCommandTypes[] = {
    {LedgerCommandType::hold, "ledger.hold"},
    {LedgerCommandType::grant, "ledger.grant"},
    {LedgerCommandType::post, "ledger.post"},
    {LedgerCommandType::void_hold, "ledger.void"}};

constexpr EnumName<TransferEventType> kTransferTypes[] = {
    {TransferEventType::pending, "transfer.pending"},
    {TransferEventType::posted, "transfer.posted"},
    {TransferEventType::voided, "transfer.voided"},
    {TransferEventType::rejected, "transfer.rejected"}};

std::optional<TransferKind> kind_of(std::string_view text) {
  return transfer_kind_from_string(text);
}
std::optional<TransferState> state_of(std::string_view text) {
  return transfer_state_from_string(text);
}

template <class V>
void put(nlohmann::json& data, const char* name, const std::optional<V>& value) {
  if (value) data[name] = *value;
}

}  // namespace

std::optional<LedgerCommandType> ledger_command_type(std::string_view type) {
  return enum_from_name(kCommandTypes, type);
}

std::optional<TransferEventType> transfer_event_type(std::string_view type) {
  return enum_from_name(kTransferTypes, type);
}

std::string LedgerCommandEvent::type_name() const {
  return std::string(enum_name(kCommandTypes, type));
}

Read<LedgerCommandEvent> LedgerCommandEvent::read(const Event& e) {
  LedgerCommandEvent c;
  const auto type = ledger_command_type(e.type);
  if (!type) return ReadFailure{"not a ledger command: \"" + e.type + "\""};
  c.type = *type;
  EventFields f(e.data);
  c.transfer_id = f.text("transfer_id");
  const bool creates = c.type == LedgerCommandType::hold || c.type == LedgerCommandType::grant;
  c.minutes = creates ? std::optional(f.integer("minutes")) : f.optional_integer("minutes");
  if (creates) c.kind = f.parsed("kind", kind_of);
  c.from_member_id = f.optional_text("from_member_id");
  c.to_member_id = f.optional_text("to_member_id");
  c.memo = f.optional_text("memo");
  c.ref = f.optional_text("ref");
  c.timeout_s = f.optional_integer("timeout_s");
  return f.finish(std::move(c));
}

nlohmann::json LedgerCommandEvent::data() const {
  nlohmann::json data = {{"transfer_id", transfer_id}};
  put(data, "ref", ref);
  if (type == LedgerCommandType::hold || type == LedgerCommandType::grant) {
    data["from_member_id"] = nullable(from_member_id);
    data["to_member_id"] = nullable(to_member_id);
    if (kind) data["kind"] = to_string(*kind);
    put(data, "memo", memo);
    put(data, "timeout_s", timeout_s);
  }
  put(data, "minutes", minutes);
  return data;
}

std::string TransferEvent::type_name() const {
  return std::string(enum_name(kTransferTypes, type));
}

Read<TransferEvent> TransferEvent::read(const Event& e) {
  TransferEvent t;
  const auto type = transfer_event_type(e.type);
  if (!type) return ReadFailure{"not a transfer event: \"" + e.type + "\""};
  t.type = *type;
  EventFields f(e.data);
  t.transfer_id = f.text("transfer_id");
  t.ref = f.optional_text("ref");
  if (t.type == TransferEventType::rejected) {
    t.reason = f.text("reason");
    return f.finish(std::move(t));
  }
  t.from_member_id = f.optional_uuid("from_member_id");
  t.to_member_id = f.optional_uuid("to_member_id");
  t.amount_minutes = f.optional_integer("amount_minutes");
  t.posted_minutes = f.optional_integer("posted_minutes");
  t.kind = f.optional_parsed("kind", kind_of);
  t.state = f.optional_parsed("state", state_of);
  t.reason = f.optional_text("reason");
  return f.finish(std::move(t));
}

nlohmann::json TransferEvent::data() const {
  if (type == TransferEventType::rejected) {
    return {
        {"transfer_id", transfer_id}, {"reason", reason.value_or("")}, {"ref", ref.value_or("")}};
  }
  nlohmann::json data = {{"transfer_id", transfer_id},
                         {"from_member_id", nullable(from_member_id)},
                         {"to_member_id", nullable(to_member_id)},
                         {"ref", ref.value_or("")}};
  put(data, "amount_minutes", amount_minutes);
  put(data, "posted_minutes", posted_minutes);
  if (kind) data["kind"] = to_string(*kind);
  if (state) data["state"] = to_string(*state);
  put(data, "reason", reason);
  return data;
}

}  // namespace maillon
