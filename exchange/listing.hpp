// The listing core shared by offers and requests: what a client may set, the validation of a
// new listing and of a PATCH, the status lifecycle, expiry, and the privacy rounding of
// distances. Offers and requests differ only by ListingSide, never by rules.
//
// Times are int64_t Unix seconds (UTC) in fields ending in `_s`: RFC 3339 in the API has
// second precision, and seconds leave no doubt about the unit at the service boundary.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "exchange/categories.hpp"
#include "exchange/validation.hpp"

namespace maillon {

enum class ListingSide { offer, request };
enum class ListingMode { give, lend, swap, service };
enum class ListingStatus { active, paused, reserved, closed, expired };
// Who may find a listing: its own community (the default), also the members of communities
// linked to it by an active federation link (`federation`), or anyone the installation shows
// listings to (`public`: today the members of linked communities too, since searching needs a
// member's token; the value is kept apart so that an open listing page can show only these).
enum class ListingVisibility { community, federation, public_ };

std::string_view to_string(ListingSide side);  // "offer" / "request": also the event prefix
std::string_view to_string(ListingMode mode);
std::string_view to_string(ListingStatus status);
std::string_view to_string(ListingVisibility visibility);  // "community", "federation", "public"
std::optional<ListingSide> parse_listing_side(std::string_view text);
std::optional<ListingMode> parse_listing_mode(std::string_view text);
std::optional<ListingStatus> parse_listing_status(std::string_view text);
std::optional<ListingVisibility> parse_listing_visibility(std::string_view text);

// Limits of the contract; messages quote them, tests pin them.
inline constexpr std::size_t kTitleCodePointsMin = 3;
inline constexpr std::size_t kTitleCodePointsMax = 120;
inline constexpr std::size_t kDescriptionCodePointsMax = 4000;
inline constexpr std::size_t kTagCountMax = 10;
inline constexpr std::size_t kTagCodePointsMax = 30;
inline constexpr std::size_t kPhotoCountMax = 6;  // ids of POST /v1/photos
inline constexpr std::size_t kPhotoUrlBytesMax = 500;
inline constexpr int64_t kPriceMinutesMax = 6000;  // 100 h, the default max_balance
inline constexpr int64_t kDurationMinutesMin = 15;
inline constexpr int64_t kDurationMinutesMax = 1440;
inline constexpr int64_t kCapacityMax = 1000;  // concurrent exchanges of one service offer
inline constexpr double kReachKmMin = 0.1;
inline constexpr double kReachKmMax = 50;
inline constexpr double kReachKmDefault = 5;

struct ListingLocation {
  double lat = 0;
  double lon = 0;
  bool operator==(const ListingLocation&) const = default;
};

// What a client sent on create, already decoded from JSON by the service (which refuses a
// wrong JSON type itself). kind and mode stay strings so that an unknown value is reported
// here, with the other field errors.
struct ListingDraft {
  std::optional<std::string> kind;
  std::optional<std::string> mode;
  std::optional<std::string> category;
  std::optional<std::string> title;
  std::optional<std::string> description;
  std::optional<std::vector<std::string>> tags;
  std::optional<ListingLocation> location;
  std::optional<std::string> site_id;
  std::optional<double> reach_km;
  std::optional<int64_t> price_minutes;
  std::optional<int64_t> duration_minutes;
  std::optional<int64_t> available_from_s;
  std::optional<int64_t> available_until_s;
  std::optional<std::vector<std::string>> photos;
  std::optional<int64_t> deposit_minutes;
  std::optional<int64_t> capacity;
  std::optional<std::string> visibility;  // community (default), federation, public
};

// A stored listing; the service maps it to and from its rows and JSON.
struct Listing {
  std::string id;
  ListingSide side = ListingSide::offer;
  std::string member_id;
  std::string community_id;
  ListingStatus status = ListingStatus::active;
  ListingKind kind = ListingKind::good;
  ListingMode mode = ListingMode::give;
  std::string category;
  std::string title;              // trimmed
  std::string description;        // empty when none
  std::vector<std::string> tags;  // trimmed
  std::optional<ListingLocation> location;
  std::optional<std::string> site_id;
  double reach_km = kReachKmDefault;
  int64_t price_minutes = 0;
  std::optional<int64_t> duration_minutes;
  std::optional<int64_t> available_from_s;
  std::optional<int64_t> available_until_s;
  std::vector<std::string> photos;
  std::optional<int64_t> deposit_minutes;
  std::optional<int64_t> capacity;
  ListingVisibility visibility = ListingVisibility::community;
  int64_t created_at_s = 0;
  int64_t updated_at_s = 0;
  bool operator==(const Listing&) const = default;
};

// A PATCH field that the listing may also lack: absent (std::nullopt) keeps the value,
// JSON null (an engaged optional holding std::nullopt) clears it, a value replaces it.
template <class T>
using Clearable = std::optional<std::optional<T>>;

// What a client sent on PATCH. description, tags and photos are cleared with "" and [].
struct ListingPatch {
  std::optional<std::string> kind;
  std::optional<std::string> mode;
  std::optional<std::string> category;
  std::optional<std::string> title;
  std::optional<std::string> description;
  std::optional<std::vector<std::string>> tags;
  Clearable<ListingLocation> location;
  Clearable<std::string> site_id;
  std::optional<double> reach_km;
  std::optional<int64_t> price_minutes;
  Clearable<int64_t> duration_minutes;
  Clearable<int64_t> available_from_s;
  Clearable<int64_t> available_until_s;
  std::optional<std::vector<std::string>> photos;
  Clearable<int64_t> deposit_minutes;
  Clearable<int64_t> capacity;
  std::optional<std::string> visibility;
  std::optional<std::string> status;  // only "paused" or "active"
};

// JSON field names a client may send (`available_from`, not `available_from_s`).
const std::vector<std::string_view>& creatable_fields();
const std::vector<std::string_view>& patchable_fields();

enum class ListingWrite { create, patch };

// One error per key the client may not send: "champ inconnu" for an unknown key, "ne peut
// pas être défini" for a known read-only one (id, member_id, status on create, ...). The
// service answers 400 with these before decoding anything else.
FieldErrors refuse_unsettable_fields(std::span<const std::string> keys, ListingWrite write);

// All rules of the contract on a new listing; empty means valid. `now_s` bounds the
// availability window: available_until in the future, both ends within two years.
FieldErrors validate_new_listing(const ListingDraft& draft, const CategoryTree& tree,
                                 int64_t now_s);

// Who owns a new listing; ids come from the service's generator.
struct ListingIdentity {
  std::string id;
  ListingSide side = ListingSide::offer;
  std::string member_id;
  std::string community_id;
};

// Precondition: validate_new_listing(draft, ...) is empty. Trims title and tags, applies
// defaults (reach 5 km, price 0), status active, created_at_s = updated_at_s = now_s.
Listing create_listing(const ListingDraft& draft, ListingIdentity identity, int64_t now_s);

// The same rules as on create, on the listing the patch would produce, plus the status
// value ("paused" or "active"). Whether the status change is possible from the current
// status is a conflict (409), not a field error: see patch_transition.
FieldErrors validate_patch(const Listing& current, const ListingPatch& patch,
                           const CategoryTree& tree, int64_t now_s);

// Lifecycle. Owner and staff close apart because staff may close a reserved listing
// (moderation) while its owner must cancel the exchange first.
enum class ListingEvent {
  owner_pause,
  owner_resume,
  owner_close,
  staff_close,
  expire,
  exchange_reserved,
  exchange_released,
  exchange_completed,
};
std::string_view to_string(ListingEvent event);

enum class ListingTransitionOutcome {
  changed,    // status moved: store it and publish <side>.updated or <side>.closed
  unchanged,  // already there (a redelivered stream message, a second pause): nothing to do
  rejected,   // impossible from this status: 409 for a client, ignore and log for a consumer
};

struct ListingTransitionResult {
  ListingTransitionOutcome outcome = ListingTransitionOutcome::rejected;
  ListingStatus status = ListingStatus::active;  // the status after the event (or unchanged)
  bool operator==(const ListingTransitionResult&) const = default;
};

ListingTransitionResult transition(ListingStatus from, ListingEvent event);

// What an exchange's outcome (exchange_reserved, _released or _completed) does to one listing
// it names. An offered service is given again and again, up to its capacity of concurrent
// exchanges (the exchange service counts them when one is accepted): its exchanges neither
// reserve nor close it. One reserved before that rule is freed by the exchange holding it, so
// a completion releases it. nullopt: the outcome leaves the listing as it is.
std::optional<ListingEvent> listing_event_of_exchange(const Listing& listing, ListingEvent outcome);

// The status side of a PATCH: a closed listing cannot be edited at all (rejected); a status
// field is applied as owner_pause / owner_resume; without one the status is unchanged.
// Precondition: validate_patch(...) is empty.
ListingTransitionResult patch_transition(const Listing& current, const ListingPatch& patch);

// Precondition: validate_patch is empty and patch_transition is not rejected. Trims title
// and tags, sets the status from patch_transition and updated_at_s = now_s.
Listing apply_patch(const Listing& current, const ListingPatch& patch, int64_t now_s);

// True when the listing is expired, or its availability window has ended (available_until_s
// <= now_s). The periodic job applies transition(status, expire) to those it finds.
bool is_expired(const Listing& listing, int64_t now_s);

// Federation. A listing crosses to another community only when it says so (federation or
// public), is active and not hidden (the service checks hidden), its community and the reader's
// are linked by an active link, and the reader is within its reach: what a member keeps to their
// community never leaves it.
bool crosses_communities(ListingVisibility visibility);
// Whether a member of `reader_community_id` may find `listing`, given whether the two
// communities' link is active, and the distance between the reader's point and the listing's
// handover point when the reader gave one (nullopt: no point, so no reach can be judged and
// nothing crosses). `radius_m` is the reader's own reach.
bool visible_to_community(const Listing& listing, const std::string& reader_community_id,
                          bool link_active, std::optional<double> distance_m, double radius_m);

// Privacy rounding of another member's distance (contract: rounded up to the next 100 m
// below 1 km, to the next 500 m from 1 km on). 0 gives 100: "right here" is never revealed.
// Precondition: exact_m is finite and at most kDistanceMetresMax; a negative value (rounding
// noise) counts as 0.
inline constexpr double kDistanceMetresMax = 20'100'000;  // beyond half the Earth's girth
int64_t distance_bucket_m(double exact_m);

// Privacy rounding of a position shown to those who may not see the spot (contract: "at most
// as a coarse area"): each coordinate rounded to 0.01° (about 1 km). Every service that shows
// a listing's area (offers, requests, matching) rounds with this, so that they agree.
inline constexpr double kCoarseAreaScale = 100;  // 1 / 0.01°
double coarse_degrees(double degrees);

// Number of Unicode code points in valid UTF-8 (overlongs, surrogates and values past
// U+10FFFF refused), or nullopt. Lengths in the contract count characters, not bytes.
std::optional<std::size_t> utf8_code_points(std::string_view text);

}  // namespace maillon
