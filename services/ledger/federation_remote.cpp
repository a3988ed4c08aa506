// The federation between installations: settings, the signed envelope, the installation's key,
// the link handshake (propose / accept / suspend) and the inbox of POST /federation/v1/messages.
// Transfers are federation_remote_saga.cpp's, the transport federation_remote_http.cpp's.
#include "services/ledger/federation_remote.hpp"

#include <sodium.h>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <set>

#include "services/common/config.hpp"
#include "services/common/errors.hpp"
#include "services/common/ids.hpp"
#include "services/common/job_pace.hpp"
#include "services/common/json_body.hpp"
#include "services/common/log.hpp"
#include "services/common/service.hpp"
#include "services/common/time.hpp"
#include "services/ledger/federation_remote_internal.hpp"
#include "services/ledger/federation_remote_repository.hpp"
#include "services/ledger/federation_repository.hpp"

namespace maillon::ledger::remote {
namespace {

const std::set<std::string_view> kMessageTypes = {
    kLinkPropose,    kLinkAccept,      kLinkSuspend,   kLinkResume,
    kTransferHold,   kTransferPost,    kTransferVoid,  kReconcileRequest,
    kListingPublish, kListingWithdraw, kExchangeState, kExchangeAct};

std::string text_of(const Json& j, const char* name) {
  const auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::optional<int64_t> integer_of(const Json& j, const char* name) {
  const auto it = j.find(name);
  if (it == j.end() || !it->is_number_integer()) return std::nullopt;
  return it->get<int64_t>();
}

// The key a message must be signed with: the partner's, known since the handshake; for the
// handshake itself, the key the message carries (the admins check it out of band before
// accepting, as one checks an SSH host key).
std::string verifying_key(const Envelope& e, const std::optional<Link>& link) {
  if (link && link->partner_public_key) return *link->partner_public_key;
  const bool carries_key =
      (!link && e.type == kLinkPropose) || (link && link->proposed_by_us && e.type == kLinkAccept);
  const auto key = carries_key ? base64_decode(text_of(e.payload, "public_key")) : std::nullopt;
  if (!key || key->size() != kSigningPublicKeyBytes)
    throw unauthorized("Aucune clé connue de l'installation partenaire pour ce lien.");
  return *key;
}

Json answer(std::string_view status, std::string_view reason = "") {
  Json a = {{"status", status}};
  if (!reason.empty()) a["reason"] = reason;
  return a;
}

// A proposal from another installation: our side of the link (the mirror of theirs), waiting
// for our admin, who checks the partner out of band before accepting.
Json on_propose(RemoteFederation& f, pqxx::work& tx, const std::optional<Link>& link,
                const Envelope& e) {
  const std::string key = *base64_decode(text_of(e.payload, "public_key"));
  if (link) {
    if (link->partner_public_key != key) throw conflict("link-exists", "Ce lien existe déjà.");
    return answer("received");
  }
  Link theirs;
  theirs.id = e.link_id;
  theirs.community_id = e.from_community_id;
  theirs.partner_community_id = e.to_community_id;
  theirs.state = FederationLinkState::proposed;
  theirs.proposed_by_us = true;
  theirs.debit_limit_minutes = integer_of(e.payload, "debit_limit_minutes").value_or(-1);
  theirs.credit_limit_minutes = integer_of(e.payload, "credit_limit_minutes").value_or(-1);
  theirs.rate_micro = integer_of(e.payload, "rate_micro").value_or(0);
  const std::string url = text_of(e.payload, "url");
  if (url.rfind("http", 0) != 0 || url.size() > federation::kPartnerUrlBytesMax ||
      theirs.debit_limit_minutes < 0 || theirs.credit_limit_minutes < 0 ||
      theirs.debit_limit_minutes > kFederationLimitMinutesMax ||
      theirs.credit_limit_minutes > kFederationLimitMinutesMax ||
      theirs.rate_micro < kRateMicroMin || theirs.rate_micro > kRateMicroMax) {
    throw invalid_input("Proposition de lien incomplète.");
  }
  if (!federation::repo::community_name(tx, e.to_community_id))
    return answer("refused", "unknown-community");
  if (!federation::insert_link_side(tx, f.service().outbox, federation::mirror_side(theirs, url)))
    return answer("refused", "link-exists");
  federation::set_partner_public_key(tx, e.link_id, e.to_community_id, key);
  log::info("federation link proposed by a partner installation",
            {{"link_id", e.link_id}, {"community_id", e.to_community_id}, {"partner_url", url}});
  return answer("received");
}

Json on_accept(RemoteFederation& f, pqxx::work& tx, const Link& link, const Envelope& e) {
  if (!link.proposed_by_us) return answer("refused", "not-proposed-by-us");
  if (!link.partner_public_key)
    federation::set_partner_public_key(tx, link.id, link.community_id,
                                       *base64_decode(text_of(e.payload, "public_key")));
  if (link.state == FederationLinkState::suspended) {
    // Suspended here before the acceptance arrived: the partner did accept, so resuming the
    // link makes it active (with the partner's key, now known).
    federation::lock_link(tx, link.id);
    auto current = *federation::find_link(tx, link.id, link.community_id);
    if (!current.accepted) {
      current.accepted = true;
      federation::set_link_suspension(tx, f.service().outbox, current);
    }
    return answer("refused", "suspended");
  }
  if (link.state == FederationLinkState::proposed)
    federation::set_link_state(tx, f.service().outbox, link.id, link.community_id,
                               FederationLinkState::active);
  return answer("active");
}

// link.suspend / link.resume: the partner's admin suspended or resumed the link. Ours may have
// suspended it too: it stays suspended until ours resumes. Applied only when newer than the last
// one applied (`seq`; a link.suspend without it, from a release before link.resume, always is).
Json on_suspension(RemoteFederation& f, pqxx::work& tx, const Link& link, const Envelope& e,
                   bool suspended) {
  const auto seq = integer_of(e.payload, "seq");
  if (!suspended && (!seq || *seq < 1)) throw invalid_input("Reprise de lien incomplète.");
  federation::lock_link(tx, link.id);
  Link current = *federation::find_link(tx, link.id, link.community_id);
  if (seq && *seq <= current.partner_suspension_seq)
    return answer(to_string(current.state));  // an older message, overtaken by a newer one
  current.suspended_by_partner = suspended;
  if (seq) current.partner_suspension_seq = *seq;
  const auto changed = federation::set_link_suspension(tx, f.service().outbox, current);
  log::info(suspended ? "federation link suspended by the partner installation"
                      : "federation link resumed by the partner installation",
            {{"link_id", link.id},
             {"community_id", link.community_id},
             {"state", std::string(to_string(changed->state))}});
  return answer(to_string(changed->state));
}

Json apply_message(RemoteFederation& f, pqxx::work& tx, const std::optional<Link>& link,
                   const Envelope& e) {
  if (e.type == kLinkPropose) return on_propose(f, tx, link, e);
  if (!link || !link->remote()) throw not_found("Lien inconnu.");
  if (e.type == kLinkAccept) return on_accept(f, tx, *link, e);
  if (e.type == kLinkSuspend) return on_suspension(f, tx, *link, e, true);
  if (e.type == kLinkResume) return on_suspension(f, tx, *link, e, false);
  if (e.type == kReconcileRequest) return reconcile_view(tx, *link);
  if (e.type == kListingPublish || e.type == kListingWithdraw)
    return on_listing_message(f, tx, *link, e);
  if (e.type == kExchangeState || e.type == kExchangeAct)
    return on_exchange_message(f, tx, *link, e);
  return on_transfer_message(f, tx, *link, e);
}

}  // namespace

Settings Settings::from_env(uint16_t own_port) {
  Settings s;
  s.public_url =
      Config::text("MAILLON_FEDERATION_PUBLIC_URL", "http://127.0.0.1:" + std::to_string(own_port));
  while (!s.public_url.empty() && s.public_url.back() == '/') s.public_url.pop_back();
  s.hold_timeout_us =
      Config::integer("MAILLON_FEDERATION_HOLD_TIMEOUT_S", 6 * 3600, 1, 30LL * 24 * 3600) *
      1'000'000;
  s.retry_max_us = Config::integer("MAILLON_FEDERATION_RETRY_MAX_MS", 60'000, 10, 3'600'000) * 1000;
  s.retry_min_us = std::min<int64_t>(s.retry_min_us, s.retry_max_us);
  s.http_timeout_ms = Config::integer("MAILLON_FEDERATION_HTTP_TIMEOUT_MS", 5000, 100, 120'000);
  s.send_interval = std::chrono::milliseconds(
      Config::integer("MAILLON_FEDERATION_SEND_INTERVAL_MS", 100, 5, 60'000));
  s.reconcile_interval =
      std::chrono::milliseconds(Config::integer("MAILLON_FEDERATION_RECONCILE_INTERVAL_MS",
                                                24LL * 3600 * 1000, 1000, 7LL * 24 * 3600 * 1000));
  s.fault_file = Config::text("MAILLON_FEDERATION_FAULT_FILE", "");
  return s;
}

void fault(const Settings& settings, std::string_view point) {
  if (settings.fault_file.empty()) return;
  std::ifstream in(settings.fault_file);
  std::string armed;
  std::getline(in, armed);
  if (armed != point) return;
  log::warn("federation fault injected: killing this process", {{"point", std::string(point)}});
  std::raise(SIGKILL);
}

std::string Envelope::text() const {
  // Member order is nlohmann's (sorted keys): the same envelope always has the same bytes.
  return Json{{"id", id},
              {"link_id", link_id},
              {"from_community_id", from_community_id},
              {"to_community_id", to_community_id},
              {"type", type},
              {"sent_at", format_rfc3339(sent_at_s)},
              {"payload", payload}}
      .dump();
}

std::optional<Envelope> parse_envelope(std::string_view body) {
  const Json j = parse_outside_json(body);
  if (!j.is_object() || j.size() != 7) return std::nullopt;
  Envelope e{text_of(j, "id"), text_of(j, "link_id"), text_of(j, "from_community_id"),
             text_of(j, "to_community_id"), text_of(j, "type")};
  const auto sent_at = parse_rfc3339_s(text_of(j, "sent_at"));
  const auto payload = j.find("payload");
  if (!is_uuid(e.id) || !is_uuid(e.link_id) || !is_uuid(e.from_community_id) ||
      !is_uuid(e.to_community_id) || e.type.empty() || !sent_at || payload == j.end() ||
      !payload->is_object()) {
    return std::nullopt;
  }
  e.sent_at_s = *sent_at;
  e.payload = *payload;
  return e;
}

std::string content_hash(const Envelope& e) {
  const std::string canonical = Json{
      {"id", e.id},
      {"link_id", e.link_id},
      {"from_community_id", e.from_community_id},
      {"to_community_id", e.to_community_id},
      {"type", e.type},
      {"payload", e.payload}}.dump();
  unsigned char digest[32];
  crypto_generichash(digest, sizeof digest,
                     reinterpret_cast<const unsigned char*>(canonical.data()), canonical.size(),
                     nullptr, 0);
  char hex[sizeof digest * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  return hex;
}

RemoteFederation::RemoteFederation(Service& service, PolicyCache& policies, Settings settings)
    : s_(service), policies_(policies), settings_(std::move(settings)) {
  s_.on_start([this] { load_keys(); });
}

void RemoteFederation::load_keys() {
  const SigningKeyPair fresh = generate_signing_key_pair();
  keys_ = s_.db.transact([&](pqxx::work& tx) { return repo::installation_keys(tx, fresh); });
}

void RemoteFederation::link_changed(pqxx::work& tx, const Link& ours) {
  if (!ours.remote()) return;
  const int64_t now_us = s_.clock.now_us();
  const std::string key = base64_encode(keys_.public_key);
  if (ours.state == FederationLinkState::proposed && ours.proposed_by_us) {
    queue_message(tx, ours, kLinkPropose,
                  {{"public_key", key},
                   {"url", settings_.public_url},
                   {"debit_limit_minutes", ours.debit_limit_minutes},
                   {"credit_limit_minutes", ours.credit_limit_minutes},
                   {"rate_micro", ours.rate_micro}},
                  "", now_us);
  } else if (ours.state == FederationLinkState::active && !ours.proposed_by_us) {
    queue_message(tx, ours, kLinkAccept,
                  {{"public_key", key},
                   {"debit_limit_minutes", ours.debit_limit_minutes},
                   {"credit_limit_minutes", ours.credit_limit_minutes}},
                  "", now_us);
  }
  // Suspensions and resumes are suspension_changed's.
}

void RemoteFederation::suspension_changed(pqxx::work& tx, const Link& ours) {
  if (!ours.remote()) return;
  queue_message(tx, ours, ours.suspended_by_us ? kLinkSuspend : kLinkResume,
                {{"seq", ours.suspension_seq}}, "", s_.clock.now_us());
}

Response RemoteFederation::receive(const Request& req) {
  const auto header = req.header("maillon-signature");
  const auto signature = header ? signature_from_header(*header) : std::nullopt;
  if (!signature) throw unauthorized("Signature Maillon-Signature absente ou illisible.");
  const auto envelope = parse_envelope(req.body);
  if (!envelope || !kMessageTypes.count(envelope->type))
    throw invalid_input("Le corps n'est pas un message de fédération.");
  const int64_t now_us = s_.clock.now_us();
  if (std::llabs(now_us / 1'000'000 - envelope->sent_at_s) > kMessageClockSkewMaxS)
    throw conflict("stale-message", "Message trop ancien ou daté dans le futur (± 5 min).");
  const std::string hash = content_hash(*envelope);
  const std::string text = s_.db.transact([&](pqxx::work& tx) {
    const auto link = federation::find_link(tx, envelope->link_id, envelope->to_community_id);
    if (!verify_detached(req.body, *signature, verifying_key(*envelope, link)) ||
        (link && link->partner_community_id != envelope->from_community_id)) {
      throw unauthorized("Signature invalide pour ce lien.");
    }
    repo::lock_message_id(tx, envelope->id);
    if (const auto seen = repo::find_received(tx, envelope->id)) {
      if (seen->content_hash_hex != hash)
        throw conflict("replayed-message", "Cet identifiant de message a déjà servi.");
      return seen->answer;
    }
    std::string given = apply_message(*this, tx, link, *envelope).dump();
    repo::insert_received(tx, *envelope, hash, given, now_us);
    return given;
  });
  if (envelope->type == kTransferHold) fault(settings_, "crash-after-remote-hold");
  if (envelope->type == kTransferPost) fault(settings_, "crash-after-remote-post");
  Response response = Response::json_text(200, text);
  response.headers.emplace_back("Maillon-Signature", signature_header(text, keys_.secret_key));
  return response;
}

void queue_message(pqxx::transaction_base& tx, const Link& link, std::string_view type,
                   const Json& payload, const std::string& transfer_id, int64_t now_us) {
  repo::enqueue_message(tx,
                        {new_uuid(), link.id, link.community_id, link.partner_community_id,
                         *link.partner_url, std::string(type), payload.dump(), transfer_id, 0},
                        now_us);
  wake_jobs();  // the sender's rounds may have slowed while there was nothing to send
}

Envelope envelope_of(const repo::OutgoingMessage& m, int64_t now_s) {
  return {m.message_id, m.link_id, m.community_id,        m.partner_community_id,
          m.type,       now_s,     Json::parse(m.payload)};
}

}  // namespace maillon::ledger::remote
