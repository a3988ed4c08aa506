// Every depot transition, allowed and refused, with time passed in: intake, reservations that
// lapse, collection, loans and their due dates, returns and redirection.
#include <gtest/gtest.h>

#include <vector>

#include "depot_builders.hpp"
#include "exchange/listing.hpp"

namespace maillon::test {
namespace {

using Outcome = DepotOutcome;
using Status = ItemStatus;

const CommunityPolicy kPolicy;

TEST(DepotIntake, a_valid_intake_is_available_and_rewards_its_depositor_once) {
  const IntakeResult result = intake_item(intake(), categories(), kPolicy, kT0);
  ASSERT_TRUE(result.errors.empty());
  EXPECT_EQ(result.item.status, Status::available);
  EXPECT_EQ(result.item.available_since_s, kT0);
  EXPECT_TRUE(result.item.deposit_rewarded);
  EXPECT_EQ(result.effects, (std::vector<DepotEffect>{{DepotEffectKind::ledger_deposit_reward,
                                                       "deposit:item-1", "depositor-1", 30}}));
  EXPECT_EQ(result.impact, (ItemEvent{ItemEventKind::intake, "site-1", kT0, 2'500, {}}));
}

TEST(DepotIntake, an_anonymous_drop_or_a_zero_reward_moves_no_credits) {
  ItemIntake anonymous = intake();
  anonymous.dropped_by_member_id.clear();
  EXPECT_TRUE(intake_item(anonymous, categories(), kPolicy, kT0).effects.empty());
  CommunityPolicy no_reward;
  no_reward.deposit_reward = 0;
  const IntakeResult result = intake_item(intake(), categories(), no_reward, kT0);
  EXPECT_TRUE(result.effects.empty());
  EXPECT_FALSE(result.item.deposit_rewarded);
}

TEST(DepotIntake, each_invalid_field_is_named) {
  struct Case {
    void (*spoil)(ItemIntake&);
    const char* field;
  };
  const std::vector<Case> cases = {
      {[](ItemIntake& in) { in.category.clear(); }, "category"},
      {[](ItemIntake& in) { in.category = "inconnue"; }, "category"},
      {[](ItemIntake& in) { in.category = "cours"; }, "category"},
      {[](ItemIntake& in) { in.title = "ab"; }, "title"},
      {[](ItemIntake& in) { in.title = std::string(121, 'a'); }, "title"},
      {[](ItemIntake& in) { in.title = "ab\xff"; }, "title"},
      {[](ItemIntake& in) { in.weight_g = 0; }, "weight_g"},
      {[](ItemIntake& in) { in.weight_g = kItemWeightGMax + 1; }, "weight_g"},
      {[](ItemIntake& in) { in.condition = "broken"; }, "condition"},
      {[](ItemIntake& in) { in.mode = "swap"; }, "mode"},
      {[](ItemIntake& in) { in.photos = {"ftp://x/1.jpg"}; }, "photos[0]"},
      {[](ItemIntake& in) {
         in.photos = {"3f2504e0-4f89-41d3-9a0c-0305e82c3301", "https://a/b.jpg"};
       },
       "photos[1]"},
      {[](ItemIntake& in) {
         in.photos.assign(kPhotoCountMax + 1, "3f2504e0-4f89-41d3-9a0c-0305e82c3301");
       },
       "photos"},
      {[](ItemIntake& in) { in.site_id.clear(); }, "site_id"},
  };
  for (const Case& c : cases) {
    ItemIntake in = intake();
    c.spoil(in);
    const IntakeResult result = intake_item(in, categories(), kPolicy, kT0);
    ASSERT_EQ(result.errors.size(), 1u) << c.field;
    EXPECT_EQ(result.errors[0].field, c.field);
    EXPECT_TRUE(result.effects.empty());
  }
}

TEST(DepotIntake, bounds_themselves_are_accepted) {
  ItemIntake in = intake();
  in.title = "abc";
  in.weight_g = kItemWeightGMax;
  in.condition = "new";
  EXPECT_TRUE(validate_intake(in, categories()).empty());
  in.title = std::string(120, 'a');
  in.weight_g = kItemWeightGMin;
  EXPECT_TRUE(validate_intake(in, categories()).empty());
}

TEST(DepotReserve, a_reservation_lasts_the_policy_hours) {
  DepotItem item = taken_in();
  const DepotResult result = reserve_item(item, "member-1", {}, kPolicy, kT0 + kHour);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result.status, Status::reserved);
  EXPECT_EQ(item.reserved_until_s, kT0 + kHour + 48 * kHour);
  EXPECT_EQ(item.reserved_by_member_id, "member-1");
}

TEST(DepotReserve, refusals_name_their_reason_and_leave_the_item_alone) {
  struct Case {
    DepotItem item;
    BorrowerStanding standing;
    Outcome expected;
  };
  const std::vector<Case> cases = {
      {reserved_by("member-2"), {}, Outcome::not_available},
      {lent_to("member-2"), {}, Outcome::not_available},
      {taken_in(), {0, true}, Outcome::overdue_loan},
      {taken_in(), {kPolicy.max_active_reservations, false}, Outcome::reservation_limit},
  };
  for (Case c : cases) {
    const DepotItem before = c.item;
    EXPECT_EQ(reserve_item(c.item, "member-1", c.standing, kPolicy, kT0 + 2 * kHour).outcome,
              c.expected);
    EXPECT_EQ(c.item, before);
  }
  DepotItem item = taken_in();
  const BorrowerStanding one_below{kPolicy.max_active_reservations - 1, false};
  EXPECT_TRUE(reserve_item(item, "member-1", one_below, kPolicy, kT0).ok());
}

TEST(DepotReserve, a_retry_by_the_holder_answers_the_same_without_extending) {
  DepotItem item = reserved_by("member-1");
  const int64_t until_s = item.reserved_until_s;
  EXPECT_TRUE(reserve_item(item, "member-1", {3, false}, kPolicy, kT0 + 5 * kHour).ok());
  EXPECT_EQ(item.reserved_until_s, until_s);
}

TEST(DepotReserve, a_lapsed_reservation_counts_as_available) {
  DepotItem item = reserved_by("member-2");
  const int64_t lapse_s = item.reserved_until_s;
  EXPECT_EQ(effective_status(item, lapse_s - 1), Status::reserved);
  EXPECT_EQ(effective_status(item, lapse_s), Status::available);
  EXPECT_EQ(reserve_item(item, "member-1", {}, kPolicy, lapse_s - 1).outcome,
            Outcome::not_available);
  EXPECT_TRUE(reserve_item(item, "member-1", {}, kPolicy, lapse_s).ok());
  EXPECT_EQ(item.reserved_by_member_id, "member-1");
}

TEST(DepotReserve, lapse_clears_the_reservation_only_once_due) {
  DepotItem item = reserved_by("member-2");
  EXPECT_FALSE(lapse_reservation(item, item.reserved_until_s - 1));
  EXPECT_TRUE(lapse_reservation(item, item.reserved_until_s));
  EXPECT_EQ(item.status, Status::available);
  EXPECT_TRUE(item.reserved_by_member_id.empty());
  EXPECT_FALSE(lapse_reservation(item, item.reserved_until_s + kDay));
}

TEST(DepotReserve, active_reservations_are_counted_per_member_at_an_instant) {
  const std::vector<DepotItem> items = {reserved_by("member-1"), reserved_by("member-1"),
                                        reserved_by("member-2"), taken_in()};
  EXPECT_EQ(count_active_reservations(items, "member-1", kT0 + 2 * kHour), 2);
  EXPECT_EQ(count_active_reservations(items, "member-2", kT0 + 2 * kHour), 1);
  EXPECT_EQ(count_active_reservations(items, "member-1", kT0 + 49 * kHour), 0);
}

TEST(DepotRelease, the_reserver_or_staff_release_and_nobody_else) {
  DepotItem by_reserver = reserved_by("member-1");
  EXPECT_EQ(release_item(by_reserver, "member-1", false, kT0 + 2 * kHour).status,
            Status::available);
  DepotItem by_other = reserved_by("member-1");
  EXPECT_EQ(release_item(by_other, "member-2", false, kT0 + 2 * kHour).outcome,
            Outcome::not_reserver);
  DepotItem by_staff = reserved_by("member-1");
  EXPECT_TRUE(release_item(by_staff, "staff-1", true, kT0 + 2 * kHour).ok());
  EXPECT_TRUE(by_staff.reserved_by_member_id.empty());
  DepotItem free_item = taken_in();
  EXPECT_EQ(release_item(free_item, "member-1", true, kT0).outcome, Outcome::not_reserved);
  DepotItem lapsed = reserved_by("member-1");
  EXPECT_EQ(release_item(lapsed, "member-1", false, kT0 + 50 * kHour).outcome,
            Outcome::not_reserved);
}

TEST(DepotCollect, a_walk_in_takes_an_available_given_item) {
  DepotItem item = taken_in();
  const DepotResult result = collect_item(item, "", kT0 + kDay);
  EXPECT_EQ(result.status, Status::collected);
  EXPECT_TRUE(item.collected_by_member_id.empty());
  EXPECT_EQ(result.impact, (ItemEvent{ItemEventKind::collected, "site-1", kT0 + kDay, 2'500, {}}));
}

TEST(DepotCollect, a_reserved_item_goes_to_its_reserver_only) {
  DepotItem item = reserved_by("member-1");
  EXPECT_EQ(collect_item(item, "member-2", kT0 + 2 * kHour).outcome, Outcome::not_reserver);
  EXPECT_TRUE(collect_item(item, "", kT0 + 2 * kHour).ok());
  EXPECT_EQ(item.collected_by_member_id, "member-1");
  EXPECT_TRUE(item.reserved_by_member_id.empty());
  DepotItem lapsed = reserved_by("member-1");
  EXPECT_TRUE(collect_item(lapsed, "member-2", kT0 + 50 * kHour).ok());
  EXPECT_EQ(lapsed.collected_by_member_id, "member-2");
}

TEST(DepotCollect, lent_items_and_gone_items_cannot_be_collected) {
  DepotItem lend_item_ = taken_in("lend");
  EXPECT_EQ(collect_item(lend_item_, "", kT0).outcome, Outcome::wrong_mode);
  DepotItem gone = taken_in();
  collect_item(gone, "", kT0);
  EXPECT_EQ(collect_item(gone, "", kT0).outcome, Outcome::not_available);
}

TEST(DepotLend, a_loan_costs_credits_under_a_numbered_transfer) {
  DepotItem item = taken_in("lend");
  const DepotResult first = lend_item(item, "member-1", kT0 + 8 * kDay, {}, kPolicy, kT0 + kHour);
  EXPECT_EQ(first.status, Status::on_loan);
  EXPECT_EQ(first.effects, (std::vector<DepotEffect>{{DepotEffectKind::ledger_loan_charge,
                                                      "loan:item-1:1", "member-1", 30}}));
  EXPECT_EQ(first.impact->kind, ItemEventKind::lent);
  return_item(item, ItemCondition::good, kT0 + 2 * kDay);
  const DepotResult second =
      lend_item(item, "member-2", kT0 + 9 * kDay, {}, kPolicy, kT0 + 3 * kDay);
  EXPECT_EQ(second.effects[0].transfer_id, "loan:item-1:2");
  EXPECT_EQ(item.loan->number, 2);
}

TEST(DepotLend, refusals_name_their_reason) {
  struct Case {
    DepotItem item;
    BorrowerStanding standing;
    int64_t due_at_s;
    Outcome expected;
  };
  const int64_t now_s = kT0 + 2 * kHour;
  const std::vector<Case> cases = {
      {taken_in("give"), {}, now_s + kDay, Outcome::wrong_mode},
      {taken_in("lend"), {0, true}, now_s + kDay, Outcome::overdue_loan},
      {taken_in("lend"), {}, now_s, Outcome::invalid_due_date},
      {taken_in("lend"), {}, now_s - 1, Outcome::invalid_due_date},
      {taken_in("lend"), {}, now_s + kLoanDaysMax * kDay + 1, Outcome::invalid_due_date},
      {reserved_by("member-2", "lend"), {}, now_s + kDay, Outcome::not_reserver},
      {lent_to("member-2"), {}, now_s + kDay, Outcome::not_available},
      // The loan's cost (30) would take the borrower one minute under min_balance.
      {taken_in("lend"),
       {0, false, kPolicy.min_balance + kPolicy.loan_cost - 1},
       now_s + kDay,
       Outcome::insufficient_credits},
  };
  for (Case c : cases) {
    const DepotItem before = c.item;
    EXPECT_EQ(lend_item(c.item, "member-1", c.due_at_s, c.standing, kPolicy, now_s).outcome,
              c.expected);
    EXPECT_EQ(c.item, before);
  }
}

TEST(DepotLend, the_reserver_borrows_the_item_and_the_longest_due_date_is_allowed) {
  DepotItem item = reserved_by("member-1", "lend");
  const int64_t now_s = kT0 + 2 * kHour;
  EXPECT_TRUE(lend_item(item, "member-1", now_s + kLoanDaysMax * kDay, {}, kPolicy, now_s).ok());
  EXPECT_TRUE(item.reserved_by_member_id.empty());
  EXPECT_EQ(item.loan->member_id, "member-1");
}

TEST(DepotLend, a_borrower_who_can_pay_the_cost_exactly_borrows) {
  DepotItem item = taken_in("lend");
  const BorrowerStanding exactly{0, false, kPolicy.min_balance + kPolicy.loan_cost};
  EXPECT_TRUE(lend_item(item, "member-1", kT0 + kDay, exactly, kPolicy, kT0).ok());
  // A free loan asks nothing of the borrower's credits.
  CommunityPolicy free_loans = kPolicy;
  free_loans.loan_cost = 0;
  DepotItem other = taken_in("lend");
  const BorrowerStanding broke{0, false, kPolicy.min_balance};
  EXPECT_TRUE(lend_item(other, "member-1", kT0 + kDay, broke, free_loans, kT0).ok());
}

TEST(DepotLend, a_free_loan_sends_no_ledger_command) {
  CommunityPolicy free_loans;
  free_loans.loan_cost = 0;
  DepotItem item = taken_in("lend");
  EXPECT_TRUE(lend_item(item, "member-1", kT0 + kDay, {}, free_loans, kT0).effects.empty());
}

TEST(DepotReturn, a_return_makes_the_item_available_in_its_new_condition) {
  DepotItem item = lent_to("member-1");
  const DepotResult result = return_item(item, ItemCondition::fair, kT0 + 5 * kDay);
  EXPECT_EQ(result.status, Status::available);
  EXPECT_EQ(item.condition, ItemCondition::fair);
  EXPECT_EQ(item.loan->returned_at_s, kT0 + 5 * kDay);
  EXPECT_EQ(item.available_since_s, kT0 + 5 * kDay);
  EXPECT_EQ(result.impact->kind, ItemEventKind::returned);
  DepotItem not_lent = taken_in("lend");
  EXPECT_EQ(return_item(not_lent, ItemCondition::good, kT0).outcome, Outcome::not_on_loan);
}

TEST(DepotRedirect, an_available_item_leaves_for_a_partner) {
  DepotItem item = taken_in();
  const DepotResult result =
      redirect_item(item, RedirectOutlet::recycle, "Ressourcerie de Fives", kT0 + 31 * kDay);
  EXPECT_EQ(result.status, Status::redirected);
  EXPECT_EQ(item.partner, "Ressourcerie de Fives");
  EXPECT_EQ(result.impact, (ItemEvent{ItemEventKind::redirected, "site-1", kT0 + 31 * kDay, 2'500,
                                      RedirectOutlet::recycle}));
}

TEST(DepotRedirect, only_an_available_item_or_a_lapsed_reservation_is_redirected) {
  DepotItem reserved = reserved_by("member-1");
  EXPECT_EQ(redirect_item(reserved, RedirectOutlet::waste, "", kT0 + 2 * kHour).outcome,
            Outcome::not_available);
  EXPECT_TRUE(redirect_item(reserved, RedirectOutlet::waste, "", kT0 + 50 * kHour).ok());
  EXPECT_TRUE(reserved.reserved_by_member_id.empty());
  DepotItem lent = lent_to("member-1");
  EXPECT_EQ(redirect_item(lent, RedirectOutlet::reuse, "", kT0).outcome, Outcome::not_available);
  DepotItem item = taken_in();
  EXPECT_EQ(redirect_item(item, RedirectOutlet::reuse, std::string(201, 'p'), kT0).outcome,
            Outcome::invalid_partner);
  EXPECT_EQ(item.status, Status::available);
}

TEST(DepotUnclaimed, a_given_item_is_unclaimed_after_the_policy_days) {
  const DepotItem item = taken_in();
  const int64_t due_s = kT0 + kPolicy.unclaimed_days * kDay;
  EXPECT_FALSE(is_unclaimed(item, kPolicy, due_s - 1));
  EXPECT_TRUE(is_unclaimed(item, kPolicy, due_s));
  EXPECT_FALSE(is_unclaimed(taken_in("lend"), kPolicy, due_s));
  DepotItem reserved = reserved_by("member-1");
  reserved.reserved_until_s = due_s + kDay;  // a reservation still running at that instant
  EXPECT_FALSE(is_unclaimed(reserved, kPolicy, due_s));
}

TEST(DepotLoans, reminder_the_day_before_and_late_after_the_due_date) {
  const Loan loan{1, "member-1", kT0, kT0 + 7 * kDay, std::nullopt};
  EXPECT_FALSE(loan_reminder_due(loan, kT0 + 6 * kDay - 1));
  EXPECT_TRUE(loan_reminder_due(loan, kT0 + 6 * kDay));
  EXPECT_TRUE(loan_reminder_due(loan, kT0 + 7 * kDay));
  EXPECT_FALSE(loan_late(loan, kT0 + 7 * kDay));
  EXPECT_TRUE(loan_late(loan, kT0 + 7 * kDay + 1));
  EXPECT_FALSE(loan_reminder_due(loan, kT0 + 7 * kDay + 1));
  Loan returned = loan;
  returned.returned_at_s = kT0 + 8 * kDay;
  EXPECT_FALSE(loan_late(returned, kT0 + 9 * kDay));
  const std::vector<Loan> loans = {returned, loan};
  EXPECT_FALSE(has_overdue_loan(loans, kT0 + 7 * kDay));
  EXPECT_TRUE(has_overdue_loan(loans, kT0 + 8 * kDay));
}

TEST(DepotNames, enums_round_trip_through_their_wire_names) {
  EXPECT_EQ(to_string(ItemCondition::brand_new), "new");
  EXPECT_EQ(item_condition_from_string("for_parts"), ItemCondition::for_parts);
  EXPECT_EQ(item_status_from_string("on_loan"), Status::on_loan);
  EXPECT_EQ(item_mode_from_string("lend"), ItemMode::lend);
  EXPECT_EQ(redirect_outlet_from_string("waste"), RedirectOutlet::waste);
  EXPECT_EQ(redirect_outlet_from_string("burn"), std::nullopt);
  EXPECT_EQ(to_string(Outcome::reservation_limit), "reservation-limit");
}

}  // namespace
}  // namespace maillon::test
