// schemas/openapi.yaml as the tests read it: bundled to JSON by Redocly (npx) unless
// MAILLON_OPENAPI_JSON names a bundle already, its operations, and the check of one real answer
// against one operation (the status must be documented, the content type listed, the body valid).
#pragma once

#include <string>
#include <vector>

#include "harness.hpp"
#include "json_schema.hpp"

namespace maillon::testing {

// The OpenAPI description as JSON; throws with a message saying what to do when it cannot be had.
Json load_openapi();

struct OpenApiOperation {
  std::string method;  // upper case: "GET"
  std::string path;    // the template as the document writes it: "/v1/offers/{id}"
};

class OpenApiContract {
 public:
  explicit OpenApiContract(Json doc);

  // Violations of the answer `r` to `method path_template`; empty when it conforms. A JSON body
  // is checked against the schema; another content type (CSV, Prometheus text, an event stream)
  // only against the listed types.
  std::vector<std::string> check(const std::string& method, const std::string& path_template,
                                 const HttpResult& r);

  // Every operation of the document, by path then method.
  std::vector<OpenApiOperation> operations() const;
  // Whether the operation documents an answer with that status (false for an unknown operation).
  bool documents_status(const std::string& method, const std::string& path_template,
                        int status) const;

  const Json& document() const { return doc_; }
  JsonSchemaSet& schemas() { return schemas_; }

 private:
  Json doc_;
  JsonSchemaSet schemas_{""};

  std::vector<std::string> check_content(const std::string& response, const HttpResult& r);
};

}  // namespace maillon::testing
