// The way out to partner installations: one signed POST (libcurl), the sender's rounds (due
// messages sent, their answers applied, a growing pause after each failure) and the
// reconciliation, which asks the partner for its view of a link and compares it with ours.
#include <curl/curl.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include "services/common/events_ledger.hpp"
#include "services/common/ids.hpp"
#include "services/common/job_pace.hpp"
#include "services/common/log.hpp"
#include "services/common/service.hpp"
#include "services/common/time.hpp"
#include "services/ledger/federation_remote_internal.hpp"

namespace maillon::ledger::remote {
namespace {

constexpr std::size_t kAnswerBytesMax = 4 * 1024 * 1024;  // a reconciliation of 10 000 transfers
constexpr std::string_view kSignatureHeaderName = "maillon-signature:";

std::size_t append_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* out = static_cast<std::string*>(user);
  if (out->size() + size * count > kAnswerBytesMax) return 0;  // curl stops: answer too large
  out->append(data, size * count);
  return size * count;
}

std::size_t read_header(char* data, std::size_t size, std::size_t count, void* user) {
  std::string line(data, size * count);
  std::string lower = line.substr(0, kSignatureHeaderName.size());
  std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
  if (lower == kSignatureHeaderName) {
    std::string value = line.substr(kSignatureHeaderName.size());
    value.erase(0, value.find_first_not_of(" \t"));
    value.erase(value.find_last_not_of(" \t\r\n") + 1);
    *static_cast<std::string*>(user) = value;
  }
  return size * count;
}

void init_curl_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// The answer, when it is the partner's: signed with the link's partner key (before the partner
// key is known, only the handshake's own answer arrives, and it moves nothing).
std::optional<Json> signed_answer(const std::optional<std::string>& partner_key,
                                  const HttpAnswer& a) {
  if (a.status != 200) return std::nullopt;
  if (partner_key) {
    const auto signature = signature_from_header(a.signature);
    if (!signature || !verify_detached(a.body, *signature, *partner_key)) return std::nullopt;
  }
  Json j = Json::parse(a.body, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  return j;
}

std::optional<std::string> partner_key_of(Service& s, const repo::OutgoingMessage& m) {
  const auto link = s.db.transact(
      [&](pqxx::work& tx) { return federation::find_link(tx, m.link_id, m.community_id); });
  return link ? link->partner_public_key : std::nullopt;
}

int64_t next_attempt_us(const Settings& settings, int attempts, int64_t now_us) {
  const int doublings = std::min(attempts, 20);
  return now_us + std::min(settings.retry_max_us, settings.retry_min_us << doublings);
}

std::string describe(const HttpAnswer& a) {
  if (a.status == 0) return "no answer: " + a.error;
  return "status " + std::to_string(a.status) + ": " + a.body.substr(0, 300);
}

// A leg voided (or expired) on one side and absent on the other: the partner refused the hold,
// or never received it before the void; nothing moved on either side.
bool nothing_moved(const MirrorDifference& d) {
  const auto idle = [](const std::optional<ClearingLeg>& leg) {
    return !leg || ((leg->state == TransferState::voided || leg->state == TransferState::expired) &&
                    leg->posted_minutes == 0);
  };
  return idle(d.ours) && idle(d.theirs);
}

std::vector<ClearingLeg> legs_of(const Json& view) {
  std::vector<ClearingLeg> legs;
  for (const auto& j : view.value("legs", Json::array())) {
    if (auto leg = leg_from(j)) legs.push_back(std::move(*leg));
  }
  return legs;
}

// A leg as GET .../reconciliation shows it (F1's answer for links inside one installation).
Json optional_leg(const std::optional<ClearingLeg>& leg) {
  if (!leg) return nullptr;
  return {{"state", std::string(to_string(leg->state))},
          {"paid_across", leg->paid_across},
          {"amount_minutes", leg->amount_minutes},
          {"posted_minutes", leg->posted_minutes}};
}

}  // namespace

HttpAnswer post_message(const std::string& url, const std::string& body,
                        const std::string& signature_header, long timeout_ms) {
  init_curl_once();
  HttpAnswer a;
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), &curl_easy_cleanup);
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> headers(nullptr,
                                                                      &curl_slist_free_all);
  if (!curl) return {0, "", "", "curl_easy_init failed"};
  const std::string signature_line = "Maillon-Signature: " + signature_header;
  curl_slist* list = curl_slist_append(nullptr, "Content-Type: application/json");
  list = curl_slist_append(list, signature_line.c_str());
  headers.reset(list);
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, &append_body);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &a.body);
  curl_easy_setopt(curl.get(), CURLOPT_HEADERFUNCTION, &read_header);
  curl_easy_setopt(curl.get(), CURLOPT_HEADERDATA, &a.signature);
  const CURLcode code = curl_easy_perform(curl.get());
  if (code != CURLE_OK) {
    a.error = curl_easy_strerror(code);
    return a;
  }
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &a.status);
  return a;
}

std::optional<Json> send_now(RemoteFederation& f, const Link& link, std::string_view type,
                             const Json& payload) {
  const Envelope e{new_uuid(),
                   link.id,
                   link.community_id,
                   link.partner_community_id,
                   std::string(type),
                   f.service().clock.now_s(),
                   payload};
  const std::string body = e.text();
  const HttpAnswer a =
      post_message(*link.partner_url + "/federation/v1/messages", body,
                   signature_header(body, f.keys().secret_key), f.settings().http_timeout_ms);
  return signed_answer(link.partner_public_key, a);
}

void RemoteFederation::send_round() {
  const std::size_t voided = void_overdue_holds(*this);
  const std::size_t shared = share_listings(*this);
  const int64_t now_us = s_.clock.now_us();
  const auto due = read_only(s_.db, [&](pqxx::nontransaction& tx) {
    return repo::due_messages(tx, now_us, kSendBatchMax);
  });
  // An idle round slows the next ones (job_pace.hpp); a message queued here wakes them.
  if (voided == 0 && shared == 0 && due.empty()) job_found_nothing();
  std::mutex mutex;                   // guards the two maps below
  std::set<std::string> unreachable;  // one failure per partner and round, not one per message
  std::map<std::string, std::optional<std::string>> partner_keys;  // by link and community
  auto partner_key = [&](const repo::OutgoingMessage& m) {
    const std::string link = m.link_id + m.community_id;
    {
      const std::lock_guard lock(mutex);
      if (const auto known = partner_keys.find(link); known != partner_keys.end())
        return known->second;
    }
    auto key = partner_key_of(s_, m);
    const std::lock_guard lock(mutex);
    return partner_keys.emplace(link, std::move(key)).first->second;
  };
  auto send_one = [&](const repo::OutgoingMessage& m) {
    std::optional<Json> answer;
    HttpAnswer sent;
    bool skip = false;
    {
      const std::lock_guard lock(mutex);
      skip = unreachable.count(m.partner_url) > 0;
    }
    if (!skip) {
      if (m.type == kTransferHold) fault(settings_, "crash-after-hold");
      if (m.type == kTransferPost) fault(settings_, "crash-after-post");
      const std::string body = envelope_of(m, s_.clock.now_s()).text();
      sent = post_message(m.partner_url + "/federation/v1/messages", body,
                          signature_header(body, keys_.secret_key), settings_.http_timeout_ms);
      answer = signed_answer(partner_key(m), sent);
      if (sent.status == 0) {
        const std::lock_guard lock(mutex);
        unreachable.insert(m.partner_url);
      }
    } else {
      sent.error = "partner unreachable in this round";
    }
    s_.db.transact([&](pqxx::work& tx) {
      if (!answer) {
        repo::reschedule(tx, m.message_id, next_attempt_us(settings_, m.attempts, now_us),
                         describe(sent));
        return;
      }
      if (!repo::mark_answered(tx, m.message_id, answer->dump(), s_.clock.now_us())) return;
      if (m.type == kTransferHold || m.type == kTransferPost || m.type == kTransferVoid)
        on_transfer_answer(*this, tx, m, *answer);
    });
    s_.metrics.inc("maillon_federation_messages_sent_total",
                   "type=\"" + m.type + "\",answered=\"" + (answer ? "true" : "false") + "\"");
  };
  // Messages of a round are independent (one pending message per saga at a time): several go
  // at once, so a round costs about the slowest answer, not the sum of them.
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    for (std::size_t i; (i = next++) < due.size();) {
      try {
        send_one(due[i]);
      } catch (const std::exception& e) {  // the message stays due: the next round retries it
        log::warn("federation: sending a message failed",
                  {{"message_id", due[i].message_id}, {"error", e.what()}});
      }
    }
  };
  std::vector<std::thread> helpers;
  for (std::size_t i = 1; i < std::min(kSendConcurrency, due.size()); ++i)
    helpers.emplace_back(work);
  work();
  for (auto& t : helpers) t.join();
}

Reconciliation RemoteFederation::look_once(const Link& link) {
  std::set<std::string> unsettled;
  const Json ours = s_.db.transact([&](pqxx::work& tx) {
    for (auto& id : repo::unsettled_transfers(tx, link.id, link.community_id))
      unsettled.insert(std::move(id));
    return reconcile_view(tx, link);
  });
  const auto theirs = send_now(*this, link, kReconcileRequest, Json::object());
  if (!theirs || !theirs->contains("legs")) return {Refusal::partner_unreachable};
  const ClearingSide our_side{clearing_account_id(link.community_id, link.partner_community_id),
                              link.rate_micro, legs_of(ours)};
  const ClearingSide their_side{clearing_account_id(link.partner_community_id, link.community_id),
                                theirs->value("rate_micro", kRateMicroUnit), legs_of(*theirs)};
  Json differences = Json::array();
  int64_t in_flight = static_cast<int64_t>(unsettled.size());
  // A saga not settled yet has legs that disagree for a while by design: not a difference.
  for (const auto& d : compare_mirrors(our_side, their_side)) {
    if (unsettled.count(d.transfer_id) || nothing_moved(d)) continue;
    // Nor is one the partner's saga has not settled yet: its hold is on its way to us (a look in
    // that moment raised a false alarm to both sides' admins).
    if (!d.ours && d.theirs && d.theirs->state == TransferState::pending) {
      ++in_flight;
      continue;
    }
    differences.push_back({{"transfer_id", d.transfer_id},
                           {"kind", std::string(to_string(d.kind))},
                           {"ours", optional_leg(d.ours)},
                           {"theirs", optional_leg(d.theirs)}});
  }
  const int64_t our_balance = ours.value("balance_minutes", int64_t{0});
  const int64_t their_balance = theirs->value("balance_minutes", int64_t{0});
  const bool whole = !ours.value("truncated", true) && !theirs->value("truncated", true);
  // At 1:1 each clearing account is the other's opposite once nothing is in flight.
  const bool mirror_agrees =
      !whole || in_flight > 0 || link.rate_micro != kRateMicroUnit || our_balance == -their_balance;
  Reconciliation r;
  r.differences = static_cast<int64_t>(differences.size()) + (mirror_agrees ? 0 : 1);
  r.body = {{"theirs",
             {{"account_id", their_side.account_id},
              {"community_id", link.partner_community_id},
              {"balance_minutes", their_balance},
              {"pending_debit_minutes", theirs->value("pending_debit_minutes", int64_t{0})},
              {"pending_credit_minutes", theirs->value("pending_credit_minutes", int64_t{0})},
              {"rate", static_cast<double>(their_side.rate_micro) / kRateMicroUnit}}},
            {"differences", differences},
            {"in_flight", in_flight},
            {"mirror_agrees", mirror_agrees},
            {"truncated", !whole}};
  return r;
}

Reconciliation RemoteFederation::reconcile(const Link& link) {
  if (!link.remote()) return {Refusal::link_not_remote};
  Reconciliation first = look_once(link);
  if (first.refusal != Refusal::none || first.differences == 0) {
    if (first.refusal == Refusal::none)
      s_.metrics.set("maillon_federation_reconciliation_differences", "link_id=\"" + link.id + "\"",
                     0);
    return first;
  }
  Reconciliation r = look_once(link);
  if (r.refusal != Refusal::none) return r;
  // What both looks found, as the second saw it.
  std::set<std::pair<std::string, std::string>> seen;
  for (const auto& d : first.body["differences"])
    seen.emplace(d.value("transfer_id", ""), d.value("kind", ""));
  Json confirmed = Json::array();
  for (const auto& d : r.body["differences"]) {
    if (seen.count({d.value("transfer_id", ""), d.value("kind", "")})) confirmed.push_back(d);
  }
  const bool mirror_agrees =
      first.body.value("mirror_agrees", true) || r.body.value("mirror_agrees", true);
  r.body["differences"] = confirmed;
  r.body["mirror_agrees"] = mirror_agrees;
  r.differences = static_cast<int64_t>(confirmed.size()) + (mirror_agrees ? 0 : 1);
  s_.metrics.set("maillon_federation_reconciliation_differences", "link_id=\"" + link.id + "\"",
                 static_cast<double>(r.differences));
  if (r.differences > 0) {
    // Logged and counted here; the daily job (reconcile_all) also raises it to our admins.
    log::error("federation: the mirror accounts disagree with the partner installation",
               {{"link_id", link.id},
                {"community_id", link.community_id},
                {"differences", confirmed.dump()},
                {"mirror_agrees", mirror_agrees ? "true" : "false"}});
  }
  return r;
}

void RemoteFederation::raise_differences(const Link& link, const Reconciliation& r) {
  FederationReconciliationDiffered raised;
  raised.link_id = link.id;
  raised.community_id = link.community_id;
  raised.partner_community_id = link.partner_community_id;
  raised.day = format_rfc3339(s_.clock.now_s()).substr(0, 10);
  raised.differences = r.differences;
  raised.mirror_agrees = r.body.value("mirror_agrees", true);
  // The set of differences, whatever order they were found in: the same set is raised once a day.
  std::vector<std::string> found;
  for (const auto& d : r.body.value("differences", Json::array()))
    found.push_back(d.value("transfer_id", "") + " " + d.value("kind", ""));
  std::sort(found.begin(), found.end());
  std::string fingerprint = raised.mirror_agrees ? "mirror-agrees" : "mirror-differs";
  for (const std::string& f : found) fingerprint += "\n" + f;
  for (const auto& d : r.body.value("differences", Json::array())) {
    if (raised.transfer_ids.size() == FederationReconciliationDiffered::kReconciliationIdsMax)
      break;
    raised.transfer_ids.push_back(d.value("transfer_id", ""));
  }
  s_.db.transact([&](pqxx::work& tx) {
    if (!repo::record_reconciliation_alert(tx, link.id, link.community_id, raised.day, fingerprint))
      return;
    s_.outbox.add(tx, kLedgerEventsStream, FederationReconciliationDiffered::type_name(),
                  link.community_id, raised.data(),
                  uuid_from_name("federation.reconciliation.differed:" + link.id + ":" +
                                 link.community_id + ":" + raised.day + ":" + fingerprint));
  });
}

void RemoteFederation::reconcile_all() {
  const auto keys =
      read_only(s_.db, [](pqxx::nontransaction& tx) { return repo::active_remote_links(tx); });
  for (const auto& key : keys) {
    const auto link = s_.db.transact(
        [&](pqxx::work& tx) { return federation::find_link(tx, key.first, key.second); });
    if (!link) continue;
    const Reconciliation r = reconcile(*link);
    if (r.refusal == Refusal::partner_unreachable)
      log::warn("federation: reconciliation postponed, partner unreachable",
                {{"link_id", key.first}});
    // Each installation runs this job for its own side: between the two, both admins hear of it.
    if (r.refusal == Refusal::none && r.differences > 0) raise_differences(*link, r);
  }
}

}  // namespace maillon::ledger::remote
