// The ledger's use cases: who may act, the one domain command each write becomes (handed to the
// batch writer), and the snapshot each read takes.
#include "services/ledger/usecases.hpp"

#include <exception>
#include <map>

#include "services/common/auth.hpp"
#include "services/common/db.hpp"
#include "services/common/directory.hpp"
#include "services/ledger/federation.hpp"
#include "services/ledger/grants.hpp"
#include "services/ledger/ledger_service.hpp"

namespace maillon::ledger {
namespace {

bool is_payer(const Identity& who, const Transfer& t) {
  return t.request.from_account_id == who.member_id;
}
bool is_party(const Identity& who, const Transfer& t) {
  return is_payer(who, t) || t.request.to_account_id == who.member_id;
}

// A grants cursor is "<requested_at_us>|<id>"; nullopt when it is not one.
std::optional<std::pair<int64_t, std::string>> grant_position(const std::string& cursor) {
  if (cursor.empty()) return std::pair<int64_t, std::string>{-1, ""};
  const auto bar = cursor.find('|');
  try {
    if (bar != std::string::npos)
      return std::pair<int64_t, std::string>{std::stoll(cursor.substr(0, bar)),
                                             cursor.substr(bar + 1)};
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

TransferAnswer refused(LedgerRefusal refusal) {
  TransferAnswer answer;
  answer.refusal = refusal;
  return answer;
}

// A create refused by a rule stores nothing; one whose id names a transfer already (another body)
// leaves that transfer, and its count, alone.
bool moved_nothing(const TransferResult& result) {
  return !is_accepted(result.outcome) && !result.transfer;
}

TransferAnswer ledger_answer(TransferResult result) {
  TransferAnswer answer;
  answer.result = std::move(result);
  return answer;
}

}  // namespace

LedgerRefusal LedgerUseCases::member_refusal(const Identity& who) {
  return who.community_id.empty() ? LedgerRefusal::not_in_community : LedgerRefusal::none;
}

// Who may move credits: a member of the community whose membership is approved (also when staff
// act for them: the Identity is then the member's).
LedgerRefusal LedgerUseCases::paying_refusal(const Identity& who) {
  if (const auto refusal = member_refusal(who); refusal != LedgerRefusal::none) return refusal;
  if (who.is_pending()) return LedgerRefusal::membership_pending;
  if (who.status == "suspended") return LedgerRefusal::account_suspended;
  return LedgerRefusal::none;
}

// A system id (a saga's hold, a bonus) is refused before anything is read, to every caller
// alike: its saga alone settles it, through ledger.commands (see is_client_transfer_id).
LedgerRefusal LedgerUseCases::settling_refusal(const Identity& who,
                                               const std::string& transfer_id) {
  if (!is_client_transfer_id(transfer_id)) return LedgerRefusal::owned_by_saga;
  if (const auto refusal = member_refusal(who); refusal != LedgerRefusal::none) return refusal;
  if (who.is_pending()) return LedgerRefusal::membership_pending;
  return LedgerRefusal::none;
}

LedgerRefusal LedgerUseCases::grants_refusal(const Identity& who, const std::string& community_id) {
  return may_see_grants(who, community_id) ? LedgerRefusal::none : LedgerRefusal::role_forbidden;
}

LedgerRefusal LedgerUseCases::audit_refusal(const Identity& who, const std::string& community_id) {
  // A community's administrators manage its federation links and grants: its audit too.
  const bool allowed =
      who.administers(community_id) || (who.is_staff() && who.community_id == community_id);
  return allowed ? LedgerRefusal::none : LedgerRefusal::role_forbidden;
}

// Who pays. A member pays from their own account, and so does a staff member acting for them
// (X-On-Behalf-Of: the Identity is the member's, acting_staff_id the staff's, recorded as the
// actor). Staff in their own name grant from the community's account (kind manual), never to
// themselves. Nobody debits another member's account: from_member_id, when given, must be the
// Identity's own member (the acted-for member while acting).
TransferRequest LedgerUseCases::transfer_request(const Identity& who, const TransferBody& in,
                                                 LedgerRefusal& refusal) const {
  TransferRequest request{in.id,      who.member_id, in.to_member_id,        in.minutes,
                          in.pending, in.timeout_s,  TransferKind::exchange, in.memo,
                          in.ref};
  refusal = LedgerRefusal::none;
  if (in.from_member_id && *in.from_member_id != who.member_id) {
    refusal = LedgerRefusal::pays_from_own_account_only;
    return request;
  }
  const bool acting = !who.acting_staff_id.empty();
  // Acting for a member lends their account, not a way to pay oneself from it.
  if (acting && in.to_member_id == who.acting_staff_id) refusal = LedgerRefusal::self_grant;
  if (refusal != LedgerRefusal::none || in.from_member_id || acting || !who.is_staff())
    return request;
  if (in.to_member_id == who.member_id) {
    refusal = LedgerRefusal::self_grant;
    return request;
  }
  request.from_account_id = community_account_id(who.community_id);
  request.kind = TransferKind::manual;
  return request;
}

// Which of `requests` wait for a second pair of eyes instead of reaching the writer: a large
// grant, and a small one past its staff member's day (all of them counted in one transaction).
// The policy is read once per community, then from memory.
std::vector<bool> LedgerUseCases::wait_for_review(const Identity& who,
                                                  const std::vector<TransferRequest>& requests) {
  std::vector<bool> waits(requests.size(), false);
  std::optional<CommunityPolicy> policy;
  std::vector<TransferRequest> small_grants;
  std::vector<std::size_t> small_at;  // the index in `requests` of each small grant
  for (std::size_t i = 0; i < requests.size(); ++i) {
    if (!is_grant(requests[i])) continue;
    if (!policy) policy = policies_.cached(who.community_id);
    if (!policy) {
      policy = db_.transact([&](pqxx::work& tx) { return policies_.get(tx, who.community_id); });
    }
    if (needs_review(requests[i], *policy)) {
      waits[i] = true;
    } else {
      small_grants.push_back(requests[i]);
      small_at.push_back(i);
    }
  }
  if (small_grants.empty()) return waits;
  const std::vector<bool> pass =
      count_unreviewed_grants(db_, who, small_grants, *policy, clock_.now_us());
  for (std::size_t k = 0; k < small_at.size(); ++k) waits[small_at[k]] = !pass[k];
  return waits;
}

TransferAnswer LedgerUseCases::ask_review(const Identity& who, const TransferRequest& request) {
  GrantAsked asked = ask_grant(db_, who, request, clock_.now_us());
  TransferAnswer answer = ledger_answer(std::move(asked.transfer));
  answer.review = std::move(asked.review);
  return answer;
}

TransferAnswer LedgerUseCases::create_transfer(const Identity& who, const TransferBody& in) {
  if (const auto refusal = paying_refusal(who); refusal != LedgerRefusal::none)
    return refused(refusal);
  LedgerRefusal refusal;
  const TransferRequest request = transfer_request(who, in, refusal);
  if (refusal != LedgerRefusal::none) return refused(refusal);
  if (wait_for_review(who, {request}).front()) return ask_review(who, request);
  TransferResult result =
      batcher_.submit(who.community_id, CreateTransfer{request, 0}, who.actor_id());
  if (is_grant(request) && moved_nothing(result)) uncount_refused_grants(db_, {request.id});
  return ledger_answer(std::move(result));
}

std::vector<TransferAnswer> LedgerUseCases::create_transfers(
    const Identity& who, const std::vector<TransferBody>& items) {
  std::vector<TransferAnswer> answers(items.size());
  if (const auto refusal = paying_refusal(who); refusal != LedgerRefusal::none) {
    for (auto& answer : answers) answer.refusal = refusal;
    return answers;
  }
  std::vector<TransferRequest> requests;
  std::vector<std::size_t> request_items;  // the item index of each request
  for (std::size_t i = 0; i < items.size(); ++i) {
    LedgerRefusal refusal;
    TransferRequest request = transfer_request(who, items[i], refusal);
    if (refusal != LedgerRefusal::none) {
      answers[i].refusal = refusal;
    } else {
      requests.push_back(std::move(request));
      request_items.push_back(i);
    }
  }
  const std::vector<bool> waits = wait_for_review(who, requests);
  std::vector<LedgerCommand> commands;
  std::vector<std::size_t> command_items;  // the item index of each command
  std::vector<TransferId> grant_ids;       // of each command: "" for one that is no grant
  for (std::size_t r = 0; r < requests.size(); ++r) {
    if (waits[r]) {
      answers[request_items[r]] = ask_review(who, requests[r]);
      continue;
    }
    grant_ids.push_back(is_grant(requests[r]) ? requests[r].id : TransferId());
    commands.emplace_back(CreateTransfer{requests[r], 0});
    command_items.push_back(request_items[r]);
  }
  if (commands.empty()) return answers;
  auto results = batcher_.submit_many(who.community_id, std::move(commands), who.actor_id());
  std::vector<TransferId> refused_grants;
  for (std::size_t c = 0; c < results.size(); ++c) {
    if (!grant_ids[c].empty() && moved_nothing(results[c])) refused_grants.push_back(grant_ids[c]);
  }
  uncount_refused_grants(db_, refused_grants);
  for (std::size_t c = 0; c < results.size(); ++c) {
    answers[command_items[c]].result = std::move(results[c]);
  }
  return answers;
}

// A transfer the caller may see: a party's or any in the staff's community.
std::optional<Transfer> LedgerUseCases::visible_transfer(const Identity& who,
                                                         const std::string& id) {
  // One statement outside a transaction (read_only): clients poll this until a payment is
  // posted, and BEGIN and COMMIT made it three round trips.
  auto t = read_only(db_, [&](pqxx::transaction_base& tx) {
    return repo::find_transfer(tx, who.community_id, id);
  });
  if (!t || !(is_party(who, *t) || who.is_staff())) return std::nullopt;
  return t;
}

Found<Transfer> LedgerUseCases::get_transfer(const Identity& who, const std::string& id) {
  if (const auto refusal = member_refusal(who); refusal != LedgerRefusal::none) return {refusal};
  auto t = visible_transfer(who, id);
  if (!t) return {LedgerRefusal::transfer_not_found};
  return {LedgerRefusal::none, std::move(*t)};
}

TransferAnswer LedgerUseCases::post_transfer(const Identity& who, const std::string& id,
                                             std::optional<int64_t> minutes) {
  if (const auto refusal = settling_refusal(who, id); refusal != LedgerRefusal::none)
    return refused(refusal);
  const auto t = visible_transfer(who, id);
  if (!t) return refused(LedgerRefusal::transfer_not_found);
  if (!is_payer(who, *t) && !who.is_staff()) return refused(LedgerRefusal::only_payer_posts);
  return ledger_answer(
      batcher_.submit(who.community_id, PostTransfer{t->request.id, minutes, 0}, who.actor_id()));
}

TransferAnswer LedgerUseCases::void_transfer(const Identity& who, const std::string& id) {
  if (const auto refusal = settling_refusal(who, id); refusal != LedgerRefusal::none)
    return refused(refusal);
  const auto t = visible_transfer(who, id);
  if (!t) return refused(LedgerRefusal::transfer_not_found);
  return ledger_answer(
      batcher_.submit(who.community_id, VoidTransfer{t->request.id, 0}, who.actor_id()));
}

// The desk's list of grants in one state, oldest first.
Found<Page<repo::GrantRow>> LedgerUseCases::list_grants(const Identity& who,
                                                        const std::string& community_id,
                                                        const std::string& state,
                                                        const std::string& cursor, int limit) {
  if (const auto refusal = grants_refusal(who, community_id); refusal != LedgerRefusal::none)
    return {refusal};
  const auto position = grant_position(cursor);
  if (!position) return {LedgerRefusal::cursor_invalid};
  return db_.transact([&](pqxx::work& tx) -> Found<Page<repo::GrantRow>> {
    Page<repo::GrantRow> page;
    page.rows =
        repo::list_grants(tx, community_id, state, position->first, position->second, limit + 1);
    if (page.rows.size() > static_cast<std::size_t>(limit)) {
      page.rows.pop_back();
      page.next_cursor =
          std::to_string(page.rows.back().requested_at_us) + "|" + page.rows.back().id;
    }
    for (auto& row : page.rows) row.state = state;  // a review whose transfer exists is approved
    return {LedgerRefusal::none, std::move(page)};
  });
}

// A second staff member (or an administrator) posts a grant that waits for review; the answer
// is the transfer, or the ledger's refusal (balance-cap...), after which the review still waits.
// Staff acting for a member keep their own staff rights, so they may approve, as themselves.
TransferAnswer LedgerUseCases::approve_grant(const Identity& who, const std::string& grant_id) {
  const auto grant = db_.transact([&](pqxx::work& tx) { return repo::find_grant(tx, grant_id); });
  if (!grant) return refused(LedgerRefusal::grant_not_found);
  if (const auto refusal = approver_refusal(who, *grant); refusal != LedgerRefusal::none)
    return refused(refusal);
  TransferResult result = batcher_.submit(
      grant->community_id, CreateTransfer{grant_transfer_request(*grant), 0}, grant->requested_by);
  if (is_accepted(result.outcome)) {
    db_.transact([&](pqxx::work& tx) {
      repo::mark_grant_approved(tx, grant_id, who.actor_id(), clock_.now_us());
    });
  }
  return ledger_answer(std::move(result));
}

namespace {
// Self, staff of the account's community, or an administrator; nullopt for anyone else.
std::optional<repo::AccountRow> visible_account(pqxx::transaction_base& tx, const Identity& who,
                                                const std::string& member_id) {
  const bool allowed = member_id == who.member_id || who.is_staff() || who.is_admin;
  auto row = allowed ? repo::find_account(tx, member_id) : std::nullopt;
  if (!row || row->account.community || (!who.is_admin && row->community_id != who.community_id))
    return std::nullopt;
  return row;
}
}  // namespace

Found<AccountView> LedgerUseCases::get_account(const Identity& who, const std::string& member_id) {
  // Reads outside a transaction (read_only): the account row is one statement, one snapshot.
  return read_only(db_, [&](pqxx::transaction_base& tx) -> Found<AccountView> {
    const auto row = visible_account(tx, who, member_id);
    if (!row) return {LedgerRefusal::account_not_found};
    return {LedgerRefusal::none, {row->account, policies_.get(tx, row->community_id)}};
  });
}

Found<Page<repo::EntryRow>> LedgerUseCases::list_entries(const Identity& who,
                                                         const std::string& member_id,
                                                         int64_t before_id, int limit) {
  return db_.transact([&](pqxx::work& tx) -> Found<Page<repo::EntryRow>> {
    const auto account = visible_account(tx, who, member_id);
    if (!account) return {LedgerRefusal::account_not_found};
    Page<repo::EntryRow> page;
    page.rows = repo::list_entries(tx, account->account.id, before_id, limit + 1);
    if (page.rows.size() > static_cast<std::size_t>(limit)) {
      page.rows.pop_back();
      page.next_cursor = std::to_string(page.rows.back().id);
    }
    return {LedgerRefusal::none, std::move(page)};
  });
}

Found<AuditReport> LedgerUseCases::audit(const Identity& who, const std::string& community_id) {
  if (const auto refusal = audit_refusal(who, community_id); refusal != LedgerRefusal::none)
    return {refusal};
  return db_.transact([&](pqxx::work& tx) -> Found<AuditReport> {
    // Only an administrator may name a community other than their own: they learn nothing.
    if (!directory::policy_of(tx, community_id)) return {LedgerRefusal::community_not_found};
    std::map<AccountId, int64_t> sums;
    const auto accounts = repo::audit_accounts(tx, community_id, sums);
    AuditReport report = maillon::audit(accounts, sums, policies_.get(tx, community_id));
    // Each clearing account must mirror its partner's (federation.hpp).
    for (auto& v : federation::mirror_violations(tx, community_id))
      report.violations.push_back(std::move(v));
    return {LedgerRefusal::none, std::move(report)};
  });
}

}  // namespace maillon::ledger
