// Random sequences of commands by random actors, with ledger answers arriving late, twice or
// for the wrong attempt (and posts or voids nobody asked for): the exchange stays valid, the
// ledger never holds, pays or voids inconsistently, and `completed` always follows the ledger's
// post of the whole hold.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <map>
#include <tuple>
#include <vector>

#include "exchange_builders.hpp"

namespace maillon::test {
namespace {

// command, actor, seconds to wait before it, resolution minutes, which attempt a ledger answer
// names
using Step = std::tuple<int, int, int64_t, int64_t, int>;

struct LedgerTally {
  int holds = 0;
  int posts = 0;
  int voids = 0;
  int64_t posted_minutes = 0;
  int64_t last_post_minutes = 0;
};

ExchangeActor actor_for(int index) {
  switch (index) {
    case 0:
      return provider();
    case 1:
      return receiver();
    case 2:
      return staff();
    case 3:
      return staff_for_provider();
    case 4:
      return staff_for_receiver();
    case 5:
      return stranger();
    default:
      return ExchangeActor::system();
  }
}

Resolution resolution_for(int64_t minutes) {
  if (minutes < 0) return {ResolutionOutcome::void_hold, 0, {}};
  if (minutes == 0) return {ResolutionOutcome::post, 0, {}};
  return {ResolutionOutcome::partial, minutes, {}};
}

ExchangeResult apply(Exchange& ex, const Step& step, int64_t now_s) {
  const CommunityPolicy policy;
  const auto& [command, actor_index, wait_s, minutes, attempt_offset] = step;
  const ExchangeActor actor = actor_for(actor_index);
  // Spelled out rather than built by ledger_transfer_id: attempt -1 must reach the machine too.
  const std::string transfer =
      "exchange:" + ex.id + ":" + std::to_string(ex.attempt + attempt_offset);
  switch (command) {
    case 0:
      return accept_exchange(ex, actor, policy, now_s);
    case 1:
      return decline_exchange(ex, actor, now_s);
    case 2:
      return cancel_exchange(ex, actor, now_s);
    case 3:
      return confirm_completion(ex, actor, now_s);
    case 4:
      return dispute_exchange(ex, actor, "", now_s);
    case 5:
      return resolve_dispute(ex, actor, resolution_for(minutes), now_s);
    case 6:
      return expire_proposal(ex, actor, policy, now_s);
    case 7:
      return apply_ledger_held(ex, transfer, now_s);
    case 8:
      return apply_ledger_rejected(ex, transfer, minutes % 2 ? "insufficient-credits" : "expired",
                                   now_s);
    case 9:
      // Most posts carry the whole amount, as the ledger does for the exchange's own post.
      return apply_ledger_posted(ex, transfer, minutes % 3 ? ex.minutes : minutes, now_s);
    case 10:
      return apply_ledger_voided(ex, transfer, "voided", now_s);
    default:
      return cancel_by_system(ex, "member-suspended", now_s);
  }
}

void tally(std::map<std::string, LedgerTally>& ledger, const ExchangeEffect& effect) {
  if (effect.transfer_id.empty()) return;  // a listing change
  LedgerTally& t = ledger[effect.transfer_id];
  if (effect.kind == ExchangeEffectKind::ledger_hold) t.holds += 1;
  if (effect.kind == ExchangeEffectKind::ledger_void) t.voids += 1;
  if (effect.kind == ExchangeEffectKind::ledger_post) {
    t.posts += 1;
    t.posted_minutes += effect.minutes;
    t.last_post_minutes = effect.minutes;
  }
}

RC_GTEST_PROP(ExchangeProperty, random_commands_keep_the_exchange_and_the_ledger_consistent, ()) {
  const int64_t minutes = *rc::gen::inRange<int64_t>(0, 120);
  // Weighted so that most runs get past the proposal: cancellations and declines end everything.
  const auto command = rc::gen::weightedElement<int>({{8, 0},
                                                      {1, 1},
                                                      {2, 2},
                                                      {8, 3},
                                                      {4, 4},
                                                      {6, 5},
                                                      {2, 6},
                                                      {8, 7},
                                                      {4, 8},
                                                      {6, 9},
                                                      {2, 10},
                                                      {1, 11}});
  const auto actor =
      rc::gen::weightedElement<int>({{3, 0}, {3, 1}, {3, 2}, {1, 3}, {1, 4}, {1, 5}, {2, 6}});
  const auto attempt_offset = rc::gen::weightedElement<int>({{1, -1}, {4, 0}, {1, 1}});
  const auto steps = *rc::gen::container<std::vector<Step>>(
      rc::gen::tuple(command, actor, rc::gen::inRange<int64_t>(0, kDay),
                     rc::gen::inRange<int64_t>(-1, 130), attempt_offset));
  Exchange ex = proposed(minutes);
  std::map<std::string, LedgerTally> ledger;
  int64_t now_s = kT0;
  for (const Step& step : steps) {
    now_s += std::get<2>(step);
    const Exchange before = ex;
    const ExchangeResult result = apply(ex, step, now_s);
    RC_ASSERT(exchange_invariants_hold(ex));
    RC_ASSERT(result.state == ex.state);
    RC_ASSERT(ex.history.size() <= before.history.size() + 1);
    if (!result.ok()) {
      RC_ASSERT(result.effects.empty());
      RC_ASSERT(ex.history == before.history);
    }
    if (is_terminal(before.state)) RC_ASSERT(ex.state == before.state);
    // Completed with credits only from completing, on the ledger's post of the whole hold.
    if (ex.state == ExchangeState::completed && before.state != ExchangeState::completed &&
        minutes > 0) {
      RC_ASSERT(before.state == ExchangeState::completing);
      RC_ASSERT(std::get<0>(step) == 9);
    }
    for (const ExchangeEffect& effect : result.effects) tally(ledger, effect);
    if (std::get<0>(step) == 8 && before.state == ExchangeState::completing &&
        ex.state == ExchangeState::disputed) {
      // The ledger refused the post: nothing moved, staff may post again.
      LedgerTally& t = ledger[current_transfer_id(ex)];
      t.posts -= 1;
      t.posted_minutes -= t.last_post_minutes;
    }
  }
  RC_TAG(std::string(to_string(ex.state)));
  for (const auto& [transfer_id, t] : ledger) {
    RC_ASSERT(t.holds <= 1);
    RC_ASSERT(t.posts <= 1);
    RC_ASSERT(t.posts == 0 || t.voids == 0);
    RC_ASSERT(t.posted_minutes <= minutes);
    RC_ASSERT(minutes > 0);  // a gift never reaches the ledger
  }
}

}  // namespace
}  // namespace maillon::test
