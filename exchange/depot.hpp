// The depot's rules (ressourcerie inversée and objetothèque): intake, reservations that lapse,
// collection, loans with due dates, redirection to partners, and the impact figures they feed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "exchange/categories.hpp"
#include "exchange/policy.hpp"
#include "exchange/validation.hpp"

namespace maillon {

// Time is an input: every instant is in Unix seconds (`*_s`), UTC.
//
// available -> reserved -> collected (give), available -> on_loan -> available (lend),
// available -> redirected. A reserved item whose reserved_until_s has passed counts as
// available: every transition first lapses it, and effective_status() reports it so.
enum class ItemStatus { available, reserved, collected, on_loan, redirected };
enum class ItemCondition { brand_new, good, fair, for_parts };  // "new" on the wire
enum class ItemMode { give, lend };
enum class RedirectOutlet { reuse, recycle, waste };

std::string_view to_string(ItemStatus status);
std::string_view to_string(ItemCondition condition);
std::string_view to_string(ItemMode mode);
std::string_view to_string(RedirectOutlet outlet);
std::optional<ItemStatus> item_status_from_string(std::string_view text);
std::optional<ItemCondition> item_condition_from_string(std::string_view text);
std::optional<ItemMode> item_mode_from_string(std::string_view text);
std::optional<RedirectOutlet> redirect_outlet_from_string(std::string_view text);

// Title, description and photos follow the listing limits (exchange/listing.hpp): a depot
// item is shown to members like an offer.
inline constexpr int64_t kItemWeightGMin = 1;
inline constexpr int64_t kItemWeightGMax = 500'000;  // half a tonne: a wardrobe, not a car
inline constexpr size_t kPartnerCodePointsMax = 200;
inline constexpr int64_t kLoanDaysMax = 90;
inline constexpr int64_t kLoanReminderLeadS = 24 * 3600;  // the reminder goes a day before

// What staff type at the desk; condition and mode stay text so that an unknown value is a
// field error like any other.
struct ItemIntake {
  std::string id;  // chosen by the service's id generator
  std::string site_id;
  std::string category;  // a category slug
  std::string title;
  std::string description;
  std::string condition;  // new, good, fair, for_parts
  int64_t weight_g = 0;
  std::string mode;                  // give, lend
  std::string dropped_by_member_id;  // empty: an anonymous drop, nobody earns credits
  std::vector<std::string> photos;   // http(s) URLs
};

struct Loan {
  int32_t number = 0;  // 1 for the item's first loan: names the ledger transfer
  std::string member_id;
  int64_t lent_at_s = 0;
  int64_t due_at_s = 0;
  std::optional<int64_t> returned_at_s;
  bool operator==(const Loan&) const = default;
};

struct DepotItem {
  std::string id;
  std::string site_id;
  std::string category;
  std::string title;
  std::string description;
  ItemCondition condition = ItemCondition::good;
  int64_t weight_g = 0;
  ItemMode mode = ItemMode::give;
  std::string dropped_by_member_id;
  std::vector<std::string> photos;
  ItemStatus status = ItemStatus::available;
  int64_t deposited_at_s = 0;
  int64_t available_since_s = 0;  // intake or last return: the start of "unclaimed"
  std::string reserved_by_member_id;
  int64_t reserved_until_s = 0;
  std::string collected_by_member_id;  // may stay empty: a walk-in at the desk
  int32_t loans_count = 0;
  std::optional<Loan> loan;  // the current loan, or the last one once returned
  std::optional<RedirectOutlet> outlet;
  std::string partner;
  bool deposit_rewarded = false;
  bool operator==(const DepotItem&) const = default;
};

// Ledger commands the service sends on `ledger.commands`, against the community's account.
enum class DepotEffectKind {
  ledger_deposit_reward,  // community -> member, transfer id deposit:<item_id>
  ledger_loan_charge      // member -> community, transfer id loan:<item_id>:<loan number>
};

struct DepotEffect {
  DepotEffectKind kind;
  std::string transfer_id;
  std::string member_id;
  int64_t minutes = 0;
  bool operator==(const DepotEffect&) const = default;
};

std::string deposit_transfer_id(std::string_view item_id);
std::string loan_transfer_id(std::string_view item_id, int32_t loan_number);

// What the impact figures are built from: no member in it, by construction.
enum class ItemEventKind { intake, collected, redirected, lent, returned };

struct ItemEvent {
  ItemEventKind kind = ItemEventKind::intake;
  std::string site_id;
  int64_t at_s = 0;
  int64_t weight_g = 0;
  std::optional<RedirectOutlet> outlet;  // redirected only
  bool operator==(const ItemEvent&) const = default;
};

enum class DepotOutcome {
  ok,
  not_available,        // 409: reserved by someone else, collected, on loan or redirected
  not_reserved,         // 409: release of an item nobody holds a reservation on
  not_reserver,         // 403: the reservation is someone else's
  reservation_limit,    // 422: the member already holds max_active_reservations
  overdue_loan,         // 422: the member has a loan past its due date
  wrong_mode,           // 422: collect is for given items, lend for lent ones
  invalid_due_date,     // 422: due date not in (now, now + kLoanDaysMax]
  not_on_loan,          // 409: return of an item that is not lent
  invalid_partner,      // 400: partner name too long or not UTF-8
  insufficient_credits  // 422: the loan's cost would take the borrower under min_balance
};

std::string_view to_string(DepotOutcome outcome);

// On refusal the item is left untouched and nothing else is set. On success a lapsed
// reservation has been cleared on the way.
struct DepotResult {
  DepotOutcome outcome = DepotOutcome::ok;
  ItemStatus status = ItemStatus::available;
  std::vector<DepotEffect> effects;
  std::optional<ItemEvent> impact;
  bool ok() const { return outcome == DepotOutcome::ok; }
};

struct IntakeResult {
  FieldErrors errors;  // when not empty, nothing else is set
  DepotItem item;
  std::vector<DepotEffect> effects;
  std::optional<ItemEvent> impact;
};

// The category must be a known category of goods in the community's tree.
FieldErrors validate_intake(const ItemIntake& intake, const CategoryTree& tree);
// Validates, then builds the available item; the depositor earns deposit_reward once.
IntakeResult intake_item(const ItemIntake& intake, const CategoryTree& tree,
                         const CommunityPolicy& policy, int64_t now_s);

// What the service knows of the member from its other rows (the member's items and loans).
struct BorrowerStanding {
  int64_t active_reservations = 0;
  bool has_overdue_loan = false;
  // The member's credits beyond their pending debits, as the ledger shows them (a loan's cost is
  // refused when it would take them under min_balance); nullopt when unknown (nothing checked).
  std::optional<int64_t> available_minutes;
};

int64_t reservation_until_s(const CommunityPolicy& policy, int64_t now_s);
ItemStatus effective_status(const DepotItem& item, int64_t now_s);
// Turns a reservation past its time back into available; true when it did.
bool lapse_reservation(DepotItem& item, int64_t now_s);
int64_t count_active_reservations(std::span<const DepotItem> items, std::string_view member_id,
                                  int64_t now_s);

bool is_overdue(const Loan& loan, int64_t now_s);  // due_at_s < now_s and not returned
bool has_overdue_loan(std::span<const Loan> loans, int64_t now_s);
bool loan_reminder_due(const Loan& loan, int64_t now_s);  // the day before the due date
bool loan_late(const Loan& loan, int64_t now_s);          // same as is_overdue: for the notice
// A given item available for unclaimed_days or more: the desk sends it to a partner. Lent
// items are the objetothèque's stock and never become unclaimed.
bool is_unclaimed(const DepotItem& item, const CommunityPolicy& policy, int64_t now_s);

DepotResult reserve_item(DepotItem& item, std::string_view member_id,
                         const BorrowerStanding& standing, const CommunityPolicy& policy,
                         int64_t now_s);
// The reserver, or staff (by_staff) for anyone.
DepotResult release_item(DepotItem& item, std::string_view by_member_id, bool by_staff,
                         int64_t now_s);
// Staff hand a given item out. member_id may be empty (an anonymous resident); a reserved item
// goes to its reserver only.
DepotResult collect_item(DepotItem& item, std::string_view member_id, int64_t now_s);
DepotResult lend_item(DepotItem& item, std::string_view member_id, int64_t due_at_s,
                      const BorrowerStanding& standing, const CommunityPolicy& policy,
                      int64_t now_s);
DepotResult return_item(DepotItem& item, ItemCondition condition, int64_t now_s);
DepotResult redirect_item(DepotItem& item, RedirectOutlet outlet, std::string_view partner,
                          int64_t now_s);

bool depot_item_invariants_hold(const DepotItem& item);

// What the items of a site did over some time, for the open-data impact. Reused means collected
// by a resident; redirected weight is split by outlet.
struct ItemFigures {
  int64_t items_in = 0;
  int64_t items_reused = 0;
  int64_t reused_g = 0;
  int64_t redirected_reuse_g = 0;
  int64_t redirected_recycle_g = 0;
  int64_t redirected_waste_g = 0;
  int64_t loans = 0;
  bool operator==(const ItemFigures&) const = default;
};

// Open-data impact, one row per site and UTC day, sorted by site then day.
struct ImpactRow {
  std::string site_id;
  int64_t day_start_s = 0;  // midnight UTC
  ItemFigures figures;
  bool operator==(const ImpactRow&) const = default;
};

std::vector<ImpactRow> aggregate_impact(std::span<const ItemEvent> events);

}  // namespace maillon
