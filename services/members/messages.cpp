// The members service's message table: what each result code answers, in French.
#include "services/members/messages.hpp"

namespace maillon::members {
namespace {

using C = MembersCode;

constexpr MessageRow<MembersCode> kMessages[] = {
    // who is calling
    {C::session_invalid,
     {.status = 401, .code = "unauthorized", .detail_fr = "Jeton absent, invalide ou expiré."}},
    {C::wrong_credentials,
     {.status = 401, .code = "unauthorized", .detail_fr = "E-mail ou mot de passe incorrect."}},
    {C::wrong_password,
     {.status = 403,
      .code = "wrong-password",
      .detail_fr = "Le mot de passe ne correspond pas : le compte n'est pas supprimé.",
      .title_fr = "Mot de passe incorrect"}},
    {C::desk_consent_required,
     field_row("confirm",
               "le membre n'a pas de mot de passe : le personnel qui agit pour lui envoie "
               "confirm: true une fois son accord recueilli à l'accueil",
               "Suppression à confirmer à l'accueil.")},
    {C::password_required,
     field_row("password", "est obligatoire", "Confirmez avec votre mot de passe.")},
    {C::account_suspended,
     {.status = 403,
      .code = "suspended",
      .detail_fr = "Votre compte est suspendu : adressez-vous à l'équipe de votre lieu.",
      .title_fr = "Compte suspendu"}},
    {C::too_many_registrations,
     too_many_row("Trop d'inscriptions depuis cette adresse : réessayez plus tard.")},
    {C::too_many_login_failures_from_address,
     too_many_row("Trop d'échecs de connexion depuis cette adresse : réessayez plus tard.")},
    {C::too_many_login_failures_for_account,
     too_many_row("Trop d'échecs de connexion pour ce compte : réessayez dans une minute.")},
    // communities, sites, profiles, staff
    {C::email_taken,
     {.status = 409,
      .code = "email-taken",
      .detail_fr = "Un compte existe déjà avec cette adresse e-mail."}},
    {C::unknown_community,
     field_row("community_id", "communauté inconnue", "Communauté inconnue.")},
    {C::unknown_site_in_community,
     field_row("home_site_id", "site inconnu dans cette communauté", "Site inconnu.")},
    {C::unknown_site_in_own_community,
     field_row("home_site_id", "site inconnu dans votre communauté", "Site inconnu.")},
    {C::unknown_member, field_row("member_id", "membre inconnu", "Membre inconnu.")},
    {C::admins_only, forbidden_row("Action réservée aux administrateurs.")},
    {C::community_admins_only,
     forbidden_row("Action réservée aux administrateurs de cette communauté.")},
    {C::community_not_found, not_found_row("Communauté introuvable.")},
    {C::site_not_found, not_found_row("Site introuvable.")},
    {C::member_not_found, not_found_row("Membre introuvable.")},
    {C::member_not_in_site_community,
     {.status = 422,
      .code = "member-not-in-community",
      .detail_fr = "Ce membre n'appartient pas à la communauté du site."}},
    {C::open_loan,
     {.status = 409,
      .code = "open-loan",
      .detail_fr = "Vous avez un objet emprunté : rendez-le avant d'effacer le compte."}},
    {C::invalid_community_filter,
     field_row("community_id", "doit être un identifiant UUID", "Paramètre invalide.")},
    {C::invalid_cursor, field_row("cursor", "curseur inconnu ou altéré", "Curseur invalide.")},
    // moderation
    {C::self_moderation,
     {.status = 403,
      .code = "self-moderation",
      .detail_fr = "Vous ne pouvez pas statuer sur votre propre compte."}},
    {C::protected_role,
     {.status = 403,
      .code = "protected-role",
      .detail_fr = "Ce membre a un rôle que seul un rôle supérieur peut suspendre."}},
    {C::home_staff_only,
     forbidden_row("Réservé au personnel du lieu d'attache du membre et aux administrateurs.")},
    {C::member_suspended,
     {.status = 409,
      .code = "member-suspended",
      .detail_fr = "Ce membre est suspendu : réintégrez-le d'abord."}},
    {C::site_community_admins_only,
     forbidden_row("Réservé aux administrateurs de la communauté du site.")},
    {C::network_admins_only, forbidden_row("Réservé aux administrateurs du réseau.")},
    {C::member_not_in_community,
     {.status = 422,
      .code = "member-not-in-community",
      .detail_fr = "Ce membre n'appartient pas à cette communauté."}},
    {C::unknown_desk_site, field_row("home_site_id", "site inconnu", "Site inconnu.")},
    {C::site_staff_only, forbidden_row("Réservé au personnel de ce site.")},
    {C::too_many_desk_registrations,
     too_many_row("Vous avez inscrit beaucoup de membres aujourd'hui : réessayez plus tard.")},
    {C::staff_and_admins_only, forbidden_row("Réservé au personnel et aux administrateurs.")},
    {C::invalid_search, field_row("q", "de 1 à 100 caractères", "Recherche invalide.")},
    {C::community_members_only, forbidden_row("Réservé aux membres d'une communauté.")},
    {C::self_report,
     {.status = 422,
      .code = "self-report",
      .detail_fr = "Vous ne pouvez pas vous signaler vous-même."}},
    {C::no_home_site,
     {.status = 422,
      .code = "no-home-site",
      .detail_fr = "Choisissez votre lieu d'attache : son équipe recevra le signalement."}},
    {C::too_many_reports,
     too_many_row("Vous avez fait beaucoup de signalements aujourd'hui : l'équipe les traite, "
                  "réessayez plus tard.")},
    {C::already_reported,
     {.status = 409,
      .code = "already-reported",
      .detail_fr = "Vous avez déjà signalé ceci ; l'équipe le traite."}},
    {C::report_not_found, not_found_row("Signalement introuvable.")},
    {C::party_to_report,
     {.status = 403,
      .code = "party-to-report",
      .detail_fr = "Un autre membre de l'équipe doit traiter ce signalement."}},
    {C::report_closed,
     {.status = 409, .code = "report-closed", .detail_fr = "Ce signalement est déjà traité."}},
    {C::cannot_hide,
     {.status = 422,
      .code = "cannot-hide",
      .detail_fr = "Seule une offre ou une demande peut être masquée."}},
    {C::not_a_member_report,
     {.status = 422,
      .code = "not-a-member-report",
      .detail_fr = "Seul un signalement de membre peut suspendre ; suspendez l'auteur depuis sa "
                   "fiche."}},
    // accounts
    {C::token_invalid, field_row("token", "lien invalide, expiré ou déjà utilisé",
                                 "Ce lien ne fonctionne plus : demandez-en un nouveau.")},
    {C::wrong_current_password,
     {.status = 403,
      .code = "wrong-password",
      .detail_fr = "Le mot de passe actuel ne correspond pas : rien n'est changé.",
      .title_fr = "Mot de passe incorrect"}},
    {C::own_session_only,
     forbidden_row("Le membre le fait lui-même, avec sa propre session (pas au guichet).")},
    {C::session_not_found, not_found_row("Session introuvable.")},
};

}  // namespace

const char* const kAdminDisplayName = "Administration Maillon";

std::span<const MessageRow<MembersCode>> message_table() {
  return kMessages;
}

ApiError problem(MembersCode code, int retry_after_seconds) {
  const ProblemText& row = problem_text(message_table(), code);
  if (row.status == 429) return too_many_requests(retry_after_seconds, std::string(row.detail_fr));
  return problem_from(row);
}

std::string default_suspension_reason(const std::string& report_id) {
  return "Signalement " + report_id;
}

}  // namespace maillon::members
