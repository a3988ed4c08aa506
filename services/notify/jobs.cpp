// The periodic jobs: a loan between members due within a day, a depot reservation about to
// lapse, and the daily digests. Each reminder is a notice whose cause names the thing and its
// date, so that however often a job goes round (and on however many replicas), it is told once;
// a new due date (a renewal) is a new reminder.
#include "services/common/config.hpp"
#include "services/common/ids.hpp"
#include "services/common/mail.hpp"
#include "services/common/service.hpp"
#include "services/notify/notify_service.hpp"

namespace maillon::notify {
namespace {

constexpr int64_t kDayS = 24 * 3600;
constexpr int64_t kIntervalDefaultMs = 60'000;
constexpr int64_t kReservationWarningDefaultS = 3 * 3600;
constexpr int kDigestItemsMax = 200;  // lines in one digest; the rest go in the next day's

void remind_loans_due(pqxx::work& tx, int64_t now_s) {
  for (const auto& loan : repo::loans_due_between(tx, now_s, now_s + kDayS, kJobBatchMax)) {
    if (!loan.receiver_id) continue;
    Notice n{"loan-due:" + loan.exchange_id + ":" + loan.due_at,
             *loan.receiver_id,
             "loan.reminder",
             "loan.reminder",
             loan.exchange_id,
             {{"exchange_id", loan.exchange_id}, {"due_at", loan.due_at}}};
    n.subject = "Votre emprunt est à rendre demain";
    n.paragraphs = {"L'objet que vous avez emprunté est à rendre le " + loan.due_at.substr(0, 10) +
                    " (" + loan.due_at.substr(11, 5) + " UTC)."};
    n.link_path = "/echanges/" + loan.exchange_id;
    n.site_id = loan.site_id;
    tell(tx, n, now_s);
  }
}

void remind_reservations(pqxx::work& tx, int64_t now_s, int64_t warning_s) {
  for (const auto& r :
       repo::reservations_ending_between(tx, now_s, now_s + warning_s, kJobBatchMax)) {
    Notice n{"reservation-expiring:" + r.item_id + ":" + r.reserved_until,
             r.member_id,
             "reservation.expiring",
             "reservation.expiring",
             std::nullopt,
             {{"item_id", r.item_id}, {"reserved_until", r.reserved_until}}};
    n.subject = "Votre réservation arrive à son terme";
    n.paragraphs = {"Votre réservation de « " + r.title + " » prend fin le " +
                    r.reserved_until.substr(0, 10) + " à " + r.reserved_until.substr(11, 5) +
                    " (UTC) : passez au comptoir pour le retirer."};
    n.link_path = "/notifications";
    n.site_id = r.site_id;
    tell(tx, n, now_s);
  }
}

std::string digest_subject(const std::string& kind, std::size_t count) {
  if (kind == "desk.digest") return "Le résumé du comptoir (" + std::to_string(count) + ")";
  return "Votre résumé du jour (" + std::to_string(count) + ")";
}

// The dedup key of a member's digest of a kind on a Europe/Paris day: one mail per day, however
// often the job goes round and on however many replicas (kDigestGroupsDue reads it too).
std::string digest_key(const std::string& member_id, const std::string& kind,
                       const std::string& day) {
  return "digest:" + member_id + ":" + kind + ":" + day;
}

// One mail for what the days before `day` kept of this kind for this member.
void send_one_digest(pqxx::work& tx, const std::string& member_id, const std::string& kind,
                     const std::string& day, int64_t now_s) {
  const std::vector<repo::DigestItem> items =
      repo::digest_items(tx, member_id, kind, now_s, kDigestItemsMax);
  if (items.empty()) return;
  std::vector<std::string> ids;
  ids.reserve(items.size());
  for (const auto& item : items) ids.push_back(item.id);
  repo::mark_digest_sent(tx, ids);
  const auto who = repo::recipient(tx, member_id);
  if (!who || !who->email) return;
  Notice n{digest_key(member_id, kind, day), member_id, "digest", kind};
  n.subject = digest_subject(kind, items.size());
  for (const auto& item : items) {
    n.paragraphs.push_back("• " + item.line + (item.link.empty() ? "" : " — " + item.link));
  }
  n.link_path = kind == "desk.digest" ? "/desk" : "/notifications";
  n.site_id = who->home_site_id;
  const std::string token = new_token();
  repo::store_unsubscribe_token(tx, token_hash(token), n.member_id, n.kind);
  const std::string unsubscribe = public_url() + "/v1/unsubscribe?token=" + token;
  const ComposedMail body = compose(tx, who->display_name, n, unsubscribe);
  mail::enqueue(tx, kSchema,
                {*who->email, n.kind, n.subject, body.text, body.html, unsubscribe, n.cause});
}

void send_digests(pqxx::work& tx, int64_t now_s) {
  const std::string day = repo::paris_day(tx, now_s);
  for (const auto& [member_id, kind] : repo::digest_groups_due(tx, now_s, day, kJobBatchMax)) {
    send_one_digest(tx, member_id, kind, day, now_s);
  }
}

}  // namespace

void register_jobs(Service& s) {
  const auto interval = Config::duration_ms("MAILLON_NOTIFY_JOB_INTERVAL_MS",
                                            std::chrono::milliseconds(kIntervalDefaultMs),
                                            std::chrono::milliseconds(10), std::chrono::hours(24));
  const int64_t warning_s = Config::integer("MAILLON_NOTIFY_RESERVATION_WARNING_S",
                                            kReservationWarningDefaultS, 60, 7 * kDayS);
  s.every("notify-loans-due", interval,
          [&s](pqxx::work& tx) { remind_loans_due(tx, s.clock.now_s()); });
  s.every("notify-reservations-expiring", interval,
          [&s, warning_s](pqxx::work& tx) { remind_reservations(tx, s.clock.now_s(), warning_s); });
  s.every("notify-digests", interval, [&s](pqxx::work& tx) {
    send_digests(tx, s.clock.now_s());
    repo::drop_stale_awaiting(tx);  // mails that waited a day for an address: not sent
  });
}

}  // namespace maillon::notify
