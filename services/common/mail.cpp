// The mail queue and its SMTP sender (mail.hpp says why it is shaped this way).
#include "services/common/mail.hpp"

#include <curl/curl.h>
#include <sodium.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <ctime>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "services/common/config.hpp"
#include "services/common/ids.hpp"
#include "services/common/job_pace.hpp"
#include "services/common/log.hpp"
#include "services/common/mail_sql.hpp"
#include "services/common/service.hpp"
#include "services/common/time.hpp"

namespace maillon::mail {
namespace {

// The advisory-lock class of sender owner keys (pg_try_advisory_lock(int, int)): a sender holds
// (kOwnerLockClass, its key) for its connection's life.
constexpr int kOwnerLockClass = 7123;
constexpr std::size_t kLineBytesMax = 900;  // RFC 5322 allows 998; beyond, the part is base64
constexpr std::size_t kEncodedWordInputBytesMax = 42;  // 56 base64 chars: words under 75
constexpr int64_t kRecoverIntervalMs = 1'000;
// The longest an idle sender waits between two looks at its queue (see Worker::idle_pause).
constexpr int64_t kIdlePauseMaxMs = 2'000;
// Mails queued by this process so far (enqueue): a sender in an idle pause looks again within
// poll_ms of a new one.
std::atomic<uint64_t> g_queued{0};
constexpr std::size_t kErrorBytesMax = 500;
constexpr std::size_t kLastChunkBytes = 2;  // the message's last line break

std::string replace_all(std::string text, std::string_view token, std::string_view by) {
  for (std::size_t at = text.find(token); at != std::string::npos; at = text.find(token, at)) {
    text.replace(at, token.size(), by);
    at += by.size();
  }
  return text;
}

std::string with_schema(const char* sql, std::string_view quoted_schema) {
  return replace_all(sql, "{schema}", quoted_schema);
}

// "schema" as an SQL identifier (PQescapeIdentifier's rule, without needing a connection).
std::string quoted_identifier(std::string_view name) {
  std::string out = "\"";
  for (char c : name) out += (c == '"') ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string base64(std::string_view bytes) {
  if (bytes.empty()) return "";
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.find('\0'));
  return out;
}

// A header value on one line: a CR or LF in it would start a header of the caller's choosing.
std::string one_line(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) out += (c == '\r' || c == '\n') ? ' ' : c;
  return out;
}

bool is_ascii(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

// RFC 2047: UTF-8 text as base64 encoded words, each under 75 characters, never splitting a
// character, folded onto continuation lines.
std::string encoded_words(std::string_view text) {
  if (is_ascii(text) && text.size() < 70) return one_line(text);
  std::string out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = std::min(text.size(), start + kEncodedWordInputBytesMax);
    while (end < text.size() && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?" + base64(one_line(text.substr(start, end - start))) + "?=";
    start = end;
  }
  return out;
}

// Lines ending in CRLF whatever the template used.
std::string crlf_lines(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 40);
  for (const char c : text) {
    if (c == '\r') continue;
    if (c == '\n') {
      out += "\r\n";
    } else {
      out += c;
    }
  }
  if (out.size() < 2 || out.compare(out.size() - 2, 2, "\r\n") != 0) out += "\r\n";
  return out;
}

bool has_long_line(std::string_view text) {
  std::size_t run = 0;
  for (char c : text) {
    run = (c == '\n') ? 0 : run + 1;
    if (run > kLineBytesMax) return true;
  }
  return false;
}

std::string part(std::string_view content_type, std::string_view body) {
  std::string out = "Content-Type: " + std::string(content_type) + "; charset=UTF-8\r\n";
  if (!has_long_line(body)) {
    return out + "Content-Transfer-Encoding: 8bit\r\n\r\n" + crlf_lines(body);
  }
  out += "Content-Transfer-Encoding: base64\r\n\r\n";
  const std::string encoded = base64(body);
  for (std::size_t i = 0; i < encoded.size(); i += 76) out += encoded.substr(i, 76) + "\r\n";
  return out;
}

std::string rfc5322_date(int64_t unix_s) {
  const auto t = static_cast<std::time_t>(unix_s);
  std::tm tm{};
  gmtime_r(&t, &tm);
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%s, %02d %s %04d %02d:%02d:%02d +0000", kDays[tm.tm_wday],
                tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return buffer;
}

std::string domain_of(std::string_view address) {
  const auto at = address.rfind('@');
  if (at == std::string_view::npos || at + 1 >= address.size()) return "maillon.local";
  return std::string(address.substr(at + 1));
}

// One row taken by a sender.
struct Claimed {
  int64_t id = 0;
  std::string attempt_id;
  OutgoingMail mail;
  std::string message_id;
  int attempts = 0;
  int permanent_failures = 0;
};

enum class Outcome { sent, transient, permanent };

struct SendResult {
  Outcome outcome = Outcome::sent;
  std::string error;
  bool handed_over = false;  // the last chunk went to libcurl: the relay may have it all
  long response = 0;         // the last SMTP reply code (354 if the final dot got none)
};

// One SMTP client (one libcurl handle: its connection is reused from mail to mail).
class SmtpClient {
 public:
  explicit SmtpClient(const SenderSettings& settings) : settings_(settings) {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    curl_ = curl_easy_init();
    if (curl_ == nullptr) throw std::runtime_error("curl_easy_init failed");
  }
  ~SmtpClient() { curl_easy_cleanup(curl_); }
  SmtpClient(const SmtpClient&) = delete;
  SmtpClient& operator=(const SmtpClient&) = delete;

  // `before_last_chunk` runs once, as the end of the message is handed to the connection.
  SendResult send(const std::string& recipient, const std::string& message,
                  const std::function<void()>& before_last_chunk) {
    Upload upload{message, 0, &before_last_chunk, false, false};
    curl_slist* rcpt = curl_slist_append(nullptr, ("<" + one_line(recipient) + ">").c_str());
    configure(rcpt, upload);
    const CURLcode code = curl_easy_perform(curl_);
    curl_slist_free_all(rcpt);
    if (code == CURLE_OK) return {Outcome::sent, "", true, 250};
    long response = 0;
    curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &response);
    std::string error = std::string(curl_easy_strerror(code)) + " (SMTP " +
                        std::to_string(response) + "): " + errors_;
    // 5xx: the server refuses this mail for good (unknown recipient, policy); anything else
    // (no connection, a timeout, 4xx) may pass later.
    const bool permanent = response >= 500 && response < 600;
    return {permanent ? Outcome::permanent : Outcome::transient, error.substr(0, kErrorBytesMax),
            upload.handed_over, response};
  }

 private:
  struct Upload {
    const std::string& data;
    std::size_t offset;
    const std::function<void()>* before_last_chunk;
    bool last_chunk_told;
    bool handed_over;
  };

  static std::size_t read_chunk(char* buffer, std::size_t size, std::size_t count, void* user) {
    auto* upload = static_cast<Upload*>(user);
    const std::size_t room = size * count;
    const std::size_t left = upload->data.size() - upload->offset;
    // The message goes in two parts: all but its last kLastChunkBytes, sent first, then (after
    // the mark) the rest, which libcurl follows with the final dot at once.
    std::size_t n = std::min(room, left);
    if (!upload->last_chunk_told) {
      if (left > kLastChunkBytes) {
        n = std::min(n, left - kLastChunkBytes);
      } else {
        upload->last_chunk_told = true;
        try {
          (*upload->before_last_chunk)();
        } catch (const std::exception&) {
          return CURL_READFUNC_ABORT;  // unmarked, so never complete: the row is taken again
        }
        upload->handed_over = true;
      }
    }
    std::memcpy(buffer, upload->data.data() + upload->offset, n);
    upload->offset += n;
    return n;
  }

  void configure(curl_slist* rcpt, Upload& upload) {
    errors_[0] = '\0';
    curl_easy_setopt(curl_, CURLOPT_URL, settings_.smtp_url.c_str());
    curl_easy_setopt(curl_, CURLOPT_MAIL_FROM, ("<" + address_of(settings_.from) + ">").c_str());
    curl_easy_setopt(curl_, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(curl_, CURLOPT_READFUNCTION, &SmtpClient::read_chunk);
    curl_easy_setopt(curl_, CURLOPT_READDATA, &upload);
    curl_easy_setopt(curl_, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl_, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(upload.data.size()));
    curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl_, CURLOPT_ERRORBUFFER, errors_);
    curl_easy_setopt(curl_, CURLOPT_TIMEOUT_MS, static_cast<long>(settings_.smtp_timeout_ms));
    curl_easy_setopt(curl_, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(std::min<int64_t>(settings_.smtp_timeout_ms, 10'000)));
    // smtp:// upgrades with STARTTLS when the relay offers it; smtps:// is TLS from the start.
    curl_easy_setopt(curl_, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_TRY));
    if (!settings_.smtp_user.empty()) {
      curl_easy_setopt(curl_, CURLOPT_USERNAME, settings_.smtp_user.c_str());
      curl_easy_setopt(curl_, CURLOPT_PASSWORD, settings_.smtp_password.c_str());
    }
  }

  const SenderSettings& settings_;
  CURL* curl_ = nullptr;
  char errors_[CURL_ERROR_SIZE] = {};
};

// What the sender threads share.
struct Shared {
  SenderSettings settings;
  std::string database_url;
  std::string quoted_schema;
  Metrics& metrics;
  Clock clock;
  std::atomic<bool> running{true};
  // The longest pause a sender is making because the relay failed (0: the relay answers).
  std::atomic<int64_t> relay_backoff_ms{0};
  std::mutex mutex;
  std::condition_variable wake;

  std::string sql(const char* statement) const { return with_schema(statement, quoted_schema); }
  std::string now_text() const { return format_rfc3339_us(clock.now_us()); }
  void pause(int64_t ms) {
    std::unique_lock lock(mutex);
    wake.wait_for(lock, std::chrono::milliseconds(ms), [this] { return !running.load(); });
  }
};

// One sender thread: its PostgreSQL connection (holding its owner lock) and its SMTP client.
class Worker {
 public:
  explicit Worker(Shared& shared) : shared_(shared), smtp_(shared.settings) {}

  void run() {
    while (shared_.running) {
      std::size_t taken = 0;
      relay_failed_ = false;
      queued_seen_ = g_queued.load();
      try {
        taken = round();
      } catch (const std::exception& e) {
        log::warn("mail sender round failed", {{"error", e.what()}});
        conn_.reset();  // a new connection and owner key; our rows are recovered
      }
      if (relay_failed_) {
        shared_.pause(relay_backoff());
      } else if (taken < static_cast<std::size_t>(shared_.settings.batch_max)) {
        empty_rounds_ = taken == 0 ? empty_rounds_ + 1 : 0;
        idle_pause();
      }
    }
  }

 private:
  // After a round that found nothing the pause grows, poll_ms doubling up to kIdlePauseMaxMs:
  // an idle service used to ask PostgreSQL for mail five times a second per sender, for
  // nothing. A mail queued by this process since the round began ends the pause within
  // poll_ms, as before; one queued by another process (a replica) waits kIdlePauseMaxMs at most.
  void idle_pause() {
    const int64_t poll = shared_.settings.poll_ms;
    int64_t left = backoff_ms(std::max(empty_rounds_, 1), poll, std::max(poll, kIdlePauseMaxMs));
    while (left > 0 && shared_.running) {
      const int64_t slice = std::min(left, poll);
      shared_.pause(slice);
      left -= slice;
      if (g_queued.load() != queued_seen_) {
        empty_rounds_ = 0;
        return;
      }
    }
  }

  // The relay down or refusing for now: the sender waits longer each time (the rows it did not
  // try wait with it) instead of knocking at every poll; the first answer ends the pause.
  int64_t relay_backoff() {
    const int64_t ms = backoff_ms(++relay_failures_, shared_.settings.retry_base_ms,
                                  shared_.settings.retry_max_ms);
    int64_t shown = shared_.relay_backoff_ms.load();
    while (shown < ms && !shared_.relay_backoff_ms.compare_exchange_weak(shown, ms)) {
    }
    return ms;
  }
  void relay_answered() {
    if (relay_failures_ == 0) return;
    relay_failures_ = 0;
    shared_.relay_backoff_ms = 0;
  }

  std::size_t round() {
    connect();
    const int64_t now_ms = shared_.clock.now_ms();
    if (now_ms >= next_recover_ms_) {
      recover();
      next_recover_ms_ = now_ms + kRecoverIntervalMs;
    }
    std::vector<Claimed> rows = claim();
    for (std::size_t i = 0; i < rows.size(); ++i) {
      if (!shared_.running) {
        release(rows, i);
        break;
      }
      if (!deliver(rows[i])) {
        relay_failed_ = true;
        release(rows, i + 1);
        break;
      }
      relay_answered();
    }
    return rows.size();
  }

  // Our session, the one that holds the owner lock. libpqxx 6 silently reopens a broken
  // connection: a new session without the lock, under which our "sending" rows look abandoned
  // (another sender recovers and resends them while we still send them). A lost session ends
  // the round instead, its batch abandoned to the recovery. So the statements of this session
  // stay unnamed (tx.exec_params, not exec_cached, #22): exactly as the chaos campaign proved
  // them, and a few mails a second gain nothing from a saved parse.
  pqxx::connection& session() {
    if (!conn_ || !conn_->is_open() || conn_->backendpid() != backend_pid_) {
      throw std::runtime_error("mail sender: PostgreSQL session lost, and its owner lock with it");
    }
    return *conn_;
  }

  void connect() {
    if (conn_ && conn_->is_open() && conn_->backendpid() == backend_pid_) return;
    conn_.reset();
    conn_ = std::make_unique<pqxx::connection>(shared_.database_url);
    backend_pid_ = conn_->backendpid();
    pqxx::nontransaction tx(*conn_);
    // A "sent" mark lost to a PostgreSQL crash in the next 200 ms resends that mail (same
    // Message-ID); waiting for the disk at every mail would halve the rate.
    tx.exec("SET synchronous_commit = off");
    static thread_local std::mt19937 random(std::random_device{}());
    std::uniform_int_distribution<int> keys(1, std::numeric_limits<int>::max());
    for (;;) {
      owner_key_ = keys(random);
      if (tx.exec_params("SELECT pg_try_advisory_lock($1, $2)", kOwnerLockClass, owner_key_)[0][0]
              .as<bool>()) {
        break;
      }
    }
    next_recover_ms_ = 0;
  }

  void recover() {
    pqxx::nontransaction tx(session());
    for (const auto& owner : tx.exec_params(shared_.sql(kOtherOwners), owner_key_)) {
      const int key = owner[0].as<int>();
      const auto taken =
          tx.exec_params("SELECT pg_try_advisory_lock($1, $2)", kOwnerLockClass, key);
      if (!taken[0][0].as<bool>()) continue;  // alive
      tx.exec_params(shared_.sql(kRecover), key);
      tx.exec_params("SELECT pg_advisory_unlock($1, $2)", kOwnerLockClass, key);
    }
  }

  std::vector<Claimed> claim() {
    pqxx::nontransaction tx(session());
    std::vector<Claimed> rows;
    for (const auto& r : tx.exec_params(shared_.sql(kClaim), owner_key_, shared_.now_text(),
                                        shared_.settings.batch_max)) {
      Claimed c;
      c.id = r[0].as<int64_t>();
      c.attempt_id = r[1].as<std::string>();
      c.message_id = r[2].as<std::string>();
      c.mail = {r[3].as<std::string>(),
                r[4].as<std::string>(),
                r[5].as<std::string>(),
                r[6].as<std::string>(),
                r[7].as<std::string>(),
                r[8].as<std::string>(),
                ""};
      c.attempts = r[9].as<int>();
      c.permanent_failures = r[10].as<int>();
      rows.push_back(std::move(c));
    }
    return rows;
  }

  // false: the relay cannot be reached or refuses for now; the rest of the batch waits.
  bool deliver(const Claimed& row) {
    const std::string message =
        render_message(row.mail, row.message_id, shared_.settings.from, shared_.clock.now_s());
    pqxx::nontransaction tx(session());
    // The mark before the last chunk: a crash from here on leaves a row the next sender takes as
    // sent (the relay has it but its final dot, sent microseconds later), never one it resends.
    SendResult result;
    {
      pqxx::pipeline mark(tx);
      mark.retain(0);  // issued at once
      const std::string stamp =
          replace_all(replace_all(shared_.sql(kLastChunk), "{id}", std::to_string(row.id)),
                      "{attempt}", tx.quote(row.attempt_id));
      result = smtp_.send(row.mail.to, message, [&] { mark.insert(stamp); });
      mark.complete();
    }
    // The last chunk handed over and no refusal of it (a timeout, a connection lost while
    // waiting for the reply to the final dot): the relay may well have it, so it counts as sent,
    // as it would after a crash at that point; a resend would be the duplicate.
    if (result.outcome != Outcome::sent && result.handed_over && result.response < 400) {
      log::warn("mail taken as sent: no reply to its final dot",
                {{"id", std::to_string(row.id)}, {"error", result.error}});
      result.outcome = Outcome::sent;
    }
    if (result.outcome == Outcome::sent) {
      // At once, one autocommit statement: the window in which a crash resends is this call.
      tx.exec_params(shared_.sql(kMarkSent), row.id, row.attempt_id);
      shared_.metrics.inc("maillon_mail_sent_total", "kind=\"" + row.mail.kind + "\"");
      return true;
    }
    const bool permanent = result.outcome == Outcome::permanent;
    if (permanent && row.permanent_failures + 1 >= shared_.settings.permanent_failures_max) {
      tx.exec_params(shared_.sql(kPark), row.id, row.attempt_id, result.error);
      shared_.metrics.inc("maillon_mail_parked_total", "kind=\"" + row.mail.kind + "\"");
      log::warn("mail parked", {{"id", std::to_string(row.id)}, {"error", result.error}});
      return true;
    }
    const int64_t delay_ms =
        backoff_ms(row.attempts, shared_.settings.retry_base_ms, shared_.settings.retry_max_ms);
    tx.exec_params(shared_.sql(kRetryLater), row.id, row.attempt_id,
                   format_rfc3339_us(shared_.clock.now_us() + delay_ms * 1000), result.error,
                   permanent ? 1 : 0);
    shared_.metrics.inc("maillon_mail_retried_total", "kind=\"" + row.mail.kind + "\"");
    log::warn("mail not sent, retried later",
              {{"id", std::to_string(row.id)}, {"error", result.error}});
    return permanent;  // a refused recipient says nothing of the others
  }

  void release(const std::vector<Claimed>& rows, std::size_t from) {
    pqxx::nontransaction tx(session());
    for (std::size_t i = from; i < rows.size(); ++i) {
      tx.exec_params(shared_.sql(kRelease), rows[i].id, rows[i].attempt_id);
    }
  }

  Shared& shared_;
  SmtpClient smtp_;
  std::unique_ptr<pqxx::connection> conn_;
  int owner_key_ = 0;
  int backend_pid_ = 0;
  int64_t next_recover_ms_ = 0;
  int relay_failures_ = 0;  // in a row, since the relay last answered
  bool relay_failed_ = false;
  int empty_rounds_ = 0;      // in a row, since a round last took a row
  uint64_t queued_seen_ = 0;  // g_queued when the last round began
};

// The sender: its threads, stopped when the Service (which owns it through a start hook) goes.
class Sender {
 public:
  Sender(Service& service, std::string_view schema)
      : shared_{SenderSettings::from_env(), service.config.database_url, quoted_identifier(schema),
                service.metrics, service.clock} {}
  ~Sender() { stop(); }
  Sender(const Sender&) = delete;
  Sender& operator=(const Sender&) = delete;

  void start() {
    for (int i = 0; i < shared_.settings.senders; ++i) {
      threads_.emplace_back([this] {
        Worker worker(shared_);
        worker.run();
      });
    }
  }
  void stop() {
    {
      std::lock_guard lock(shared_.mutex);
      shared_.running = false;
    }
    shared_.wake.notify_all();
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
    threads_.clear();
  }
  void collect(Db& db, Metrics& m) {
    try {
      auto r = read_only(db, [&](pqxx::nontransaction& tx) {
        return tx.exec_params(shared_.sql(kDepth), shared_.now_text());
      });
      m.set("maillon_mail_queue_depth", "", r[0][0].as<double>());
      m.set("maillon_mail_oldest_pending_seconds", "", r[0][1].as<double>());
      m.set("maillon_mail_relay_backoff_seconds", "",
            static_cast<double>(shared_.relay_backoff_ms.load()) / 1000.0);
    } catch (const std::exception&) {
      m.set("maillon_mail_queue_depth", "", -1);
    }
  }

 private:
  Shared shared_;
  std::vector<std::thread> threads_;
};

}  // namespace

SenderSettings SenderSettings::from_env() {
  SenderSettings s;
  s.smtp_url = Config::url("MAILLON_SMTP_URL", "smtp://127.0.0.1:1025", {"smtp", "smtps"});
  s.smtp_user = Config::text("MAILLON_SMTP_USER", "");
  s.smtp_password = Config::text("MAILLON_SMTP_PASSWORD", "");
  s.from = Config::text("MAILLON_MAIL_FROM", "Maillon <ne-pas-repondre@maillon.local>");
  if (address_of(s.from).find('@') == std::string::npos) {
    throw std::invalid_argument("MAILLON_MAIL_FROM: not an e-mail address");
  }
  s.senders = static_cast<int>(Config::integer("MAILLON_MAIL_SENDERS", s.senders, 1, 32));
  s.batch_max = static_cast<int>(Config::integer("MAILLON_MAIL_BATCH_MAX", s.batch_max, 1, 1000));
  s.poll_ms = Config::integer("MAILLON_MAIL_POLL_MS", s.poll_ms, 10, 60'000);
  s.retry_base_ms = Config::integer("MAILLON_MAIL_RETRY_BASE_MS", s.retry_base_ms, 10, 3'600'000);
  s.retry_max_ms =
      Config::integer("MAILLON_MAIL_RETRY_MAX_MS", s.retry_max_ms, s.retry_base_ms, 86'400'000);
  s.permanent_failures_max = static_cast<int>(
      Config::integer("MAILLON_MAIL_PERMANENT_FAILURES_MAX", s.permanent_failures_max, 1, 100));
  s.smtp_timeout_ms = Config::integer("MAILLON_SMTP_TIMEOUT_MS", s.smtp_timeout_ms, 100, 600'000);
  return s;
}

bool enqueue(pqxx::work& tx, std::string_view schema, const OutgoingMail& m) {
  const std::string sql = with_schema(kInsert, quoted_identifier(schema));
  const auto r = tx.exec_params(sql, m.dedup_key, new_uuid(), one_line(m.to), one_line(m.kind),
                                m.subject, m.text, m.html, one_line(m.unsubscribe_url));
  if (r.empty()) return false;
  g_queued.fetch_add(1);
  return true;
}

void start_sender(Service& service, std::string_view schema) {
  auto sender = std::make_shared<Sender>(service, schema);
  std::weak_ptr<Sender> weak = sender;
  service.metrics.add_collector([weak, &service](Metrics& m) {
    if (auto s = weak.lock()) s->collect(service.db, m);
  });
  // The hook list lives as long as the Service: the sender's threads stop with it.
  service.on_start([sender] { sender->start(); });
}

std::string address_of(std::string_view mailbox) {
  const auto open = mailbox.rfind('<');
  const auto close = mailbox.rfind('>');
  if (open != std::string_view::npos && close != std::string_view::npos && close > open) {
    return one_line(mailbox.substr(open + 1, close - open - 1));
  }
  return one_line(mailbox);
}

int64_t backoff_ms(int attempts, int64_t base_ms, int64_t max_ms) {
  // The settings keep base_ms <= max_ms (SenderSettings::from_env), so doubled's ceiling holds.
  return doubled(std::chrono::milliseconds(base_ms), attempts - 1,
                 std::chrono::milliseconds(max_ms))
      .count();
}

std::string render_message(const OutgoingMail& m, std::string_view message_id,
                           std::string_view from, int64_t date_unix_s) {
  const std::string boundary = "=_maillon_" + std::string(message_id);
  std::string out;
  out += "Date: " + rfc5322_date(date_unix_s) + "\r\n";
  out += "From: " + one_line(from) + "\r\n";
  out += "To: <" + one_line(m.to) + ">\r\n";
  out += "Subject: " + encoded_words(m.subject) + "\r\n";
  out += "Message-ID: <" + one_line(message_id) + "@" + domain_of(address_of(from)) + ">\r\n";
  out += "MIME-Version: 1.0\r\n";
  out += "X-Maillon-Kind: " + one_line(m.kind) + "\r\n";
  if (!m.unsubscribe_url.empty()) {
    out += "List-Unsubscribe: <" + one_line(m.unsubscribe_url) + ">\r\n";
    out += "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n";
  }
  out += "Content-Type: multipart/alternative; boundary=\"" + boundary + "\"\r\n\r\n";
  out += "--" + boundary + "\r\n" + part("text/plain", m.text);
  out += "--" + boundary + "\r\n" + part("text/html", m.html);
  out += "--" + boundary + "--\r\n";
  return out;
}

}  // namespace maillon::mail
