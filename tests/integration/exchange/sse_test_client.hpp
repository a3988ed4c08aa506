// A Server-Sent Events client for tests: one raw socket held open, the response head parsed,
// the chunked body decoded as it arrives, and events read one at a time before a deadline.
// Header-only so that the e2e tests (another executable) use the same client.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "harness.hpp"
#include "openapi_contract.hpp"

namespace maillon::testing {

struct SseMessage {
  std::string id;
  std::string event;
  std::string data;
};

class SseClient {
 public:
  SseClient(const std::string& base_url, const std::string& path, const Headers& headers = {}) {
    const auto host_start = base_url.find("://") + 3;
    const auto colon = base_url.find(':', host_start);
    std::string host = base_url.substr(host_start, colon - host_start);
    const int port = std::stoi(base_url.substr(colon + 1));
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    inet_pton(AF_INET, host == "localhost" ? "127.0.0.1" : host.c_str(), &addr.sin_addr);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      close();
      return;
    }
    std::string request =
        "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nAccept: text/event-stream\r\n";
    for (const auto& [k, v] : headers) request += k + ": " + v + "\r\n";
    request += "\r\n";
    if (::send(fd_, request.data(), request.size(), MSG_NOSIGNAL) !=
        static_cast<ssize_t>(request.size())) {
      close();
      return;
    }
    read_head(std::chrono::steady_clock::now() + std::chrono::seconds(10));
    // The stream's head is held to the contract; an error answer is read whole and checked.
    if (status != 0 && status != 200) ends_within(5000);
    const HttpResult seen{status, status == 200 ? std::string() : text_, this->headers};
    expect_contract({"GET", path, "", seen, status != 200});
  }
  ~SseClient() { close(); }
  SseClient(const SseClient&) = delete;
  SseClient& operator=(const SseClient&) = delete;

  int status = 0;                              // 0: no answer
  std::map<std::string, std::string> headers;  // names lower-cased
  int comments = 0;                            // comment lines seen (heartbeats)

  // The next event (a block with an event or data field), or nullopt at the deadline or when
  // the server ends the stream.
  std::optional<SseMessage> next_event(int timeout_ms) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (true) {
      if (auto message = take_block()) return message;
      if (ended_ || !fill(deadline)) return std::nullopt;
    }
  }
  // Reads until the server ends the body or the deadline passes; true when it ended.
  bool ends_within(int timeout_ms) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (!ended_ && fill(deadline)) {
    }
    return ended_;
  }
  // The whole body of a response that is not a stream (an error).
  std::string body() {
    ends_within(5000);
    return text_;
  }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
  std::string raw_;   // bytes received and not yet decoded
  std::string text_;  // decoded body not yet parsed into events
  bool chunked_ = false;
  bool ended_ = false;
  std::optional<std::size_t> content_length_;

  // Reads what the socket has before the deadline, decodes it; false at the deadline or EOF.
  bool fill(std::chrono::steady_clock::time_point deadline) {
    if (fd_ < 0) return false;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    char buffer[4096];
    const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
    if (n <= 0) {
      ended_ = true;
      return false;
    }
    raw_.append(buffer, static_cast<std::size_t>(n));
    if (status != 0) decode();
    return true;
  }

  void read_head(std::chrono::steady_clock::time_point deadline) {
    while (raw_.find("\r\n\r\n") == std::string::npos) {
      if (!fill(deadline)) return;
    }
    const auto end = raw_.find("\r\n\r\n");
    const std::string head = raw_.substr(0, end);
    raw_.erase(0, end + 4);
    status = std::stoi(head.substr(head.find(' ') + 1, 3));
    std::size_t at = head.find("\r\n");
    while (at != std::string::npos) {
      const auto next = head.find("\r\n", at + 2);
      const std::string line = head.substr(at + 2, next - at - 2);
      const auto colon = line.find(':');
      std::string name = line.substr(0, colon);
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string value = colon == std::string::npos ? "" : line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      headers[name] = value;
      at = next;
    }
    chunked_ = headers["transfer-encoding"] == "chunked";
    if (headers.contains("content-length")) content_length_ = std::stoul(headers["content-length"]);
    decode();
  }

  void decode() {
    if (!chunked_) {
      text_ += raw_;
      raw_.clear();
      if (content_length_ && text_.size() >= *content_length_) ended_ = true;
      return;
    }
    while (true) {
      const auto line_end = raw_.find("\r\n");
      if (line_end == std::string::npos) return;
      const std::size_t size = std::stoul(raw_.substr(0, line_end), nullptr, 16);
      if (raw_.size() < line_end + 2 + size + 2) return;
      if (size == 0) {
        ended_ = true;
        raw_.clear();
        return;
      }
      text_ += raw_.substr(line_end + 2, size);
      raw_.erase(0, line_end + 2 + size + 2);
    }
  }

  std::optional<SseMessage> take_block() {
    while (true) {
      const auto end = text_.find("\n\n");
      if (end == std::string::npos) return std::nullopt;
      const std::string block = text_.substr(0, end);
      text_.erase(0, end + 2);
      SseMessage message;
      bool has_event = false;
      std::size_t start = 0;
      while (start <= block.size()) {
        auto stop = block.find('\n', start);
        if (stop == std::string::npos) stop = block.size();
        const std::string line = block.substr(start, stop - start);
        start = stop + 1;
        if (line.empty()) continue;
        if (line.front() == ':') {
          ++comments;
          continue;
        }
        const auto colon = line.find(':');
        const std::string field = line.substr(0, colon);
        std::string value = colon == std::string::npos ? "" : line.substr(colon + 1);
        if (!value.empty() && value.front() == ' ') value.erase(0, 1);
        if (field == "id") message.id = value;
        if (field == "event") message.event = value;
        if (field == "data") message.data += (message.data.empty() ? "" : "\n") + value;
        has_event = has_event || field == "event" || field == "data";
      }
      if (has_event) return message;
    }
  }
};

}  // namespace maillon::testing
