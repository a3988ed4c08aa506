// The accounts mails' French texts. Every member-supplied value is escaped in the HTML part.
#include "services/members/accounts_mail.hpp"

#include <vector>

#include "services/common/html.hpp"

namespace maillon::members::accounts_mail {
namespace {

// The same message in both parts: paragraphs, an optional link, and the signature.
struct AccountMailBody {
  std::string greeting_name;
  std::vector<std::string> before_link;
  std::string link;  // "" for none
  std::string link_label;
  std::vector<std::string> after_link;
};

std::string text_of(const AccountMailBody& b) {
  std::string out = "Bonjour " + b.greeting_name + ",\n\n";
  for (const auto& p : b.before_link) out += p + "\n\n";
  if (!b.link.empty()) out += b.link + "\n\n";
  for (const auto& p : b.after_link) out += p + "\n\n";
  return out + "L'équipe Maillon\n";
}

std::string html_of(const AccountMailBody& b) {
  std::string out = R"(<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"></head><body>)";
  out += "<p>Bonjour " + html_escaped(b.greeting_name) + ",</p>";
  for (const auto& p : b.before_link) out += "<p>" + html_escaped(p) + "</p>";
  if (!b.link.empty()) {
    out += "<p><a href=\"" + html_escaped(b.link) + "\">" + html_escaped(b.link_label) +
           "</a></p><p>Ou copiez ce lien dans votre navigateur : " + html_escaped(b.link) + "</p>";
  }
  for (const auto& p : b.after_link) out += "<p>" + html_escaped(p) + "</p>";
  return out + "<p>L'équipe Maillon</p></body></html>";
}

mail::OutgoingMail account_mail(const Addressee& to, std::string kind, std::string subject,
                                const AccountMailBody& body) {
  mail::OutgoingMail m;
  m.to = to.email;
  m.kind = std::move(kind);
  m.subject = std::move(subject);
  m.text = text_of(body);
  m.html = html_of(body);
  return m;  // no unsubscribe: an account mail is the answer to the member's own request
}

// "c…@exemple.fr": enough for the owner to recognise it, not enough to learn it.
std::string hinted(const std::string& email) {
  const auto at = email.find('@');
  if (at == std::string::npos || at == 0) return "…";
  return email.substr(0, 1) + "…" + email.substr(at);
}

}  // namespace

mail::OutgoingMail verification(const Addressee& to, const std::string& link) {
  return account_mail(
      to, "account.verify", "Confirmez votre adresse e-mail sur Maillon",
      {to.display_name,
       {"Bienvenue sur Maillon ! Pour confirmer que cette adresse est bien la vôtre et recevoir "
        "nos nouvelles (propositions, échanges, rappels), suivez ce lien :"},
       link,
       "Confirmer mon adresse",
       {"Votre compte fonctionne déjà ; sans confirmation, nous ne vous écrirons que pour votre "
        "compte.",
        "Si vous n'êtes pas à l'origine de cette inscription, ignorez ce message."}});
}

mail::OutgoingMail password_reset(const Addressee& to, const std::string& link) {
  return account_mail(
      to, "account.reset", "Réinitialisez votre mot de passe Maillon",
      {to.display_name,
       {"Vous avez demandé à changer de mot de passe. Ce lien est valable une heure et ne sert "
        "qu'une fois :"},
       link,
       "Choisir un nouveau mot de passe",
       {"Une fois le mot de passe changé, toutes vos sessions ouvertes seront fermées.",
        "Si vous n'avez rien demandé, ignorez ce message : votre mot de passe ne change pas."}});
}

mail::OutgoingMail email_change(const Addressee& to, const std::string& link) {
  return account_mail(
      to, "account.email-change", "Confirmez votre nouvelle adresse e-mail sur Maillon",
      {to.display_name,
       {"Vous avez demandé que votre compte Maillon utilise désormais cette adresse. Pour "
        "confirmer le changement, suivez ce lien (valable 24 heures) :"},
       link,
       "Confirmer cette adresse",
       {"Si vous n'avez rien demandé, ignorez ce message : rien ne change."}});
}

mail::OutgoingMail email_change_notice(const Addressee& to, const std::string& new_email) {
  return account_mail(
      to, "account.email-change", "Changement d'adresse e-mail demandé sur votre compte Maillon",
      {to.display_name,
       {"Quelqu'un, probablement vous, a demandé que votre compte Maillon utilise l'adresse " +
            hinted(new_email) + " au lieu de celle-ci.",
        "Le changement n'aura lieu que si le lien envoyé à la nouvelle adresse est suivi."},
       "",
       "",
       {"Si vous n'êtes pas à l'origine de cette demande, changez votre mot de passe et fermez "
        "vos autres sessions depuis votre compte."}});
}

}  // namespace maillon::members::accounts_mail
