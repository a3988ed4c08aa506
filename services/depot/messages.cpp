// The depot's message table (see messages.hpp).
#include "services/depot/messages.hpp"

namespace maillon::depot {
namespace {

// A field refused while reading a body or a query (the summary is the reader's).
constexpr ProblemText field_text(std::string_view field, std::string_view detail) {
  return field_row(field, detail, "Certains champs sont invalides.");
}

constexpr MessageRow<DepotOutcome> kOutcomes[] = {
    {DepotOutcome::not_available, {409, "not-available", "Cet objet n'est pas disponible."}},
    {DepotOutcome::not_reserved, {409, "not-reserved", "Cet objet n'est pas réservé."}},
    {DepotOutcome::not_reserver, {403, "forbidden", "La réservation est celle d'un autre membre."}},
    {DepotOutcome::reservation_limit,
     {422, "reservation-limit", "Vous avez déjà le nombre maximal de réservations."}},
    {DepotOutcome::overdue_loan, {422, "overdue-loan", "Un prêt en retard empêche d'emprunter."}},
    {DepotOutcome::wrong_mode,
     {422, "wrong-mode", "Cette action ne correspond pas au mode de l'objet."}},
    {DepotOutcome::invalid_due_date,
     {422, "invalid-due-date", "La date de retour doit être dans les 90 jours."}},
    {DepotOutcome::not_on_loan, {409, "not-on-loan", "Cet objet n'est pas prêté."}},
    {DepotOutcome::invalid_partner,
     {400, "invalid-input", "200 caractères au plus", "partner", "Partenaire invalide."}},
    {DepotOutcome::insufficient_credits,
     {422, "insufficient-credits",
      "Le membre n'a pas assez de crédits pour le coût de ce prêt : l'objet reste disponible."}},
};

constexpr MessageRow<DepotRefusal> kRefusals[] = {
    {DepotRefusal::not_found, {404, "not-found", "Ressource introuvable."}},
    {DepotRefusal::site_unknown, {404, "not-found", "Lieu inconnu."}},
    {DepotRefusal::staff_only, {403, "forbidden", "Réservé à l'équipe du lieu."}},
    {DepotRefusal::community_members_only,
     {403, "forbidden", "Réservé aux membres de la communauté du lieu."}},
    {DepotRefusal::own_deposit,
     {403, "forbidden",
      "Un membre de l'équipe n'enregistre pas son propre dépôt : un collègue le fait."}},
    {DepotRefusal::member_suspended,
     {403, "member-suspended", "Ce compte est suspendu : il ne peut pas réserver d'objet."}},
    {DepotRefusal::unknown_member,
     {400, "invalid-input", "membre inconnu dans votre communauté", "member_id",
      "Membre inconnu."}},
    {DepotRefusal::item_invalid, {400, "invalid-input", "Objet invalide."}},
    {DepotRefusal::status_unknown,
     {400, "invalid-input", "statut inconnu", "status", "Statut inconnu."}},
    {DepotRefusal::category_unknown,
     {400, "invalid-input", "catégorie inconnue", "category", "Catégorie inconnue."}},
    {DepotRefusal::cursor_invalid,
     {400, "invalid-input", "invalide", "cursor", "Curseur invalide."}},
    {DepotRefusal::due_at_invalid, field_text("due_at", "date RFC 3339 attendue")},
    {DepotRefusal::condition_unknown, field_text("condition", "new, good, fair ou for_parts")},
    {DepotRefusal::outlet_unknown, field_text("outlet", "reuse, recycle ou waste")},
    {DepotRefusal::day_invalid,
     {400, "invalid-input", "date AAAA-MM-JJ attendue", "from", "Paramètres invalides."}},
    {DepotRefusal::community_id_invalid,
     {400, "invalid-input", "uuid attendu", "community_id", "Paramètres invalides."}},
    {DepotRefusal::site_id_invalid,
     {400, "invalid-input", "uuid ou \"network\" attendu", "site_id", "Paramètres invalides."}},
    {DepotRefusal::period_reversed,
     {400, "invalid-input", "après la date de fin", "from", "Paramètres invalides."}},
    {DepotRefusal::stats_invalid, {400, "invalid-input", "Paramètres invalides."}},
};

}  // namespace

}  // namespace maillon::depot

namespace maillon {

std::span<const MessageRow<DepotOutcome>> MessageTable<DepotOutcome>::rows() {
  return depot::kOutcomes;
}
std::span<const MessageRow<depot::DepotRefusal>> MessageTable<depot::DepotRefusal>::rows() {
  return depot::kRefusals;
}

}  // namespace maillon
