// The ledger's use cases: each takes a typed input and the caller's identity, runs the rules and
// the repository calls, and returns a typed result. No HTTP and no words here: refusals are
// codes (LedgerRefusal, or the domain's LedgerOutcome), put into words by services/ledger/messages.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "exchange/ledger.hpp"
#include "exchange/ledger_audit.hpp"
#include "exchange/policy.hpp"
#include "services/common/clock.hpp"
#include "services/ledger/repository.hpp"

namespace maillon {
class Db;
struct Identity;
}  // namespace maillon

namespace maillon::ledger {

class PolicyCache;
class TransferBatcher;

// Why a use case refused before the ledger was asked (the ledger's own refusals are
// LedgerOutcome). `none` is the absence of a refusal.
enum class LedgerRefusal {
  none,
  not_in_community,            // the caller belongs to no community
  membership_pending,          // the membership awaits the staff's approval
  account_suspended,           // the caller's account is suspended
  pays_from_own_account_only,  // from_member_id names someone else's account
  self_grant,                  // staff crediting themselves (also while acting)
  owned_by_saga,               // a system id: its saga alone settles it
  transfer_not_found,          // no transfer the caller may see under that id
  only_payer_posts,            // a party other than the payer posting a hold
  grant_not_found,             // no grant review the caller may see under that id
  four_eyes,                   // the requester approving their own grant
  approver_not_site_staff,     // neither staff of a requester's site nor an administrator
  role_forbidden,              // the caller's role does not allow the action
  account_not_found,           // no account the caller may see for that member
  community_not_found,         // no community under that id
  // Refusals of the input, found while reading it.
  body_not_object,       // a transfer that is not a JSON object
  timeout_without_hold,  // timeout_s on a transfer that is not pending
  batch_items_invalid,   // `transfers` not a list of 1 to kTransferBatchItemsMax items
  community_id_missing,  // community_id absent or not a UUID
  grant_state_unknown,   // state neither awaiting_review nor approved
  cursor_invalid,        // a cursor this service did not give
};
// The last code: the message table's test walks every code up to it (keep it last).
inline constexpr LedgerRefusal kLastLedgerRefusal = LedgerRefusal::cursor_invalid;

// The body of POST /v1/ledger/transfers, as read.
struct TransferBody {
  std::string id;
  std::string to_member_id;
  int64_t minutes = 0;
  std::string memo;
  std::optional<std::string> from_member_id;
  bool pending = false;
  int64_t timeout_s = 0;
  std::string ref;
};

// What a write gives: a refusal of the use case, else the review that waits (a large grant),
// else the ledger's result.
struct TransferAnswer {
  LedgerRefusal refusal = LedgerRefusal::none;
  std::optional<repo::GrantRow> review;
  TransferResult result;
};

// A read's value, or why the caller may not have it.
template <class T>
struct Found {
  LedgerRefusal refusal = LedgerRefusal::none;
  T value{};
};

template <class Row>
struct Page {
  std::vector<Row> rows;
  std::optional<std::string> next_cursor;  // the raw cursor of the next page, if any
};

struct AccountView {
  Account account;
  CommunityPolicy policy;
};

class LedgerUseCases {
 public:
  // `clock`: the service's (grant reviews are dated by it).
  LedgerUseCases(Db& db, PolicyCache& policies, TransferBatcher& batcher, Clock clock)
      : db_(db), policies_(policies), batcher_(batcher), clock_(std::move(clock)) {}

  // Who may call a route, answered before its input is read (a 403 comes before a 400).
  static LedgerRefusal member_refusal(const Identity& who);
  static LedgerRefusal paying_refusal(const Identity& who);
  static LedgerRefusal settling_refusal(const Identity& who, const std::string& transfer_id);
  static LedgerRefusal grants_refusal(const Identity& who, const std::string& community_id);
  static LedgerRefusal audit_refusal(const Identity& who, const std::string& community_id);

  TransferAnswer create_transfer(const Identity& who, const TransferBody& in);
  // Each item answered as create_transfer would; the ones for the writer share its transaction.
  std::vector<TransferAnswer> create_transfers(const Identity& who,
                                               const std::vector<TransferBody>& items);
  Found<Transfer> get_transfer(const Identity& who, const std::string& id);
  TransferAnswer post_transfer(const Identity& who, const std::string& id,
                               std::optional<int64_t> minutes);
  TransferAnswer void_transfer(const Identity& who, const std::string& id);

  // `state` is awaiting_review or approved; `cursor` the raw text a previous page gave.
  Found<Page<repo::GrantRow>> list_grants(const Identity& who, const std::string& community_id,
                                          const std::string& state, const std::string& cursor,
                                          int limit);
  TransferAnswer approve_grant(const Identity& who, const std::string& grant_id);

  Found<AccountView> get_account(const Identity& who, const std::string& member_id);
  // Entries older than `before_id` (0: the newest), newest first.
  Found<Page<repo::EntryRow>> list_entries(const Identity& who, const std::string& member_id,
                                           int64_t before_id, int limit);
  Found<AuditReport> audit(const Identity& who, const std::string& community_id);

 private:
  TransferRequest transfer_request(const Identity& who, const TransferBody& in,
                                   LedgerRefusal& refusal) const;
  std::vector<bool> wait_for_review(const Identity& who,
                                    const std::vector<TransferRequest>& requests);
  TransferAnswer ask_review(const Identity& who, const TransferRequest& request);
  std::optional<Transfer> visible_transfer(const Identity& who, const std::string& id);

  Db& db_;
  PolicyCache& policies_;
  TransferBatcher& batcher_;
  Clock clock_;
};

}  // namespace maillon::ledger
