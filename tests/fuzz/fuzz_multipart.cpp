// libFuzzer target for the media service's multipart/form-data parser: the first line of the
// input is the Content-Type, the rest the body. Whatever they hold, the answer is nullopt or
// parts whose data lie inside the body, within the parser's bounds; never a crash or a read past.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "services/media/multipart.hpp"

namespace {

void expect(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "broken promise: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto eol = input.find('\n');
  const std::string_view content_type = input.substr(0, eol);
  const std::string_view body =
      eol == std::string_view::npos ? std::string_view{} : input.substr(eol + 1);
  const auto boundary = maillon::media::multipart_boundary(content_type);
  if (boundary) {
    expect(!boundary->empty() && boundary->size() <= maillon::media::kBoundaryBytesMax, "boundary");
  }
  const auto parts = maillon::media::parse_multipart(body, boundary.value_or("fuzz-boundary"));
  if (!parts) return 0;
  expect(parts->size() <= maillon::media::kPartsMax, "parts bounded");
  for (const auto& part : *parts) {
    expect(part.data.data() >= body.data() &&
               part.data.data() + part.data.size() <= body.data() + body.size(),
           "a part's data lies inside the body");
  }
  return 0;
}
