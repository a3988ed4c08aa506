// schemas/openapi.yaml as the tests read it: bundled to JSON by Redocly (npx) unless
// MAILLON_OPENAPI_JSON names a bundle already, its operations, and the check of one real answer
// against one operation (the status must be documented, the content type listed, the body valid).
// expect_contract is the one place every test HTTP client sends its exchanges through.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
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
  // With `body_complete` false (a stream whose head only was read) the body is not checked.
  std::vector<std::string> check(const std::string& method, const std::string& path_template,
                                 const HttpResult& r, bool body_complete = true);

  // The violations of a request body sent to `method path_template` (its requestBody schema).
  std::vector<std::string> check_request(const std::string& method,
                                         const std::string& path_template, const std::string& body);
  // The violations of an answer that must be a documented problem (application/problem+json,
  // the Problem schema), whatever the operation: the answer to a deliberately wrong request.
  std::vector<std::string> check_problem(const HttpResult& r);

  // The path template of the document that `path` (query left out) falls under for `method`:
  // the one with the most literal segments among those documenting the method; nullopt when
  // no template documents it.
  std::optional<std::string> route(const std::string& method, const std::string& path) const;

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
  std::vector<std::string> check_headers(const std::string& response, const HttpResult& r);
  // "#/components/schemas/Me" for a schema that refers to it, else the schema's own pointer.
  std::string schema_name(const std::string& pointer) const;
  std::vector<std::string> located(const std::string& schema,
                                   std::vector<std::string> violations) const;
};

// The contract every test's HTTP exchange is held to, loaded once per process (the bundle is
// cached in the build directory by the YAML's content).
OpenApiContract& shared_contract();

// One exchange as a test client saw it. `body_complete` is false for a stream whose head only
// was read (the body is not checked then).
struct ContractExchange {
  std::string method;
  std::string target;  // path and query as sent
  std::string request_body;
  const HttpResult& answer;
  bool body_complete = true;
};

// The violations of one exchange: for an ordinary request, the request's body against the
// operation's requestBody and the answer against the operation (status, headers, body); for a
// request marked deliberately wrong (harness.hpp), only that the answer is a documented
// problem (the operation's own description when it documents that status). Empty = conforms.
// Answers with status 0 (nothing answered) are not checked.
std::vector<std::string> contract_violations(const ContractExchange& exchange);

// Fails the running test (ADD_FAILURE) with method, target, status, the schema location and
// each violation when the exchange breaks the contract.
void expect_contract(const ContractExchange& exchange);

}  // namespace maillon::testing
