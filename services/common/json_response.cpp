// json_response, apart from json_body.cpp so that body parsing links without the HTTP server
// (the fuzz targets compile the parsers alone).
#include "services/common/http.hpp"
#include "services/common/json_body.hpp"

namespace maillon {

std::string json_text(const Json& body) {
  return body.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Response json_response(int status, const Json& body) {
  return Response::json_text(status, json_text(body));
}

}  // namespace maillon
