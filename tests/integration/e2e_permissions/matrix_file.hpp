// The permission matrix as data (tests/permissions/matrix.txt): one row per operation of
// schemas/openapi.yaml, one expected status per role, and how to call the operation. The file's
// header explains the format; this reads it and says where it is malformed.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace maillon::testing {

struct MatrixRow {
  int line = 0;
  std::string method;                      // "POST"
  std::string path_template;               // as schemas/openapi.yaml names it: "/v1/offers/{id}"
  std::vector<std::optional<int>> expect;  // per role, in the file's role order; nullopt: not run
  std::string target;         // the request's path and query, with placeholders ("{offer}")
  std::string body;           // JSON text with placeholders; empty: no body
  bool fresh_caller = false;  // `as: fresh`: each cell calls as a new person of that role
  bool head_only = false;     // `read: head`: an endless stream, only the status line is read
  bool via_service = false;   // `via: service`: called on a service's own port, not the gateway
  std::vector<std::string> notes;

  std::string operation() const { return method + " " + path_template; }
};

struct PermissionMatrix {
  std::vector<std::string> roles;
  std::vector<MatrixRow> rows;
};

// Parses the text; throws std::runtime_error naming every malformed line.
PermissionMatrix parse_matrix(const std::string& text);
PermissionMatrix load_matrix(const std::string& path);

}  // namespace maillon::testing
