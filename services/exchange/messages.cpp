// The exchange service's message table (see messages.hpp).
#include "services/exchange/messages.hpp"

namespace maillon::exchange {
namespace {

// A field refused while reading a body (the summary is BodyReader's, these rows give the text).
constexpr ProblemText field_text(std::string_view field, std::string_view detail) {
  return field_row(field, detail, "Certains champs sont invalides.");
}

constexpr std::string_view kNotFound = "Ressource introuvable.";
constexpr std::string_view kPartyToExchange =
    "Une partie à l'échange ne peut pas agir ici pour l'autre ni trancher son propre litige.";

constexpr MessageRow<ExchangeOutcome> kOutcomes[] = {
    {ExchangeOutcome::not_a_party, {404, "not-found", kNotFound}},
    {ExchangeOutcome::not_allowed_for_role,
     {403, "forbidden",
      "Votre place dans cet échange ne permet pas cette action : selon l'action, elle revient "
      "à l'autre partie, à l'une des deux, ou au personnel du site."}},
    {ExchangeOutcome::invalid_state,
     {409, "invalid-state", "L'échange n'est pas dans un état qui permet cette action."}},
    {ExchangeOutcome::already_confirmed,
     {409, "already-confirmed", "Vous avez déjà confirmé cet échange."}},
    {ExchangeOutcome::invalid_minutes,
     {422, "invalid-minutes", "Le nombre de minutes doit être entre 1 et le montant retenu."}},
    {ExchangeOutcome::proposal_expired, {409, "proposal-expired", "La proposition a expiré."}},
    {ExchangeOutcome::too_early, {409, "too-early", "La proposition n'a pas encore expiré."}},
    {ExchangeOutcome::too_many_attempts,
     {422, "too-many-attempts", "Trop de tentatives d'acceptation ont échoué."}},
    {ExchangeOutcome::unknown_transfer, {404, "not-found", kNotFound}},
    {ExchangeOutcome::invalid_absent_member,
     {422, "invalid-absent-member", "Le membre absent doit être l'une des deux parties."}},
    {ExchangeOutcome::party_to_exchange, {403, "party-to-exchange", kPartyToExchange}},
    {ExchangeOutcome::hold_gone,
     {409, "hold-gone",
      "Le grand livre ne retient plus ces crédits : seule une résolution « void » est possible, "
      "puis un virement du personnel si besoin."}},
    {ExchangeOutcome::not_a_loan,
     {409, "not-a-loan", "Cette action ne vaut que pour un prêt (ou un troc pour la remise)."}},
    {ExchangeOutcome::deposit_pending,
     {409, "deposit-pending",
      "La caution n'est pas encore retenue : la remise de l'objet attend le grand livre."}},
    {ExchangeOutcome::renewal_while_late,
     {409, "renewal-while-late", "Un prêt en retard ne se prolonge pas : rendez d'abord l'objet."}},
    {ExchangeOutcome::too_many_renewals,
     {422, "too-many-renewals", "Ce prêt a déjà été prolongé autant que la communauté le permet."}},
    {ExchangeOutcome::invalid_due_date,
     {422, "invalid-due-date",
      "La nouvelle date de retour doit être après la date actuelle et dans le futur."}},
    {ExchangeOutcome::no_renewal_requested,
     {409, "no-renewal-requested", "Aucune prolongation n'a été demandée."}},
    {ExchangeOutcome::too_early_for_no_show,
     {409, "too-early-for-no-show",
      "Une absence se constate une fois passée l'heure prévue de l'échange."}},
    {ExchangeOutcome::invalid_absent_member_no_show,
     {422, "invalid-absent-member",
      "Le membre absent doit être l'autre partie (ou l'une des deux pour le personnel)."}},
    {ExchangeOutcome::meeting_already_past,
     {409, "meeting-already-past",
      "Le rendez-vous était déjà passé quand l'échange a été accepté : aucune absence ne peut "
      "être constatée."}},
};

constexpr MessageRow<ExchangeRefusal> kRefusals[] = {
    {ExchangeRefusal::not_found, {404, "not-found", kNotFound}},
    {ExchangeRefusal::membership_pending,
     {403,
      "membership-pending",
      "Votre adhésion attend la validation du personnel de votre lieu : vous pourrez échanger "
      "une fois adhérent.",
      {},
      {},
      "Adhésion en attente"}},
    {ExchangeRefusal::member_suspended, {403, "member-suspended", "Ce membre est suspendu."}},
    {ExchangeRefusal::party_to_exchange, {403, "party-to-exchange", kPartyToExchange}},
    {ExchangeRefusal::unknown_offer, {422, "unknown-listing", "Annonce inconnue : offer_id."}},
    {ExchangeRefusal::unknown_request, {422, "unknown-listing", "Annonce inconnue : request_id."}},
    {ExchangeRefusal::listing_unavailable,
     {422, "listing-unavailable", "Cette annonce n'est plus disponible."}},
    {ExchangeRefusal::depot_item,
     {422, "depot-item", "Cet objet se réserve au dépôt, pas par un échange."}},
    {ExchangeRefusal::unknown_match, {422, "unknown-match", "Correspondance inconnue."}},
    {ExchangeRefusal::listings_mismatch,
     {400, "invalid-input", "ne correspond pas aux annonces", "match_id",
      "Annonces incohérentes."}},
    {ExchangeRefusal::only_parties_open,
     {403, "forbidden", "Seules les deux parties peuvent ouvrir cet échange."}},
    {ExchangeRefusal::own_listing,
     {422, "own-listing", "Vous ne pouvez pas échanger avec vous-même."}},
    {ExchangeRefusal::unknown_site,
     {400, "invalid-input", "site inconnu dans votre communauté", "site_id", "Site inconnu."}},
    {ExchangeRefusal::proposal_invalid, {400, "invalid-input", "Proposition invalide."}},
    {ExchangeRefusal::not_a_rating_party,
     {403, "forbidden", "Seules les parties notent un échange."}},
    {ExchangeRefusal::rating_too_early,
     {409, "invalid-state", "Un échange se note une fois terminé."}},
    {ExchangeRefusal::already_rated, {409, "already-rated", "Vous avez déjà noté cet échange."}},
    {ExchangeRefusal::desk_staff_only,
     {403, "forbidden", "Le bureau d'un site est réservé à son personnel."}},
    // The body's own refusal is told instead (the handler holds it); this row is its fallback.
    {ExchangeRefusal::body_invalid, {400, "invalid-input", "Certains champs sont invalides."}},
    {ExchangeRefusal::listing_required,
     field_text("offer_id", "une offre, une demande ou une correspondance est obligatoire")},
    {ExchangeRefusal::scheduled_at_invalid,
     field_text("scheduled_at", "doit être une date RFC 3339")},
    {ExchangeRefusal::cursor_invalid,
     {400, "invalid-input", "curseur invalide", "cursor", "Curseur invalide."}},
    {ExchangeRefusal::state_filter_unknown,
     {400, "invalid-input", "état inconnu", "state", "Filtre invalide."}},
    {ExchangeRefusal::role_filter_unknown,
     {400, "invalid-input", "doit valoir provider ou receiver", "role", "Filtre invalide."}},
    {ExchangeRefusal::outcome_unknown, field_text("outcome", "doit valoir post, void ou partial")},
    {ExchangeRefusal::partial_needs_minutes,
     field_text("minutes", "est obligatoire pour une résolution partielle")},
    {ExchangeRefusal::minutes_only_partial,
     field_text("minutes", "seulement pour une résolution partielle")},
    {ExchangeRefusal::message_body_missing, field_text("body", "champ obligatoire")},
    {ExchangeRefusal::message_body_empty, field_text("body", "est obligatoire")},
    {ExchangeRefusal::rating_invalid, {400, "invalid-input", "Note invalide."}},
    {ExchangeRefusal::notification_parameter,
     {400, "invalid-input", "doit être un entier positif", "cursor", "Paramètre invalide."}},
    {ExchangeRefusal::access_token_in_url,
     {401, "unauthorized",
      "Le jeton de session ne passe plus dans l'adresse : demandez un ticket "
      "(POST /v1/notifications/stream-ticket) ou utilisez le cookie de session."}},
    {ExchangeRefusal::stream_ticket_invalid,
     {401, "unauthorized", "Ticket de flux inconnu, expiré ou déjà utilisé."}},
    {ExchangeRefusal::overdue_loan,
     {422, "overdue-loan",
      "Un prêt en retard attend son retour : pas de nouvel emprunt avant qu'il soit rendu."}},
    {ExchangeRefusal::booking_conflict,
     {409, "booking-conflict", "L'objet est déjà réservé sur une partie de ces dates."}},
    {ExchangeRefusal::capacity_reached,
     {409, "capacity-reached",
      "Ce service a déjà autant d'échanges en cours que sa capacité le permet : réessayez "
      "quand l'un d'eux sera terminé."}},
    {ExchangeRefusal::listing_reserved,
     {409, "listing-reserved",
      "Cette annonce est déjà réservée par un autre échange accepté : elle ne peut pas l'être "
      "deux fois. Elle redeviendra disponible si cet échange est annulé."}},
    {ExchangeRefusal::date_invalid, field_text("due_at", "doit être une date RFC 3339")},
    {ExchangeRefusal::loan_dates_invalid, {400, "invalid-input", "Dates du prêt invalides."}},
    {ExchangeRefusal::given_offer_invalid,
     {422, "unknown-listing",
      "Annonce inconnue : given_offer_id doit être une de vos offres actives (troc seulement)."}},
    {ExchangeRefusal::given_offer_required,
     field_text("given_offer_id", "est obligatoire pour un troc : ce que vous donnez")},
    {ExchangeRefusal::no_show_member_missing, field_text("member_id", "champ obligatoire")},
    {ExchangeRefusal::calendar_range_invalid,
     {400, "invalid-input", "from et to : deux dates RFC 3339, from avant to, 400 jours au plus",
      "from", "Période invalide."}},
    {ExchangeRefusal::calendar_token_invalid, {404, "not-found", "Calendrier inconnu ou révoqué."}},
    {ExchangeRefusal::held_for_another,
     {409, "held-for-another",
      "Cet objet est mis de côté pour le premier membre de sa file d'attente : lui seul peut "
      "l'emprunter jusqu'à la fin de son délai de retrait. Rejoignez la file pour être prévenu."}},
    {ExchangeRefusal::first_in_queue,
     {409, "held-for-another",
      "Vous êtes le premier de la file d'attente de cet objet : il vous sera réservé dès son "
      "retour, et vous serez prévenu pour l'emprunter."}},
    {ExchangeRefusal::renewal_hold_queue,
     {409, "hold-queue",
      "Un autre membre attend cet objet : le prêt ne peut pas être prolongé. Merci de le rendre "
      "à la date prévue."}},
    {ExchangeRefusal::hold_not_lendable,
     {422, "not-lendable", "Seul un objet prêté (offre en mode « lend ») se réserve."}},
    {ExchangeRefusal::hold_own_object,
     {422, "own-listing", "Vous ne pouvez pas réserver votre propre objet."}},
    {ExchangeRefusal::hold_not_on_loan,
     {409, "not-on-loan",
      "Cet objet n'est pas prêté en ce moment : demandez directement à l'emprunter."}},
    {ExchangeRefusal::hold_duplicate,
     {409, "already-holding", "Vous êtes déjà dans la file d'attente de cet objet."}},
    {ExchangeRefusal::hold_borrowing,
     {409, "already-borrowing", "Vous avez déjà cet objet en prêt."}},
    {ExchangeRefusal::no_federation_link,
     {422, "no-federation-link",
      "Vos deux communautés n'ont pas (ou plus) d'accord d'échange actif : cette annonce ne "
      "peut pas être échangée d'une communauté à l'autre."}},
    {ExchangeRefusal::federation_limit,
     {422, "federation-limit",
      "Cet échange dépasserait la limite convenue entre vos deux communautés. Les échanges dans "
      "ce sens reprendront quand les comptes se seront rééquilibrés."}},
    {ExchangeRefusal::partner_exchange,
     {422, "partner-exchange",
      "Avec une installation partenaire, un échange se propose, s'accepte, se remet, se rend "
      "et se confirme ; le reste (troc, messages, avis, litige, prolongation) n'y est pas "
      "encore possible."}},
};

}  // namespace

std::span<const MessageRow<ExchangeOutcome>> outcome_messages() {
  return kOutcomes;
}
std::span<const MessageRow<ExchangeRefusal>> refusal_messages() {
  return kRefusals;
}

ApiError problem(ExchangeOutcome outcome) {
  return problem_for(outcome_messages(), outcome);
}
ApiError problem(ExchangeRefusal refusal) {
  return problem_for(refusal_messages(), refusal);
}

ApiError problem(ExchangeRefusal refusal, FieldErrors errors) {
  const ApiError row = problem(refusal);
  return ApiError(row.status(), row.code(), row.title(), row.detail(), std::move(errors));
}

ApiError problem_on_field(ExchangeRefusal refusal, std::string field) {
  const ProblemText& row = problem_text(refusal_messages(), refusal);
  return problem(refusal, {{std::move(field), std::string(row.detail_fr)}});
}

std::string message(ExchangeRefusal refusal) {
  return std::string(problem_text(refusal_messages(), refusal).detail_fr);
}

}  // namespace maillon::exchange
