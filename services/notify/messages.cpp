// The notify service's message table (messages.hpp).
#include "services/notify/messages.hpp"

namespace maillon::notify {
namespace {

constexpr MessageRow<NotifyRefusal> kRefusals[] = {
    {NotifyRefusal::notification_parameter,
     field_row("cursor", "doit être un entier positif", "Paramètre invalide.")},
    {NotifyRefusal::access_token_in_url,
     {401, "unauthorized",
      "Le jeton de session ne passe plus dans l'adresse : demandez un ticket "
      "(POST /v1/notifications/stream-ticket) ou utilisez le cookie de session."}},
    {NotifyRefusal::stream_ticket_invalid,
     {401, "unauthorized", "Ticket de flux inconnu, expiré ou déjà utilisé."}},
    {NotifyRefusal::kinds_missing,
     field_row("kinds", "champ obligatoire", "Préférences invalides.")},
    {NotifyRefusal::kind_unknown,
     field_row("kinds", "type de notification inconnu", "Préférences invalides.")},
    {NotifyRefusal::email_choice_invalid,
     field_row("email", "doit valoir instant, digest ou off", "Préférences invalides.")},
    {NotifyRefusal::in_app_invalid,
     field_row("in_app", "doit valoir true ou false", "Préférences invalides.")},
    {NotifyRefusal::unsubscribe_token_unknown,
     not_found_row("Ce lien de désinscription est inconnu.")},
};

constexpr std::string_view kReconciliationSubject =
    "Écart de rapprochement avec une communauté partenaire";

}  // namespace

std::string reconciliation_subject() {
  return std::string(kReconciliationSubject);
}

std::string reconciliation_paragraph(int64_t differences, const std::string& day) {
  const std::string count =
      differences == 1 ? std::string("un écart") : std::to_string(differences) + " écarts";
  return "Le rapprochement quotidien du " + day +
         " entre votre compte de compensation et celui de la communauté partenaire a trouvé " +
         count +
         " : les deux installations ne comptent pas les mêmes échanges. Consultez le "
         "rapprochement du lien pour les voir, et voyez-le avec l'administration de l'autre "
         "communauté.";
}

std::span<const MessageRow<NotifyRefusal>> refusal_messages() {
  return kRefusals;
}

ApiError problem(NotifyRefusal refusal) {
  return problem_for(refusal_messages(), refusal);
}

ApiError problem_on_field(NotifyRefusal refusal, std::string field) {
  const ProblemText& row = problem_text(refusal_messages(), refusal);
  const ApiError base = problem(refusal);
  return ApiError(base.status(), base.code(), base.title(), base.detail(),
                  {{std::move(field), std::string(row.detail_fr)}});
}

}  // namespace maillon::notify
