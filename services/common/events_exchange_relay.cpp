#include "services/common/events_exchange_relay.hpp"

#include <nlohmann/json.hpp>

#include "services/common/event_fields.hpp"

namespace maillon {

namespace {

using Command = ExchangeRelayCommand;
const auto kCommandFields = std::tuple{
    event_field("kind", &Command::kind, &EventFields::text),
    event_field("exchange_id", &Command::exchange_id, &EventFields::uuid),
    event_field("community_id", &Command::community_id, &EventFields::uuid),
    event_field("partner_community_id", &Command::partner_community_id, &EventFields::uuid)};

using Relayed = FederationExchangeRelayed;
const auto kRelayedFields = std::tuple{
    event_field("link_id", &Relayed::link_id, &EventFields::uuid),
    event_field("community_id", &Relayed::community_id, &EventFields::uuid),
    event_field("partner_community_id", &Relayed::partner_community_id, &EventFields::uuid),
    event_field("partner_url", &Relayed::partner_url, &EventFields::text),
    event_field("kind", &Relayed::kind, &EventFields::text),
    event_field("exchange_id", &Relayed::exchange_id, &EventFields::uuid)};

// The kind and the payload object every relay carries.
template <class T>
void read_relay(EventFields& f, T& d) {
  if (d.kind != kExchangeRelayState && d.kind != kExchangeRelayAct) {
    f.fail("kind must be state or act");
    return;
  }
  const nlohmann::json* payload = f.raw("payload");
  if (payload == nullptr || !payload->is_object()) {
    f.fail("payload must be an object");
    return;
  }
  d.payload = payload->dump();
}

template <class T, class Fields>
nlohmann::json write_relay(const T& d, const Fields& fields) {
  nlohmann::json data = nlohmann::json::object();
  write_fields(data, d, fields);
  data["payload"] = nlohmann::json::parse(d.payload);
  return data;
}

}  // namespace

Read<ExchangeRelayCommand> ExchangeRelayCommand::read(const Event& e) {
  auto read = [](EventFields& f, ExchangeRelayCommand& d) {
    read_fields(f, d, kCommandFields);
    read_relay(f, d);
  };
  return read_event<ExchangeRelayCommand>(e, e.type == type_name(),
                                          "not an exchange relay: ", read);
}

nlohmann::json ExchangeRelayCommand::data() const {
  return write_relay(*this, kCommandFields);
}

Read<FederationExchangeRelayed> FederationExchangeRelayed::read(const Event& e) {
  auto read = [](EventFields& f, FederationExchangeRelayed& d) {
    read_fields(f, d, kRelayedFields);
    read_relay(f, d);
  };
  return read_event<FederationExchangeRelayed>(e, e.type == type_name(),
                                               "not a relayed exchange: ", read);
}

nlohmann::json FederationExchangeRelayed::data() const {
  return write_relay(*this, kRelayedFields);
}

}  // namespace maillon
