// The listing service's operations as use cases (offers and requests alike): a typed input and
// the caller's identity in, a result code and a typed result out. Each runs its rules and its
// repository calls in one transaction; no HTTP and no words (messages.cpp holds them).
#pragma once

#include <memory>
#include <nlohmann/json_fwd.hpp>  // context.hpp names nlohmann::json without including it
#include <optional>
#include <string>
#include <vector>

#include "exchange/listing.hpp"
#include "services/common/outcome.hpp"
#include "services/offers/context.hpp"
#include "services/offers/search_index.hpp"

namespace maillon {
struct Identity;
}

namespace maillon::listings {

// Every way a listing operation or the reading of its request ends; each code but ok has one row
// in messages.cpp.
enum class ListingCode {
  ok,
  // refusals of the use cases
  listing_not_found,
  member_suspended,
  depot_listing,
  not_editor,
  not_community_member,
  invalid_fields,  // the domain's field errors travel with it
  unknown_site,
  status_conflict,  // the listing's current status travels with it
  reserved,
  // the body and the query string
  unsettable_fields,
  invalid_parameters,
  radius_without_near,
  invalid_near,
  invalid_radius,
  invalid_site_filter,
  invalid_member_filter,
  invalid_status_filter,
  invalid_kind_filter,
  invalid_mode_filter,
  invalid_cursor,
  search_text_too_long,
  search_text_not_utf8,
  unknown_category,
};
inline constexpr ListingCode kListingCodeLast = ListingCode::unknown_category;

template <class T>
struct ListingOutcome : UseCaseOutcome<ListingCode, T> {
  FieldErrors errors;  // invalid_fields: the domain's field errors
  std::string status;  // status_conflict: the listing's current status
};

// What a caller sees of a listing: its editors (owner, staff of its site or of the owner's home
// site) the exact place, the rest of the community the area.
struct SeenListing {
  ListingRow row;
  bool editor = false;
};

struct SearchPage {
  std::vector<SearchHit> hits;  // at most limit + 1: one more says there is a next page
  int limit = 0;
};

class ListingUseCases {
 public:
  explicit ListingUseCases(std::shared_ptr<const ListingContext> context);

  // Checked before the body is read: a suspended member is refused whatever they send.
  ListingCode may_write(const Identity& who) const;

  ListingOutcome<ListingRow> create(const Identity& who, const ListingDraft& draft);
  // `query.limit` is the page size plus one.
  // A search of the caller's community, and of its federation partners' listings that cross.
  ListingOutcome<SearchPage> search(ListQuery query);
  ListingOutcome<SeenListing> get(const Identity& who, const std::string& id);
  ListingOutcome<ListingRow> patch(const Identity& who, const std::string& id,
                                   const ListingPatch& patch);
  // Closes: the listing stays for the history of its exchanges and the statistics.
  ListingOutcome<Done> close(const Identity& who, const std::string& id);

 private:
  std::shared_ptr<const ListingContext> c_;

  void handover_and_photos(ListingRow& row, const std::string& community_id);
};

}  // namespace maillon::listings
