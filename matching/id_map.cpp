// Linear probing with backward-shift deletion: no tombstones, so lookups stay short after
// any number of updates; the load factor is kept at or below 1/2.
#include "matching/id_map.hpp"

#include <bit>

#include "exchange/invariant.hpp"

namespace maillon::matching {

std::size_t IdMap::home(ListingId id) const {
  // UUIDs v4/v7 already carry random bits; the multiply mixes both halves anyway.
  const uint64_t h = (id.hi ^ (id.lo * 0x9E3779B97F4A7C15ULL)) * 0xBF58476D1CE4E5B9ULL;
  return static_cast<std::size_t>(h >> 32) & (table_.size() - 1);
}

uint32_t IdMap::find(ListingId id, const std::vector<ListingId>& ids_of_slots) const {
  if (table_.empty()) return kNone;
  const std::size_t mask = table_.size() - 1;
  for (std::size_t i = home(id);; i = (i + 1) & mask) {
    const uint32_t slot = table_[i];
    if (slot == kNone || ids_of_slots[slot] == id) return slot;
  }
}

void IdMap::insert(ListingId id, uint32_t slot, const std::vector<ListingId>& ids_of_slots) {
  if ((count_ + 1) * 2 > table_.size()) grow(ids_of_slots);
  const std::size_t mask = table_.size() - 1;
  std::size_t i = home(id);
  while (table_[i] != kNone) {
    MAILLON_INVARIANT(ids_of_slots[table_[i]] != id, "an id is inserted once");
    i = (i + 1) & mask;
  }
  table_[i] = slot;
  ++count_;
}

void IdMap::erase(ListingId id, const std::vector<ListingId>& ids_of_slots) {
  if (table_.empty()) return;
  const std::size_t mask = table_.size() - 1;
  std::size_t i = home(id);
  while (table_[i] != kNone && ids_of_slots[table_[i]] != id) i = (i + 1) & mask;
  if (table_[i] == kNone) return;
  // Shift back every following entry that the hole would make unreachable.
  for (std::size_t j = (i + 1) & mask; table_[j] != kNone; j = (j + 1) & mask) {
    const std::size_t h = home(ids_of_slots[table_[j]]);
    const bool hole_between = i <= j ? (h <= i || h > j) : (h <= i && h > j);
    if (hole_between) {
      table_[i] = table_[j];
      i = j;
    }
  }
  table_[i] = kNone;
  --count_;
}

void IdMap::clear_and_reserve(std::size_t count) {
  count_ = 0;
  table_.assign(std::bit_ceil(std::max<std::size_t>(16, count * 2)), kNone);
}

void IdMap::grow(const std::vector<ListingId>& ids_of_slots) {
  std::vector<uint32_t> old;
  old.swap(table_);
  table_.assign(std::max<std::size_t>(16, old.size() * 2), kNone);
  const std::size_t mask = table_.size() - 1;
  for (uint32_t slot : old) {
    if (slot == kNone) continue;
    std::size_t i = home(ids_of_slots[slot]);
    while (table_[i] != kNone) i = (i + 1) & mask;
    table_[i] = slot;
  }
}

}  // namespace maillon::matching
