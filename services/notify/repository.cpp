// The notify service's SQL, one named statement per operation.
#include "services/common/db.hpp"
#include "services/notify/notify_service.hpp"

namespace maillon::notify::repo {
namespace {

#define MAILLON_UTC(column) \
  "to_char(" column " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
// The start of the Europe/Paris day holding the Unix time `s`: digests gather the days before it.
#define MAILLON_PARIS_DAY(s)                     \
  "(date_trunc('day', to_timestamp(" s           \
  ") AT TIME ZONE 'Europe/Paris') AT TIME ZONE " \
  "'Europe/Paris')"

constexpr const char* kRecipient =
    "SELECT display_name, CASE WHEN email_verified AND NOT erased THEN email END, "
    "home_site_id::text FROM recipients WHERE member_id = $1";
constexpr const char* kUpsertContact =
    "INSERT INTO recipients (member_id, community_id, display_name, email, email_verified) "
    "VALUES ($1, $2::uuid, $3, $4, $5) ON CONFLICT (member_id) DO UPDATE SET "
    "community_id = COALESCE(EXCLUDED.community_id, recipients.community_id), "
    "display_name = EXCLUDED.display_name, email = EXCLUDED.email, "
    "email_verified = EXCLUDED.email_verified";
constexpr const char* kUpsertIdentity =
    "INSERT INTO recipients (member_id, community_id, home_site_id, display_name, "
    "staff_site_ids) VALUES ($1, $2::uuid, $3::uuid, COALESCE($4, ''), $5::uuid[]) "
    "ON CONFLICT (member_id) DO UPDATE SET "
    "community_id = COALESCE(EXCLUDED.community_id, recipients.community_id), "
    "home_site_id = EXCLUDED.home_site_id, "
    "display_name = COALESCE($4, recipients.display_name), "
    "staff_site_ids = EXCLUDED.staff_site_ids";
constexpr const char* kEraseRecipient =
    "INSERT INTO recipients (member_id, erased) VALUES ($1, true) ON CONFLICT (member_id) DO "
    "UPDATE SET erased = true, email = NULL, email_verified = false, display_name = ''";
constexpr const char* kStaffOfSite =
    "SELECT member_id::text FROM recipients WHERE staff_site_ids @> ARRAY[$1::uuid] "
    "AND NOT erased ORDER BY member_id LIMIT 200";

constexpr const char* kPreference =
    "SELECT in_app, email FROM preferences WHERE member_id = $1 AND kind = $2";
constexpr const char* kPreferences =
    "SELECT kind, in_app, email FROM preferences WHERE member_id = $1";
constexpr const char* kSetPreference =
    "INSERT INTO preferences (member_id, kind, in_app, email) VALUES ($1, $2, $3, $4) "
    "ON CONFLICT (member_id, kind) DO UPDATE SET in_app = EXCLUDED.in_app, "
    "email = EXCLUDED.email, updated_at = now()";
constexpr const char* kStoreToken =
    "INSERT INTO unsubscribe_tokens (token_hash, member_id, kind) VALUES ($1, $2, $3)";
constexpr const char* kToken =
    "SELECT member_id::text, kind FROM unsubscribe_tokens WHERE token_hash = $1";

constexpr const char* kInsertNotification =
    "INSERT INTO notifications (id, member_id, type, kind, exchange_id, data) "
    "VALUES ($1, $2, $3, $4, $5::uuid, $6::jsonb) ON CONFLICT (id) DO NOTHING RETURNING seq";
constexpr const char* kListNotifications =
    "SELECT id, seq, type, exchange_id, data::text, " MAILLON_UTC(
        "created_at") ", read_at IS NOT NULL FROM notifications WHERE member_id = $1 "
                      "AND (NOT $2 OR read_at IS NULL) AND ($3::bigint IS NULL OR seq < $3) "
                      "ORDER BY seq DESC LIMIT $4";
// The live stream's poll: for each (member, last id sent), what came after, oldest first. One
// statement for every stream open in the process, each member on its (member_id, seq) index.
constexpr const char* kNotificationsAfter =
    "SELECT n.id, n.seq, n.type, n.exchange_id, n.data::text, " MAILLON_UTC(
        "n.created_at") ", n.read_at IS NOT NULL, c.member_id::text FROM unnest($1::uuid[], "
                        "$2::bigint[]) AS c(member_id, after_seq) CROSS JOIN LATERAL (SELECT * "
                        "FROM notifications x WHERE x.member_id = c.member_id AND x.seq > "
                        "c.after_seq ORDER BY x.seq LIMIT $3) n ORDER BY n.seq";
constexpr const char* kLatestNotificationSeq =
    "SELECT COALESCE(max(seq), 0) FROM notifications WHERE member_id = $1";
constexpr const char* kMarkRead =
    "UPDATE notifications SET read_at = COALESCE(read_at, now()) WHERE id = $1 AND member_id = $2";
constexpr const char* kMarkAllRead =
    "UPDATE notifications SET read_at = now() WHERE member_id = $1 AND read_at IS NULL";

constexpr const char* kAddDigestItem =
    "INSERT INTO digest_items (id, member_id, kind, line, link, created_at) "
    "VALUES ($1, $2, $3, $4, $5, to_timestamp($6)) ON CONFLICT (id) DO NOTHING RETURNING id";
constexpr const char* kParisDay =
    "SELECT to_char(to_timestamp($1) AT TIME ZONE 'Europe/Paris', 'YYYY-MM-DD')";
// Members and kinds with items of the days before, whose digest of the day $2 is not queued yet
// (its dedup key, digest_key() in jobs.cpp): an item arriving after that digest waits for the
// next day's.
constexpr const char* kDigestGroupsDue =
    "SELECT DISTINCT d.member_id::text, d.kind FROM digest_items d WHERE NOT d.sent "
    "AND d.created_at < " MAILLON_PARIS_DAY(
        "$1") " AND NOT EXISTS (SELECT 1 FROM mail_queue q WHERE q.dedup_key = 'digest:' || "
              "d.member_id::text || ':' || d.kind || ':' || $2) LIMIT $3";
constexpr const char* kDigestItems =
    "SELECT id::text, member_id::text, kind, line, link FROM digest_items WHERE member_id = $1 "
    "AND kind = $2 AND NOT sent AND created_at < " MAILLON_PARIS_DAY(
        "$3") " ORDER BY created_at, id LIMIT $4";
constexpr const char* kMarkDigestSent =
    "UPDATE digest_items SET sent = true WHERE id = ANY($1::uuid[])";

constexpr const char* kUpsertListing =
    "INSERT INTO listings (id, side, member_id, title, site_id) VALUES ($1, $2, $3, $4, $5::uuid) "
    "ON CONFLICT (id) DO UPDATE SET member_id = EXCLUDED.member_id, title = EXCLUDED.title, "
    "site_id = EXCLUDED.site_id";
constexpr const char* kListing =
    "SELECT id::text, side, member_id::text, title, site_id::text FROM listings WHERE id = $1";

constexpr const char* kUpsertLoan =
    "INSERT INTO exchange_loans (exchange_id, provider_id, receiver_id, site_id, due_at) "
    "VALUES ($1, $2::uuid, $3::uuid, $4::uuid, $5::timestamptz) ON CONFLICT (exchange_id) DO "
    "UPDATE SET due_at = EXCLUDED.due_at, "
    "provider_id = COALESCE(EXCLUDED.provider_id, exchange_loans.provider_id), "
    "receiver_id = COALESCE(EXCLUDED.receiver_id, exchange_loans.receiver_id), "
    "site_id = COALESCE(EXCLUDED.site_id, exchange_loans.site_id)";
constexpr const char* kCloseLoan = "UPDATE exchange_loans SET open = false WHERE exchange_id = $1";
constexpr const char* kLoansDue =
    "SELECT exchange_id::text, provider_id::text, receiver_id::text, site_id::text, " MAILLON_UTC(
        "due_at") " FROM exchange_loans WHERE open AND due_at > to_timestamp($1) "
                  "AND due_at <= to_timestamp($2) ORDER BY due_at LIMIT $3";

constexpr const char* kUpsertReservation =
    "INSERT INTO reservations (item_id, member_id, site_id, title, reserved_until) "
    "VALUES ($1, $2, $3::uuid, $4, $5::timestamptz) ON CONFLICT (item_id) DO UPDATE SET "
    "member_id = EXCLUDED.member_id, site_id = EXCLUDED.site_id, title = EXCLUDED.title, "
    "reserved_until = EXCLUDED.reserved_until";
constexpr const char* kDropReservation = "DELETE FROM reservations WHERE item_id = $1";
constexpr const char* kReservationsEnding =
    "SELECT item_id::text, member_id::text, site_id::text, title, " MAILLON_UTC(
        "reserved_until") " FROM reservations WHERE reserved_until > to_timestamp($1) "
                          "AND reserved_until <= to_timestamp($2) ORDER BY reserved_until "
                          "LIMIT $3";

constexpr const char* kOpenDispute =
    "INSERT INTO disputes (exchange_id, site_id, opened_at) VALUES ($1, $2::uuid, "
    "to_timestamp($3)) ON CONFLICT (exchange_id) DO UPDATE SET resolved = false";
constexpr const char* kResolveDispute =
    "UPDATE disputes SET resolved = true WHERE exchange_id = $1";

#undef MAILLON_UTC
#undef MAILLON_PARIS_DAY

std::optional<std::string> opt_text(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return f.as<std::string>();
}

Json notification_from(const pqxx::row& row) {
  return {{"id", row[0].as<std::string>()},
          {"seq", row[1].as<int64_t>()},
          {"type", row[2].as<std::string>()},
          {"exchange_id", row[3].is_null() ? Json(nullptr) : Json(row[3].as<std::string>())},
          {"data", Json::parse(row[4].c_str())},
          {"created_at", row[5].as<std::string>()},
          {"read", row[6].as<bool>()}};
}

Preference preference_from(const pqxx::row& row, int first) {
  return {row[first].as<bool>(),
          email_choice_named(row[first + 1].as<std::string>()).value_or(EmailChoice::off)};
}

}  // namespace

std::optional<Recipient> recipient(pqxx::work& tx, const std::string& member_id) {
  auto r = tx.exec_params(kRecipient, member_id);
  if (r.empty()) return std::nullopt;
  return Recipient{member_id, r[0][0].as<std::string>(), opt_text(r[0][1]), opt_text(r[0][2])};
}

void upsert_contact(pqxx::work& tx, const std::string& member_id,
                    const std::optional<std::string>& community_id,
                    const std::optional<std::string>& email, bool verified,
                    const std::string& display_name) {
  tx.exec_params(kUpsertContact, member_id, community_id, display_name, email, verified);
}

void upsert_identity(pqxx::work& tx, const std::string& member_id,
                     const std::optional<std::string>& community_id,
                     const std::optional<std::string>& home_site_id,
                     const std::optional<std::string>& display_name,
                     const std::vector<std::string>& staff_site_ids) {
  tx.exec_params(kUpsertIdentity, member_id, community_id, home_site_id, display_name,
                 array_literal(staff_site_ids));
}

void erase_recipient(pqxx::work& tx, const std::string& member_id) {
  tx.exec_params(kEraseRecipient, member_id);
}

std::vector<std::string> staff_of_site(pqxx::work& tx, const std::string& site_id) {
  std::vector<std::string> ids;
  for (const auto& row : tx.exec_params(kStaffOfSite, site_id)) {
    ids.push_back(row[0].as<std::string>());
  }
  return ids;
}

Preference preference(pqxx::work& tx, const std::string& member_id, std::string_view kind) {
  auto r = tx.exec_params(kPreference, member_id, std::string(kind));
  if (r.empty()) return default_preference(kind);
  return preference_from(r[0], 0);
}

std::vector<std::pair<std::string, Preference>> changed_preferences(pqxx::work& tx,
                                                                    const std::string& member_id) {
  std::vector<std::pair<std::string, Preference>> out;
  for (const auto& row : tx.exec_params(kPreferences, member_id)) {
    out.emplace_back(row[0].as<std::string>(), preference_from(row, 1));
  }
  return out;
}

void set_preference(pqxx::work& tx, const std::string& member_id, std::string_view kind,
                    const Preference& p) {
  tx.exec_params(kSetPreference, member_id, std::string(kind), p.in_app,
                 std::string(to_string(p.email)));
}

void store_unsubscribe_token(pqxx::work& tx, const std::string& token_hash,
                             const std::string& member_id, std::string_view kind) {
  tx.exec_params(kStoreToken, token_hash, member_id, std::string(kind));
}

std::optional<std::pair<std::string, std::string>> unsubscribe_token(
    pqxx::work& tx, const std::string& token_hash) {
  auto r = tx.exec_params(kToken, token_hash);
  if (r.empty()) return std::nullopt;
  return std::make_pair(r[0][0].as<std::string>(), r[0][1].as<std::string>());
}

bool insert_notification(pqxx::work& tx, const std::string& id, const Notice& n) {
  return !tx.exec_params(kInsertNotification, id, n.member_id, n.type, n.kind, n.exchange_id,
                         n.data.dump())
              .empty();
}

std::vector<Json> list_notifications(pqxx::work& tx, const std::string& member_id, bool unread_only,
                                     std::optional<int64_t> before_seq, int limit) {
  std::vector<Json> items;
  for (const auto& row :
       tx.exec_params(kListNotifications, member_id, unread_only, before_seq, limit)) {
    items.push_back(notification_from(row));
  }
  return items;
}

std::vector<std::pair<std::string, Json>> notifications_after(
    pqxx::work& tx, const std::vector<std::pair<std::string, int64_t>>& cursors, int limit) {
  std::vector<std::string> members, afters;
  for (const auto& [member_id, after_seq] : cursors) {
    members.push_back(member_id);  // uuids from authenticated identities: no quoting needed
    afters.push_back(std::to_string(after_seq));
  }
  std::vector<std::pair<std::string, Json>> items;
  for (const auto& row :
       tx.exec_params(kNotificationsAfter, array_literal(members), array_literal(afters), limit)) {
    items.emplace_back(row[7].as<std::string>(), notification_from(row));
  }
  return items;
}

int64_t latest_notification_seq(pqxx::work& tx, const std::string& member_id) {
  return tx.exec_params(kLatestNotificationSeq, member_id)[0][0].as<int64_t>();
}

bool mark_notification_read(pqxx::work& tx, const std::string& member_id, const std::string& id) {
  return tx.exec_params(kMarkRead, id, member_id).affected_rows() == 1;
}

int64_t mark_all_notifications_read(pqxx::work& tx, const std::string& member_id) {
  return static_cast<int64_t>(tx.exec_params(kMarkAllRead, member_id).affected_rows());
}

bool add_digest_item(pqxx::work& tx, const std::string& id, const std::string& member_id,
                     std::string_view kind, const std::string& line, const std::string& link,
                     int64_t at_s) {
  return !tx.exec_params(kAddDigestItem, id, member_id, std::string(kind), line, link, at_s)
              .empty();
}

std::string paris_day(pqxx::work& tx, int64_t at_s) {
  return tx.exec_params(kParisDay, at_s)[0][0].as<std::string>();
}

std::vector<std::pair<std::string, std::string>> digest_groups_due(pqxx::work& tx, int64_t before_s,
                                                                   const std::string& day,
                                                                   int limit) {
  std::vector<std::pair<std::string, std::string>> groups;
  for (const auto& row : tx.exec_params(kDigestGroupsDue, before_s, day, limit)) {
    groups.emplace_back(row[0].as<std::string>(), row[1].as<std::string>());
  }
  return groups;
}

std::vector<DigestItem> digest_items(pqxx::work& tx, const std::string& member_id,
                                     const std::string& kind, int64_t before_s, int limit) {
  std::vector<DigestItem> items;
  for (const auto& row : tx.exec_params(kDigestItems, member_id, kind, before_s, limit)) {
    items.push_back({row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<std::string>(),
                     row[3].as<std::string>(), row[4].as<std::string>()});
  }
  return items;
}

void mark_digest_sent(pqxx::work& tx, const std::vector<std::string>& item_ids) {
  tx.exec_params(kMarkDigestSent, array_literal(item_ids));
}

void upsert_listing(pqxx::work& tx, const Listing& l) {
  tx.exec_params(kUpsertListing, l.id, l.side, l.member_id, l.title, l.site_id);
}

std::optional<Listing> listing(pqxx::work& tx, const std::string& id) {
  auto r = tx.exec_params(kListing, id);
  if (r.empty()) return std::nullopt;
  return Listing{r[0][0].as<std::string>(), r[0][1].as<std::string>(), r[0][2].as<std::string>(),
                 r[0][3].as<std::string>(), opt_text(r[0][4])};
}

void upsert_exchange_loan(pqxx::work& tx, const std::string& exchange_id,
                          const std::optional<std::string>& provider_id,
                          const std::optional<std::string>& receiver_id,
                          const std::optional<std::string>& site_id, const std::string& due_at) {
  tx.exec_params(kUpsertLoan, exchange_id, provider_id, receiver_id, site_id, due_at);
}

void close_exchange_loan(pqxx::work& tx, const std::string& exchange_id) {
  tx.exec_params(kCloseLoan, exchange_id);
}

std::vector<DueLoan> loans_due_between(pqxx::work& tx, int64_t from_s, int64_t to_s, int limit) {
  std::vector<DueLoan> loans;
  for (const auto& row : tx.exec_params(kLoansDue, from_s, to_s, limit)) {
    loans.push_back({row[0].as<std::string>(), opt_text(row[1]), opt_text(row[2]), opt_text(row[3]),
                     row[4].as<std::string>()});
  }
  return loans;
}

void upsert_reservation(pqxx::work& tx, const std::string& item_id, const std::string& member_id,
                        const std::optional<std::string>& site_id, const std::string& title,
                        const std::string& reserved_until) {
  tx.exec_params(kUpsertReservation, item_id, member_id, site_id, title, reserved_until);
}

void drop_reservation(pqxx::work& tx, const std::string& item_id) {
  tx.exec_params(kDropReservation, item_id);
}

std::vector<Reservation> reservations_ending_between(pqxx::work& tx, int64_t from_s, int64_t to_s,
                                                     int limit) {
  std::vector<Reservation> out;
  for (const auto& row : tx.exec_params(kReservationsEnding, from_s, to_s, limit)) {
    out.push_back({row[0].as<std::string>(), row[1].as<std::string>(), opt_text(row[2]),
                   row[3].as<std::string>(), row[4].as<std::string>()});
  }
  return out;
}

void open_dispute(pqxx::work& tx, const std::string& exchange_id,
                  const std::optional<std::string>& site_id, int64_t at_s) {
  tx.exec_params(kOpenDispute, exchange_id, site_id, at_s);
}

void resolve_dispute(pqxx::work& tx, const std::string& exchange_id) {
  tx.exec_params(kResolveDispute, exchange_id);
}

}  // namespace maillon::notify::repo
