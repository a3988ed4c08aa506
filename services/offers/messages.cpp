// The listing service's message table: what each result code answers, in French.
#include "services/offers/messages.hpp"

namespace maillon::listings {
namespace {

using C = ListingCode;

// A 400 listing several fields (they travel with the code).
constexpr ProblemText fields_row(std::string_view summary) {
  return {.status = 400, .code = "invalid-input", .detail_fr = summary};
}
// One field of the query string; a 400 naming several collects them under invalid_parameters.
constexpr ProblemText query_row(std::string_view field, std::string_view message) {
  return {.status = 400,
          .code = "invalid-input",
          .detail_fr = message,
          .field = field,
          .summary_fr = "Certains paramètres sont invalides."};
}

// "{status}" in a sentence stands for the listing's current status.
constexpr std::string_view kStatusSlot = "{status}";

constexpr MessageRow<ListingCode> kMessages[] = {
    {C::listing_not_found,
     {.status = 404, .code = "not-found", .detail_fr = "Annonce introuvable."}},
    {C::member_suspended,
     {.status = 403,
      .code = "member-suspended",
      .detail_fr = "Ce compte est suspendu : il ne peut pas publier d'annonce."}},
    {C::depot_listing, forbidden_row("Cet objet se gère au dépôt du lieu.")},
    {C::not_editor,
     forbidden_row("Seuls son auteur et l'équipe de son lieu modifient cette annonce.")},
    {C::not_community_member, forbidden_row("Seuls les membres d'une communauté publient.")},
    {C::invalid_fields, fields_row("Certains champs sont invalides.")},
    {C::unknown_site,
     {.status = 400,
      .code = "invalid-input",
      .detail_fr = "lieu inconnu dans votre communauté",
      .field = "site_id",
      .summary_fr = "Lieu inconnu."}},
    {C::status_conflict,
     {.status = 409,
      .code = "listing-status",
      .detail_fr = "Cette annonce ne peut plus passer à ce statut ({status})."}},
    {C::reserved,
     {.status = 409,
      .code = "listing-reserved",
      .detail_fr = "Annonce réservée par un échange en cours : annulez d'abord l'échange."}},
    {C::unsettable_fields, fields_row("Certains champs ne peuvent pas être envoyés.")},
    {C::invalid_parameters, fields_row("Certains paramètres sont invalides.")},
    {C::radius_without_near, query_row("radius_km", "s'emploie avec near=lat,lon")},
    {C::invalid_near, query_row("near", "doit valoir lat,lon (par exemple 50.63,3.06)")},
    {C::invalid_radius, query_row("radius_km", "doit être compris entre 0 et 100 km")},
    {C::invalid_site_filter, query_row("site_id", "doit être un identifiant (UUID)")},
    {C::invalid_member_filter, query_row("member_id", "doit être un identifiant (UUID)")},
    {C::invalid_status_filter,
     query_row("status", "doit valoir active, paused, reserved, closed ou expired")},
    {C::invalid_kind_filter, query_row("kind", "doit valoir « good » ou « service »")},
    {C::invalid_mode_filter,
     query_row("mode", "doit valoir « give », « lend », « swap » ou « service »")},
    {C::invalid_cursor, query_row("cursor", "curseur inconnu ou altéré")},
    {C::search_text_too_long, query_row("q", "au plus 200 caractères")},
    {C::search_text_not_utf8, query_row("q", "doit être un texte UTF-8 valide")},
    {C::unknown_category, query_row("category", "catégorie inconnue")},
};

}  // namespace

std::span<const MessageRow<ListingCode>> message_table() {
  return kMessages;
}

ApiError problem(ListingCode code, FieldErrors errors, const std::string& status) {
  const ProblemText& row = problem_text(message_table(), code);
  if (row.status == 400 && !errors.empty()) {
    return ApiError(400, std::string(row.code), std::string(problem_title(400)),
                    std::string(row.detail_fr), std::move(errors));
  }
  std::string detail(row.detail_fr);
  if (auto slot = detail.find(kStatusSlot); slot != std::string::npos) {
    detail.replace(slot, kStatusSlot.size(), status);
    ProblemText filled = row;
    filled.detail_fr = detail;
    return problem_from(filled);
  }
  return problem_from(row);
}

FieldError field_error(ListingCode code) {
  const ProblemText& row = problem_text(message_table(), code);
  return {std::string(row.field), std::string(row.detail_fr)};
}

}  // namespace maillon::listings
