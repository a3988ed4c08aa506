// The depot's use cases behind HTTP: each takes a typed input and the caller's identity (none
// for a public read), runs the rules and the repository calls in one transaction (the item's
// row locked for a transition, after the member's advisory lock when the rule counts the
// member's other items), and returns a typed result. No HTTP and no words here: refusals are
// codes (DepotRefusal, or the domain's DepotOutcome), put into words by services/depot/messages.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "exchange/depot.hpp"
#include "exchange/policy.hpp"
#include "exchange/validation.hpp"
#include "services/depot/depot.hpp"
#include "services/depot/messages.hpp"
#include "services/depot/repository.hpp"

namespace maillon {
struct Identity;
}

namespace maillon::depot {

// The transitions of an item (exchange/depot.hpp).
enum class ItemAction { reserve, release, collect, lend, give_back, redirect };

// What a transition needs beyond the item, as read from its body.
struct ActionInput {
  std::string member_id;                          // collect (optional), lend
  int64_t due_at_s = 0;                           // lend
  ItemCondition condition = ItemCondition::good;  // return
  RedirectOutlet outlet = RedirectOutlet::reuse;  // redirect
  std::string partner;                            // redirect
};

// An item as its reader may see it.
struct ItemView {
  ItemRow row;
  CommunityPolicy policy;
  int64_t now_s = 0;
  ItemViewer viewer;
};

// A result: a refusal of the use case, else the domain's outcome, else the value.
template <class T>
struct Answer {
  DepotRefusal refusal = DepotRefusal::none;
  DepotOutcome outcome = DepotOutcome::ok;
  std::string field;   // with unknown_member: the field that named the member
  FieldErrors errors;  // with item_invalid: the domain's field errors
  T value{};
};

struct ItemPage {
  std::vector<ItemView> items;
  std::optional<std::string> next_after_id;  // the raw cursor of the next page, if any
};

class DepotUseCases {
 public:
  explicit DepotUseCases(std::shared_ptr<const DepotContext> context) : c_(std::move(context)) {}

  // `in.site_id` names the site; the id is minted here.
  Answer<ItemView> intake(const Identity& who, ItemIntake in);
  // `filter.limit` items at most; `who` empty for an anonymous reader.
  Answer<ItemPage> list(const std::optional<Identity>& who, ItemFilter filter);
  Answer<ItemView> get(const std::optional<Identity>& who, const std::string& id);
  Answer<ItemView> act(const Identity& who, const std::string& item_id, ItemAction action,
                       const ActionInput& input);

 private:
  std::shared_ptr<const DepotContext> c_;
};

}  // namespace maillon::depot
