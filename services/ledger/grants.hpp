// Four eyes on large staff grants: a grant from the community's account above the policy's
// grant_review_minutes moves nothing at first; it is kept as a review and is created (under the
// client's id) only when a second staff member or an administrator approves it.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "exchange/ledger.hpp"
#include "exchange/policy.hpp"
#include "services/ledger/repository.hpp"
#include "services/ledger/usecases.hpp"

namespace maillon::ledger {  // Db and Identity: declared by usecases.hpp

// Whether an authorised request is a grant that must wait for a second pair of eyes.
bool needs_review(const TransferRequest& request, const CommunityPolicy& policy);

// What asking for a large grant gives: the review waiting (new, or the same request again), or,
// when its id names a transfer already (the grant was approved since), the answer a replay of
// that transfer gives (exists or exists_with_different_body); account_not_found or
// exists_with_different_body (another review under that id) when nothing can wait.
struct GrantAsked {
  std::optional<repo::GrantRow> review;
  TransferResult transfer;
};
GrantAsked ask_grant(Db& db, const Identity& who, const TransferRequest& request, int64_t now_us);

// Staff of the community and its administrators see its grants; 404 for anyone else.
bool may_see_grants(const Identity& who, const std::string& community_id);
// Why `who` may not approve (none when they may): never the requester, acting for someone or
// not (four_eyes); grant_not_found to whoever may not see the community's grants; then staff of
// one of the sites the requester was staff of when asking, or an administrator of the community
// (else approver_not_site_staff).
LedgerRefusal approver_refusal(const Identity& who, const repo::GrantRow& grant);

// The transfer an approval creates: exactly what the staff member asked for.
TransferRequest grant_transfer_request(const repo::GrantRow& grant);
nlohmann::json grant_json(const repo::GrantRow& grant);

}  // namespace maillon::ledger
