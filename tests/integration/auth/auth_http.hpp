// HTTP for the authentication tests: requests from a chosen loopback address (the whole of
// 127.0.0.0/8 reaches the services, so each test can be a client of its own), every response
// header kept (two Set-Cookie lines), and the head of a held-open stream.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "harness.hpp"
#include "openapi_contract.hpp"

namespace maillon::testing::auth {

struct RawResult {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased, in order
  std::string body;

  std::optional<std::string> header(const std::string& name) const {
    for (const auto& [k, v] : headers) {
      if (k == name) return v;
    }
    return std::nullopt;
  }
  std::vector<std::string> all(const std::string& name) const {
    std::vector<std::string> out;
    for (const auto& [k, v] : headers) {
      if (k == name) out.push_back(v);
    }
    return out;
  }
  Json json() const {
    auto j = Json::parse(body, nullptr, false);
    return j.is_discarded() ? Json() : j;
  }
};

inline std::pair<std::string, int> host_port(const std::string& base_url) {
  std::string rest = base_url.substr(base_url.find("://") + 3);
  rest = rest.substr(0, rest.find('/'));
  const auto colon = rest.rfind(':');
  return {rest.substr(0, colon), std::stoi(rest.substr(colon + 1))};
}

// A connected socket from `source` (an address of 127.0.0.0/8), or -1.
inline int connect_from(const std::string& source, const std::string& base_url) {
  auto [host, port] = host_port(base_url);
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{30, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in local{};
  local.sin_family = AF_INET;
  inet_pton(AF_INET, source.c_str(), &local.sin_addr);
  sockaddr_in remote{};
  remote.sin_family = AF_INET;
  remote.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, host == "localhost" ? "127.0.0.1" : host.c_str(), &remote.sin_addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&remote), sizeof remote) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

inline void parse_head(const std::string& head, RawResult& out) {
  auto eol = head.find("\r\n");
  const std::string status_line = head.substr(0, eol);
  out.status = std::stoi(status_line.substr(status_line.find(' ') + 1, 3));
  std::size_t pos = eol == std::string::npos ? head.size() : eol + 2;
  while (pos < head.size()) {
    auto end = head.find("\r\n", pos);
    if (end == std::string::npos) end = head.size();
    const std::string line = head.substr(pos, end - pos);
    const auto colon = line.find(':');
    if (colon != std::string::npos) {
      std::string name = line.substr(0, colon);
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      out.headers.emplace_back(name, value);
    }
    pos = end + 2;
  }
}

inline std::string dechunk(const std::string& body) {
  std::string out;
  std::size_t pos = 0;
  while (pos < body.size()) {
    const auto eol = body.find("\r\n", pos);
    if (eol == std::string::npos) break;
    const std::size_t size = std::stoul(body.substr(pos, eol - pos), nullptr, 16);
    if (size == 0) break;
    out += body.substr(eol + 2, size);
    pos = eol + 2 + size + 2;
  }
  return out;
}

// One request over a fresh connection from `source`; with `head_only`, the answer's head and
// whatever came with it (for a stream that stays open).
inline RawResult request_from(const std::string& source, const std::string& base_url,
                              const std::string& method, const std::string& path,
                              const std::string& body = "", const Headers& headers = {},
                              bool head_only = false, bool api_operation = true) {
  RawResult out;
  const int fd = connect_from(source, base_url);
  if (fd < 0) return out;
  std::string req = method + " " + path + " HTTP/1.1\r\nHost: " + host_port(base_url).first +
                    "\r\nConnection: close\r\n";
  for (const auto& [k, v] : headers) req += k + ": " + v + "\r\n";
  if (!body.empty() || method == "POST" || method == "PATCH" || method == "PUT")
    req +=
        "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  req += "\r\n" + body;
  ::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
  std::string raw;
  char buf[16384];
  for (;;) {
    const auto head_end = raw.find("\r\n\r\n");
    if (head_end != std::string::npos) {
      if (out.headers.empty()) parse_head(raw.substr(0, head_end), out);
      const std::string rest = raw.substr(head_end + 4);
      if (head_only) break;
      if (auto length = out.header("content-length")) {
        if (rest.size() >= std::stoul(*length)) break;
      } else if (out.header("transfer-encoding") == "chunked") {
        if (rest.find("0\r\n\r\n") != std::string::npos) break;
      } else if (out.status == 204 || out.status == 304) {
        break;
      }
    }
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    raw.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  const auto head_end = raw.find("\r\n\r\n");
  if (head_end != std::string::npos && out.headers.empty())
    parse_head(raw.substr(0, head_end), out);
  if (head_end != std::string::npos) out.body = raw.substr(head_end + 4);
  if (!head_only && out.header("transfer-encoding") == "chunked") out.body = dechunk(out.body);
  HttpResult seen{out.status, out.body, {}};
  for (const auto& [k, v] : out.headers) seen.headers[k] = v;
  // A web page (api_operation false) is no operation of schemas/openapi.yaml.
  if (api_operation) expect_contract({method, path, body, seen, !head_only});
  return out;
}

// The value of a Set-Cookie line for `name` ("" when cleared), or nullopt when not set.
inline std::optional<std::string> set_cookie(const RawResult& r, const std::string& name) {
  for (const auto& line : r.all("set-cookie")) {
    if (line.rfind(name + "=", 0) != 0) continue;
    const auto end = line.find(';');
    return line.substr(name.size() + 1, end == std::string::npos ? end : end - name.size() - 1);
  }
  return std::nullopt;
}

inline std::optional<std::string> set_cookie_line(const RawResult& r, const std::string& name) {
  for (const auto& line : r.all("set-cookie")) {
    if (line.rfind(name + "=", 0) == 0) return line;
  }
  return std::nullopt;
}

// An address of 127.0.0.0/8 no earlier run used (a stack's counters outlive a run by a minute).
inline std::string fresh_address() {
  static std::mt19937 rng(std::random_device{}());
  return "127." + std::to_string(1 + rng() % 254) + "." + std::to_string(rng() % 256) + "." +
         std::to_string(1 + rng() % 254);
}

inline Headers bearer(const std::string& token) {
  return {{"Authorization", "Bearer " + token}};
}

}  // namespace maillon::testing::auth
