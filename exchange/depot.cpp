// The depot's rules: intake validation, the item lifecycle with its ledger effects, loan
// deadlines and the per-site-per-day impact aggregation.
#include "exchange/depot.hpp"

#include <array>
#include <map>
#include <utility>

#include "exchange/invariant.hpp"
#include "exchange/listing.hpp"  // the listing limits and utf8_code_points, shared on purpose

namespace maillon {
namespace {

constexpr int64_t kSecondsPerHour = 3600;
constexpr int64_t kSecondsPerDay = 24 * kSecondsPerHour;

constexpr std::array<std::string_view, 5> kStatusNames = {"available", "reserved", "collected",
                                                          "on_loan", "redirected"};
constexpr std::array<std::string_view, 4> kConditionNames = {"new", "good", "fair", "for_parts"};
constexpr std::array<std::string_view, 2> kModeNames = {"give", "lend"};
constexpr std::array<std::string_view, 3> kOutletNames = {"reuse", "recycle", "waste"};

template <typename Enum, size_t N>
std::optional<Enum> parse(const std::array<std::string_view, N>& names, std::string_view text) {
  for (size_t i = 0; i < N; ++i) {
    if (names[i] == text) return static_cast<Enum>(i);
  }
  return std::nullopt;
}

bool is_reservation_lapsed(const DepotItem& item, int64_t now_s) {
  return item.status == ItemStatus::reserved && now_s >= item.reserved_until_s;
}

DepotResult refuse(const DepotItem& item, DepotOutcome outcome) {
  MAILLON_INVARIANT(outcome != DepotOutcome::ok, "a refusal is never ok");
  return {outcome, item.status, {}, std::nullopt};
}

DepotResult done(const DepotItem& item, std::vector<DepotEffect> effects = {},
                 std::optional<ItemEvent> impact = std::nullopt) {
  MAILLON_INVARIANT(depot_item_invariants_hold(item), "the item holds the depot invariants");
  return {DepotOutcome::ok, item.status, std::move(effects), std::move(impact)};
}

ItemEvent event_for(const DepotItem& item, ItemEventKind kind, int64_t now_s) {
  return {kind, item.site_id, now_s, item.weight_g, item.outlet};
}

void check_text(FieldErrors& errors, const char* field, std::string_view text, size_t min,
                size_t max) {
  const std::optional<size_t> length = utf8_code_points(text);
  if (!length) {
    errors.push_back({field, "n'est pas un texte UTF-8 valide"});
  } else if (*length < min || *length > max) {
    errors.push_back({field, "doit contenir entre " + std::to_string(min) + " et " +
                                 std::to_string(max) + " caractères"});
  }
}

// A photo is named by the id POST /v1/photos gave: a UUID in its canonical lower-case form,
// the only spelling the media service's file names use.
bool is_photo_id(std::string_view id) {
  if (id.size() != 36) return false;
  for (std::size_t i = 0; i < id.size(); ++i) {
    const char c = id[i];
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

void check_photos(FieldErrors& errors, const std::vector<std::string>& photos) {
  if (photos.size() > kPhotoCountMax) {
    errors.push_back({"photos", "au plus " + std::to_string(kPhotoCountMax) + " photos par objet"});
    return;
  }
  for (size_t i = 0; i < photos.size(); ++i) {
    if (!is_photo_id(photos[i])) {
      errors.push_back(
          {"photos[" + std::to_string(i) + "]", "doit être l'identifiant d'une photo envoyée"});
    }
  }
}

void check_category(FieldErrors& errors, std::string_view slug, const CategoryTree& tree) {
  if (slug.empty()) {
    errors.push_back({"category", "est obligatoire"});
  } else if (tree.kind_of(slug) != ListingKind::good) {
    errors.push_back({"category", "n'est pas une catégorie d'objets connue"});
  }
}

}  // namespace

std::string_view to_string(ItemStatus status) {
  return kStatusNames.at(static_cast<size_t>(status));
}
std::string_view to_string(ItemCondition condition) {
  return kConditionNames.at(static_cast<size_t>(condition));
}
std::string_view to_string(ItemMode mode) {
  return kModeNames.at(static_cast<size_t>(mode));
}
std::string_view to_string(RedirectOutlet outlet) {
  return kOutletNames.at(static_cast<size_t>(outlet));
}

std::optional<ItemStatus> item_status_from_string(std::string_view text) {
  return parse<ItemStatus>(kStatusNames, text);
}
std::optional<ItemCondition> item_condition_from_string(std::string_view text) {
  return parse<ItemCondition>(kConditionNames, text);
}
std::optional<ItemMode> item_mode_from_string(std::string_view text) {
  return parse<ItemMode>(kModeNames, text);
}
std::optional<RedirectOutlet> redirect_outlet_from_string(std::string_view text) {
  return parse<RedirectOutlet>(kOutletNames, text);
}

std::string_view to_string(DepotOutcome outcome) {
  constexpr std::array<std::string_view, 11> names = {"ok",
                                                      "not-available",
                                                      "not-reserved",
                                                      "not-reserver",
                                                      "reservation-limit",
                                                      "overdue-loan",
                                                      "wrong-mode",
                                                      "invalid-due-date",
                                                      "not-on-loan",
                                                      "invalid-partner",
                                                      "insufficient-credits"};
  return names.at(static_cast<size_t>(outcome));
}

std::string deposit_transfer_id(std::string_view item_id) {
  return "deposit:" + std::string(item_id);
}

std::string loan_transfer_id(std::string_view item_id, int32_t loan_number) {
  MAILLON_INVARIANT(loan_number >= 1, "a loan is numbered from 1");
  return "loan:" + std::string(item_id) + ":" + std::to_string(loan_number);
}

FieldErrors validate_intake(const ItemIntake& in, const CategoryTree& tree) {
  FieldErrors errors;
  if (in.id.empty()) errors.push_back({"id", "est obligatoire"});
  if (in.site_id.empty()) errors.push_back({"site_id", "est obligatoire"});
  check_category(errors, in.category, tree);
  check_text(errors, "title", in.title, kTitleCodePointsMin, kTitleCodePointsMax);
  check_text(errors, "description", in.description, 0, kDescriptionCodePointsMax);
  if (!item_condition_from_string(in.condition)) {
    errors.push_back({"condition", "doit valoir new, good, fair ou for_parts"});
  }
  if (in.weight_g < kItemWeightGMin || in.weight_g > kItemWeightGMax) {
    errors.push_back({"weight_g", "doit être compris entre " + std::to_string(kItemWeightGMin) +
                                      " et " + std::to_string(kItemWeightGMax)});
  }
  if (!item_mode_from_string(in.mode)) errors.push_back({"mode", "doit valoir give ou lend"});
  check_photos(errors, in.photos);
  return errors;
}

IntakeResult intake_item(const ItemIntake& in, const CategoryTree& tree,
                         const CommunityPolicy& policy, int64_t now_s) {
  IntakeResult result;
  result.errors = validate_intake(in, tree);
  if (!result.errors.empty()) return result;
  DepotItem& item = result.item;
  item.id = in.id;
  item.site_id = in.site_id;
  item.category = in.category;
  item.title = in.title;
  item.description = in.description;
  item.condition = *item_condition_from_string(in.condition);
  item.weight_g = in.weight_g;
  item.mode = *item_mode_from_string(in.mode);
  item.dropped_by_member_id = in.dropped_by_member_id;
  item.photos = in.photos;
  item.deposited_at_s = now_s;
  item.available_since_s = now_s;
  // The reward is tied to the item id, so a retried intake can never pay twice.
  if (!item.dropped_by_member_id.empty() && policy.deposit_reward > 0) {
    result.effects.push_back({DepotEffectKind::ledger_deposit_reward, deposit_transfer_id(item.id),
                              item.dropped_by_member_id, policy.deposit_reward});
    item.deposit_rewarded = true;
  }
  result.impact = event_for(item, ItemEventKind::intake, now_s);
  MAILLON_INVARIANT(depot_item_invariants_hold(item), "the item holds the depot invariants");
  return result;
}

int64_t reservation_until_s(const CommunityPolicy& policy, int64_t now_s) {
  return now_s + policy.reservation_hours * kSecondsPerHour;
}

ItemStatus effective_status(const DepotItem& item, int64_t now_s) {
  return is_reservation_lapsed(item, now_s) ? ItemStatus::available : item.status;
}

bool lapse_reservation(DepotItem& item, int64_t now_s) {
  if (!is_reservation_lapsed(item, now_s)) return false;
  item.status = ItemStatus::available;
  item.reserved_by_member_id.clear();
  item.reserved_until_s = 0;
  return true;
}

int64_t count_active_reservations(std::span<const DepotItem> items, std::string_view member_id,
                                  int64_t now_s) {
  int64_t count = 0;
  for (const DepotItem& item : items) {
    if (effective_status(item, now_s) == ItemStatus::reserved &&
        item.reserved_by_member_id == member_id) {
      count += 1;
    }
  }
  return count;
}

bool is_overdue(const Loan& loan, int64_t now_s) {
  return !loan.returned_at_s && loan.due_at_s < now_s;
}

bool has_overdue_loan(std::span<const Loan> loans, int64_t now_s) {
  for (const Loan& loan : loans) {
    if (is_overdue(loan, now_s)) return true;
  }
  return false;
}

bool loan_reminder_due(const Loan& loan, int64_t now_s) {
  return !loan.returned_at_s && now_s >= loan.due_at_s - kLoanReminderLeadS &&
         now_s <= loan.due_at_s;
}

bool loan_late(const Loan& loan, int64_t now_s) {
  return is_overdue(loan, now_s);
}

bool is_unclaimed(const DepotItem& item, const CommunityPolicy& policy, int64_t now_s) {
  return item.mode == ItemMode::give && effective_status(item, now_s) == ItemStatus::available &&
         now_s >= item.available_since_s + policy.unclaimed_days * kSecondsPerDay;
}

DepotResult reserve_item(DepotItem& item, std::string_view member_id,
                         const BorrowerStanding& standing, const CommunityPolicy& policy,
                         int64_t now_s) {
  MAILLON_INVARIANT(!member_id.empty(), "a member acts");
  const ItemStatus status = effective_status(item, now_s);
  // A retried reservation by its holder answers the same, without extending it.
  if (status == ItemStatus::reserved && item.reserved_by_member_id == member_id) {
    return done(item);
  }
  if (status != ItemStatus::available) return refuse(item, DepotOutcome::not_available);
  if (standing.has_overdue_loan) return refuse(item, DepotOutcome::overdue_loan);
  if (standing.active_reservations >= policy.max_active_reservations) {
    return refuse(item, DepotOutcome::reservation_limit);
  }
  item.status = ItemStatus::reserved;
  item.reserved_by_member_id = std::string(member_id);
  item.reserved_until_s = reservation_until_s(policy, now_s);
  return done(item);
}

DepotResult release_item(DepotItem& item, std::string_view by_member_id, bool by_staff,
                         int64_t now_s) {
  if (effective_status(item, now_s) != ItemStatus::reserved) {
    return refuse(item, DepotOutcome::not_reserved);
  }
  if (!by_staff && item.reserved_by_member_id != by_member_id) {
    return refuse(item, DepotOutcome::not_reserver);
  }
  item.status = ItemStatus::available;
  item.reserved_by_member_id.clear();
  item.reserved_until_s = 0;
  return done(item);
}

DepotResult collect_item(DepotItem& item, std::string_view member_id, int64_t now_s) {
  const ItemStatus status = effective_status(item, now_s);
  if (status != ItemStatus::available && status != ItemStatus::reserved) {
    return refuse(item, DepotOutcome::not_available);
  }
  if (item.mode != ItemMode::give) return refuse(item, DepotOutcome::wrong_mode);
  if (status == ItemStatus::reserved && !member_id.empty() &&
      member_id != item.reserved_by_member_id) {
    return refuse(item, DepotOutcome::not_reserver);
  }
  lapse_reservation(item, now_s);
  item.collected_by_member_id =
      status == ItemStatus::reserved ? item.reserved_by_member_id : std::string(member_id);
  item.status = ItemStatus::collected;
  item.reserved_by_member_id.clear();
  item.reserved_until_s = 0;
  return done(item, {}, event_for(item, ItemEventKind::collected, now_s));
}

DepotResult lend_item(DepotItem& item, std::string_view member_id, int64_t due_at_s,
                      const BorrowerStanding& standing, const CommunityPolicy& policy,
                      int64_t now_s) {
  MAILLON_INVARIANT(!member_id.empty(), "a member acts");
  const ItemStatus status = effective_status(item, now_s);
  if (status != ItemStatus::available && status != ItemStatus::reserved) {
    return refuse(item, DepotOutcome::not_available);
  }
  if (item.mode != ItemMode::lend) return refuse(item, DepotOutcome::wrong_mode);
  if (status == ItemStatus::reserved && member_id != item.reserved_by_member_id) {
    return refuse(item, DepotOutcome::not_reserver);
  }
  if (standing.has_overdue_loan) return refuse(item, DepotOutcome::overdue_loan);
  if (due_at_s <= now_s || due_at_s > now_s + kLoanDaysMax * kSecondsPerDay) {
    return refuse(item, DepotOutcome::invalid_due_date);
  }
  // Refused before the object leaves the shelf: a charge the ledger refuses afterwards would
  // leave the loan unpaid.
  if (policy.loan_cost > 0 && standing.available_minutes &&
      *standing.available_minutes - policy.loan_cost < policy.min_balance) {
    return refuse(item, DepotOutcome::insufficient_credits);
  }
  item.status = ItemStatus::on_loan;
  item.reserved_by_member_id.clear();
  item.reserved_until_s = 0;
  item.loans_count += 1;
  item.loan = Loan{item.loans_count, std::string(member_id), now_s, due_at_s, std::nullopt};
  std::vector<DepotEffect> effects;
  if (policy.loan_cost > 0) {
    effects.push_back({DepotEffectKind::ledger_loan_charge,
                       loan_transfer_id(item.id, item.loans_count), std::string(member_id),
                       policy.loan_cost});
  }
  return done(item, std::move(effects), event_for(item, ItemEventKind::lent, now_s));
}

DepotResult return_item(DepotItem& item, ItemCondition condition, int64_t now_s) {
  if (item.status != ItemStatus::on_loan) return refuse(item, DepotOutcome::not_on_loan);
  item.loan->returned_at_s = now_s;
  item.condition = condition;
  item.status = ItemStatus::available;
  item.available_since_s = now_s;
  return done(item, {}, event_for(item, ItemEventKind::returned, now_s));
}

DepotResult redirect_item(DepotItem& item, RedirectOutlet outlet, std::string_view partner,
                          int64_t now_s) {
  if (effective_status(item, now_s) != ItemStatus::available) {
    return refuse(item, DepotOutcome::not_available);
  }
  const std::optional<size_t> length = utf8_code_points(partner);
  if (!length || *length > kPartnerCodePointsMax) {
    return refuse(item, DepotOutcome::invalid_partner);
  }
  lapse_reservation(item, now_s);
  item.status = ItemStatus::redirected;
  item.outlet = outlet;
  item.partner = std::string(partner);
  return done(item, {}, event_for(item, ItemEventKind::redirected, now_s));
}

bool depot_item_invariants_hold(const DepotItem& item) {
  const bool reserved = item.status == ItemStatus::reserved;
  const bool reservation_ok =
      reserved == !item.reserved_by_member_id.empty() && reserved == (item.reserved_until_s != 0);
  const bool on_loan = item.status == ItemStatus::on_loan;
  const bool loan_ok =
      (!on_loan || (item.loan && !item.loan->returned_at_s && !item.loan->member_id.empty())) &&
      (!item.loan || (item.loan->number == item.loans_count && item.loan->number >= 1 &&
                      (on_loan || item.loan->returned_at_s))) &&
      (item.mode == ItemMode::lend || item.loans_count == 0);
  const bool collected_ok = item.status != ItemStatus::collected || item.mode == ItemMode::give;
  const bool redirect_ok = (item.status == ItemStatus::redirected) == item.outlet.has_value();
  const bool weight_ok = item.weight_g >= kItemWeightGMin && item.weight_g <= kItemWeightGMax;
  const bool reward_ok = !item.deposit_rewarded || !item.dropped_by_member_id.empty();
  return reservation_ok && loan_ok && collected_ok && redirect_ok && weight_ok && reward_ok;
}

std::vector<ImpactRow> aggregate_impact(std::span<const ItemEvent> events) {
  std::map<std::pair<std::string, int64_t>, ImpactRow> rows;
  for (const ItemEvent& event : events) {
    // Floor division: an instant before 1970 still falls on its own day.
    const int64_t day_start_s =
        event.at_s - ((event.at_s % kSecondsPerDay) + kSecondsPerDay) % kSecondsPerDay;
    ImpactRow& row = rows[{event.site_id, day_start_s}];
    row.site_id = event.site_id;
    row.day_start_s = day_start_s;
    ItemFigures& f = row.figures;
    switch (event.kind) {
      case ItemEventKind::intake:
        f.items_in += 1;
        break;
      case ItemEventKind::collected:
        f.items_reused += 1;
        f.reused_g += event.weight_g;
        break;
      case ItemEventKind::redirected:
        MAILLON_INVARIANT(event.outlet.has_value(), "a redirected item names its outlet");
        if (event.outlet == RedirectOutlet::reuse) f.redirected_reuse_g += event.weight_g;
        if (event.outlet == RedirectOutlet::recycle) f.redirected_recycle_g += event.weight_g;
        if (event.outlet == RedirectOutlet::waste) f.redirected_waste_g += event.weight_g;
        break;
      case ItemEventKind::lent:
        f.loans += 1;
        break;
      case ItemEventKind::returned:
        break;
    }
  }
  std::vector<ImpactRow> out;
  out.reserve(rows.size());
  for (auto& [key, row] : rows) out.push_back(std::move(row));
  return out;
}

}  // namespace maillon
