// Request bodies read strictly (services/common/json_body.cpp): a member named twice in an object
// is refused, since readers of the same text disagree on which one counts.
#include "services/common/json_body.hpp"

#include <gtest/gtest.h>

#include "services/common/errors.hpp"

namespace maillon {
namespace {

std::string refusal_of(std::string_view body) {
  try {
    parse_json_object(body);
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status(), 400);
    return e.errors().empty() ? "" : e.errors().front().message;
  }
  return "";
}

TEST(JsonBody, a_member_named_twice_is_refused_at_any_depth) {
  EXPECT_EQ(refusal_of(R"({"minutes": 1, "minutes": 500})"), "champ en double");
  EXPECT_EQ(refusal_of(R"({"transfers": [{"id": "a", "to": "b", "id": "c"}]})"), "champ en double");
  EXPECT_EQ(refusal_of(R"({"a": {"b": {"c": 1, "c": 1}}})"), "champ en double")
      << "even with the same value";
  EXPECT_EQ(refusal_of(R"({"minutes": 1,)"), "JSON mal formé");
}

TEST(JsonBody, the_same_name_in_different_objects_is_no_repeat) {
  const Json body = parse_json_object(
      R"({"id": 1, "payload": {"id": 2, "items": [{"id": 3}, {"id": 4}]}, "list": [{"id": 5}]})");
  EXPECT_EQ(body["payload"]["items"][1]["id"], 4);
  EXPECT_EQ(parse_json_object("", true), Json::object());
  bool repeated = true;
  EXPECT_FALSE(parse_outside_json(R"({"a": [1, 1], "b": "a"})", &repeated).is_discarded());
  EXPECT_FALSE(repeated);
  EXPECT_TRUE(parse_outside_json(R"({"a": 1, "b": {}, "a": 2})", &repeated).is_discarded());
  EXPECT_TRUE(repeated);
}

}  // namespace
}  // namespace maillon
