// Labels and scans: GET /v1/sites/{id}/labels.pdf (http_labels.cpp) prints a QR label per depot
// item or lendable object of a site; each QR holds the object's page URL
// (MAILLON_PUBLIC_URL/annonces/offre/<id>: a depot item is shown as an offer with its own id),
// with a short code under it. The kiosk and the desk read back what a scanner types: the URL,
// the bare id, or the short code (GET /v1/sites/{id}/items?code=).
#pragma once

#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <string_view>
#include <vector>

namespace maillon::depot {

// What a scan names: a whole id (from the URL or typed), or the 8 hex digits of a short code.
struct ScannedCode {
  std::string id;      // a UUID, lower case, or ""
  std::string prefix;  // 8 lower-case hex digits, or ""
};
// Nothing when the text holds neither (at most 2000 characters are looked at).
std::optional<ScannedCode> read_scanned_code(std::string_view text);

// The ids of the site's items the scan names (at most two: a short code may be ambiguous).
std::vector<std::string> scanned_items(pqxx::work& tx, const std::string& site_id,
                                       const ScannedCode& code);

}  // namespace maillon::depot
