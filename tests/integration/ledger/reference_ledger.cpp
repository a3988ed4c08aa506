// The contract's ledger rules, one by one, in the order the contract states them.
#include "reference_ledger.hpp"

namespace maillon::testing {
namespace {

constexpr int64_t kMinutesMax = 60'000;  // the contract's bound on one transfer (1000 h)

std::optional<std::string> already(const RefTransfer& t) {
  if (t.state == "posted") return "already-posted";
  if (t.state == "voided") return "already-voided";
  if (t.state == "expired") return "expired";
  return std::nullopt;
}

}  // namespace

void ReferenceLedger::open(const std::string& account_id, bool community) {
  accounts_[account_id] = RefAccount{community, 0, 0, 0};
}

RefResult ReferenceLedger::create(const std::string& id, const RefBody& body) {
  // A malformed body is refused (400) before anything is looked up, retry or not.
  if (body.minutes <= 0 || body.minutes > kMinutesMax) return {"invalid-amount", std::nullopt};
  if (body.timeout_s != 0 && !body.pending) return {"invalid-timeout", std::nullopt};
  if (body.from == body.to) return {"same-account", std::nullopt};
  // Same id: the first result when the body is the same, 409 when it is another.
  if (const auto found = transfers_.find(id); found != transfers_.end()) {
    if (found->second.body == body) return {"exists", found->second};
    return {"exists-with-different-body", std::nullopt};
  }
  if (!accounts_.contains(body.from) || !accounts_.contains(body.to)) {
    return {"account-not-found", std::nullopt};
  }
  RefAccount& from = accounts_[body.from];
  RefAccount& to = accounts_[body.to];
  // The payer's floor counts its pending debits; the payee's cap its pending credits.
  if (!from.community && from.balance - from.pending_debit - body.minutes < min_balance_) {
    return {"insufficient-credits", std::nullopt};
  }
  if (!to.community && to.balance + to.pending_credit + body.minutes > max_balance_) {
    return {"balance-cap", std::nullopt};
  }
  RefTransfer t{body, body.pending ? "pending" : "posted", 0};
  if (body.pending) {
    from.pending_debit += body.minutes;
    to.pending_credit += body.minutes;
  } else {
    move(body, body.minutes);
    t.posted = body.minutes;
  }
  transfers_[id] = t;
  return {"ok", t};
}

RefResult ReferenceLedger::post(const std::string& id, std::optional<int64_t> minutes) {
  const auto found = transfers_.find(id);
  if (found == transfers_.end()) return {"not-found", std::nullopt};
  RefTransfer& t = found->second;
  if (const auto refused = already(t)) return {*refused, std::nullopt};
  const int64_t posted = minutes.value_or(t.body.minutes);
  if (posted <= 0) return {"invalid-amount", std::nullopt};
  if (posted > t.body.minutes) return {"exceeds-pending", std::nullopt};
  // The whole hold is released; only the posted part moves, the rest returns to the payer.
  release(t);
  move(t.body, posted);
  t.state = "posted";
  t.posted = posted;
  return {"ok", t};
}

RefResult ReferenceLedger::void_transfer(const std::string& id) {
  const auto found = transfers_.find(id);
  if (found == transfers_.end()) return {"not-found", std::nullopt};
  RefTransfer& t = found->second;
  if (const auto refused = already(t)) return {*refused, std::nullopt};
  release(t);
  t.state = "voided";
  return {"ok", t};
}

bool ReferenceLedger::expire(const std::string& id) {
  const auto found = transfers_.find(id);
  // Only a hold with a timeout has a deadline to pass.
  if (found == transfers_.end() || found->second.state != "pending" ||
      found->second.body.timeout_s <= 0) {
    return false;
  }
  release(found->second);
  found->second.state = "expired";
  return true;
}

void ReferenceLedger::release(const RefTransfer& t) {
  accounts_[t.body.from].pending_debit -= t.body.minutes;
  accounts_[t.body.to].pending_credit -= t.body.minutes;
}

void ReferenceLedger::move(const RefBody& body, int64_t minutes) {
  accounts_[body.from].balance -= minutes;
  accounts_[body.to].balance += minutes;
}

}  // namespace maillon::testing
