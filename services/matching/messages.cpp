// The matching service's message table: what each result code answers, in French.
#include "services/matching/messages.hpp"

namespace maillon::matching_service {
namespace {

using C = MatchingCode;

// One field of /v1/nearby's query string; several are collected under invalid_parameters.
constexpr ProblemText nearby_row(std::string_view field, std::string_view message) {
  return field_row(field, message, "Paramètres invalides.");
}

// "{low}" and "{high}" stand for a number's bounds.
constexpr std::string_view kLowSlot = "{low}";
constexpr std::string_view kHighSlot = "{high}";

constexpr MessageRow<MatchingCode> kMessages[] = {
    {C::not_found, {.status = 404, .code = "not-found", .detail_fr = "Ressource introuvable."}},
    {C::listing_with_member,
     field_row("member", "ne peut pas accompagner listing", "Paramètres incompatibles.")},
    {C::member_not_me,
     field_row("member", "seule la valeur me est acceptée", "Paramètre invalide.")},
    {C::listing_or_member_missing,
     field_row("listing", "indiquez listing=offer:{id} ou member=me", "Paramètre manquant.")},
    {C::invalid_listing_ref,
     field_row("listing", "doit valoir offer:{id} ou request:{id}", "Paramètre invalide.")},
    {C::invalid_cursor, field_row("cursor", "curseur inconnu", "Curseur invalide.")},
    {C::invalid_parameters,
     {.status = 400, .code = "invalid-input", .detail_fr = "Paramètres invalides."}},
    {C::number_out_of_range, nearby_row("", "doit être un nombre entre {low} et {high}")},
    {C::unknown_category, nearby_row("category", "catégorie inconnue")},
    {C::invalid_kind, nearby_row("kind", "doit valoir offer ou request")},
    {C::query_text_too_long, nearby_row("q", "200 caractères au plus")},
};

void fill(std::string& text, std::string_view slot, const std::string& value) {
  if (auto at = text.find(slot); at != std::string::npos) text.replace(at, slot.size(), value);
}

}  // namespace

std::span<const MessageRow<MatchingCode>> message_table() {
  return kMessages;
}

ApiError problem(MatchingCode code, FieldErrors errors) {
  const ProblemText& row = problem_text(message_table(), code);
  if (row.status == 400 && !errors.empty()) {
    return ApiError(400, std::string(row.code), std::string(problem_title(400)),
                    std::string(row.detail_fr), std::move(errors));
  }
  return problem_from(row);
}

FieldError field_error(MatchingCode code) {
  const ProblemText& row = problem_text(message_table(), code);
  return {std::string(row.field), std::string(row.detail_fr)};
}

FieldError number_out_of_range(const std::string& field, int low, int high) {
  FieldError error = field_error(MatchingCode::number_out_of_range);
  error.field = field;
  fill(error.message, kLowSlot, std::to_string(low));
  fill(error.message, kHighSlot, std::to_string(high));
  return error;
}

}  // namespace maillon::matching_service
