#include "openapi_contract.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <regex>
#include <sstream>
#include <stdexcept>

namespace maillon::testing {
namespace {

constexpr const char* kDocument = "openapi.json";
constexpr const char* kMethods[] = {"get",     "put",  "post",  "delete",
                                    "options", "head", "patch", "trace"};

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string shell_quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string pointer_token(const std::string& s) {
  std::string out;
  for (char c : s) out += c == '~' ? "~0" : c == '/' ? "~1" : std::string(1, c);
  return out;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// application/json and every +json type (problem+json) carry JSON checked against a schema.
bool is_json_type(const std::string& type) {
  return type == "application/json" ||
         (type.size() > 5 && type.compare(type.size() - 5, 5, "+json") == 0);
}

}  // namespace

Json load_openapi() {
  if (const char* given = std::getenv("MAILLON_OPENAPI_JSON"); given && *given) {
    return Json::parse(read_text(given));
  }
  if (std::system("command -v npx > /dev/null 2>&1") != 0) {
    throw std::runtime_error(
        "npx not found: install Node.js (npm) or set MAILLON_OPENAPI_JSON to a JSON bundle of "
        "schemas/openapi.yaml (npx @redocly/cli@2.77.0 bundle schemas/openapi.yaml --ext json -o "
        "x.json)");
  }
  const std::string yaml = std::string(MAILLON_SOURCE_DIR) + "/schemas/openapi.yaml";
  // Every test process checks its exchanges: the bundle is made once per version of the YAML
  // (written aside then renamed, so that parallel tests never read half a file).
  const std::filesystem::path cache_dir = std::string(MAILLON_BINARY_DIR) + "/openapi-bundle";
  const auto cached =
      cache_dir / (std::to_string(std::hash<std::string>{}(read_text(yaml))) + ".json");
  if (std::filesystem::exists(cached)) return Json::parse(read_text(cached));
  const auto dir = std::filesystem::temp_directory_path();
  const auto out = dir / ("maillon-openapi-" + unique_suffix() + ".json");
  const auto log = dir / ("maillon-openapi-" + unique_suffix() + ".log");
  const std::string command = "npx --yes @redocly/cli@2.77.0 bundle " + shell_quoted(yaml) +
                              " --ext json -o " + shell_quoted(out.string()) + " > " +
                              shell_quoted(log.string()) + " 2>&1";
  const int rc = std::system(command.c_str());
  const std::string output = read_text(log);
  std::filesystem::remove(log);
  if (rc != 0 || !std::filesystem::exists(out)) {
    throw std::runtime_error("bundling schemas/openapi.yaml failed (" + command + "):\n" + output);
  }
  Json doc = Json::parse(read_text(out));
  std::error_code ignored;
  std::filesystem::create_directories(cache_dir, ignored);
  const std::string aside = cached.string() + "." + unique_suffix();
  std::filesystem::copy_file(out, aside, ignored);
  if (!ignored) std::filesystem::rename(aside, cached, ignored);
  std::filesystem::remove(out);
  return doc;
}

OpenApiContract::OpenApiContract(Json doc) : doc_(doc) {
  schemas_.add_document(kDocument, std::move(doc));
}

std::vector<std::string> OpenApiContract::check(const std::string& method,
                                                const std::string& path_template,
                                                const HttpResult& r, bool body_complete) {
  std::string op = "/paths/" + pointer_token(path_template) + "/" + lower(method);
  if (!doc_.contains(Json::json_pointer(op)))
    return {"undocumented operation " + method + " " + path_template};
  std::string status = std::to_string(r.status);
  std::string response = op + "/responses/" + status;
  if (!doc_.contains(Json::json_pointer(response)))
    return {"status " + status + " undocumented for #" + op};
  const Json& declared = doc_.at(Json::json_pointer(response));
  if (declared.contains("$ref")) response = declared["$ref"].get<std::string>().substr(1);
  auto out = check_headers(response, r);
  if (!body_complete) {
    auto type = r.headers.count("content-type") ? r.headers.at("content-type") : std::string();
    type = type.substr(0, type.find(';'));
    const Json content = doc_.at(Json::json_pointer(response)).value("content", Json::object());
    if (!content.contains(type))
      out.push_back("content type '" + type + "' not documented at #" + response);
    return out;
  }
  for (auto& v : check_content(response, r)) out.push_back(std::move(v));
  return out;
}

std::vector<OpenApiOperation> OpenApiContract::operations() const {
  std::vector<OpenApiOperation> out;
  if (!doc_.contains("paths")) return out;
  for (const auto& [path, item] : doc_["paths"].items()) {
    for (const char* method : kMethods) {
      if (item.contains(method)) out.push_back({upper(method), path});
    }
  }
  return out;
}

bool OpenApiContract::documents_status(const std::string& method, const std::string& path_template,
                                       int status) const {
  const Json::json_pointer response("/paths/" + pointer_token(path_template) + "/" + lower(method) +
                                    "/responses/" + std::to_string(status));
  return doc_.contains(response);
}

std::vector<std::string> OpenApiContract::check_content(const std::string& response,
                                                        const HttpResult& r) {
  const Json& content = doc_.at(Json::json_pointer(response)).value("content", Json::object());
  if (content.empty()) {
    if (r.body.empty()) return {};
    return {"a body where " + response + " documents none: " + r.body};
  }
  auto type = r.headers.count("content-type") ? r.headers.at("content-type") : std::string();
  type = type.substr(0, type.find(';'));
  if (!content.contains(type)) return {"content type '" + type + "' not documented at " + response};
  if (!is_json_type(type)) return {};
  std::string schema = response + "/content/" + pointer_token(type) + "/schema";
  Json body = Json::parse(r.body, nullptr, false);
  if (body.is_discarded()) return {"the body is not JSON: " + r.body};
  return located(schema, schemas_.validate_at(kDocument, schema, body));
}

// A header the document lists for an answer is a promise (present unless `required: false`),
// and its value must match the header's schema (Retry-After an integer of seconds...).
std::vector<std::string> OpenApiContract::check_headers(const std::string& response,
                                                        const HttpResult& r) {
  std::vector<std::string> out;
  const Json listed = doc_.at(Json::json_pointer(response)).value("headers", Json::object());
  for (const auto& [name, declared] : listed.items()) {
    std::string at = response + "/headers/" + pointer_token(name);
    if (declared.contains("$ref")) at = declared["$ref"].get<std::string>().substr(1);
    const Json& header = doc_.at(Json::json_pointer(at));
    const auto found = r.headers.find(lower(name));
    if (found == r.headers.end()) {
      if (header.value("required", true))
        out.push_back("header " + name + " missing (#" + at + ")");
      continue;
    }
    if (!header.contains("schema")) continue;
    Json value = found->second;
    if (header["schema"].value("type", "") == "integer") {
      value = Json::parse(found->second, nullptr, false);
      if (value.is_discarded()) value = found->second;
    }
    for (auto& v : schemas_.validate_at(kDocument, at + "/schema", value))
      out.push_back("header " + name + " " + v + " (#" + at + ")");
  }
  return out;
}

std::string OpenApiContract::schema_name(const std::string& pointer) const {
  const Json& schema = doc_.at(Json::json_pointer(pointer));
  if (schema.contains("$ref")) return schema["$ref"].get<std::string>();
  return "#" + pointer;
}

std::vector<std::string> OpenApiContract::located(const std::string& schema,
                                                  std::vector<std::string> violations) const {
  const std::string name = schema_name(schema);
  for (auto& v : violations) v = name + " " + v;
  return violations;
}

std::vector<std::string> OpenApiContract::check_request(const std::string& method,
                                                        const std::string& path_template,
                                                        const std::string& body) {
  const std::string op = "/paths/" + pointer_token(path_template) + "/" + lower(method);
  std::string at = op + "/requestBody";
  const bool sent = !body.empty() && body != "{}";  // the harness posts {} for "no body"
  if (!doc_.contains(Json::json_pointer(at))) {
    if (sent) return {"the request has a body where #" + op + " documents none: " + body};
    return {};
  }
  const Json& declared = doc_.at(Json::json_pointer(at));
  if (declared.contains("$ref")) at = declared["$ref"].get<std::string>().substr(1);
  const Json& request = doc_.at(Json::json_pointer(at));
  if (body.empty()) {
    if (request.value("required", false))
      return {"the request lacks the body #" + at + " requires"};
    return {};
  }
  const Json instance = Json::parse(body, nullptr, false);
  const Json content = request.value("content", Json::object());
  if (!content.contains("application/json")) {
    // A form where one is documented (RFC 8058's one-click unsubscribe): its type is all it has
    // ("{}" is the harness's "no body").
    if (content.contains("application/x-www-form-urlencoded") && (!sent || instance.is_discarded()))
      return {};
    return {"the request is JSON where #" + at + " documents another content type"};
  }
  if (instance.is_discarded()) return {"the request body is not JSON: " + body};
  const std::string schema = at + "/content/application~1json/schema";
  auto out = located(schema, schemas_.validate_at(kDocument, schema, instance));
  for (auto& v : out) v = "request " + v;
  return out;
}

std::vector<std::string> OpenApiContract::check_problem(const HttpResult& r) {
  auto type = r.headers.count("content-type") ? r.headers.at("content-type") : std::string();
  type = type.substr(0, type.find(';'));
  if (type != "application/problem+json")
    return {"content type '" + type + "' where a problem (application/problem+json) is due"};
  const Json body = Json::parse(r.body, nullptr, false);
  if (body.is_discarded()) return {"the problem is not JSON: " + r.body};
  return located("/components/schemas/Problem",
                 schemas_.validate_at(kDocument, "/components/schemas/Problem", body));
}

namespace {

std::vector<std::string> segments(const std::string& path) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at <= path.size()) {
    auto next = path.find('/', at);
    if (next == std::string::npos) next = path.size();
    out.push_back(path.substr(at, next - at));
    at = next + 1;
  }
  return out;
}

bool is_parameter(const std::string& segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

}  // namespace

std::optional<std::string> OpenApiContract::route(const std::string& method,
                                                  const std::string& path) const {
  const auto wanted = segments(path.substr(0, path.find('?')));
  std::optional<std::string> best;
  int best_literals = -1;
  if (!doc_.contains("paths")) return best;
  for (const auto& [candidate, item] : doc_.at("paths").items()) {
    if (!item.contains(lower(method))) continue;
    const auto parts = segments(candidate);
    if (parts.size() != wanted.size()) continue;
    int literals = 0;
    bool matches = true;
    for (std::size_t i = 0; matches && i < parts.size(); ++i) {
      if (is_parameter(parts[i])) {
        matches = !wanted[i].empty();
      } else {
        matches = parts[i] == wanted[i];
        ++literals;
      }
    }
    if (matches && literals > best_literals) {
      best = candidate;
      best_literals = literals;
    }
  }
  return best;
}

namespace {

struct SharedContract {
  std::mutex mutex;
  std::unique_ptr<OpenApiContract> contract;
  std::string error;  // why it could not be loaded
};

SharedContract& shared() {
  static SharedContract* state = [] {
    auto* s = new SharedContract;
    try {
      s->contract = std::make_unique<OpenApiContract>(load_openapi());
    } catch (const std::exception& e) {
      s->error = e.what();
    }
    return s;
  }();
  return *state;
}

std::string shortened(const std::string& text) {
  constexpr std::size_t kShown = 600;
  return text.size() <= kShown ? text : text.substr(0, kShown) + "...";
}

}  // namespace

OpenApiContract& shared_contract() {
  auto& s = shared();
  if (!s.contract) throw std::runtime_error(s.error);
  return *s.contract;
}

std::vector<std::string> contract_violations(const ContractExchange& exchange) {
  if (exchange.answer.status == 0) return {};
  auto& s = shared();
  if (!s.contract) return {"schemas/openapi.yaml could not be loaded: " + s.error};
  std::lock_guard lock(s.mutex);
  OpenApiContract& contract = *s.contract;
  const auto path_template = contract.route(exchange.method, exchange.target);
  if (DeliberatelyWrong::active()) {
    if (path_template &&
        contract.documents_status(exchange.method, *path_template, exchange.answer.status)) {
      return contract.check(exchange.method, *path_template, exchange.answer,
                            exchange.body_complete);
    }
    return contract.check_problem(exchange.answer);
  }
  if (!path_template) {
    return {"no operation of schemas/openapi.yaml is " + exchange.method + " " +
            exchange.target.substr(0, exchange.target.find('?')) +
            " (mark a request sent wrong on purpose: deliberately_wrong, Client::wrong)"};
  }
  auto out = contract.check_request(exchange.method, *path_template, exchange.request_body);
  for (auto& v :
       contract.check(exchange.method, *path_template, exchange.answer, exchange.body_complete))
    out.push_back(std::move(v));
  return out;
}

void expect_contract(const ContractExchange& exchange) {
  std::vector<std::string> violations;
  try {
    violations = contract_violations(exchange);
  } catch (const std::exception& e) {
    violations = {std::string("the checker failed: ") + e.what()};
  }
  if (violations.empty()) return;
  std::string listed;
  for (const auto& v : violations) listed += "\n  " + v;
  ADD_FAILURE() << "the answer breaks schemas/openapi.yaml: " << exchange.method << " "
                << exchange.target << (DeliberatelyWrong::active() ? " (deliberately wrong)" : "")
                << " -> " << exchange.answer.status << listed
                << "\n  request body: " << shortened(exchange.request_body)
                << "\n  answer body: " << shortened(exchange.answer.body);
}

}  // namespace maillon::testing
