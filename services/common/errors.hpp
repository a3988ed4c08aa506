// The one error type that reaches HTTP: an ApiError carries what RFC 9457 problem+json needs.
// Handlers throw it (or return domain results mapped to it); the server renders it in one place.
#pragma once

#include <stdexcept>
#include <string>

#include "exchange/validation.hpp"

namespace maillon {

class ApiError : public std::runtime_error {
 public:
  ApiError(int status, std::string code, std::string title, std::string detail,
           FieldErrors errors = {})
      : std::runtime_error(detail),
        status_(status),
        code_(std::move(code)),
        title_(std::move(title)),
        detail_(std::move(detail)),
        errors_(std::move(errors)) {}

  int status() const { return status_; }
  const std::string& code() const { return code_; }  // the problem type's last segment
  const std::string& title() const { return title_; }
  const std::string& detail() const { return detail_; }
  const FieldErrors& errors() const { return errors_; }
  // Seconds to wait before trying again (Retry-After of a 429); 0 when not said.
  int retry_after_seconds() const { return retry_after_seconds_; }

 private:
  int status_;
  std::string code_;
  std::string title_;
  std::string detail_;
  FieldErrors errors_;
  int retry_after_seconds_ = 0;
  friend ApiError too_many_requests(int retry_after_seconds, std::string detail);
};

// The usual client errors, with French titles.
ApiError invalid_input(std::string detail, FieldErrors errors = {});
ApiError unauthorized(std::string detail = "Jeton absent, invalide ou expiré.");
ApiError forbidden(std::string detail = "Votre rôle ne permet pas cette action.");
ApiError not_found(std::string detail = "Ressource introuvable.");
ApiError conflict(std::string code, std::string detail);
ApiError business_rule(std::string code, std::string detail);  // 422
ApiError too_large(std::size_t limit_bytes);
ApiError too_many_requests();
ApiError too_many_requests(int retry_after_seconds, std::string detail);

// problem+json body for an error (request_id added when known).
std::string problem_json(const ApiError& error, const std::string& request_id);

}  // namespace maillon
