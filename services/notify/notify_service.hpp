// The notify service: who hears of what, and how. It owns the in-app inbox (moved here from the
// exchange service, same contract), each member's preferences per kind, the one-click
// unsubscribe, and the outgoing mail (services/common/mail.hpp) of the notifications it decides.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <pqxx/pqxx>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace maillon {
class Clock;
class Service;
struct Event;
}  // namespace maillon

namespace maillon::notify {

using Json = nlohmann::json;

inline constexpr const char* kSchema = "notify";
inline constexpr int kStreamBatchMax = 100;  // notifications per SSE stream and poll
inline constexpr int kJobBatchMax = 500;     // rows one job round takes

// Preferences ------------------------------------------------------------------------------

enum class EmailChoice { instant, digest, off };
struct Preference {
  bool in_app = true;
  EmailChoice email = EmailChoice::instant;
};

// The kinds of the contract, in the order preferences list them.
std::span<const std::string_view> kinds();
bool is_kind(std::string_view kind);
Preference default_preference(std::string_view kind);
std::string_view to_string(EmailChoice choice);
std::optional<EmailChoice> email_choice_named(std::string_view name);

// Deciding ---------------------------------------------------------------------------------

// One thing to tell one member.
struct Notice {
  std::string cause;  // unique per logical notice and member-independent ("event:<id>")
  std::string member_id;
  std::string type;  // the inbox's `type`: the event type, or the job's ("loan.reminder")
  std::string kind;  // the preference kind
  std::optional<std::string> exchange_id;
  Json data = Json::object();  // the inbox's `data`
  // The mail: a subject, paragraphs, a link (a web path) and the site it is about.
  std::string subject;
  std::vector<std::string> paragraphs;
  std::string link_path;
  std::optional<std::string> site_id;
};

// Where a notice went.
struct Told {
  bool inbox = false;
  bool mail = false;
  bool digest = false;
};

// Writes the notice to the member's inbox and/or queues its mail (or keeps it for the digest),
// as the member's preferences say, in `tx` (the event's transaction). A notice told before (same
// cause and member) is told again nowhere.
Told tell(pqxx::work& tx, const Notice& notice, int64_t now_s);
// The member's address is now verified (member.contact): the mails that waited for it (a notice
// told before notify knew the address) are sent, as the member's preferences now say.
void release_awaiting_mails(pqxx::work& tx, const std::string& member_id, int64_t now_s);

// The mail of a notice for a verified address: text and HTML in French with the site's name and
// address, the link, and the unsubscribe link (RFC 8058) made of `unsubscribe_token`.
struct ComposedMail {
  std::string text;
  std::string html;
};
ComposedMail compose(pqxx::work& tx, const std::string& display_name, const Notice& notice,
                     const std::string& unsubscribe_url);
std::string public_url();  // MAILLON_PUBLIC_URL without a trailing slash
// "à 300 m", "à 2,5 km": the distance as the contract buckets it.
std::string distance_words(int64_t distance_m);
int64_t bucket_distance_m(int64_t distance_m);

// Repository ------------------------------------------------------------------------------

namespace repo {

struct Recipient {
  std::string member_id;
  std::string display_name;
  std::optional<std::string> email;  // only when verified and not erased
  std::optional<std::string> home_site_id;
};
std::optional<Recipient> recipient(pqxx::work& tx, const std::string& member_id);
// The member's contact as of `occurred_at` (its event's time); false, and nothing changed, when
// a newer contact was kept already (read earlier by another replica).
bool upsert_contact(pqxx::work& tx, const std::string& member_id,
                    const std::optional<std::string>& community_id,
                    const std::optional<std::string>& email, bool verified,
                    const std::string& display_name, const std::string& occurred_at);
void upsert_identity(pqxx::work& tx, const std::string& member_id,
                     const std::optional<std::string>& community_id,
                     const std::optional<std::string>& home_site_id,
                     const std::optional<std::string>& display_name,
                     const std::vector<std::string>& staff_site_ids,
                     std::optional<bool> community_admin = std::nullopt);  // nullopt: unchanged
void erase_recipient(pqxx::work& tx, const std::string& member_id);
// What telling a member of a notice of some kind needs, read at once: their preference for the
// kind, who they are here (nullopt: not known yet), and whether a mail to them may still find a
// verified address (their contact not read yet, or an address awaiting its verification).
struct Addressee {
  Preference preference;
  std::optional<Recipient> recipient;
  bool address_may_come = true;
  bool inboxed = false;  // the notice went to the inbox now (not told before, read in the app)
};
// Who the notice `n` (of id `notice_id`) is for, and the notice written to their inbox when they
// read its kind in the app, in one round trip.
Addressee addressee(pqxx::work& tx, const std::string& notice_id, const Notice& n);
// Mails waiting for a verified address (schemas/notify/080_mails_awaiting_address.sql). A
// member's waiting mails are locked until the transaction ends (a statement after the lock sees
// what the other side committed: its notice kept, or its address): addressee() takes the lock
// when the member has no verified address and one may come, lock_address() otherwise. Under it, a
// notice (JSON) is kept for the member unless they have a verified address now (the member as
// they are now is returned); the member's ones are taken, less than a day old (the older ones
// dropped); and the stale ones dropped (how many).
void lock_address(pqxx::work& tx, const std::string& member_id);
std::optional<Recipient> await_address(pqxx::work& tx, const std::string& notice_id,
                                       const std::string& member_id,
                                       const std::string& notice_json);
std::vector<std::string> take_awaiting(pqxx::work& tx, const std::string& member_id);
int64_t drop_stale_awaiting(pqxx::work& tx);
std::vector<std::string> staff_of_site(pqxx::work& tx, const std::string& site_id);
// The administrators of a community (member.updated's community_admin), at most 200.
std::vector<std::string> admins_of_community(pqxx::work& tx, const std::string& community_id);

Preference preference(pqxx::work& tx, const std::string& member_id, std::string_view kind);
std::vector<std::pair<std::string, Preference>> changed_preferences(pqxx::work& tx,
                                                                    const std::string& member_id);
void set_preference(pqxx::work& tx, const std::string& member_id, std::string_view kind,
                    const Preference& p);
void store_unsubscribe_token(pqxx::work& tx, const std::string& token_hash,
                             const std::string& member_id, std::string_view kind);
// The (member, kind) of a token, or nullopt.
std::optional<std::pair<std::string, std::string>> unsubscribe_token(pqxx::work& tx,
                                                                     const std::string& token_hash);

std::vector<Json> list_notifications(pqxx::work& tx, const std::string& member_id, bool unread_only,
                                     std::optional<int64_t> before_seq, int limit);
// For each (member id, last seq sent), the member's notifications after it, oldest first, at
// most `limit` each.
std::vector<std::pair<std::string, Json>> notifications_after(
    pqxx::work& tx, const std::vector<std::pair<std::string, int64_t>>& cursors, int limit);
int64_t latest_notification_seq(pqxx::work& tx, const std::string& member_id);
bool mark_notification_read(pqxx::work& tx, const std::string& member_id, const std::string& id);
int64_t mark_all_notifications_read(pqxx::work& tx, const std::string& member_id);

// false: that digest item existed already.
bool add_digest_item(pqxx::work& tx, const std::string& id, const std::string& member_id,
                     std::string_view kind, const std::string& line, const std::string& link,
                     int64_t at_s);
struct DigestItem {
  std::string id;
  std::string member_id;
  std::string kind;
  std::string line;
  std::string link;
};
// The Europe/Paris day ("YYYY-MM-DD") holding the Unix time `at_s`.
std::string paris_day(pqxx::work& tx, int64_t at_s);
// (member, kind) pairs with unsent items from before the Paris day holding `before_s` and no
// digest queued yet for `day`, at most `limit`.
std::vector<std::pair<std::string, std::string>> digest_groups_due(pqxx::work& tx, int64_t before_s,
                                                                   const std::string& day,
                                                                   int limit);
// A member's unsent items of a kind from before the Paris day holding `before_s`, oldest first.
std::vector<DigestItem> digest_items(pqxx::work& tx, const std::string& member_id,
                                     const std::string& kind, int64_t before_s, int limit);
void mark_digest_sent(pqxx::work& tx, const std::vector<std::string>& item_ids);

struct Listing {
  std::string id;
  std::string side;
  std::string member_id;
  std::string title;
  std::optional<std::string> site_id;
};
void upsert_listing(pqxx::work& tx, const Listing& l);
std::optional<Listing> listing(pqxx::work& tx, const std::string& id);

void upsert_exchange_loan(pqxx::work& tx, const std::string& exchange_id,
                          const std::optional<std::string>& provider_id,
                          const std::optional<std::string>& receiver_id,
                          const std::optional<std::string>& site_id, const std::string& due_at);
void close_exchange_loan(pqxx::work& tx, const std::string& exchange_id);
struct DueLoan {
  std::string exchange_id;
  std::optional<std::string> provider_id;
  std::optional<std::string> receiver_id;
  std::optional<std::string> site_id;
  std::string due_at;  // RFC 3339
};
// Open loans due between from and to (Unix seconds).
std::vector<DueLoan> loans_due_between(pqxx::work& tx, int64_t from_s, int64_t to_s, int limit);

void upsert_reservation(pqxx::work& tx, const std::string& item_id, const std::string& member_id,
                        const std::optional<std::string>& site_id, const std::string& title,
                        const std::string& reserved_until);
void drop_reservation(pqxx::work& tx, const std::string& item_id);
struct Reservation {
  std::string item_id;
  std::string member_id;
  std::optional<std::string> site_id;
  std::string title;
  std::string reserved_until;
};
std::vector<Reservation> reservations_ending_between(pqxx::work& tx, int64_t from_s, int64_t to_s,
                                                     int limit);

void open_dispute(pqxx::work& tx, const std::string& exchange_id,
                  const std::optional<std::string>& site_id, int64_t at_s);
void resolve_dispute(pqxx::work& tx, const std::string& exchange_id);

}  // namespace repo

// Wiring ---------------------------------------------------------------------------------

void register_notification_routes(Service& service);
void register_preference_routes(Service& service);
void register_consumers(Service& service);
void register_depot_consumer(Service& service);    // consumers_depot.cpp
void register_members_consumer(Service& service);  // recipients.cpp
// The event's occurred_at (Unix seconds), or the clock's now when it cannot be read.
int64_t event_time_s(const Event& e, const Clock& clock);
void register_jobs(Service& service);

}  // namespace maillon::notify
