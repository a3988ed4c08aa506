// What the photo tests send: a multipart/form-data upload (the harness's client speaks JSON
// only), a small JPEG, and the same JPEG carrying an EXIF block with a GPS position and an
// orientation tag, built by hand so that the test knows every byte it planted.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "harness.hpp"

namespace maillon::testing::photos {

// A 64×48 orange JPEG with no metadata (made once with libvips and kept as bytes).
inline std::string plain_jpeg() {
  static const char* hex =
      "ffd8ffdb004300100b0c0e0c0a100e0d0e1211101318281a181616183123251d283a333d3c3933383740485c4e40"
      "4457"
      "453738506d51575f626768673e4d71797064785c656763ffdb0043011112121815182f1a1a2f6342384263636363"
      "6363"
      "6363636363636363636363636363636363636363636363636363636363636363636363636363636363636363ffc0"
      "0011"
      "080030004003012200021101031101ffc4001f000001050101010101010000000000000000010203040506070809"
      "0a0b"
      "ffc400b5100002010303020403050504040000017d01020300041105122131410613516107227114328191a10823"
      "42b1"
      "c11552d1f02433627282090a161718191a25262728292a3435363738393a434445464748494a535455565758595a"
      "6364"
      "65666768696a737475767778797a838485868788898a92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7"
      "b8b9"
      "bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae1e2e3e4e5e6e7e8e9eaf1f2f3f4f5f6f7f8f9faffc4001f010003"
      "0101"
      "010101010101010000000000000102030405060708090a0bffc400b5110002010204040304070504040001027700"
      "0102"
      "031104052131061241510761711322328108144291a1b1c109233352f0156272d10a162434e125f11718191a2627"
      "2829"
      "2a35363738393a434445464748494a535455565758595a636465666768696a737475767778797a82838485868788"
      "898a"
      "92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae2"
      "e3e4"
      "e5e6e7e8e9eaf2f3f4f5f6f7f8f9faffda000c03010002110311003f00f40a28a2800a28a2800a28a2800a28a280"
      "0a28"
      "a2800a28a2800a28a2800a28a2800a28a2800a28a2800a28a2800a28a2803fffd9";
  std::string out;
  for (std::size_t i = 0; hex[i] != 0 && hex[i + 1] != 0; i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex + i, 2), nullptr, 16)));
  }
  return out;
}

// The GPS latitude planted in the EXIF block: 50°37'47" N, a home in Lille. Its rational
// numerators are distinctive byte patterns a test can look for in what comes back.
inline constexpr uint32_t kLatitudeSecondsTimes1000 = 47'123;

inline void put16(std::string& s, uint16_t v) {
  s.push_back(static_cast<char>(v >> 8));
  s.push_back(static_cast<char>(v & 0xff));
}
inline void put32(std::string& s, uint32_t v) {
  put16(s, static_cast<uint16_t>(v >> 16));
  put16(s, static_cast<uint16_t>(v & 0xffff));
}

// An APP1 "Exif" segment (big-endian TIFF): IFD0 with Orientation = orientation and a pointer to
// a GPS IFD holding GPSLatitudeRef "N" and GPSLatitude 50/1 37/1 47123/1000.
inline std::string exif_segment(uint16_t orientation) {
  std::string tiff = "MM";
  put16(tiff, 42);
  put32(tiff, 8);
  // IFD0 at 8: 2 entries (12 bytes each), next IFD 0 → ends at 8 + 2 + 24 + 4 = 38.
  put16(tiff, 2);
  put16(tiff, 0x0112), put16(tiff, 3), put32(tiff, 1), put16(tiff, orientation), put16(tiff, 0);
  put16(tiff, 0x8825), put16(tiff, 4), put32(tiff, 1), put32(tiff, 38);
  put32(tiff, 0);
  // GPS IFD at 38: 2 entries, next 0 → ends at 38 + 2 + 24 + 4 = 68; the rationals follow.
  put16(tiff, 2);
  put16(tiff, 0x0001), put16(tiff, 2), put32(tiff, 2), tiff += std::string("N\0\0\0", 4);
  put16(tiff, 0x0002), put16(tiff, 5), put32(tiff, 3), put32(tiff, 68);
  put32(tiff, 0);
  put32(tiff, 50), put32(tiff, 1), put32(tiff, 37), put32(tiff, 1);
  put32(tiff, kLatitudeSecondsTimes1000), put32(tiff, 1000);
  std::string segment = "\xFF\xE1";
  const std::string payload = std::string("Exif\0\0", 6) + tiff;
  put16(segment, static_cast<uint16_t>(payload.size() + 2));
  return segment + payload;
}

// plain_jpeg() with the EXIF segment right after its SOI marker, where cameras write it.
inline std::string jpeg_with_gps(uint16_t orientation = 6) {
  const std::string jpeg = plain_jpeg();
  return jpeg.substr(0, 2) + exif_segment(orientation) + jpeg.substr(2);
}

// True when `bytes` still hold the planted latitude's seconds rational (47123 / 1000).
inline bool holds_planted_gps(std::string_view bytes) {
  std::string pattern;
  put32(pattern, kLatitudeSecondsTimes1000);
  put32(pattern, 1000);
  return bytes.find(pattern) != std::string_view::npos;
}

// A Windows executable's first bytes ("MZ", the DOS stub): what a renamed .exe starts with.
inline std::string windows_executable() {
  std::string exe = "MZ\x90";
  exe += std::string("\x00\x03\x00\x00\x00\x04\x00\x00\x00\xFF\xFF\x00\x00", 13);
  exe += "This program cannot be run in DOS mode.\r\r\n$";
  exe.resize(2048, '\0');
  return exe;
}

inline const std::string kBoundary = "----maillon-test-7MA4YWxkTrZu0gW";

inline std::string multipart_body(std::string_view file, std::string_view filename,
                                  std::string_view content_type, std::string_view field = "file") {
  std::string b = "--" + kBoundary + "\r\n";
  b += "Content-Disposition: form-data; name=\"" + std::string(field) + "\"; filename=\"" +
       std::string(filename) + "\"\r\n";
  b += "Content-Type: " + std::string(content_type) + "\r\n\r\n";
  b += file;
  b += "\r\n--" + kBoundary + "--\r\n";
  return b;
}

// An answer read up to its end: Content-Length bytes after the head, the last chunk of a chunked
// body, or the connection's close (a server may keep it open after an answer).
inline std::string read_answer(int fd) {
  std::string raw;
  char buf[65536];
  for (;;) {
    const auto head_end = raw.find("\r\n\r\n");
    if (head_end != std::string::npos) {
      std::string head = raw.substr(0, head_end);
      for (char& ch : head) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      const auto length = head.find("\r\ncontent-length:");
      if (length != std::string::npos) {
        const std::size_t size = std::stoul(head.substr(length + 17));
        if (raw.size() >= head_end + 4 + size) return raw;
      } else if (head.find("transfer-encoding: chunked") != std::string::npos) {
        if (raw.size() >= 5 && raw.compare(raw.size() - 5, 5, "0\r\n\r\n") == 0) return raw;
      }
    }
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return raw;
    raw.append(buf, static_cast<std::size_t>(n));
  }
}

// One raw HTTP/1.1 request (the harness's client always says application/json).
inline HttpResult raw_request(const std::string& base_url, const std::string& method,
                              const std::string& path, const std::string& token,
                              const std::string& content_type, const std::string& body) {
  const auto colon = base_url.rfind(':');
  const int port = std::stoi(base_url.substr(colon + 1));
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  timeval tv{30, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  HttpResult out;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return out;
  }
  std::string req = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  if (!token.empty()) req += "Authorization: Bearer " + token + "\r\n";
  if (!content_type.empty()) req += "Content-Type: " + content_type + "\r\n";
  if (method != "GET") req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  req += "\r\n" + body;
  std::size_t sent = 0;
  while (sent < req.size()) {
    const ssize_t n = ::send(fd, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<std::size_t>(n);
  }
  const std::string raw = read_answer(fd);
  ::close(fd);
  const auto head_end = raw.find("\r\n\r\n");
  if (raw.size() < 12 || head_end == std::string::npos) return out;
  out.status = std::stoi(raw.substr(9, 3));
  std::size_t at = raw.find("\r\n") + 2;
  while (at < head_end) {
    const auto eol = raw.find("\r\n", at);
    const std::string line = raw.substr(at, eol - at);
    const auto c = line.find(':');
    if (c != std::string::npos) {
      std::string name = line.substr(0, c);
      for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      std::string value = line.substr(c + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      out.headers[name] = value;
    }
    at = eol + 2;
  }
  out.body = raw.substr(head_end + 4);
  // Chunked answers (nginx may chunk): joined back into one body.
  if (out.headers.count("transfer-encoding") && out.headers["transfer-encoding"] == "chunked") {
    std::string joined;
    std::size_t p = 0;
    while (p < out.body.size()) {
      const auto eol = out.body.find("\r\n", p);
      if (eol == std::string::npos) break;
      const std::size_t size = std::stoul(out.body.substr(p, eol - p), nullptr, 16);
      if (size == 0) break;
      joined += out.body.substr(eol + 2, size);
      p = eol + 2 + size + 2;
    }
    out.body = joined;
  }
  return out;
}

inline HttpResult upload(const std::string& base_url, const std::string& token,
                         std::string_view file, std::string_view filename = "photo.jpg",
                         std::string_view content_type = "image/jpeg") {
  return raw_request(base_url, "POST", "/v1/photos", token,
                     "multipart/form-data; boundary=" + kBoundary,
                     multipart_body(file, filename, content_type));
}

}  // namespace maillon::testing::photos
