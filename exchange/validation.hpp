// Field-level validation results shared by every domain rule set: a refusal names the field
// and says why in French, so a client can show it next to the input.
#pragma once

#include <string>
#include <vector>

namespace maillon {

struct FieldError {
  std::string field;
  std::string message;
  bool operator==(const FieldError&) const = default;
};

using FieldErrors = std::vector<FieldError>;

}  // namespace maillon
