#include "openapi_contract.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
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
  const auto dir = std::filesystem::temp_directory_path();
  const auto out = dir / ("maillon-openapi-" + unique_suffix() + ".json");
  const auto log = dir / ("maillon-openapi-" + unique_suffix() + ".log");
  const std::string yaml = std::string(MAILLON_SOURCE_DIR) + "/schemas/openapi.yaml";
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
  std::filesystem::remove(out);
  return doc;
}

OpenApiContract::OpenApiContract(Json doc) : doc_(doc) {
  schemas_.add_document(kDocument, std::move(doc));
}

std::vector<std::string> OpenApiContract::check(const std::string& method,
                                                const std::string& path_template,
                                                const HttpResult& r) {
  std::string op = "/paths/" + pointer_token(path_template) + "/" + lower(method);
  if (!doc_.contains(Json::json_pointer(op)))
    return {"undocumented operation " + method + " " + path_template};
  std::string status = std::to_string(r.status);
  std::string response = op + "/responses/" + status;
  if (!doc_.contains(Json::json_pointer(response)))
    return {"status " + status + " undocumented for " + op};
  const Json& declared = doc_.at(Json::json_pointer(response));
  if (declared.contains("$ref")) response = declared["$ref"].get<std::string>().substr(1);
  return check_content(response, r);
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
  return schemas_.validate_at(kDocument, schema, body);
}

}  // namespace maillon::testing
