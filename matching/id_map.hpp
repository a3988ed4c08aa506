// ListingId -> slot map for the engine: open addressing over 4-byte slot numbers only (the ids
// themselves live once, in the engine's slot array), so it costs about 8 bytes per listing
// instead of the ~50 of an unordered_map node.
#pragma once

#include <cstdint>
#include <vector>

#include "matching/listing.hpp"

namespace maillon::matching {

class IdMap {
 public:
  static constexpr uint32_t kNone = UINT32_MAX;

  // ids_of_slots is the engine's slot -> id array, read to compare keys.
  uint32_t find(ListingId id, const std::vector<ListingId>& ids_of_slots) const;
  void insert(ListingId id, uint32_t slot, const std::vector<ListingId>& ids_of_slots);
  void erase(ListingId id, const std::vector<ListingId>& ids_of_slots);
  void clear_and_reserve(std::size_t count);
  std::size_t memory_bytes() const { return table_.capacity() * sizeof(uint32_t); }

 private:
  std::size_t home(ListingId id) const;
  void grow(const std::vector<ListingId>& ids_of_slots);

  std::vector<uint32_t> table_;  // slot numbers, kNone when empty; size a power of two
  std::size_t count_ = 0;
};

}  // namespace maillon::matching
