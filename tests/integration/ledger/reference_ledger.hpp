// A plain reference ledger, written from the contract's rules (shared/spec/api.md, "Time-credit
// ledger") and nothing else: plain maps, one command at a time, no batching, no cache, no SQL.
// It shares no code with exchange/ledger.cpp on purpose: it is the oracle the fast writer
// (services/ledger: TransferBatcher, apply_batch, PostgreSQL) is compared with.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace maillon::testing {

struct RefAccount {
  bool community = false;  // the community's own account is exempt from the limits
  int64_t balance = 0;
  int64_t pending_debit = 0;
  int64_t pending_credit = 0;
  bool operator==(const RefAccount&) const = default;
};

// What idempotency compares: a retry must carry exactly this.
struct RefBody {
  std::string from;
  std::string to;
  int64_t minutes = 0;
  bool pending = false;
  int64_t timeout_s = 0;
  std::string kind = "exchange";
  std::string memo;
  bool operator==(const RefBody&) const = default;
};

struct RefTransfer {
  RefBody body;
  std::string state;   // pending, posted, voided, expired
  int64_t posted = 0;  // what moved
  bool operator==(const RefTransfer&) const = default;
};

// `outcome` is the contract's slug ("ok", "exists", "insufficient-credits", ...); `transfer` is
// the stored transfer whenever the answer carries it (ok and exists: the first result).
struct RefResult {
  std::string outcome;
  std::optional<RefTransfer> transfer;
};

class ReferenceLedger {
 public:
  ReferenceLedger(int64_t min_balance, int64_t max_balance)
      : min_balance_(min_balance), max_balance_(max_balance) {}

  void open(const std::string& account_id, bool community);
  RefResult create(const std::string& id, const RefBody& body);
  // `minutes` empty: the whole hold.
  RefResult post(const std::string& id, std::optional<int64_t> minutes);
  RefResult void_transfer(const std::string& id);
  // The expiry job once the hold's deadline passed: true when it expired a hold.
  bool expire(const std::string& id);

  const std::map<std::string, RefAccount>& accounts() const { return accounts_; }
  const std::map<std::string, RefTransfer>& transfers() const { return transfers_; }

 private:
  void release(const RefTransfer& t);
  void move(const RefBody& body, int64_t minutes);

  int64_t min_balance_;
  int64_t max_balance_;
  std::map<std::string, RefAccount> accounts_;
  std::map<std::string, RefTransfer> transfers_;
};

}  // namespace maillon::testing
