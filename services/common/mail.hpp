// Outgoing e-mail: a queue in the caller's schema, written in the transaction of the cause, and a
// sender that delivers it over SMTP (libcurl) as close to exactly once as SMTP allows.
//
// Each row gets its Message-ID when queued and keeps it for every attempt. A sender marks the
// rows it takes "sending" under an owner key it holds as a PostgreSQL advisory lock for its
// connection's life, sends, and marks each row sent in one autocommit statement written the
// moment the server says 250; just before the last chunk of a message goes out it stamps the row
// (sent_at). A sender that dies leaves its rows "sending" under a lock nobody holds any more: the
// next sender puts back those it never finished handing over (same Message-ID) and takes the
// stamped ones as sent (the relay has them). Nothing is sent twice; a mail is lost only if the
// process dies in the microseconds between the stamp and its final dot.
#pragma once

#include <cstdint>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <string_view>

namespace maillon {
class Service;
}

namespace maillon::mail {

struct OutgoingMail {
  std::string to;       // recipient address
  std::string kind;     // X-Maillon-Kind: match.new … or account.verify / account.reset …
  std::string subject;  // French
  std::string text;     // plain-text part (French)
  std::string html;     // HTML part (French)
  std::string unsubscribe_url;  // empty for account mails (no List-Unsubscribe then)
  std::string dedup_key;        // unique per logical mail: enqueueing twice gives one mail
};

// Inserts into <schema>.mail_queue in the caller's transaction (the cause's): nothing is sent
// unless that transaction commits. Returns false if dedup_key was already queued.
bool enqueue(pqxx::work& tx, std::string_view schema, const OutgoingMail& m);

// Started once by a service that queues mail: sends due rows over MAILLON_SMTP_URL (libcurl),
// from MAILLON_MAIL_FROM, retried with back-off, parked after repeated permanent failure, metrics
// (maillon_mail_{sent,retried,parked}_total, maillon_mail_queue_depth,
// maillon_mail_oldest_pending_seconds, and maillon_mail_relay_backoff_seconds: how long a sender
// now waits because the relay failed, 0 once it answers).
void start_sender(Service& service, std::string_view schema);

// What the sender and the tests share.

// The settings the sender reads from the environment (Config's typed readers), validated.
struct SenderSettings {
  std::string smtp_url;              // MAILLON_SMTP_URL: smtp://host:port or smtps://host:port
  std::string smtp_user;             // MAILLON_SMTP_USER (optional)
  std::string smtp_password;         // MAILLON_SMTP_PASSWORD (optional)
  std::string from;                  // MAILLON_MAIL_FROM: "Maillon <ne-pas-repondre@maillon.local>"
  int senders = 2;                   // MAILLON_MAIL_SENDERS: threads, each with its SMTP connection
  int batch_max = 50;                // MAILLON_MAIL_BATCH_MAX: rows one sender takes at a time
  int64_t poll_ms = 200;             // MAILLON_MAIL_POLL_MS: an idle sender looks again after this
  int64_t retry_base_ms = 2'000;     // MAILLON_MAIL_RETRY_BASE_MS: first back-off
  int64_t retry_max_ms = 300'000;    // MAILLON_MAIL_RETRY_MAX_MS: back-off ceiling
  int permanent_failures_max = 3;    // MAILLON_MAIL_PERMANENT_FAILURES_MAX: then parked
  int64_t smtp_timeout_ms = 20'000;  // MAILLON_SMTP_TIMEOUT_MS

  static SenderSettings from_env();
};

// The whole message as sent (CRLF lines): headers, then multipart/alternative text + HTML.
// `date_unix_s` is the Date header's time.
std::string render_message(const OutgoingMail& m, std::string_view message_id,
                           std::string_view from, int64_t date_unix_s);

// The bare address of "Name <addr>" or "addr".
std::string address_of(std::string_view mailbox);

// The next back-off after `attempts` transient failures (1 for the first), capped.
int64_t backoff_ms(int attempts, int64_t base_ms, int64_t max_ms);

}  // namespace maillon::mail
