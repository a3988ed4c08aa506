// multipart/form-data (RFC 7578) as a browser sends one photo: the boundary read from the
// Content-Type, then the parts with their headers. Outside input: every size and count is bounded
// and a malformed body is a value (nullopt), never an exception or a read past the end.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace maillon::media {

inline constexpr std::size_t kBoundaryBytesMax = 70;  // RFC 2046's limit
inline constexpr std::size_t kPartHeadersBytesMax = 4096;
inline constexpr std::size_t kPartsMax = 8;

struct FormPart {
  std::string name;          // Content-Disposition's name
  std::string filename;      // as the client named it: kept for nothing, never trusted
  std::string content_type;  // as the client said: never trusted either
  std::string_view data;     // points into the body given to parse_multipart
};

// The boundary of a `multipart/form-data; boundary=...` Content-Type (quoted or not); nullopt for
// another type or a missing or invalid boundary.
std::optional<std::string> multipart_boundary(std::string_view content_type);

// The parts of `body`, each `data` a view into `body` (which must outlive them); nullopt when the
// body is not well-formed multipart with this boundary or breaks a bound above.
std::optional<std::vector<FormPart>> parse_multipart(std::string_view body,
                                                     std::string_view boundary);

}  // namespace maillon::media
