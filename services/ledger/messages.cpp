// The ledger's message table (see messages.hpp).
#include "services/ledger/messages.hpp"

#include "services/ledger/ledger_service.hpp"

namespace maillon::ledger {
namespace {

// A 400 of a transfer's field: the field at fault, under the summary "Transfert invalide.".
constexpr ProblemText invalid_transfer(std::string_view field, std::string_view detail) {
  return field_row(field, detail, "Transfert invalide.");
}

constexpr MessageRow<LedgerOutcome> kOutcomes[] = {
    {LedgerOutcome::exists_with_different_body,
     {409, "exists-with-different-body",
      "Cet identifiant de transfert existe déjà avec un autre contenu."}},
    {LedgerOutcome::invalid_id, invalid_transfer("id", "identifiant de 1 à 64 octets")},
    {LedgerOutcome::invalid_amount, invalid_transfer("minutes", "montant hors des bornes")},
    {LedgerOutcome::invalid_timeout,
     invalid_transfer("timeout_s", "délai invalide pour ce transfert")},
    {LedgerOutcome::invalid_memo,
     invalid_transfer("memo", "mémo trop long ou contenant un octet nul")},
    {LedgerOutcome::invalid_ref,
     invalid_transfer("ref", "référence trop longue ou contenant un octet nul")},
    {LedgerOutcome::same_account,
     {422, "same-account", "Un compte ne peut pas se payer lui-même."}},
    {LedgerOutcome::account_not_found,
     {404, "account-not-found", "Compte introuvable dans cette communauté."}},
    {LedgerOutcome::insufficient_credits,
     {422, "insufficient-credits", "Crédits disponibles insuffisants."}},
    {LedgerOutcome::balance_cap,
     {422, "balance-cap", "Le solde du bénéficiaire dépasserait le plafond."}},
    {LedgerOutcome::not_found, {404, "not-found", "Transfert introuvable."}},
    {LedgerOutcome::already_posted, {409, "already-posted", "Ce transfert est déjà validé."}},
    {LedgerOutcome::already_voided, {409, "already-voided", "Ce transfert est déjà annulé."}},
    {LedgerOutcome::expired, {409, "expired", "Ce transfert a expiré."}},
    {LedgerOutcome::exceeds_pending,
     {422, "exceeds-pending", "Montant supérieur au montant réservé."}},
};

static_assert(kTransferBatchItemsMax == 1000, "batch_items_invalid's text names the limit");

constexpr MessageRow<LedgerRefusal> kRefusals[] = {
    {LedgerRefusal::not_in_community, {403, "forbidden", "Il faut appartenir à une communauté."}},
    // Trust refusals (api.md, "Trust"): each has its own problem type, so that a client can tell
    // a rule of the community from a missing role.
    {LedgerRefusal::membership_pending,
     {403, "membership-pending",
      "Votre adhésion attend la validation de l'équipe : les transferts s'ouvriront ensuite."}},
    {LedgerRefusal::account_suspended, {403, "forbidden", "Ce compte est suspendu."}},
    {LedgerRefusal::pays_from_own_account_only,
     {403, "forbidden",
      "On ne paie que depuis son propre compte ; le personnel agit pour le membre "
      "(X-On-Behalf-Of)."}},
    {LedgerRefusal::self_grant,
     {403, "self-grant", "Le personnel ne s'accorde pas de crédits à lui-même."}},
    {LedgerRefusal::owned_by_saga,
     {403, "owned-by-saga",
      "Ce transfert appartient à un échange ou à un service de Maillon : lui seul le valide ou "
      "l'annule."}},
    {LedgerRefusal::transfer_not_found, {404, "not-found", "Transfert introuvable."}},
    {LedgerRefusal::only_payer_posts, {403, "forbidden", "Seul le payeur valide ce transfert."}},
    {LedgerRefusal::grant_not_found, {404, "not-found", "Demande de crédit introuvable."}},
    {LedgerRefusal::four_eyes,
     {403, "four-eyes",
      "Une autre personne que le demandeur et le bénéficiaire doit approuver ce crédit."}},
    {LedgerRefusal::approver_not_site_staff,
     {403, "forbidden",
      "Seul le personnel d'un site du demandeur, ou un administrateur, approuve ce crédit."}},
    {LedgerRefusal::role_forbidden, {403, "forbidden", "Votre rôle ne permet pas cette action."}},
    {LedgerRefusal::account_not_found, {404, "not-found", "Compte introuvable."}},
    {LedgerRefusal::community_not_found, {404, "not-found", "Communauté introuvable."}},
    {LedgerRefusal::body_not_object, invalid_transfer("body", "objet JSON attendu")},
    {LedgerRefusal::timeout_without_hold,
     invalid_transfer("timeout_s", "un délai ne vaut que pour une réservation")},
    {LedgerRefusal::batch_items_invalid,
     {400, "invalid-input", "liste de 1 à 1000 transferts attendue", "transfers"}},
    {LedgerRefusal::community_id_missing,
     {400, "invalid-input", "identifiant attendu", "community_id", "Communauté manquante."}},
    {LedgerRefusal::grant_state_unknown,
     {400, "invalid-input", "awaiting_review ou approved", "state", "État inconnu."}},
    {LedgerRefusal::cursor_invalid,
     {400, "invalid-input", "curseur inconnu ou altéré", "cursor", "Curseur invalide."}},
};

}  // namespace

}  // namespace maillon::ledger

namespace maillon {

std::span<const MessageRow<LedgerOutcome>> MessageTable<LedgerOutcome>::rows() {
  return ledger::kOutcomes;
}
std::span<const MessageRow<ledger::LedgerRefusal>> MessageTable<ledger::LedgerRefusal>::rows() {
  return ledger::kRefusals;
}

}  // namespace maillon
