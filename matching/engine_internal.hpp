// Internals shared by the engine's update and query files: grid constants, fixed-point and
// word-set helpers, and the description of one query (Probe).
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <optional>
#include <vector>

#include "matching/engine.hpp"

namespace maillon::matching {
namespace detail {

constexpr int32_t kCellLatFixed = 100'000;  // 0.01°
constexpr int32_t kCellLonFixed = 150'000;  // 0.015°: about square at the region's latitude
constexpr double kMetresPerFixed = kMetresPerDegree / 1e7;
// The local projection (cosine of the query's latitude for every candidate) misjudges a
// distance of up to ~150 km (bounding box of the largest reach) by at most
// tan(70°) * (150 km / R) / 2 ~ 3.3 % below 70° of latitude; 5 % leaves a margin.
// tests/unit/matching/geo_test.cpp checks it on random pairs.
constexpr double kProjectionErrorRatio = 0.05;
constexpr double kLowerRatio = 1.0 - kProjectionErrorRatio;
constexpr uint8_t kFreeSlot = 0xFF;

inline int64_t floor_div(int64_t value, int64_t step) {
  const int64_t q = value / step;
  return (value % step != 0 && value < 0) ? q - 1 : q;
}

inline uint64_t cell_key(int64_t row, int64_t col) {
  return (static_cast<uint64_t>(row + (int64_t{1} << 31)) << 32) |
         static_cast<uint64_t>(col + (int64_t{1} << 31));
}

inline Words normalized(Words words) {
  std::sort(words.begin(), words.end());
  auto last = std::unique(words.begin(), words.end());
  std::fill(last, words.end(), 0u);
  auto first_nonzero = std::find_if(words.begin(), words.end(), [](uint32_t w) { return w != 0; });
  std::rotate(words.begin(), first_nonzero, words.end());
  return words;
}

inline uint32_t word_count(const Words& words) {
  return static_cast<uint32_t>(std::find(words.begin(), words.end(), 0u) - words.begin());
}

inline uint32_t shared_words(const Words& a, uint32_t a_count, const Words& b, uint32_t b_count) {
  uint32_t shared = 0;
  for (uint32_t i = 0, j = 0; i < a_count && j < b_count;) {
    if (a[i] == b[j]) {
      ++shared, ++i, ++j;
    } else if (a[i] < b[j]) {
      ++i;
    } else {
      ++j;
    }
  }
  return shared;
}

inline bool valid_point(GeoPoint p) {
  return std::isfinite(p.lat) && std::isfinite(p.lon) && std::abs(p.lat) <= kMaxAbsLatDeg &&
         p.lon >= -180.0 && p.lon < 180.0;
}

inline uint8_t flags_of(const Listing& l) {
  return static_cast<uint8_t>(static_cast<uint8_t>(l.side) | static_cast<uint8_t>(l.mode) << 1 |
                              static_cast<uint8_t>(l.kind) << 3);
}

inline std::size_t partition_of(CategoryId category, Side side) {
  return std::size_t{category} * 2 + static_cast<std::size_t>(side);
}

// One bit of a 64-bit filter per word hash (multiplicative mixing, so that small or similar
// hashes still spread over the bits).
inline uint64_t word_bit(uint32_t word) {
  return uint64_t{1} << ((word * 0x9E37'79B9u) >> 26);
}

inline uint64_t word_bits(const Words& words) {
  uint64_t bits = 0;
  for (uint32_t word : words) bits |= word == 0 ? 0 : word_bit(word);
  return bits;
}

// The cells' word filters: one bit per word out of 64 << log2_words bits, chosen by the top bits
// of a 64-bit multiplicative hash (so that every size takes its bit from the same hash).
inline uint64_t word_hash(uint32_t word) {
  return uint64_t{word} * 0x9E37'79B9'7F4A'7C15ull;
}

inline uint64_t filter_bit_index(uint64_t hash, uint8_t log2_words) {
  return hash >> (58 - log2_words);
}

template <class T>
inline std::size_t bytes_of(const std::vector<T>& v) {
  return v.capacity() * sizeof(T);
}

}  // namespace detail

struct Engine::Probe {
  GeoPoint point;  // snapped
  int32_t lat_fixed = 0;
  int32_t lon_fixed = 0;
  double metres_per_fixed_lon = 0;
  uint32_t radius_m = 0;
  bool limit_by_candidate_reach = false;  // matches: within reach of both sides
  std::vector<std::size_t> partitions;
  bool check_pairing = false;  // matches: modes and windows
  Side side = Side::offer;
  Mode mode = Mode::give;
  std::optional<MemberIndex> excluded_member;
  int64_t from_s = 0;
  int64_t until_s = 0;
  int64_t now_s = 0;
  Words words{};
  uint32_t word_count = 0;
  uint64_t word_bits = 0;  // filter of `words`: most words of a candidate fail it at once
  std::array<uint64_t, kMaxWords> word_hashes{};  // word_hash of each word, for cell filters
  std::size_t k = 0;
};

// Squared distances (in the projection, lowered by kLowerRatio) past which a candidate cannot
// enter the top k: plain_m2 for one sharing no word with the query, words_m2 for any.
struct Engine::Cutoff {
  double plain_m2 = std::numeric_limits<double>::infinity();
  double words_m2 = std::numeric_limits<double>::infinity();
};

}  // namespace maillon::matching
