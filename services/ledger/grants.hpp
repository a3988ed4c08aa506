// Four eyes on large staff grants: a grant from the community's account above the policy's
// grant_review_minutes moves nothing at first; it is kept as a review and is created (under the
// client's id) only when a second staff member or an administrator approves it.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "exchange/ledger.hpp"
#include "exchange/policy.hpp"
#include "services/ledger/repository.hpp"
#include "services/ledger/usecases.hpp"

namespace maillon::ledger {  // Db and Identity: declared by usecases.hpp

// A grant: staff in their own name, from the community's account (kind manual).
bool is_grant(const TransferRequest& request);
// Whether an authorised request is a grant that must wait for a second pair of eyes on its own.
bool needs_review(const TransferRequest& request, const CommunityPolicy& policy);

// The four eyes over a day: what one staff member may grant without review within 24 hours is
// the policy's grant_review_minutes to any one member, and kUnreviewedGrantsDayFactor times it in
// all. Otherwise a large grant split into small ones, to one member or to accomplices, would
// never be seen by a second pair of eyes.
inline constexpr int64_t kUnreviewedGrantsWindowUs = int64_t{24} * 3600 * 1000000;
inline constexpr int64_t kUnreviewedGrantsDayFactor = 10;
bool day_needs_review(const repo::GrantedSince& granted, int64_t amount_minutes,
                      const CommunityPolicy& policy);
// Counts grants that need no review on their own against their requester's day, in one
// transaction under a lock on the requester (so that concurrent grants are counted one after the
// other): for each, true when it may go to the writer, false when it must wait for review. A
// replay of a grant counted already goes on without counting again when it names the same member
// and amount, else waits for review.
std::vector<bool> count_unreviewed_grants(Db& db, const Identity& who,
                                          const std::vector<TransferRequest>& grants,
                                          const CommunityPolicy& policy, int64_t now_us);
// Grants the writer refused (ids), counted by count_unreviewed_grant: no longer counted.
void uncount_refused_grants(Db& db, const std::vector<TransferId>& ids);

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
