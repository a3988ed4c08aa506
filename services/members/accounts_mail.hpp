// The accounts mails (French, plain text and HTML): what each one says, nothing of how it goes.
#pragma once

#include <string>

#include "services/common/mail.hpp"

namespace maillon::members::accounts_mail {

// Who the mail is for and the link it carries (already absolute).
struct Addressee {
  std::string email;
  std::string display_name;
};

mail::OutgoingMail verification(const Addressee& to, const std::string& link);
mail::OutgoingMail password_reset(const Addressee& to, const std::string& link);
// To the new address: the link that makes the change.
mail::OutgoingMail email_change(const Addressee& to, const std::string& link);
// To the old address: a change was asked (the new address is not named, only hinted).
mail::OutgoingMail email_change_notice(const Addressee& to, const std::string& new_email);

}  // namespace maillon::members::accounts_mail
