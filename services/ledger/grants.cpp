// The grant reviews' use cases: asking (store once, replay the same answer), who may approve,
// and the JSON of a review. Posting an approved grant goes through the batch writer like any
// transfer (services/ledger/http_ledger.cpp).
#include "services/ledger/grants.hpp"

#include <algorithm>

#include "services/common/auth.hpp"
#include "services/common/db.hpp"
#include "services/ledger/ledger_service.hpp"
#include "services/ledger/transfer_json.hpp"

namespace maillon::ledger {
namespace {

using Json = nlohmann::json;

repo::GrantRow review_of(const Identity& who, const TransferRequest& request, int64_t now_us) {
  repo::GrantRow row;
  row.id = request.id;
  row.community_id = who.community_id;
  row.to_account_id = request.to_account_id;
  row.amount_minutes = request.amount_minutes;
  row.pending = request.pending;
  row.timeout_s = request.timeout_s;
  row.memo = request.memo;
  row.ref = request.ref;
  row.requested_by = who.actor_id();
  row.requested_site_ids = who.staff_site_ids;
  row.requested_at_us = now_us;
  return row;
}

// The body a replay must repeat, as for transfers: who asks again does not matter.
bool same_request(const repo::GrantRow& a, const repo::GrantRow& b) {
  return a.community_id == b.community_id && a.to_account_id == b.to_account_id &&
         a.amount_minutes == b.amount_minutes && a.pending == b.pending &&
         a.timeout_s == b.timeout_s && a.memo == b.memo && a.ref == b.ref;
}

bool shares_a_site(const Identity& who, const repo::GrantRow& grant) {
  return std::any_of(
      who.staff_site_ids.begin(), who.staff_site_ids.end(), [&](const std::string& site) {
        return std::find(grant.requested_site_ids.begin(), grant.requested_site_ids.end(), site) !=
               grant.requested_site_ids.end();
      });
}

Json time_or_null(int64_t at_us) {
  return at_us > 0 ? Json(rfc3339_from_us(at_us)) : Json(nullptr);
}

}  // namespace

bool is_grant(const TransferRequest& request) {
  return request.kind == TransferKind::manual && member_of_account(request.from_account_id).empty();
}

bool needs_review(const TransferRequest& request, const CommunityPolicy& policy) {
  return is_grant(request) && request.amount_minutes > policy.grant_review_minutes;
}

bool day_needs_review(const repo::GrantedSince& granted, int64_t amount_minutes,
                      const CommunityPolicy& policy) {
  return granted.to_account_minutes + amount_minutes > policy.grant_review_minutes ||
         granted.total_minutes + amount_minutes >
             kUnreviewedGrantsDayFactor * policy.grant_review_minutes;
}

std::vector<bool> count_unreviewed_grants(Db& db, const Identity& who,
                                          const std::vector<TransferRequest>& grants,
                                          const CommunityPolicy& policy, int64_t now_us) {
  return db.transact([&](pqxx::work& tx) {
    const std::string requested_by = who.actor_id();
    repo::lock_grant_requester(tx, who.community_id, requested_by);
    std::vector<bool> pass;
    pass.reserve(grants.size());
    for (const TransferRequest& request : grants) {
      if (const auto counted = repo::find_unreviewed_grant(tx, request.id)) {
        pass.push_back(counted->to_account_id == request.to_account_id &&
                       counted->amount_minutes == request.amount_minutes);
        continue;
      }
      const repo::GrantedSince granted =
          repo::granted_since(tx, who.community_id, requested_by, request.to_account_id,
                              now_us - kUnreviewedGrantsWindowUs);
      const bool goes = !day_needs_review(granted, request.amount_minutes, policy);
      if (goes) {
        repo::insert_unreviewed_grant(tx, {request.id, who.community_id, requested_by,
                                           request.to_account_id, request.amount_minutes, now_us});
      }
      pass.push_back(goes);
    }
    return pass;
  });
}

void uncount_refused_grants(Db& db, const std::vector<TransferId>& ids) {
  if (ids.empty()) return;
  db.transact([&](pqxx::work& tx) { repo::forget_unreviewed_grants(tx, ids); });
}

GrantAsked ask_grant(Db& db, const Identity& who, const TransferRequest& request, int64_t now_us) {
  return db.transact([&](pqxx::work& tx) -> GrantAsked {
    // An approved grant is a transfer under the same id: a late replay answers as transfers do.
    if (const auto t = repo::find_transfer(tx, who.community_id, request.id)) {
      const bool same = t->request == request;
      return {std::nullopt,
              {same ? LedgerOutcome::exists : LedgerOutcome::exists_with_different_body, *t}};
    }
    // Refused now rather than at approval: a review nobody could ever post is noise on the desk.
    const auto to = repo::find_account(tx, request.to_account_id);
    if (!to || to->account.community || to->community_id != who.community_id ||
        !to->pseudonym.empty()) {
      return {std::nullopt, {LedgerOutcome::account_not_found, std::nullopt}};
    }
    const repo::GrantRow asked = review_of(who, request, now_us);
    repo::insert_grant(tx, asked);  // or it is there already: a replay, or another body
    const auto stored = repo::find_grant(tx, request.id);
    if (!stored || !same_request(*stored, asked)) {
      return {std::nullopt, {LedgerOutcome::exists_with_different_body, std::nullopt}};
    }
    return {stored, {}};
  });
}

bool may_see_grants(const Identity& who, const std::string& community_id) {
  return who.administers(community_id) || (who.is_staff() && who.community_id == community_id);
}

LedgerRefusal approver_refusal(const Identity& who, const repo::GrantRow& grant) {
  // The person who acts, also under X-On-Behalf-Of: acting never lends a second pair of eyes.
  // The requester knows their grant, so telling them first reveals nothing.
  if (who.actor_id() == grant.requested_by) return LedgerRefusal::four_eyes;
  if (!may_see_grants(who, grant.community_id)) return LedgerRefusal::grant_not_found;
  // Nor does the member the credits go to (a colleague's grant to them, approved by them, would
  // move community funds with one pair of eyes besides their own).
  if (who.actor_id() == grant.to_account_id) return LedgerRefusal::four_eyes;
  if (who.administers(grant.community_id)) return LedgerRefusal::none;
  if (shares_a_site(who, grant)) return LedgerRefusal::none;
  return LedgerRefusal::approver_not_site_staff;
}

TransferRequest grant_transfer_request(const repo::GrantRow& grant) {
  return TransferRequest{grant.id,
                         community_account_id(grant.community_id),
                         grant.to_account_id,
                         grant.amount_minutes,
                         grant.pending,
                         grant.timeout_s,
                         TransferKind::manual,
                         grant.memo,
                         grant.ref};
}

Json grant_json(const repo::GrantRow& grant) {
  return {{"id", grant.id},
          {"state", grant.state},
          {"community_id", grant.community_id},
          {"from_member_id", nullptr},
          {"to_member_id", grant.to_account_id},
          {"minutes", grant.amount_minutes},
          {"kind", "manual"},
          {"memo", grant.memo},
          {"ref", grant.ref},
          {"pending", grant.pending},
          {"timeout_s", grant.timeout_s},
          {"requested_by", grant.requested_by},
          {"requested_at", rfc3339_from_us(grant.requested_at_us)},
          {"approved_by", grant.approved_by.empty() ? Json(nullptr) : Json(grant.approved_by)},
          {"approved_at", time_or_null(grant.approved_at_us)}};
}

}  // namespace maillon::ledger
