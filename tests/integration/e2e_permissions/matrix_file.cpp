#include "matrix_file.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace maillon::testing {
namespace {

const char* const kMethods[] = {"GET", "POST", "PUT", "PATCH", "DELETE"};

std::string trimmed(const std::string& s) {
  const auto first = s.find_first_not_of(" \t\r");
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(" \t\r") - first + 1);
}

std::vector<std::string> words(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

bool is_method(const std::string& w) {
  for (const char* m : kMethods) {
    if (w == m) return true;
  }
  return false;
}

std::optional<int> cell(const std::string& w, bool& ok) {
  ok = true;
  if (w == "-") return std::nullopt;
  if (w.size() == 3 && std::isdigit(static_cast<unsigned char>(w[0])) &&
      std::isdigit(static_cast<unsigned char>(w[1])) &&
      std::isdigit(static_cast<unsigned char>(w[2]))) {
    return std::stoi(w);
  }
  ok = false;
  return std::nullopt;
}

class Parser {
 public:
  PermissionMatrix run(const std::string& text) {
    std::istringstream in(text);
    int number = 0;
    for (std::string line; std::getline(in, line);) {
      ++number;
      const std::string t = trimmed(line);
      if (t.empty() || t[0] == '#') continue;
      if (line[0] == ' ' || line[0] == '\t') {
        detail(number, t);
      } else {
        row(number, t);
      }
    }
    if (out_.roles.empty()) errors_ += "\n  no `roles:` line";
    for (const auto& r : out_.rows) {
      if (r.target.find("{") != std::string::npos && r.target == r.path_template) {
        errors_ += "\n  line " + std::to_string(r.line) + ": " + r.operation() +
                   " has path parameters: give a `path:` with fixtures";
      }
      if (!r.notes.empty()) continue;
      for (const auto& e : r.expect) {
        if (!e) {
          errors_ += "\n  line " + std::to_string(r.line) + ": a cell not run (-) needs a note";
          break;
        }
      }
    }
    if (!errors_.empty()) throw std::runtime_error("tests/permissions/matrix.txt:" + errors_);
    return out_;
  }

 private:
  PermissionMatrix out_;
  std::string errors_;

  void fail(int line, const std::string& why) {
    errors_ += "\n  line " + std::to_string(line) + ": " + why;
  }

  void row(int line, const std::string& t) {
    if (t.rfind("roles:", 0) == 0) {
      out_.roles = words(t.substr(6));
      return;
    }
    const auto bar = t.find('|');
    auto w = words(t.substr(0, bar));
    if (w.size() < 2 || !is_method(w[0]) || w[1].empty() || w[1][0] != '/') {
      return fail(line, "expected `METHOD /path status...`, got: " + t);
    }
    if (out_.roles.empty()) return fail(line, "a row before the `roles:` line");
    if (w.size() != out_.roles.size() + 2) {
      return fail(line, std::to_string(w.size() - 2) + " cells for " +
                            std::to_string(out_.roles.size()) + " roles");
    }
    MatrixRow r;
    r.line = line;
    r.method = w[0];
    r.path_template = w[1];
    r.target = w[1];
    for (std::size_t i = 2; i < w.size(); ++i) {
      bool ok = false;
      r.expect.push_back(cell(w[i], ok));
      if (!ok) fail(line, "a cell is a status (3 digits) or - : " + w[i]);
    }
    if (bar != std::string::npos) {
      const std::string note = trimmed(t.substr(bar + 1));
      if (!note.empty()) r.notes.push_back(note);
    }
    out_.rows.push_back(std::move(r));
  }

  void detail(int line, const std::string& t) {
    if (out_.rows.empty()) return fail(line, "an indented line before any row");
    MatrixRow& r = out_.rows.back();
    const auto colon = t.find(':');
    if (colon == std::string::npos) return fail(line, "expected `key: value`: " + t);
    const std::string key = t.substr(0, colon);
    const std::string value = trimmed(t.substr(colon + 1));
    if (key == "path") {
      r.target = value;
    } else if (key == "body") {
      r.body = value;
    } else if (key == "note") {
      r.notes.push_back(value);
    } else if (key == "as" && value == "fresh") {
      r.fresh_caller = true;
    } else if (key == "read" && value == "head") {
      r.head_only = true;
    } else if (key == "via" && value == "service") {
      r.via_service = true;
    } else {
      fail(line, "unknown detail: " + t);
    }
  }
};

}  // namespace

PermissionMatrix parse_matrix(const std::string& text) {
  return Parser().run(text);
}

PermissionMatrix load_matrix(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::stringstream text;
  text << in.rdbuf();
  return parse_matrix(text.str());
}

}  // namespace maillon::testing
