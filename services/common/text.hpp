// Small text helpers shared by the services (nothing heavy to include).
#pragma once

#include <cctype>
#include <string>

namespace maillon {

// Letters A-Z in lower case, nothing else changed: how the services compare what may come in
// either case (a UUID, an ASCII address).
inline std::string lowercase_ascii(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

}  // namespace maillon
