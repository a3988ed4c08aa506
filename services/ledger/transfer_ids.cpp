// Whose transfer an id names, and the ids the ledger mints itself (see ledger_service.hpp).
#include "services/common/json_body.hpp"
#include "services/ledger/ledger_service.hpp"

namespace maillon::ledger {

bool is_client_transfer_id(std::string_view id) {
  return is_uuid(id);
}

// Readable names rather than name-based UUIDs: a UUID derived from "bonus:<member>" could be
// computed by anyone and posted first as an ordinary transfer, refusing the bonus for ever.
std::string signup_bonus_transfer_id(const std::string& member_id) {
  return "bonus:" + member_id;
}

std::string allowance_transfer_id(const std::string& member_id, const std::string& month) {
  return "allowance:" + member_id + ":" + month;
}

}  // namespace maillon::ledger
