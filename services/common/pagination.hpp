// List pagination as the contract says: ?limit= (default 20, at most 100) and an opaque ?cursor=.
#pragma once

#include <string>

namespace maillon {

struct Request;

inline constexpr int kPageDefault = 20;
inline constexpr int kPageMax = 100;

struct PageRequest {
  int limit = kPageDefault;
  std::string cursor;  // decoded: what the service put in it ("" on the first page)
};

// Throws a 400 naming `limit` or `cursor` when they are malformed.
PageRequest page_request(const Request& request);
std::string encode_cursor(const std::string& position);

}  // namespace maillon
