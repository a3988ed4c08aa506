// Titles by status and the rendering of a message-table row as an ApiError.
#include "services/common/problems.hpp"

namespace maillon {

std::string_view problem_title(int status, Lang) {
  switch (status) {
    case 400:
      return "Requête invalide";
    case 401:
      return "Authentification requise";
    case 403:
      return "Action non autorisée";
    case 404:
      return "Introuvable";
    case 409:
      return "Conflit avec l'état actuel";
    case 410:
      return "Ressource disparue";
    case 413:
      return "Corps de requête trop volumineux";
    case 422:
      return "Règle métier non respectée";
    case 429:
      return "Trop de requêtes";
    case 503:
      return "Service momentanément indisponible";
    default:
      return "Erreur";
  }
}

ApiError problem_from(const ProblemText& row, Lang lang) {
  const std::string title(row.title_fr.empty() ? problem_title(row.status, lang) : row.title_fr);
  if (row.status == 400) {
    FieldErrors errors;
    if (!row.field.empty()) errors.push_back({std::string(row.field), std::string(row.detail_fr)});
    return ApiError(400, row.code.empty() ? "invalid-input" : std::string(row.code), title,
                    row.field.empty()        ? std::string(row.detail_fr)
                    : row.summary_fr.empty() ? std::string("Requête invalide.")
                                             : std::string(row.summary_fr),
                    std::move(errors));
  }
  return ApiError(row.status, std::string(row.code), title, std::string(row.detail_fr));
}

}  // namespace maillon
