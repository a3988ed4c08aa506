#include "services/common/events_matches.hpp"

#include "services/common/event_fields.hpp"

namespace maillon {

Read<MatchProposed> MatchProposed::read(const Event& e) {
  if (e.type != type_name()) return ReadFailure{"not a match event: \"" + e.type + "\""};
  MatchProposed m;
  EventFields f(e.data);
  m.id = f.uuid("id");
  m.offer_id = f.uuid("offer_id");
  m.request_id = f.uuid("request_id");
  m.offer_member_id = f.optional_uuid("offer_member_id").value_or("");
  m.request_member_id = f.optional_uuid("request_member_id").value_or("");
  if (const nlohmann::json* score = f.raw("score")) {
    if (score->is_number())
      m.score = score->get<double>();
    else
      f.fail("field score is not a number");
  }
  m.distance_m = f.optional_integer("distance_m").value_or(0);
  m.community_id = f.optional_uuid("community_id").value_or(e.community_id);
  return f.finish(std::move(m));
}

nlohmann::json MatchProposed::data() const {
  return {{"id", id},
          {"offer_id", offer_id},
          {"request_id", request_id},
          {"offer_member_id", offer_member_id},
          {"request_member_id", request_member_id},
          {"score", score},
          {"distance_m", distance_m},
          {"community_id", community_id}};
}

}  // namespace maillon
