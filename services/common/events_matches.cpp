#include "services/common/events_matches.hpp"

#include "services/common/event_fields.hpp"

namespace maillon {
namespace {

// An absent member id reads as "", an absent distance as 0.
constexpr auto kMatchIds = std::tuple{
    event_field("id", &MatchProposed::id, &EventFields::uuid),
    event_field("offer_id", &MatchProposed::offer_id, &EventFields::uuid),
    event_field("request_id", &MatchProposed::request_id, &EventFields::uuid),
    event_field("offer_member_id", &MatchProposed::offer_member_id, &EventFields::optional_uuid),
    event_field("request_member_id", &MatchProposed::request_member_id,
                &EventFields::optional_uuid)};
constexpr auto kMatchDistance = std::tuple{
    event_field("distance_m", &MatchProposed::distance_m, &EventFields::optional_integer)};

}  // namespace

Read<MatchProposed> MatchProposed::read(const Event& e) {
  auto read = [&](EventFields& f, MatchProposed& m) {
    read_fields(f, m, kMatchIds);
    if (const nlohmann::json* score = f.raw("score")) {
      if (score->is_number())
        m.score = score->get<double>();
      else
        f.fail("field score is not a number");
    }
    read_fields(f, m, kMatchDistance);
    m.community_id = f.optional_uuid("community_id").value_or(e.community_id);
  };
  return read_event<MatchProposed>(e, e.type == type_name(), "not a match event: ", read);
}

nlohmann::json MatchProposed::data() const {
  nlohmann::json data = {{"score", score}, {"community_id", community_id}};
  write_fields(data, *this, kMatchIds);
  write_fields(data, *this, kMatchDistance);
  return data;
}

}  // namespace maillon
