// Cursors are base64url of the service's own position string (e.g. "<created_at>|<id>"), so
// clients treat them as opaque and a page boundary never depends on an offset.
#include "services/common/pagination.hpp"

#include <sodium.h>

#include <vector>

#include "services/common/errors.hpp"
#include "services/common/http.hpp"

namespace maillon {

std::string encode_cursor(const std::string& position) {
  std::vector<char> out(
      sodium_base64_ENCODED_LEN(position.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING));
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(position.data()),
                    position.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  return out.data();
}

PageRequest page_request(const Request& request) {
  PageRequest page;
  if (auto limit = request.query_value("limit")) {
    std::size_t used = 0;
    int value = 0;
    try {
      value = std::stoi(*limit, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != limit->size() || value < 1 || value > kPageMax) {
      throw invalid_input(
          "Paramètre limit invalide.",
          {{"limit", "doit être un entier entre 1 et " + std::to_string(kPageMax)}});
    }
    page.limit = value;
  }
  if (auto cursor = request.query_value("cursor"); cursor && !cursor->empty()) {
    std::vector<unsigned char> bin(cursor->size());
    std::size_t len = 0;
    if (cursor->size() > 512 ||
        sodium_base642bin(bin.data(), bin.size(), cursor->data(), cursor->size(), nullptr, &len,
                          nullptr, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0) {
      throw invalid_input("Curseur invalide.", {{"cursor", "curseur inconnu ou altéré"}});
    }
    page.cursor.assign(reinterpret_cast<const char*>(bin.data()), len);
  }
  return page;
}

}  // namespace maillon
