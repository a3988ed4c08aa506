// Rendering of ApiError as RFC 9457 problem+json; the only place that builds error bodies.
#include "services/common/errors.hpp"

#include <nlohmann/json.hpp>

namespace maillon {

ApiError invalid_input(std::string detail, FieldErrors errors) {
  return ApiError(400, "invalid-input", "Requête invalide", std::move(detail), std::move(errors));
}
ApiError unauthorized(std::string detail) {
  return ApiError(401, "unauthorized", "Authentification requise", std::move(detail));
}
ApiError forbidden(std::string detail) {
  return ApiError(403, "forbidden", "Action non autorisée", std::move(detail));
}
ApiError not_found(std::string detail) {
  return ApiError(404, "not-found", "Introuvable", std::move(detail));
}
ApiError conflict(std::string code, std::string detail) {
  return ApiError(409, std::move(code), "Conflit avec l'état actuel", std::move(detail));
}
ApiError business_rule(std::string code, std::string detail) {
  return ApiError(422, std::move(code), "Règle métier non respectée", std::move(detail));
}
ApiError too_large(std::size_t limit_bytes) {
  return ApiError(413, "payload-too-large", "Corps de requête trop volumineux",
                  "Le corps dépasse la limite de " + std::to_string(limit_bytes) + " octets.");
}
ApiError too_many_requests() {
  return ApiError(429, "too-many-requests", "Trop de requêtes",
                  "Trop de requêtes en peu de temps : réessayez dans quelques secondes.");
}

ApiError too_many_requests(int retry_after_seconds, std::string detail) {
  ApiError e(429, "too-many-requests", "Trop de requêtes", std::move(detail));
  e.retry_after_seconds_ = retry_after_seconds;
  return e;
}

std::string problem_json(const ApiError& error, const std::string& request_id) {
  nlohmann::json body = {{"type", "/problems/" + error.code()},
                         {"title", error.title()},
                         {"status", error.status()},
                         {"detail", error.detail()},
                         {"code", error.code()}};
  if (!error.errors().empty()) {
    auto& list = body["errors"] = nlohmann::json::array();
    for (const auto& e : error.errors())
      list.push_back({{"field", e.field}, {"message", e.message}});
  }
  if (!request_id.empty()) body["request_id"] = request_id;
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace maillon
