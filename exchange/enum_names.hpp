// Enums and their names: a table of {value, name} rows per enum, read both ways.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace maillon {

// One row of an enum's table of names: the names are the wire format (events, JSON, SQL columns),
// written and read through these tables only.
template <class E>
struct EnumName {
  E value;
  std::string_view name;
};

template <class E>
std::optional<E> enum_from_name(std::span<const EnumName<E>> table, std::string_view name) {
  for (const auto& row : table) {
    if (row.name == name) return row.value;
  }
  return std::nullopt;
}

template <class E>
std::string_view enum_name(std::span<const EnumName<E>> table, E value) {
  for (const auto& row : table) {
    if (row.value == value) return row.name;
  }
  return {};
}

// The same on a table (an array of EnumName), its type deduced.
template <class E, std::size_t N>
std::optional<E> enum_from_name(const EnumName<E> (&table)[N], std::string_view name) {
  return enum_from_name(std::span<const EnumName<E>>(table), name);
}
template <class E, std::size_t N>
std::string_view enum_name(const EnumName<E> (&table)[N], E value) {
  return enum_name(std::span<const EnumName<E>>(table), value);
}

// The names of `values` in `table`, in their order.
template <class E, std::size_t N>
std::vector<std::string> enum_names(const EnumName<E> (&table)[N],
                                    std::initializer_list<E> values) {
  std::vector<std::string> names;
  for (const E value : values) names.emplace_back(enum_name(table, value));
  return names;
}

}  // namespace maillon
