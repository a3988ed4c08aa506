// libFuzzer target for the members lifecycle's request bodies (suspension, report, closing a
// report, desk registration): any bytes give either a value that keeps the parser's promises or
// an ApiError with status 400 naming a field — never another exception.
#include <cstdint>
#include <string>
#include <string_view>

#include "body_fuzzing.hpp"
#include "services/common/json_body.hpp"
#include "services/members/lifecycle_requests.hpp"

namespace {

using namespace maillon;
using namespace maillon::members;
using maillon::fuzzing::blank;
using maillon::fuzzing::expect;
using maillon::fuzzing::run;

void check_suspension(std::string_view body) {
  auto reason = parse_suspension(body);
  expect(!blank(reason), "parse_suspension", "accepted a blank reason");
}

void check_report(std::string_view body) {
  auto in = parse_report(body);
  expect(in.target == "offer" || in.target == "request" || in.target == "member" ||
             in.target == "exchange_message",
         "parse_report", "accepted an unknown target");
  expect(is_uuid(in.target_id), "parse_report", "target_id is no uuid");
  expect(!blank(in.reason), "parse_report", "accepted a blank reason");
}

void check_close(std::string_view body) {
  auto in = parse_close_report(body);
  expect(in.action == "none" || in.action == "hide" || in.action == "suspend", "parse_close_report",
         "accepted an unknown action");
}

void check_desk_member(std::string_view body) {
  auto in = parse_desk_member(body);
  expect(!blank(in.display_name), "parse_desk_member", "accepted a blank display_name");
  expect(is_uuid(in.home_site_id), "parse_desk_member", "home_site_id is no uuid");
  if (!in.phone) return;
  const std::string& p = *in.phone;
  const std::size_t digits_from = p.starts_with('+') ? 1 : 0;
  expect(p.size() - digits_from >= 6 && p.size() - digits_from <= 15, "parse_desk_member",
         "phone of a length no number has");
  expect(p.find_first_not_of("0123456789", digits_from) == std::string::npos, "parse_desk_member",
         "phone holds something else than digits");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  run("parse_suspension", check_suspension, body);
  run("parse_report", check_report, body);
  run("parse_close_report", check_close, body);
  run("parse_desk_member", check_desk_member, body);
  return 0;
}
