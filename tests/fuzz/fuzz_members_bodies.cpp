// libFuzzer target for the members service's request bodies: any bytes must give either a parsed
// value that keeps the parser's promises or an ApiError with status 400 — never another exception.
#include <cmath>
#include <cstdint>
#include <string_view>

#include "body_fuzzing.hpp"
#include "services/common/json_body.hpp"
#include "services/members/members.hpp"

namespace {

using namespace maillon;
using namespace maillon::members;
using maillon::fuzzing::expect;
using maillon::fuzzing::run;

bool in_range(const Position& p) {
  return std::isfinite(p.lat) && std::isfinite(p.lon) && std::abs(p.lat) <= 90 &&
         std::abs(p.lon) <= 180;
}

void check_register(std::string_view body) {
  auto in = parse_register(body);
  expect(plausible_email(in.email), "parse_register", "accepted an implausible email");
  expect(in.password.size() >= kPasswordMinLength, "parse_register", "accepted a short password");
  expect(!in.display_name.empty(), "parse_register", "accepted an empty display_name");
  expect(is_uuid(in.community_id), "parse_register", "accepted a community_id that is no uuid");
  expect(!in.home_site_id || is_uuid(*in.home_site_id), "parse_register",
         "home_site_id is no uuid");
  expect(!in.location || in_range(*in.location), "parse_register", "location out of range");
}

void check_login(std::string_view body) {
  parse_login(body);
}

void check_community(std::string_view body) {
  auto in = parse_community(body);
  expect(in.name.size() >= 2, "parse_community", "accepted a one-letter name");
  expect(validate_policy(in.policy).empty(), "parse_community", "accepted an invalid policy");
}

void check_site(std::string_view body) {
  auto in = parse_site(body);
  expect(is_uuid(in.community_id), "parse_site", "community_id is no uuid");
  expect(in.kind == "tiers_lieu" || in.kind == "objetotheque" || in.kind == "ressourcerie" ||
             in.kind == "conciergerie",
         "parse_site", "accepted an unknown kind");
  expect(in_range(in.location), "parse_site", "location out of range");
}

void check_staff(std::string_view body) {
  expect(is_uuid(parse_staff(body)), "parse_staff", "member_id is no uuid");
}

void check_profile_patch(std::string_view body) {
  auto p = parse_profile_patch(body);
  expect(!p.display_name || !p.display_name->empty(), "parse_profile_patch", "empty display_name");
  expect(!p.home_site_id || is_uuid(*p.home_site_id), "parse_profile_patch",
         "home_site_id is no uuid");
  expect(!p.location || in_range(*p.location), "parse_profile_patch", "location out of range");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  run("parse_register", check_register, body);
  run("parse_login", check_login, body);
  run("parse_community", check_community, body);
  run("parse_site", check_site, body);
  run("parse_staff", check_staff, body);
  run("parse_profile_patch", check_profile_patch, body);
  return 0;
}
