// The offers and requests streams: offer.* and request.* (listing.schema.json: #/$defs/listing
// for published and updated, #/$defs/closed for closed). The side is the event type's prefix.
// See typed_events.hpp for the pattern.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "exchange/listing.hpp"
#include "services/common/typed_events.hpp"

namespace maillon {

enum class ListingChange { published, updated, closed };
enum class ListingCloseReason { closed, expired, completed, withdrawn };

// Reading requires id; published and updated also member_id, community_id and status (what
// every consumer acts on); closed also its reason. Other fields are read when present (types and
// enum values checked); a consumer that needs one says so (required()).
struct ListingStreamEvent {
  ListingChange change = ListingChange::published;
  ListingSide side = ListingSide::offer;  // from the type: the stream says who wrote it
  std::string id;
  std::string member_id;
  // published / updated
  std::string community_id;
  ListingStatus status = ListingStatus::active;
  std::optional<std::string> kind;  // good, service
  std::optional<ListingMode> mode;
  std::optional<std::string> category;
  std::optional<std::string> title;
  std::optional<std::string> description;
  std::vector<std::string> tags;
  std::optional<std::string> site_id;
  std::optional<double> lat;
  std::optional<double> lon;
  std::optional<std::string> location_source;  // member, site
  std::optional<double> reach_km;
  std::optional<int64_t> price_minutes;
  std::optional<int64_t> duration_minutes;
  std::optional<int64_t> deposit_minutes;  // lend: the deposit a borrower leaves
  std::optional<int64_t> capacity;         // service: concurrent exchanges at most
  // Who may find it (issue 23); absent from the previous release's events, which were all
  // `community`: a consumer reads absent as community, never as crossing.
  std::optional<ListingVisibility> visibility;
  std::optional<std::string> available_from;
  std::optional<std::string> available_until;
  std::vector<std::string> photos;
  std::optional<std::string> created_at;
  std::optional<std::string> updated_at;
  std::optional<std::string> acted_by;
  bool hidden = false;
  // The listing's revision (schemas/shared/listing_revision.sql), in every change: absent from
  // the previous release's events.
  std::optional<int64_t> revision;
  // closed
  ListingCloseReason reason = ListingCloseReason::closed;

  static Read<ListingStreamEvent> read(const Event& e);
  nlohmann::json data() const;
  std::string type_name() const;
};

std::string_view to_string(ListingCloseReason reason);
std::optional<ListingCloseReason> listing_close_reason(std::string_view text);

}  // namespace maillon
