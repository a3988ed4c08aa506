// Who hears of what, and how: a notice goes to the inbox, to a mail, to tomorrow's digest or
// nowhere, as the member chose per kind; the mail is French text + HTML with the site it is about.
#include <array>
#include <cmath>
#include <cstdio>

#include "services/common/config.hpp"
#include "services/common/directory.hpp"
#include "services/common/html.hpp"
#include "services/common/ids.hpp"
#include "services/common/mail.hpp"
#include "services/notify/notify_service.hpp"

namespace maillon::notify {
namespace {

constexpr std::array<std::string_view, 11> kKinds = {
    "match.new",    "exchange.update", "exchange.message",         "loan.reminder",
    "loan.late",    "loan.available",  "reservation.expiring",     "item.unclaimed",
    "desk.dispute", "desk.digest",     "federation.reconciliation"};

// "Tiers-lieu de Cysoing, 1 place de la Mairie" for the mail's foot; empty when unknown.
std::string site_words(pqxx::work& tx, const std::optional<std::string>& site_id) {
  if (!site_id) return "";
  auto site = directory::site(tx, *site_id);
  if (!site || site->name.empty()) return "";
  return site->address.empty() ? site->name : site->name + ", " + site->address;
}

// The member's notice told once: a redelivered event, a job going round again, adds nothing.
std::string notice_id(const Notice& n) {
  return uuid_from_name("notification:" + n.cause + ":" + n.member_id);
}

std::string unsubscribe_url_for(pqxx::work& tx, const Notice& n) {
  const std::string token = new_token();
  repo::store_unsubscribe_token(tx, token_hash(token), n.member_id, n.kind);
  return public_url() + "/v1/unsubscribe?token=" + token;
}

}  // namespace

std::span<const std::string_view> kinds() {
  return kKinds;
}

bool is_kind(std::string_view kind) {
  return std::find(kKinds.begin(), kKinds.end(), kind) != kKinds.end();
}

// Everything in the app and by mail at once, but the desk's digest: once a day, by mail only.
Preference default_preference(std::string_view kind) {
  if (kind == "desk.digest") return {false, EmailChoice::digest};
  return {true, EmailChoice::instant};
}

std::string_view to_string(EmailChoice choice) {
  switch (choice) {
    case EmailChoice::instant:
      return "instant";
    case EmailChoice::digest:
      return "digest";
    case EmailChoice::off:
      return "off";
  }
  return "off";
}

std::optional<EmailChoice> email_choice_named(std::string_view name) {
  if (name == "instant") return EmailChoice::instant;
  if (name == "digest") return EmailChoice::digest;
  if (name == "off") return EmailChoice::off;
  return std::nullopt;
}

std::string public_url() {
  static const std::string url = [] {
    std::string u = Config::url("MAILLON_PUBLIC_URL", "http://127.0.0.1:8080", {"http", "https"});
    while (!u.empty() && u.back() == '/') u.pop_back();
    return u;
  }();
  return url;
}

// The contract's buckets: up to the next 100 m below 1 km, the next 500 m above.
int64_t bucket_distance_m(int64_t distance_m) {
  if (distance_m <= 0) return 100;
  const int64_t step = distance_m < 1000 ? 100 : 500;
  return (distance_m + step - 1) / step * step;
}

std::string distance_words(int64_t distance_m) {
  const int64_t m = bucket_distance_m(distance_m);
  if (m < 1000) return "à environ " + std::to_string(m) + " m";
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1f", static_cast<double>(m) / 1000.0);
  std::string km = buffer;
  if (km.size() > 2 && km.compare(km.size() - 2, 2, ".0") == 0) km.resize(km.size() - 2);
  for (char& c : km) c = (c == '.') ? ',' : c;
  return "à environ " + km + " km";
}

ComposedMail compose(pqxx::work& tx, const std::string& display_name, const Notice& notice,
                     const std::string& unsubscribe_url) {
  const std::string greeting =
      display_name.empty() ? std::string("Bonjour,") : "Bonjour " + display_name + ",";
  const std::string link = notice.link_path.empty() ? "" : public_url() + notice.link_path;
  const std::string site = site_words(tx, notice.site_id);
  ComposedMail m;
  m.text = greeting + "\n\n";
  m.html = "<!DOCTYPE html>\n<html lang=\"fr\"><head><meta charset=\"utf-8\"><title>" +
           html_escaped(notice.subject) + "</title></head>\n<body>\n<p>" + html_escaped(greeting) +
           "</p>\n";
  for (const auto& p : notice.paragraphs) {
    m.text += p + "\n\n";
    m.html += "<p>" + html_escaped(p) + "</p>\n";
  }
  if (!link.empty()) {
    m.text += "Voir sur Maillon : " + link + "\n\n";
    m.html += "<p><a href=\"" + html_escaped(link) + "\">Voir sur Maillon</a></p>\n";
  }
  if (!site.empty()) {
    m.text += "-- \n" + site + "\n";
    m.html += "<p>" + html_escaped(site) + "</p>\n";
  }
  m.text +=
      "Maillon, le réseau d'échanges de votre tiers-lieu.\n\n"
      "Ne plus recevoir ce type de message : " +
      unsubscribe_url + "\nVos préférences : " + public_url() + "/preferences\n";
  m.html +=
      "<p style=\"color:#555;font-size:small\">Maillon, le réseau d'échanges de votre "
      "tiers-lieu. <a href=\"" +
      html_escaped(unsubscribe_url) + "\">Ne plus recevoir ce type de message</a> · <a href=\"" +
      html_escaped(public_url() + "/preferences") + "\">Vos préférences</a></p>\n" +
      "</body></html>\n";
  return m;
}

namespace {

// A notice as it waits for its member's address (mails_awaiting_address), and read back.
Json notice_json(const Notice& n) {
  return {{"cause", n.cause},
          {"member_id", n.member_id},
          {"type", n.type},
          {"kind", n.kind},
          {"exchange_id", n.exchange_id ? Json(*n.exchange_id) : Json(nullptr)},
          {"data", n.data},
          {"subject", n.subject},
          {"paragraphs", n.paragraphs},
          {"link_path", n.link_path},
          {"site_id", n.site_id ? Json(*n.site_id) : Json(nullptr)}};
}

Notice notice_from(const Json& j) {
  Notice n;
  n.cause = j.at("cause").get<std::string>();
  n.member_id = j.at("member_id").get<std::string>();
  n.type = j.at("type").get<std::string>();
  n.kind = j.at("kind").get<std::string>();
  if (j.at("exchange_id").is_string()) n.exchange_id = j["exchange_id"].get<std::string>();
  n.data = j.at("data");
  n.subject = j.at("subject").get<std::string>();
  n.paragraphs = j.at("paragraphs").get<std::vector<std::string>>();
  n.link_path = j.at("link_path").get<std::string>();
  if (j.at("site_id").is_string()) n.site_id = j["site_id"].get<std::string>();
  return n;
}

// The mail of a notice to a verified address: queued now, or kept for the digest.
void mail_to(pqxx::work& tx, const Notice& n, const Preference& p, const repo::Recipient& who,
             const std::string& id, int64_t now_s, Told& told) {
  const std::string link = n.link_path.empty() ? "" : public_url() + n.link_path;
  if (p.email == EmailChoice::digest || n.kind == "desk.digest") {
    // The desk's lines are written for the digest (their subject); a member's are the notice's
    // sentence, which names the listings, where the subject would repeat itself line after line.
    const std::string& line =
        n.kind == "desk.digest" || n.paragraphs.empty() ? n.subject : n.paragraphs.front();
    told.digest = repo::add_digest_item(tx, id, n.member_id, n.kind, line, link, now_s);
    return;
  }
  Notice located = n;
  if (!located.site_id) located.site_id = who.home_site_id;
  const std::string unsubscribe = unsubscribe_url_for(tx, n);
  const ComposedMail body = compose(tx, who.display_name, located, unsubscribe);
  told.mail = mail::enqueue(
      tx, kSchema, {*who.email, n.kind, n.subject, body.text, body.html, unsubscribe, "n:" + id});
}

}  // namespace

Told tell(pqxx::work& tx, const Notice& n, int64_t now_s) {
  // One round trip for the preference, the recipient, whether an address may come and the
  // inbox's row: a notification is written for most events, and each was one more.
  const std::string id = notice_id(n);
  const repo::Addressee a = repo::addressee(tx, id, n);
  const Preference& p = a.preference;
  Told told;
  if (p.in_app) {
    told.inbox = a.inboxed;
    if (!told.inbox) return told;  // told before: the mail went with it then
  }
  if (p.email == EmailChoice::off) return told;
  std::optional<repo::Recipient> who = a.recipient;
  if (!who || !who->email) {
    // No verified address (yet): the inbox only, and the mail waits for the address when one may
    // still come (the member's events not read yet, or an address awaiting its verification).
    if (!a.address_may_come) return told;
    // The members stream is read apart: its contact may have committed meanwhile, having taken
    // the waiting mails before this one waits. Under the lock addressee() took, that contact is
    // read now (and mailed to), or it comes after and takes this notice.
    who = repo::await_address(tx, id, n.member_id, notice_json(n).dump());
    if (!who || !who->email) return told;
  }
  mail_to(tx, n, p, *who, id, now_s, told);
  return told;
}

void release_awaiting_mails(pqxx::work& tx, const std::string& member_id, int64_t now_s) {
  repo::lock_address(tx, member_id);  // before reading: see tell()
  const auto who = repo::recipient(tx, member_id);
  if (!who || !who->email) return;
  for (const std::string& text : repo::take_awaiting(tx, member_id)) {
    const Notice n = notice_from(Json::parse(text));
    const Preference p = repo::preference(tx, n.member_id, n.kind);
    if (p.email == EmailChoice::off) continue;  // turned off meanwhile
    Told told;
    mail_to(tx, n, p, *who, notice_id(n), now_s, told);
  }
}

}  // namespace maillon::notify
