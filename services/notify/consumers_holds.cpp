// What notify tells of holds on lent objects (the exchange service's holds.hpp): the member
// whose turn came hears that the object is back and until when it waits for them
// (loan.available); a loan still late a week (two weeks, ...) after its due date is told again to
// its borrower (loan.late), the first notice being exchange.late's own step.
#include "services/common/events_exchanges.hpp"
#include "services/common/service.hpp"
#include "services/notify/notify_service.hpp"

namespace maillon::notify {
namespace {

std::string text_of(const Json& data, const char* name) {
  const auto it = data.find(name);
  return it != data.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// "2026-12-10T17:00:00Z" → "2026-12-10 à 17:00 (UTC)".
std::string date_words(const std::string& rfc3339) {
  if (rfc3339.size() < 16) return rfc3339;
  return rfc3339.substr(0, 10) + " à " + rfc3339.substr(11, 5) + " (UTC)";
}

std::string object_words(pqxx::work& tx, const std::optional<std::string>& offer_id) {
  const auto offer = offer_id ? repo::listing(tx, *offer_id) : std::nullopt;
  return offer && !offer->title.empty() ? "« " + offer->title + " »" : "l'objet que vous attendez";
}

void tell_hold_available(pqxx::work& tx, const Event& e, const ExchangeEvent& x, int64_t now_s) {
  const std::string member = text_of(e.data, "hold_member_id");
  const std::string until = text_of(e.data, "pickup_until");
  if (member.empty()) return;
  Notice n{"event:" + e.id,
           member,
           e.type,
           "loan.available",
           std::nullopt,
           {{"hold_id", text_of(e.data, "hold_id")},
            {"offer_id", x.offer_id ? Json(*x.offer_id) : Json(nullptr)},
            {"pickup_until", until}}};
  n.subject = "L'objet que vous attendez est disponible";
  n.paragraphs = {object_words(tx, x.offer_id) + " est de retour et vous est réservé jusqu'au " +
                      date_words(until) + ".",
                  "Demandez à l'emprunter avant cette date : ensuite, il passera au membre "
                  "suivant de la file d'attente."};
  n.link_path = x.offer_id ? "/annonces/offre/" + *x.offer_id : "/notifications";
  n.site_id = x.site_id;
  tell(tx, n, now_s);
}

void tell_still_late(pqxx::work& tx, const Event& e, const ExchangeEvent& x, int64_t now_s) {
  if (!x.receiver_id) return;
  const int64_t weeks = e.data.value("late_notice", int64_t{0});
  Notice n{"event:" + e.id, *x.receiver_id, e.type, "loan.late", x.exchange_id, e.data};
  n.subject = "Votre emprunt est toujours en retard";
  n.paragraphs = {object_words(tx, x.offer_id) + " devait être rendu le " +
                      date_words(x.due_at.value_or("")) + ", il y a " + std::to_string(weeks) +
                      (weeks > 1 ? " semaines." : " semaine."),
                  "Merci de le rapporter au plus vite : d'autres membres l'attendent peut-être, "
                  "et vous ne pouvez pas emprunter d'autre objet avant son retour."};
  n.link_path = "/echanges/" + x.exchange_id;
  n.site_id = x.site_id;
  tell(tx, n, now_s);
}

}  // namespace

bool tell_hold_notice(pqxx::work& tx, const Event& e, const ExchangeEvent& x, int64_t now_s) {
  if (x.type == ExchangeEventType::hold_available) {
    tell_hold_available(tx, e, x, now_s);
    return true;
  }
  if (x.type == ExchangeEventType::late && e.data.contains("late_notice")) {
    tell_still_late(tx, e, x, now_s);
    return true;
  }
  return false;
}

}  // namespace maillon::notify
