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

void apply_loan_notice(pqxx::work& tx, const Event& e, int64_t now_s) {
  const LoanNotice l = LoanNotice::read(e).value();
  const bool late = l.type == LoanNoticeType::late;
  Notice n{"event:" + e.id, l.member_id, e.type, late ? "loan.late" : "loan.reminder",
           std::nullopt,    e.data};
  n.subject = late ? "Votre emprunt est en retard" : "Votre emprunt est à rendre demain";
  n.paragraphs = {(late ? "L'objet « " + l.title + " » devait être rendu le "
                        : "L'objet « " + l.title + " » est à rendre le ") +
                  l.due_at.substr(0, 10) + " au comptoir de votre site."};
  n.link_path = "/notifications";
  n.site_id = l.site_id;
  tell(tx, n, now_s);
  if (late) {
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
  s.consume("depot", [&s](pqxx::work& tx, const Event& e) {
    apply_depot_event(tx, e, event_time_s(e, s.clock));
  });
}

}  // namespace maillon::notify
