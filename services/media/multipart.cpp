// multipart/form-data parsing (see multipart.hpp).
#include "services/media/multipart.hpp"

#include <algorithm>
#include <cctype>

namespace maillon::media {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// RFC 2046's bchars: what a boundary may hold (a space, but not as its last character).
bool valid_boundary(std::string_view b) {
  if (b.empty() || b.size() > kBoundaryBytesMax || b.back() == ' ') return false;
  return std::all_of(b.begin(), b.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) ||
           std::string_view("'()+_,-./:=? ").find(c) != std::string_view::npos;
  });
}

// The value of `key` among `; key=value` parameters (quoted or not); nullopt when absent.
std::optional<std::string> parameter(std::string_view params, std::string_view key) {
  while (!params.empty()) {
    const auto semicolon = params.find(';');
    std::string_view item = trim(params.substr(0, semicolon));
    params =
        semicolon == std::string_view::npos ? std::string_view{} : params.substr(semicolon + 1);
    const auto equals = item.find('=');
    if (equals == std::string_view::npos) continue;
    if (lower(trim(item.substr(0, equals))) != key) continue;
    std::string_view value = trim(item.substr(equals + 1));
    if (value.size() >= 2 && value.front() == '"') {
      const auto end = value.find('"', 1);
      if (end == std::string_view::npos) return std::nullopt;
      return std::string(value.substr(1, end - 1));
    }
    return std::string(value);
  }
  return std::nullopt;
}

// A quoted parameter may hold ';' (filename="a;b.jpg"): split only outside quotes.
std::optional<std::string> disposition_parameter(std::string_view value, std::string_view key) {
  std::size_t at = 0;
  while (at < value.size()) {
    std::size_t end = at;
    bool quoted = false;
    while (end < value.size() && (quoted || value[end] != ';')) {
      if (value[end] == '"') quoted = !quoted;
      ++end;
    }
    const std::string_view item = trim(value.substr(at, end - at));
    const auto equals = item.find('=');
    if (equals != std::string_view::npos && lower(trim(item.substr(0, equals))) == key) {
      std::string_view found = trim(item.substr(equals + 1));
      if (found.size() >= 2 && found.front() == '"' && found.back() == '"') {
        found = found.substr(1, found.size() - 2);
      }
      return std::string(found);
    }
    at = end + 1;
  }
  return std::nullopt;
}

// Fills `part` from its header block (lines separated by CRLF); false when malformed.
bool read_part_headers(std::string_view block, FormPart& part) {
  bool disposition = false;
  while (!block.empty()) {
    const auto eol = block.find("\r\n");
    std::string_view line = block.substr(0, eol);
    block = eol == std::string_view::npos ? std::string_view{} : block.substr(eol + 2);
    const auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return false;
    const std::string name = lower(trim(line.substr(0, colon)));
    const std::string_view value = trim(line.substr(colon + 1));
    if (name == "content-disposition") {
      if (lower(value.substr(0, value.find(';'))) != "form-data") return false;
      auto field = disposition_parameter(value, "name");
      if (!field) return false;
      part.name = *field;
      part.filename = disposition_parameter(value, "filename").value_or("");
      disposition = true;
    } else if (name == "content-type") {
      part.content_type = std::string(value);
    }
  }
  return disposition;
}

}  // namespace

std::optional<std::string> multipart_boundary(std::string_view content_type) {
  const auto semicolon = content_type.find(';');
  if (semicolon == std::string_view::npos) return std::nullopt;
  if (lower(trim(content_type.substr(0, semicolon))) != "multipart/form-data") return std::nullopt;
  auto boundary = parameter(content_type.substr(semicolon + 1), "boundary");
  if (!boundary || !valid_boundary(*boundary)) return std::nullopt;
  return boundary;
}

std::optional<std::vector<FormPart>> parse_multipart(std::string_view body,
                                                     std::string_view boundary) {
  if (!valid_boundary(boundary)) return std::nullopt;
  const std::string delimiter = "--" + std::string(boundary);
  const std::string next_delimiter = "\r\n" + delimiter;
  // A preamble may come before the first delimiter; it is ignored (RFC 2046).
  std::size_t at;
  if (body.substr(0, delimiter.size()) == delimiter) {
    at = delimiter.size();
  } else {
    at = body.find(next_delimiter);
    if (at == std::string_view::npos) return std::nullopt;
    at += next_delimiter.size();
  }
  std::vector<FormPart> parts;
  for (;;) {
    if (body.substr(at, 2) == "--") return parts;  // the close delimiter (an epilogue may follow)
    // Transport padding (spaces, tabs) may follow a delimiter before its CRLF.
    while (at < body.size() && (body[at] == ' ' || body[at] == '\t')) ++at;
    if (body.substr(at, 2) != "\r\n") return std::nullopt;
    at += 2;
    if (parts.size() == kPartsMax) return std::nullopt;
    const auto headers_end = body.find("\r\n\r\n", at);
    FormPart part;
    if (headers_end == std::string_view::npos) {
      // A part without any header line is not form-data (it needs Content-Disposition).
      return std::nullopt;
    }
    if (headers_end - at > kPartHeadersBytesMax) return std::nullopt;
    if (!read_part_headers(body.substr(at, headers_end - at), part)) return std::nullopt;
    const std::size_t data_start = headers_end + 4;
    const auto data_end = body.find(next_delimiter, data_start);
    if (data_end == std::string_view::npos) return std::nullopt;
    part.data = body.substr(data_start, data_end - data_start);
    parts.push_back(std::move(part));
    at = data_end + next_delimiter.size();
  }
}

}  // namespace maillon::media
