// The notify service's SQL, one named statement per operation.
#include "services/common/db.hpp"
#include "services/notify/notify_service.hpp"
#include "services/notify/repository_sql.hpp"

namespace maillon::notify::repo {
namespace {

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

namespace {

// kRecipient's columns, or nullopt without a row.
std::optional<Recipient> recipient_of(const std::string& member_id, const pqxx::result& r) {
  if (r.empty()) return std::nullopt;
  return Recipient{member_id, r[0][0].as<std::string>(), opt_text(r[0][1]), opt_text(r[0][2])};
}

}  // namespace

std::optional<Recipient> recipient(pqxx::work& tx, const std::string& member_id) {
  return recipient_of(member_id, exec_cached(tx, kRecipient, member_id));
}

bool upsert_contact(pqxx::work& tx, const std::string& member_id,
                    const std::optional<std::string>& community_id,
                    const std::optional<std::string>& email, bool verified,
                    const std::string& display_name, const std::string& occurred_at) {
  return exec_cached(tx, kUpsertContact, member_id, community_id, display_name, email, verified,
                     occurred_at)
             .affected_rows() == 1;
}

void upsert_identity(pqxx::work& tx, const std::string& member_id,
                     const std::optional<std::string>& community_id,
                     const std::optional<std::string>& home_site_id,
                     const std::optional<std::string>& display_name,
                     const std::vector<std::string>& staff_site_ids,
                     std::optional<bool> community_admin) {
  exec_cached(tx, kUpsertIdentity, member_id, community_id, home_site_id, display_name,
              array_literal(staff_site_ids), community_admin);
}

void erase_recipient(pqxx::work& tx, const std::string& member_id) {
  exec_cached(tx, kEraseRecipient, member_id);
  lock_address(tx, member_id);  // a notice waiting now is forgotten too
  exec_cached(tx, kForgetAwaiting, member_id);
}

Addressee addressee(pqxx::work& tx, const std::string& notice_id, const Notice& n) {
  const Preference chosen_by_default = default_preference(n.kind);
  const auto r = exec_cached(tx, kAddressee, n.member_id, n.kind, chosen_by_default.in_app,
                             notice_id, n.type, n.exchange_id, n.data.dump());
  const pqxx::row row = r.at(0);
  Addressee a;
  a.preference = row[0].is_null() ? chosen_by_default : preference_from(row, 0);
  if (row[2].as<bool>()) {
    a.recipient =
        Recipient{n.member_id, row[3].as<std::string>(), opt_text(row[4]), opt_text(row[5])};
  }
  a.address_may_come = row[6].as<bool>();
  a.inboxed = row[7].as<bool>();
  return a;
}

void lock_address(pqxx::work& tx, const std::string& member_id) {
  exec_cached(tx, kLockAddress, member_id);
}

std::optional<Recipient> await_address(pqxx::work& tx, const std::string& notice_id,
                                       const std::string& member_id,
                                       const std::string& notice_json) {
  return recipient_of(member_id, exec_cached(tx, kAwaitAddress, notice_id, member_id, notice_json));
}

std::vector<std::string> take_awaiting(pqxx::work& tx, const std::string& member_id) {
  std::vector<std::string> notices;
  for (const auto& row : exec_cached(tx, kTakeAwaiting, member_id))
    notices.emplace_back(row[0].c_str());
  return notices;
}

int64_t drop_stale_awaiting(pqxx::work& tx) {
  return static_cast<int64_t>(tx.exec(kDropStaleAwaiting).affected_rows());
}

std::vector<std::string> staff_of_site(pqxx::work& tx, const std::string& site_id) {
  std::vector<std::string> ids;
  for (const auto& row : exec_cached(tx, kStaffOfSite, site_id)) {
    ids.push_back(row[0].as<std::string>());
  }
  return ids;
}

std::vector<std::string> admins_of_community(pqxx::work& tx, const std::string& community_id) {
  std::vector<std::string> ids;
  for (const auto& row : exec_cached(tx, kAdminsOfCommunity, community_id)) {
    ids.push_back(row[0].as<std::string>());
  }
  return ids;
}

Preference preference(pqxx::work& tx, const std::string& member_id, std::string_view kind) {
  auto r = exec_cached(tx, kPreference, member_id, std::string(kind));
  if (r.empty()) return default_preference(kind);
  return preference_from(r[0], 0);
}

std::vector<std::pair<std::string, Preference>> changed_preferences(pqxx::work& tx,
                                                                    const std::string& member_id) {
  std::vector<std::pair<std::string, Preference>> out;
  for (const auto& row : exec_cached(tx, kPreferences, member_id)) {
    out.emplace_back(row[0].as<std::string>(), preference_from(row, 1));
  }
  return out;
}

void set_preference(pqxx::work& tx, const std::string& member_id, std::string_view kind,
                    const Preference& p) {
  exec_cached(tx, kSetPreference, member_id, std::string(kind), p.in_app,
              std::string(to_string(p.email)));
}

void store_unsubscribe_token(pqxx::work& tx, const std::string& token_hash,
                             const std::string& member_id, std::string_view kind) {
  exec_cached(tx, kStoreToken, token_hash, member_id, std::string(kind));
}

std::optional<std::pair<std::string, std::string>> unsubscribe_token(
    pqxx::work& tx, const std::string& token_hash) {
  auto r = exec_cached(tx, kToken, token_hash);
  if (r.empty()) return std::nullopt;
  return std::make_pair(r[0][0].as<std::string>(), r[0][1].as<std::string>());
}

std::vector<Json> list_notifications(pqxx::work& tx, const std::string& member_id, bool unread_only,
                                     std::optional<int64_t> before_seq, int limit) {
  std::vector<Json> items;
  for (const auto& row :
       exec_cached(tx, kListNotifications, member_id, unread_only, before_seq, limit)) {
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
       exec_cached(tx, kNotificationsAfter, array_literal(members), array_literal(afters), limit)) {
    items.emplace_back(row[7].as<std::string>(), notification_from(row));
  }
  return items;
}

int64_t latest_notification_seq(pqxx::work& tx, const std::string& member_id) {
  return exec_cached(tx, kLatestNotificationSeq, member_id)[0][0].as<int64_t>();
}

bool mark_notification_read(pqxx::work& tx, const std::string& member_id, const std::string& id) {
  return exec_cached(tx, kMarkRead, id, member_id).affected_rows() == 1;
}

int64_t mark_all_notifications_read(pqxx::work& tx, const std::string& member_id) {
  return static_cast<int64_t>(exec_cached(tx, kMarkAllRead, member_id).affected_rows());
}

bool add_digest_item(pqxx::work& tx, const std::string& id, const std::string& member_id,
                     std::string_view kind, const std::string& line, const std::string& link,
                     int64_t at_s) {
  return !exec_cached(tx, kAddDigestItem, id, member_id, std::string(kind), line, link, at_s)
              .empty();
}

std::string paris_day(pqxx::work& tx, int64_t at_s) {
  return exec_cached(tx, kParisDay, at_s)[0][0].as<std::string>();
}

std::vector<std::pair<std::string, std::string>> digest_groups_due(pqxx::work& tx, int64_t before_s,
                                                                   const std::string& day,
                                                                   int limit) {
  std::vector<std::pair<std::string, std::string>> groups;
  for (const auto& row : exec_cached(tx, kDigestGroupsDue, before_s, day, limit)) {
    groups.emplace_back(row[0].as<std::string>(), row[1].as<std::string>());
  }
  return groups;
}

std::vector<DigestItem> digest_items(pqxx::work& tx, const std::string& member_id,
                                     const std::string& kind, int64_t before_s, int limit) {
  std::vector<DigestItem> items;
  for (const auto& row : exec_cached(tx, kDigestItems, member_id, kind, before_s, limit)) {
    items.push_back({row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<std::string>(),
                     row[3].as<std::string>(), row[4].as<std::string>()});
  }
  return items;
}

void mark_digest_sent(pqxx::work& tx, const std::vector<std::string>& item_ids) {
  exec_cached(tx, kMarkDigestSent, array_literal(item_ids));
}

void upsert_listing(pqxx::work& tx, const Listing& l) {
  exec_cached(tx, kUpsertListing, l.id, l.side, l.member_id, l.title, l.site_id);
}

std::optional<Listing> listing(pqxx::work& tx, const std::string& id) {
  auto r = exec_cached(tx, kListing, id);
  if (r.empty()) return std::nullopt;
  return Listing{r[0][0].as<std::string>(), r[0][1].as<std::string>(), r[0][2].as<std::string>(),
                 r[0][3].as<std::string>(), opt_text(r[0][4])};
}

void upsert_exchange_loan(pqxx::work& tx, const std::string& exchange_id,
                          const std::optional<std::string>& provider_id,
                          const std::optional<std::string>& receiver_id,
                          const std::optional<std::string>& site_id, const std::string& due_at) {
  exec_cached(tx, kUpsertLoan, exchange_id, provider_id, receiver_id, site_id, due_at);
}

void close_exchange_loan(pqxx::work& tx, const std::string& exchange_id) {
  exec_cached(tx, kCloseLoan, exchange_id);
}

std::vector<DueLoan> loans_due_between(pqxx::work& tx, int64_t from_s, int64_t to_s, int limit) {
  std::vector<DueLoan> loans;
  for (const auto& row : exec_cached(tx, kLoansDue, from_s, to_s, limit)) {
    loans.push_back({row[0].as<std::string>(), opt_text(row[1]), opt_text(row[2]), opt_text(row[3]),
                     row[4].as<std::string>()});
  }
  return loans;
}

void upsert_reservation(pqxx::work& tx, const std::string& item_id, const std::string& member_id,
                        const std::optional<std::string>& site_id, const std::string& title,
                        const std::string& reserved_until) {
  exec_cached(tx, kUpsertReservation, item_id, member_id, site_id, title, reserved_until);
}

void drop_reservation(pqxx::work& tx, const std::string& item_id) {
  exec_cached(tx, kDropReservation, item_id);
}

std::vector<Reservation> reservations_ending_between(pqxx::work& tx, int64_t from_s, int64_t to_s,
                                                     int limit) {
  std::vector<Reservation> out;
  for (const auto& row : exec_cached(tx, kReservationsEnding, from_s, to_s, limit)) {
    out.push_back({row[0].as<std::string>(), row[1].as<std::string>(), opt_text(row[2]),
                   row[3].as<std::string>(), row[4].as<std::string>()});
  }
  return out;
}

void open_dispute(pqxx::work& tx, const std::string& exchange_id,
                  const std::optional<std::string>& site_id, int64_t at_s) {
  exec_cached(tx, kOpenDispute, exchange_id, site_id, at_s);
}

void resolve_dispute(pqxx::work& tx, const std::string& exchange_id) {
  exec_cached(tx, kResolveDispute, exchange_id);
}

}  // namespace maillon::notify::repo
