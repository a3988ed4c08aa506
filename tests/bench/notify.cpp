// Benchmark of the notify fan-out: 10,000 exchange.message events on the exchanges stream, each
// turned by the notify service into an inbox notification and a mail sent over SMTP to the run's
// catcher (aiosmtpd writing a Maildir), timed from the first event written to the last mail
// marked sent. The anchor is the same SMTP server's raw rate in the same run: the same number of
// connections sending mails of the same size back to back, with nothing decided or stored.
//
// Env: MAILLON_SMTP_URL (script/bench's catcher), MAILLON_TEST_DATABASE_URL,
// MAILLON_TEST_REDIS_URL; optional MAILLON_BENCH_NOTIFY_EVENTS (default 10000),
// MAILLON_BENCH_NOTIFY_ANCHOR_MAILS (2000). Prints: BENCH notify.fanout ours=<events/s>
// anchor=<mails/s> ratio=<x>.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <pqxx/pqxx>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "harness.hpp"
#include "services/common/events.hpp"
#include "services/common/events_exchanges.hpp"
#include "services/common/events_members.hpp"
#include "services/common/ids.hpp"
#include "services/common/mail.hpp"
#include "services/common/redis.hpp"

namespace maillon::testing {
namespace {

using SteadyClock = std::chrono::steady_clock;
constexpr int kSenders = 2;       // MAILLON_MAIL_SENDERS of the notify process and the anchor
constexpr int kRecipients = 200;  // members the events are spread over
constexpr int kPipelineBatch = 500;

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoi(v) : fallback;
}

// A bare SMTP client on one connection: what any sender must do per mail, nothing else.
class RawSmtp {
 public:
  explicit RawSmtp(const std::string& url) {
    const auto colon = url.rfind(':');
    const int port = std::stoi(url.substr(colon + 1));
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    ::inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      throw std::runtime_error("cannot reach the SMTP server at " + url);
    }
    expect("220");
    say("EHLO bench.maillon.local\r\n", "250");
  }
  ~RawSmtp() {
    say("QUIT\r\n", "221");
    ::close(fd_);
  }
  void send(const std::string& to, const std::string& message) {
    say("MAIL FROM:<bench@maillon.local>\r\n", "250");
    say("RCPT TO:<" + to + ">\r\n", "250");
    say("DATA\r\n", "354");
    say(message + ".\r\n", "250");
  }

 private:
  void say(const std::string& text, const char* code) {
    for (std::size_t sent = 0; sent < text.size();) {
      const auto n = ::write(fd_, text.data() + sent, text.size() - sent);
      if (n <= 0) throw std::runtime_error("SMTP write failed");
      sent += static_cast<std::size_t>(n);
    }
    expect(code);
  }
  // Reads until a final reply line ("250 ..." rather than "250-...").
  void expect(const char* code) {
    for (;;) {
      const auto end = buffer_.find("\r\n");
      if (end != std::string::npos) {
        const std::string line = buffer_.substr(0, end);
        buffer_.erase(0, end + 2);
        if (line.size() >= 4 && line[3] == '-') continue;
        if (line.rfind(code, 0) != 0) throw std::runtime_error("SMTP said: " + line);
        return;
      }
      char chunk[4096];
      const auto n = ::read(fd_, chunk, sizeof chunk);
      if (n <= 0) throw std::runtime_error("SMTP read failed");
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
  }
  int fd_ = -1;
  std::string buffer_;
};

std::string sample_message(int i) {
  mail::OutgoingMail m{"bench" + std::to_string(i) + "@bench.maillon.test",
                       "exchange.message",
                       "Nouveau message dans votre échange",
                       std::string(600, 'x'),
                       std::string(1400, 'y'),
                       "http://127.0.0.1:8080/v1/unsubscribe?token=abc",
                       ""};
  return mail::render_message(m, new_uuid(), "Maillon <ne-pas-repondre@maillon.local>", 0);
}

double anchor_mails_per_s(const std::string& smtp_url, int mails) {
  const auto start = SteadyClock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < kSenders; ++t) {
    threads.emplace_back([&, t] {
      RawSmtp smtp(smtp_url);
      for (int i = t; i < mails; i += kSenders) {
        smtp.send("anchor" + std::to_string(i) + "@bench.maillon.test", sample_message(i));
      }
    });
  }
  for (auto& t : threads) t.join();
  return mails / std::chrono::duration<double>(SteadyClock::now() - start).count();
}

std::string envelope(const std::string& type, const std::string& community,
                     const nlohmann::json& data) {
  Event e;
  e.id = new_uuid();
  e.type = type;
  e.occurred_at = now_rfc3339();
  e.community_id = community;
  e.data = data;
  return e.to_json();
}

void publish(Redis& redis, const std::string& stream, const std::vector<std::string>& events) {
  for (std::size_t i = 0; i < events.size(); i += kPipelineBatch) {
    std::vector<std::vector<std::string>> batch;
    for (std::size_t j = i; j < std::min(events.size(), i + kPipelineBatch); ++j) {
      batch.push_back({"XADD", stream, "*", "event", events[j]});
    }
    redis.pipeline(batch);
  }
}

int64_t count(const std::string& db_url, const std::string& sql) {
  pqxx::connection c(db_url);
  pqxx::nontransaction tx(c);
  return tx.exec(sql)[0][0].as<int64_t>();
}

double ours_events_per_s(int events) {
  MembersWorld world("bench_notify");
  const std::string community = world.create_community("Banc d'essai");
  ServiceProcess notify("notify", world.env({{"MAILLON_MAIL_SENDERS", std::to_string(kSenders)},
                                             {"MAILLON_MAIL_BATCH_MAX", "200"},
                                             {"MAILLON_MAIL_POLL_MS", "20"}}));
  notify.start();
  Redis redis(redis_url());
  std::vector<std::string> members, contacts;
  for (int i = 0; i < kRecipients; ++i) {
    members.push_back(new_uuid());
    MemberContact c{members.back(), community, "membre" + std::to_string(i) + "@bench.maillon.test",
                    true, "Membre " + std::to_string(i)};
    contacts.push_back(envelope(c.type_name(), community, c.data()));
  }
  publish(redis, world.prefix + ":members", contacts);
  const std::string db = world.database;
  if (!eventually(
          [&] { return count(db, "SELECT count(*) FROM notify.recipients") >= kRecipients; },
          60'000, 50)) {
    throw std::runtime_error("notify did not learn the recipients");
  }
  std::vector<std::string> messages;
  for (int i = 0; i < events; ++i) {
    ExchangeEvent x;
    x.type = ExchangeEventType::message;
    x.exchange_id = new_uuid();
    x.state = ExchangeState::accepted;
    x.provider_id = members[i % kRecipients];
    x.receiver_id = members[(i + 1) % kRecipients];
    x.author_id = x.receiver_id;
    x.actor_id = x.receiver_id;
    x.message_id = new_uuid();
    messages.push_back(envelope(x.type_name(), community, x.data()));
  }
  const auto start = SteadyClock::now();
  publish(redis, world.prefix + ":exchanges", messages);
  const bool done = eventually(
      [&] {
        return count(db, "SELECT count(*) FROM notify.mail_queue WHERE state = 'sent'") >= events &&
               count(db, "SELECT count(*) FROM notify.notifications") >= events;
      },
      600'000, 20);
  const double seconds = std::chrono::duration<double>(SteadyClock::now() - start).count();
  if (!done) throw std::runtime_error("the fan-out did not finish within 10 minutes");
  return events / seconds;
}

}  // namespace
}  // namespace maillon::testing

int main() {
  using namespace maillon::testing;
  try {
    const std::string smtp_url = required_env("MAILLON_SMTP_URL");
    const int events = env_int("MAILLON_BENCH_NOTIFY_EVENTS", 10'000);
    const double anchor =
        anchor_mails_per_s(smtp_url, env_int("MAILLON_BENCH_NOTIFY_ANCHOR_MAILS", 2000));
    const double ours = ours_events_per_s(events);
    std::printf("BENCH notify.fanout ours=%.0f anchor=%.0f ratio=%.2f\n", ours, anchor,
                ours / anchor);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "notify bench failed: %s\n", e.what());
    return 1;
  }
}
