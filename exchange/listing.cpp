// The listing rules, written once for offers and requests: field validation of a create or
// a PATCH (on the listing it would produce), building the stored listing, and the lifecycle.
#include "exchange/listing.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <set>
#include <utility>

#include "exchange/invariant.hpp"

namespace maillon {
namespace {

// Two years: a listing is a neighbour's current need, not a standing catalogue entry.
constexpr int64_t kAvailabilityHorizonS = int64_t{2} * 366 * 24 * 3600;

std::string_view trim(std::string_view text) {
  constexpr std::string_view kSpace = " \t\n\r\f\v";
  auto first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  auto last = text.find_last_not_of(kSpace);
  return text.substr(first, last - first + 1);
}

bool has_control(std::string_view text, bool allow_line_breaks) {
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    bool line_break = c == '\n' || c == '\r' || c == '\t';
    if ((byte < 0x20 || byte == 0x7f) && !(allow_line_breaks && line_break)) return true;
  }
  return false;
}

std::string range_message(std::size_t low, std::size_t high) {
  return "doit contenir de " + std::to_string(low) + " à " + std::to_string(high) + " caractères";
}

// Trimmed text whose length in characters lies in [low, high]; `field` names it.
void check_text(FieldErrors& errors, const std::string& field, std::string_view raw,
                std::size_t low, std::size_t high, bool allow_line_breaks) {
  std::string_view text = allow_line_breaks ? raw : trim(raw);
  std::optional<std::size_t> length = utf8_code_points(text);
  if (!length) {
    errors.push_back({field, "n'est pas un texte UTF-8 valide"});
  } else if (has_control(text, allow_line_breaks)) {
    errors.push_back({field, "contient des caractères de contrôle"});
  } else if (*length < low || *length > high) {
    errors.push_back({field, low == 0
                                 ? "doit contenir au plus " + std::to_string(high) + " caractères"
                                 : range_message(low, high)});
  }
}

bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool is_uuid(std::string_view text) {
  if (text.size() != 36) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    bool dash_position = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash_position ? text[i] != '-' : !is_hex(text[i])) return false;
  }
  return true;
}

void check_title_and_description(FieldErrors& errors, const ListingDraft& d) {
  if (!d.title) {
    errors.push_back({"title", "est obligatoire"});
  } else {
    check_text(errors, "title", *d.title, kTitleCodePointsMin, kTitleCodePointsMax, false);
  }
  if (d.description) {
    check_text(errors, "description", *d.description, 0, kDescriptionCodePointsMax, true);
  }
}

void check_tags(FieldErrors& errors, const std::vector<std::string>& tags) {
  if (tags.size() > kTagCountMax) {
    errors.push_back({"tags", "au plus " + std::to_string(kTagCountMax) + " étiquettes"});
    return;
  }
  std::set<std::string_view> seen;
  for (std::size_t i = 0; i < tags.size(); ++i) {
    std::string field = "tags[" + std::to_string(i) + "]";
    std::size_t before = errors.size();
    check_text(errors, field, tags[i], 1, kTagCodePointsMax, false);
    if (errors.size() == before && !seen.insert(trim(tags[i])).second) {
      errors.push_back({field, "étiquette en double"});
    }
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
    errors.push_back({"photos", "au plus " + std::to_string(kPhotoCountMax) + " photos"});
    return;
  }
  for (std::size_t i = 0; i < photos.size(); ++i) {
    if (!is_photo_id(photos[i])) {
      errors.push_back({"photos[" + std::to_string(i) + "]",
                        "doit être l'identifiant d'une photo envoyée (POST /v1/photos)"});
    }
  }
}

// A good is given, lent or swapped; a service has mode "service" and a duration.
void check_coherence(FieldErrors& errors, ListingKind kind, ListingMode mode, bool has_duration) {
  if (kind == ListingKind::good && mode == ListingMode::service) {
    errors.push_back({"mode", "un bien se donne, se prête ou s'échange (give, lend, swap)"});
  }
  if (kind == ListingKind::service && mode != ListingMode::service) {
    errors.push_back({"mode", "un service a le mode « service »"});
  }
  if (kind == ListingKind::service && !has_duration) {
    errors.push_back({"duration_minutes", "est obligatoire pour un service"});
  }
}

// Known category, of the listing's kind when that kind is readable (`kind` may be null).
void check_category(FieldErrors& errors, const std::optional<std::string>& category,
                    const ListingKind* kind, const CategoryTree& tree) {
  const Category* found = category ? tree.find(*category) : nullptr;
  if (!category) {
    errors.push_back({"category", "est obligatoire"});
  } else if (found == nullptr) {
    errors.push_back({"category", "catégorie inconnue"});
  } else if (kind != nullptr && found->kind != *kind) {
    errors.push_back({"category", *kind == ListingKind::good
                                      ? "n'est pas une catégorie de biens"
                                      : "n'est pas une catégorie de services"});
  }
}

void check_kind_mode_category(FieldErrors& errors, const ListingDraft& d,
                              const CategoryTree& tree) {
  std::optional<ListingKind> kind = d.kind ? parse_listing_kind(*d.kind) : std::nullopt;
  std::optional<ListingMode> mode = d.mode ? parse_listing_mode(*d.mode) : std::nullopt;
  if (!d.kind) errors.push_back({"kind", "est obligatoire"});
  if (d.kind && !kind) errors.push_back({"kind", "doit valoir « good » ou « service »"});
  if (!d.mode) errors.push_back({"mode", "est obligatoire"});
  if (d.mode && !mode) {
    errors.push_back({"mode", "doit valoir « give », « lend », « swap » ou « service »"});
  }
  if (kind && mode) check_coherence(errors, *kind, *mode, d.duration_minutes.has_value());
  if (kind && !mode && *kind == ListingKind::service && !d.duration_minutes) {
    errors.push_back({"duration_minutes", "est obligatoire pour un service"});
  }
  check_category(errors, d.category, kind ? &*kind : nullptr, tree);
}

void check_int_range(FieldErrors& errors, const char* field, std::optional<int64_t> value,
                     int64_t low, int64_t high) {
  if (value && (*value < low || *value > high)) {
    errors.push_back(
        {field, "doit être compris entre " + std::to_string(low) + " et " + std::to_string(high)});
  }
}

// A deposit is what a borrower leaves: lend only; a capacity bounds a service's exchanges.
void check_loan_and_capacity(FieldErrors& errors, const ListingDraft& d) {
  // The mode as sent: an unknown one is refused on its own field already.
  const std::string mode = d.mode.value_or("");
  check_int_range(errors, "deposit_minutes", d.deposit_minutes, 0, kPriceMinutesMax);
  check_int_range(errors, "capacity", d.capacity, 1, kCapacityMax);
  if (d.deposit_minutes && mode != to_string(ListingMode::lend)) {
    errors.push_back({"deposit_minutes", "seulement pour un prêt (mode « lend »)"});
  }
  if (d.capacity && mode != to_string(ListingMode::service)) {
    errors.push_back({"capacity", "seulement pour un service (mode « service »)"});
  }
}

void check_visibility(FieldErrors& errors, const ListingDraft& d) {
  if (d.visibility && !parse_listing_visibility(*d.visibility)) {
    errors.push_back({"visibility", "doit valoir « community », « federation » ou « public »"});
  }
}

// Comparisons written so that NaN and infinities fail them.
bool within(double value, double low, double high) {
  return value >= low && value <= high;
}

void check_place(FieldErrors& errors, const ListingDraft& d) {
  if (!d.location && !d.site_id) {
    errors.push_back({"location", "une position (location) ou un lieu (site_id) est obligatoire"});
  }
  if (d.location && !within(d.location->lat, -90, 90)) {
    errors.push_back({"location.lat", "doit être comprise entre -90 et 90"});
  }
  if (d.location && !within(d.location->lon, -180, 180)) {
    errors.push_back({"location.lon", "doit être comprise entre -180 et 180"});
  }
  if (d.site_id && !is_uuid(*d.site_id)) {
    errors.push_back({"site_id", "doit être un identifiant (UUID)"});
  }
  if (d.reach_km && !within(*d.reach_km, kReachKmMin, kReachKmMax)) {
    errors.push_back({"reach_km", "doit être compris entre 0,1 et 50 km"});
  }
}

void check_window(FieldErrors& errors, const ListingDraft& d, int64_t now_s) {
  auto beyond_horizon = [now_s](int64_t t) {
    return t > now_s && t - now_s > kAvailabilityHorizonS;
  };
  if (d.available_from_s && beyond_horizon(*d.available_from_s)) {
    errors.push_back({"available_from", "doit être dans les deux ans à venir"});
  }
  if (!d.available_until_s) return;
  int64_t until_s = *d.available_until_s;
  if (until_s <= now_s) {
    errors.push_back({"available_until", "doit être dans le futur"});
  } else if (beyond_horizon(until_s)) {
    errors.push_back({"available_until", "doit être dans les deux ans à venir"});
  } else if (d.available_from_s && *d.available_from_s >= until_s) {
    errors.push_back({"available_until", "doit être après available_from"});
  }
}

std::vector<std::string> trimmed(const std::vector<std::string>& texts) {
  std::vector<std::string> out;
  out.reserve(texts.size());
  for (const std::string& t : texts) out.emplace_back(trim(t));
  return out;
}

// The draft a PATCH would produce: the current listing with the patch laid over it.
ListingDraft merged_draft(const Listing& c, const ListingPatch& p) {
  ListingDraft d;
  d.kind = p.kind ? *p.kind : std::string(to_string(c.kind));
  d.mode = p.mode ? *p.mode : std::string(to_string(c.mode));
  d.category = p.category ? *p.category : c.category;
  d.title = p.title ? *p.title : c.title;
  d.description = p.description ? *p.description : c.description;
  d.tags = p.tags ? *p.tags : c.tags;
  d.location = p.location ? *p.location : c.location;
  d.site_id = p.site_id ? *p.site_id : c.site_id;
  d.reach_km = p.reach_km ? *p.reach_km : c.reach_km;
  d.price_minutes = p.price_minutes ? *p.price_minutes : c.price_minutes;
  d.duration_minutes = p.duration_minutes ? *p.duration_minutes : c.duration_minutes;
  d.available_from_s = p.available_from_s ? *p.available_from_s : c.available_from_s;
  d.available_until_s = p.available_until_s ? *p.available_until_s : c.available_until_s;
  d.photos = p.photos ? *p.photos : c.photos;
  d.deposit_minutes = p.deposit_minutes ? *p.deposit_minutes : c.deposit_minutes;
  d.capacity = p.capacity ? *p.capacity : c.capacity;
  d.visibility = p.visibility ? *p.visibility : std::string(to_string(c.visibility));
  return d;
}

}  // namespace

std::string_view to_string(ListingSide side) {
  return side == ListingSide::offer ? "offer" : "request";
}

std::string_view to_string(ListingMode mode) {
  static constexpr std::array<std::string_view, 4> kNames = {"give", "lend", "swap", "service"};
  return kNames.at(static_cast<std::size_t>(mode));
}

std::string_view to_string(ListingStatus status) {
  static constexpr std::array<std::string_view, 5> kNames = {"active", "paused", "reserved",
                                                             "closed", "expired"};
  return kNames.at(static_cast<std::size_t>(status));
}

std::string_view to_string(ListingVisibility visibility) {
  static constexpr std::array<std::string_view, 3> kNames = {"community", "federation", "public"};
  return kNames.at(static_cast<std::size_t>(visibility));
}

std::optional<ListingVisibility> parse_listing_visibility(std::string_view text) {
  for (auto visibility :
       {ListingVisibility::community, ListingVisibility::federation, ListingVisibility::public_}) {
    if (to_string(visibility) == text) return visibility;
  }
  return std::nullopt;
}

std::string_view to_string(ListingEvent event) {
  static constexpr std::array<std::string_view, 8> kNames = {
      "owner_pause", "owner_resume",      "owner_close",       "staff_close",
      "expire",      "exchange_reserved", "exchange_released", "exchange_completed"};
  return kNames.at(static_cast<std::size_t>(event));
}

std::optional<ListingSide> parse_listing_side(std::string_view text) {
  if (text == "offer") return ListingSide::offer;
  if (text == "request") return ListingSide::request;
  return std::nullopt;
}

std::optional<ListingMode> parse_listing_mode(std::string_view text) {
  for (auto mode :
       {ListingMode::give, ListingMode::lend, ListingMode::swap, ListingMode::service}) {
    if (to_string(mode) == text) return mode;
  }
  return std::nullopt;
}

std::optional<ListingStatus> parse_listing_status(std::string_view text) {
  for (auto status : {ListingStatus::active, ListingStatus::paused, ListingStatus::reserved,
                      ListingStatus::closed, ListingStatus::expired}) {
    if (to_string(status) == text) return status;
  }
  return std::nullopt;
}

const std::vector<std::string_view>& creatable_fields() {
  static const std::vector<std::string_view> kFields = {"kind",
                                                        "mode",
                                                        "category",
                                                        "title",
                                                        "description",
                                                        "tags",
                                                        "location",
                                                        "site_id",
                                                        "reach_km",
                                                        "price_minutes",
                                                        "duration_minutes",
                                                        "available_from",
                                                        "available_until",
                                                        "photos",
                                                        "deposit_minutes",
                                                        "capacity",
                                                        "visibility"};
  return kFields;
}

const std::vector<std::string_view>& patchable_fields() {
  static const std::vector<std::string_view> kFields = [] {
    std::vector<std::string_view> fields = creatable_fields();
    fields.emplace_back("status");
    return fields;
  }();
  return kFields;
}

FieldErrors refuse_unsettable_fields(std::span<const std::string> keys, ListingWrite write) {
  static constexpr std::array<std::string_view, 7> kReadOnly = {
      "id", "member_id", "community_id", "status", "created_at", "updated_at", "side"};
  const auto& allowed = write == ListingWrite::create ? creatable_fields() : patchable_fields();
  FieldErrors errors;
  for (const std::string& key : keys) {
    auto is_key = [&key](std::string_view name) { return name == key; };
    if (std::any_of(allowed.begin(), allowed.end(), is_key)) continue;
    bool read_only = std::any_of(kReadOnly.begin(), kReadOnly.end(), is_key);
    errors.push_back({key, read_only ? "ne peut pas être défini par le client" : "champ inconnu"});
  }
  return errors;
}

FieldErrors validate_new_listing(const ListingDraft& draft, const CategoryTree& tree,
                                 int64_t now_s) {
  FieldErrors errors;
  check_kind_mode_category(errors, draft, tree);
  check_title_and_description(errors, draft);
  if (draft.tags) check_tags(errors, *draft.tags);
  check_place(errors, draft);
  check_int_range(errors, "price_minutes", draft.price_minutes, 0, kPriceMinutesMax);
  check_int_range(errors, "duration_minutes", draft.duration_minutes, kDurationMinutesMin,
                  kDurationMinutesMax);
  check_window(errors, draft, now_s);
  if (draft.photos) check_photos(errors, *draft.photos);
  check_loan_and_capacity(errors, draft);
  check_visibility(errors, draft);
  return errors;
}

Listing create_listing(const ListingDraft& d, ListingIdentity identity, int64_t now_s) {
  std::optional<ListingKind> kind = d.kind ? parse_listing_kind(*d.kind) : std::nullopt;
  std::optional<ListingMode> mode = d.mode ? parse_listing_mode(*d.mode) : std::nullopt;
  MAILLON_INVARIANT(kind && mode && d.category && d.title,
                    "create_listing needs a validated draft");
  Listing l;
  l.id = std::move(identity.id);
  l.side = identity.side;
  l.member_id = std::move(identity.member_id);
  l.community_id = std::move(identity.community_id);
  l.status = ListingStatus::active;
  l.kind = *kind;
  l.mode = *mode;
  l.category = *d.category;
  l.title = std::string(trim(*d.title));
  l.description = d.description.value_or("");
  l.tags = trimmed(d.tags.value_or(std::vector<std::string>{}));
  l.location = d.location;
  l.site_id = d.site_id;
  l.reach_km = d.reach_km.value_or(kReachKmDefault);
  l.price_minutes = d.price_minutes.value_or(0);
  l.duration_minutes = d.duration_minutes;
  l.available_from_s = d.available_from_s;
  l.available_until_s = d.available_until_s;
  l.photos = d.photos.value_or(std::vector<std::string>{});
  l.deposit_minutes = d.deposit_minutes;
  l.capacity = d.capacity;
  l.visibility =
      d.visibility ? parse_listing_visibility(*d.visibility).value() : ListingVisibility::community;
  l.created_at_s = now_s;
  l.updated_at_s = now_s;
  return l;
}

FieldErrors validate_patch(const Listing& current, const ListingPatch& patch,
                           const CategoryTree& tree, int64_t now_s) {
  FieldErrors errors = validate_new_listing(merged_draft(current, patch), tree, now_s);
  if (patch.status && *patch.status != "paused" && *patch.status != "active") {
    errors.push_back({"status", "ne peut valoir que « paused » ou « active »"});
  }
  return errors;
}

ListingTransitionResult transition(ListingStatus from, ListingEvent event) {
  using S = ListingStatus;
  constexpr std::optional<S> X = std::nullopt;  // impossible from this status
  // Rows: from-status in enum order; columns: events in enum order (pause, resume,
  // owner_close, staff_close, expire, reserved, released, completed).
  static constexpr std::array<std::array<std::optional<S>, 8>, 5> kNext = {{
      {S::paused, S::active, S::closed, S::closed, S::expired, S::reserved, S::active, S::closed},
      {S::paused, S::active, S::closed, S::closed, S::expired, S::reserved, S::paused, S::closed},
      {X, X, X, S::closed, X, S::reserved, S::active, S::closed},
      {X, X, S::closed, S::closed, X, X, X, S::closed},
      {X, S::active, S::closed, S::closed, S::expired, S::reserved, S::expired, S::closed},
  }};
  std::optional<S> next =
      kNext.at(static_cast<std::size_t>(from)).at(static_cast<std::size_t>(event));
  if (!next) return {ListingTransitionOutcome::rejected, from};
  return {*next == from ? ListingTransitionOutcome::unchanged : ListingTransitionOutcome::changed,
          *next};
}

std::optional<ListingEvent> listing_event_of_exchange(const Listing& listing,
                                                      ListingEvent outcome) {
  MAILLON_INVARIANT(outcome == ListingEvent::exchange_reserved ||
                        outcome == ListingEvent::exchange_released ||
                        outcome == ListingEvent::exchange_completed,
                    "an exchange's outcome");
  const bool repeatable =
      listing.side == ListingSide::offer && listing.mode == ListingMode::service;
  if (!repeatable) return outcome;
  if (outcome == ListingEvent::exchange_reserved) return std::nullopt;
  return ListingEvent::exchange_released;
}

ListingTransitionResult patch_transition(const Listing& current, const ListingPatch& patch) {
  if (current.status == ListingStatus::closed) {
    return {ListingTransitionOutcome::rejected, current.status};
  }
  if (!patch.status) return {ListingTransitionOutcome::unchanged, current.status};
  MAILLON_INVARIANT(*patch.status == "paused" || *patch.status == "active", "validate_patch first");
  ListingEvent event =
      *patch.status == "paused" ? ListingEvent::owner_pause : ListingEvent::owner_resume;
  return transition(current.status, event);
}

Listing apply_patch(const Listing& current, const ListingPatch& patch, int64_t now_s) {
  ListingTransitionResult status = patch_transition(current, patch);
  MAILLON_INVARIANT(status.outcome != ListingTransitionOutcome::rejected,
                    "check patch_transition first");
  ListingIdentity identity{current.id, current.side, current.member_id, current.community_id};
  Listing next = create_listing(merged_draft(current, patch), std::move(identity), now_s);
  next.status = status.status;
  next.created_at_s = current.created_at_s;
  return next;
}

bool crosses_communities(ListingVisibility visibility) {
  return visibility != ListingVisibility::community;
}

bool visible_to_community(const Listing& listing, const std::string& reader_community_id,
                          bool link_active, std::optional<double> distance_m, double radius_m) {
  if (listing.community_id == reader_community_id) return true;
  if (!crosses_communities(listing.visibility) || !link_active) return false;
  if (listing.status != ListingStatus::active || !distance_m) return false;
  // Each side's reach: the reader's radius and how far the listing's owner goes.
  return *distance_m <= radius_m && *distance_m <= listing.reach_km * 1000;
}

bool is_expired(const Listing& listing, int64_t now_s) {
  if (listing.status == ListingStatus::expired) return true;
  return listing.available_until_s && *listing.available_until_s <= now_s;
}

// Dividing by the scale (rather than multiplying by 0.01) gives the double nearest to the
// two-decimal value, so 3.07 prints as 3.07.
double coarse_degrees(double degrees) {
  return std::round(degrees * kCoarseAreaScale) / kCoarseAreaScale;
}

int64_t distance_bucket_m(double exact_m) {
  MAILLON_INVARIANT(std::isfinite(exact_m) && exact_m <= kDistanceMetresMax,
                    "a distance is finite and within the earth");
  // Round in integers after one exact ceil, so float division never lands below exact_m.
  auto whole_m = static_cast<int64_t>(std::ceil(exact_m > 0 ? exact_m : 0));
  int64_t step_m = whole_m <= 1000 ? 100 : 500;
  int64_t bucket_m = (whole_m + step_m - 1) / step_m * step_m;
  return bucket_m < 100 ? 100 : bucket_m;
}

std::optional<std::size_t> utf8_code_points(std::string_view text) {
  std::size_t count = 0;
  for (std::size_t i = 0; i < text.size(); ++count) {
    auto lead = static_cast<unsigned char>(text[i]);
    std::size_t extra = 0;
    if (lead >= 0xC2 && lead <= 0xDF) extra = 1;  // 0xC0 and 0xC1 only start overlongs
    if (lead >= 0xE0 && lead <= 0xEF) extra = 2;
    if (lead >= 0xF0 && lead <= 0xF4) extra = 3;
    bool bad_lead = lead >= 0x80 && extra == 0;
    if (bad_lead || extra >= text.size() - i) return std::nullopt;
    uint32_t code_point = extra == 0 ? lead : lead & (0x3Fu >> extra);
    for (std::size_t k = 1; k <= extra; ++k) {
      auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) return std::nullopt;
      code_point = (code_point << 6) | (next & 0x3Fu);
    }
    bool overlong = (extra == 2 && code_point < 0x800) || (extra == 3 && code_point < 0x10000);
    bool surrogate = code_point >= 0xD800 && code_point <= 0xDFFF;
    if (overlong || surrogate || code_point > 0x10FFFF) return std::nullopt;
    i += extra + 1;
  }
  return count;
}

}  // namespace maillon
