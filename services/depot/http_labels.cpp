// GET /v1/sites/{id}/labels.pdf?items=<id>,<id>… (staff of the site): the label sheet of the
// named depot items and lendable offers of the site, or of all of them (up to kLabelsMax) when
// none is named; and the reading of a scan (labels.hpp).
#include <cctype>

#include "services/common/auth.hpp"
#include "services/common/config.hpp"
#include "services/common/errors.hpp"
#include "services/common/http.hpp"
#include "services/common/json_body.hpp"
#include "services/common/service.hpp"
#include "services/depot/depot.hpp"
#include "services/depot/labels.hpp"
#include "services/depot/labels_pdf.hpp"
#include "services/depot/labels_repository.hpp"

namespace maillon::depot {
namespace {

constexpr std::size_t kScanCharsMax = 2000;

bool is_hex(char c) {
  return std::isxdigit(static_cast<unsigned char>(c)) != 0;
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// ?items=a,b,c: each a UUID, at most kLabelsMax, duplicates dropped; nothing when absent.
std::optional<std::vector<std::string>> named_ids(const Request& req) {
  const auto text = req.query_value("items");
  if (!text || text->empty()) return std::nullopt;
  std::vector<std::string> ids;
  std::size_t start = 0;
  while (start <= text->size()) {
    const std::size_t comma = std::min(text->find(',', start), text->size());
    const std::string id = lower(std::string_view(*text).substr(start, comma - start));
    if (!is_uuid(id)) {
      throw invalid_input("Les objets à étiqueter sont désignés par leurs identifiants.",
                          {{"items", "identifiant invalide : " + id.substr(0, 40)}});
    }
    if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
    if (ids.size() > kLabelsMax) {
      throw invalid_input("Une planche compte au plus 84 étiquettes.",
                          {{"items", "au plus 84 objets"}});
    }
    start = comma + 1;
  }
  return ids;
}

class LabelRoutes {
 public:
  explicit LabelRoutes(std::shared_ptr<const DepotContext> c)
      : c_(std::move(c)),
        public_url_(Config::url("MAILLON_PUBLIC_URL", "http://127.0.0.1:8080", {"http", "https"})) {
    while (!public_url_.empty() && public_url_.back() == '/') public_url_.pop_back();
  }

  Response sheet(const Request& req) {
    const Identity who = c_->service.auth.require(req);
    const std::string site_id = req.param("id");
    if (!is_uuid(site_id)) throw not_found("Lieu introuvable.");
    if (!who.is_staff_of(site_id)) {
      throw forbidden("Seule l'équipe de ce lieu imprime ses étiquettes.");
    }
    const auto ids = named_ids(req);
    const std::vector<Label> labels =
        c_->service.db.transact([&](pqxx::work& tx) { return labels_of(tx, site_id, ids); });
    Response r = Response::text(200, labels_pdf(labels), "application/pdf");
    r.headers.emplace_back("Content-Disposition", "inline; filename=\"etiquettes.pdf\"");
    r.headers.emplace_back("Cache-Control", "no-store");
    return r;
  }

 private:
  std::shared_ptr<const DepotContext> c_;
  std::string public_url_;

  std::vector<Label> labels_of(pqxx::work& tx, const std::string& site_id,
                               const std::optional<std::vector<std::string>>& ids) const {
    const int limit = static_cast<int>(kLabelsMax);
    std::vector<LabelRow> rows = site_item_labels(tx, site_id, ids, limit);
    for (LabelRow& row : site_lend_labels(tx, site_id, ids, limit)) rows.push_back(std::move(row));
    if (ids && rows.size() != ids->size()) {
      throw invalid_input("Un des objets n'est ni au dépôt de ce lieu ni prêté depuis ce lieu.",
                          {{"items", "objet inconnu dans ce lieu"}});
    }
    if (rows.size() > kLabelsMax) rows.resize(kLabelsMax);
    std::vector<Label> labels;
    labels.reserve(rows.size());
    for (const LabelRow& row : rows) {
      labels.push_back({public_url_ + "/annonces/offre/" + row.id, row.title, short_code(row.id)});
    }
    return labels;
  }
};

}  // namespace

std::optional<ScannedCode> read_scanned_code(std::string_view text) {
  text = text.substr(0, kScanCharsMax);
  // The last UUID in the text: the page URL ends with it, a bare id is one.
  for (std::size_t end = text.size(); end >= 36; --end) {
    const std::string candidate = lower(text.substr(end - 36, 36));
    if (is_uuid(candidate)) return ScannedCode{candidate, ""};
  }
  // A short code: its 8 hex digits, whatever dashes, spaces or case the typist used.
  std::string digits;
  for (char c : text) {
    if (is_hex(c)) {
      digits += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else if (c != '-' && c != ' ') {
      return std::nullopt;
    }
  }
  if (digits.size() != 8) return std::nullopt;
  return ScannedCode{"", digits};
}

std::vector<std::string> scanned_items(pqxx::work& tx, const std::string& site_id,
                                       const ScannedCode& code) {
  if (!code.id.empty()) return {code.id};
  return items_by_code(tx, site_id, code.prefix);
}

void register_label_routes(const std::shared_ptr<const DepotContext>& context) {
  auto routes = std::make_shared<LabelRoutes>(context);
  context->service.http.route("GET", "/v1/sites/{id}/labels.pdf",
                              [routes](const Request& req) { return routes->sheet(req); });
}

}  // namespace maillon::depot
