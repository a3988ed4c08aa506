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

constexpr EnumName<FederationLinkState> kLinkStates[] = {
    {FederationLinkState::proposed, "proposed"},
    {FederationLinkState::active, "active"},
    {FederationLinkState::suspended, "suspended"}};

std::optional<TransferKind> transfer_kind_of(std::string_view text) {
  return transfer_kind_from_string(text);
}
std::optional<TransferState> transfer_state_of(std::string_view text) {
  return transfer_state_from_string(text);
}

template <class V>
void put_if_set(nlohmann::json& data, const char* name, const std::optional<V>& value) {
  if (value) data[name] = *value;
}

}  // namespace

std::optional<LedgerCommandType> ledger_command_type(std::string_view type) {
  return enum_from_name(kCommandTypes, type);
}

std::vector<std::string> type_names(std::initializer_list<TransferEventType> types) {
  return enum_names(kTransferTypes, types);
}

std::optional<TransferEventType> transfer_event_type(std::string_view type) {
  return enum_from_name(kTransferTypes, type);
}

std::string LedgerCommandEvent::type_name() const {
  return std::string(enum_name(kCommandTypes, type));
}

Read<LedgerCommandEvent> LedgerCommandEvent::read(const Event& e) {
  auto read = [](EventFields& f, LedgerCommandEvent& c) {
    c.transfer_id = f.text("transfer_id");
    const bool creates = c.type == LedgerCommandType::hold || c.type == LedgerCommandType::grant;
    c.minutes = creates ? std::optional(f.integer("minutes")) : f.optional_integer("minutes");
    if (creates) c.kind = f.parsed("kind", transfer_kind_of);
    c.from_member_id = f.optional_text("from_member_id");
    c.to_member_id = f.optional_text("to_member_id");
    c.memo = f.optional_text("memo");
    c.ref = f.optional_text("ref");
    c.timeout_s = f.optional_integer("timeout_s");
    if (c.type != LedgerCommandType::grant)
      c.payee_community_id = f.optional_uuid("payee_community_id");
  };
  return read_event<LedgerCommandEvent>(e, ledger_command_type(e.type), &LedgerCommandEvent::type,
                                        "not a ledger command: ", read);
}

nlohmann::json LedgerCommandEvent::data() const {
  nlohmann::json data = {{"transfer_id", transfer_id}};
  put_if_set(data, "ref", ref);
  if (type == LedgerCommandType::hold || type == LedgerCommandType::grant) {
    data["from_member_id"] = nullable(from_member_id);
    data["to_member_id"] = nullable(to_member_id);
    if (kind) data["kind"] = to_string(*kind);
    put_if_set(data, "memo", memo);
    put_if_set(data, "timeout_s", timeout_s);
  }
  put_if_set(data, "minutes", minutes);
  if (type != LedgerCommandType::grant) put_if_set(data, "payee_community_id", payee_community_id);
  return data;
}

std::string TransferEvent::type_name() const {
  return std::string(enum_name(kTransferTypes, type));
}

Read<TransferEvent> TransferEvent::read(const Event& e) {
  auto read = [](EventFields& f, TransferEvent& t) {
    t.transfer_id = f.text("transfer_id");
    t.ref = f.optional_text("ref");
    if (t.type == TransferEventType::rejected) {
      t.reason = f.text("reason");
      return;
    }
    t.from_member_id = f.optional_uuid("from_member_id");
    t.to_member_id = f.optional_uuid("to_member_id");
    t.amount_minutes = f.optional_integer("amount_minutes");
    t.posted_minutes = f.optional_integer("posted_minutes");
    t.kind = f.optional_parsed("kind", transfer_kind_of);
    t.state = f.optional_parsed("state", transfer_state_of);
    t.reason = f.optional_text("reason");
  };
  return read_event<TransferEvent>(e, transfer_event_type(e.type), &TransferEvent::type,
                                   "not a transfer event: ", read);
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
  put_if_set(data, "amount_minutes", amount_minutes);
  put_if_set(data, "posted_minutes", posted_minutes);
  if (kind) data["kind"] = to_string(*kind);
  if (state) data["state"] = to_string(*state);
  put_if_set(data, "reason", reason);
  return data;
}

std::string_view to_string(FederationLinkState state) {
  return enum_name(kLinkStates, state);
}

std::optional<FederationLinkState> federation_link_state_from_string(std::string_view text) {
  return enum_from_name(kLinkStates, text);
}

Read<FederationLinkUpdated> FederationLinkUpdated::read(const Event& e) {
  auto read = [](EventFields& f, FederationLinkUpdated& l) {
    l.link_id = f.uuid("link_id");
    l.community_id = f.uuid("community_id");
    l.partner_community_id = f.uuid("partner_community_id");
    // On an unknown state the read fails (the placeholder is never used).
    l.state = f.parsed("state", federation_link_state_from_string)
                  .value_or(FederationLinkState::suspended);
    l.partner_url = f.optional_text("partner_url");
  };
  return read_event<FederationLinkUpdated>(e, e.type == type_name(),
                                           "not a federation link event: ", read);
}

nlohmann::json FederationLinkUpdated::data() const {
  nlohmann::json data = {{"link_id", link_id},
                         {"community_id", community_id},
                         {"partner_community_id", partner_community_id},
                         {"state", to_string(state)}};
  put_if_set(data, "partner_url", partner_url);
  return data;
}

namespace {
using Differed = FederationReconciliationDiffered;
// Its scalar fields, read and written from this one table (transfer_ids, an array, by hand).
const auto kDifferedFields = std::tuple{
    event_field("link_id", &Differed::link_id, &EventFields::uuid),
    event_field("community_id", &Differed::community_id, &EventFields::uuid),
    event_field("partner_community_id", &Differed::partner_community_id, &EventFields::uuid),
    event_field("day", &Differed::day, &EventFields::text),
    event_field("differences", &Differed::differences, &EventFields::integer),
    event_field("mirror_agrees", &Differed::mirror_agrees, &EventFields::boolean)};
}  // namespace

Read<FederationReconciliationDiffered> FederationReconciliationDiffered::read(const Event& e) {
  auto read = [](EventFields& f, FederationReconciliationDiffered& d) {
    read_fields(f, d, kDifferedFields);
    const nlohmann::json* ids = f.raw("transfer_ids");
    if (ids == nullptr || !ids->is_array()) {
      f.fail("transfer_ids must be an array");
      return;
    }
    for (const auto& id : *ids) {
      if (!id.is_string()) {
        f.fail("transfer_ids must hold strings");
        return;
      }
      d.transfer_ids.push_back(id.get<std::string>());
    }
  };
  return read_event<FederationReconciliationDiffered>(
      e, e.type == type_name(), "not a federation reconciliation event: ", read);
}

nlohmann::json FederationReconciliationDiffered::data() const {
  nlohmann::json data = {{"transfer_ids", transfer_ids}};
  write_fields(data, *this, kDifferedFields);
  return data;
}

}  // namespace maillon
