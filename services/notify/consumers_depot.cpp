// The depot's stream for notify: loan reminders and late notices to the borrower (and the desk's
// digest), unclaimed objects to the site's staff, reservations kept for the expiring reminder.
// Apart from recipients.cpp: exchange/depot.hpp and events_members.hpp both name a MemberStanding,
// so no file (nor unity batch, see cmake/build_speed.cmake) includes the two.
#include "services/common/events_depot.hpp"
#include "services/common/service.hpp"
#include "services/notify/notify_service.hpp"

namespace maillon::notify {
namespace {

// Depot ---------------------------------------------------------------------------------

void tell_desk(pqxx::work& tx, const Event& e, const std::string& site_id, const std::string& kind,
               const std::string& subject, const std::string& line, int64_t now_s) {
  for (const std::string& staff : repo::staff_of_site(tx, site_id)) {
    Notice n{"event:" + e.id + ":" + kind, staff, e.type, kind, std::nullopt, e.data};
    n.subject = subject;
    n.paragraphs = {line};
    n.link_path = "/desk";
    n.site_id = site_id;
    if (kind != "desk.digest") tell(tx, n, now_s);
    Notice digest = n;
    digest.cause = "event:" + e.id + ":digest";
    digest.kind = "desk.digest";
    digest.subject = line;
    tell(tx, digest, now_s);
  }
}

// A weekly repeat (late_notice N) says how long it has been, and goes to the borrower only: the
// desk heard of the loan once, with the first notice, as for loans between members.
std::vector<std::string> loan_notice_words(const LoanNotice& l) {
  const std::string due = l.due_at.substr(0, 10);
  if (l.type == LoanNoticeType::reminder) {
    return {"L'objet « " + l.title + " » est à rendre le " + due + " au comptoir de votre site."};
  }
  if (!l.late_notice) {
    return {"L'objet « " + l.title + " » devait être rendu le " + due +
            " au comptoir de votre site."};
  }
  const int64_t weeks = *l.late_notice;
  return {"L'objet « " + l.title + " » devait être rendu le " + due + ", il y a " +
              std::to_string(weeks) + (weeks > 1 ? " semaines." : " semaine."),
          "Merci de le rapporter au plus vite au comptoir de votre site : vous ne pouvez pas "
          "emprunter d'autre objet avant son retour."};
}

void apply_loan_notice(pqxx::work& tx, const Event& e, int64_t now_s) {
  const LoanNotice l = LoanNotice::read(e).value();
  const bool late = l.type == LoanNoticeType::late;
  Notice n{"event:" + e.id, l.member_id, e.type, late ? "loan.late" : "loan.reminder",
           std::nullopt,    e.data};
  n.subject = !late           ? "Votre emprunt est à rendre demain"
              : l.late_notice ? "Votre emprunt est toujours en retard"
                              : "Votre emprunt est en retard";
  n.paragraphs = loan_notice_words(l);
  n.link_path = "/notifications";
  n.site_id = l.site_id;
  tell(tx, n, now_s);
  if (late && !l.late_notice) {
    tell_desk(tx, e, l.site_id, "desk.digest", "", "Prêt en retard : « " + l.title + " »", now_s);
  }
}

void apply_depot_event(pqxx::work& tx, const Event& e, int64_t now_s) {
  if (e.type == "loan.reminder" || e.type == "loan.late") {
    apply_loan_notice(tx, e, now_s);
    return;
  }
  const auto change = item_change(e.type);
  if (!change) return;
  const ItemChanged item = ItemChanged::read(e).value();
  if (*change == ItemChange::reserved && item.reserved_by_member_id && item.reserved_until) {
    repo::upsert_reservation(tx, item.item_id, *item.reserved_by_member_id, item.site_id,
                             item.title, *item.reserved_until);
  } else {
    repo::drop_reservation(tx, item.item_id);
  }
  if (*change == ItemChange::unclaimed) {
    tell_desk(tx, e, item.site_id, "item.unclaimed", "Un objet n'a pas été retiré",
              "Objet non retiré : « " + item.title + " »", now_s);
  }
}

}  // namespace

void register_depot_consumer(Service& s) {
  s.consume(
      "depot",
      [&s](pqxx::work& tx, const Event& e) { apply_depot_event(tx, e, event_time_s(e, s.clock)); },
      {}, Pace::unhurried);
}

}  // namespace maillon::notify
