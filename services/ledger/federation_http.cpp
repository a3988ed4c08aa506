// Routes of /v1/federation: each handler reads its input, calls one use case
// (federation_links.hpp) and writes its answer; refusals are put into words by the table below.
#include <cmath>

#include "services/common/auth.hpp"
#include "services/common/errors.hpp"
#include "services/common/json_body.hpp"
#include "services/common/problems.hpp"
#include "services/common/service.hpp"
#include "services/common/text.hpp"
#include "services/ledger/federation_links.hpp"
#include "services/ledger/federation_remote.hpp"
#include "services/ledger/ledger_service.hpp"
#include "services/ledger/messages.hpp"
#include "services/ledger/transfer_json.hpp"
#include "services/ledger/usecases.hpp"

namespace maillon::ledger::federation {
namespace {

constexpr const char* kLinkSummary = "Lien de fédération invalide.";

constexpr MessageRow<FederationRefusal> kRefusals[] = {
    {FederationRefusal::not_link_admin,
     forbidden_row("Seul un administrateur de la communauté gère ses liens de fédération.")},
    {FederationRefusal::own_proposal,
     {403, "own-proposal",
      "La communauté qui propose un lien ne l'accepte pas elle-même : son partenaire le fait."}},
    {FederationRefusal::links_not_visible,
     forbidden_row("Seuls les administrateurs et le personnel de la communauté voient ses liens de "
                   "fédération.")},
    {FederationRefusal::link_not_found, not_found_row("Lien de fédération introuvable.")},
    {FederationRefusal::community_not_found, not_found_row("Communauté introuvable.")},
    {FederationRefusal::partner_not_found, not_found_row("Communauté partenaire introuvable.")},
    {FederationRefusal::same_community,
     {422, "same-community", "Une communauté ne se fédère pas avec elle-même."}},
    {FederationRefusal::link_exists,
     {409, "link-exists", "Un lien de fédération existe déjà entre ces deux communautés."}},
    {FederationRefusal::too_many_links,
     {422, "too-many-links", "Cette communauté a atteint le nombre maximal de 200 liens."}},
    {FederationRefusal::link_not_proposed,
     {409, "link-not-proposed", "Ce lien a été suspendu : il n'attend plus d'acceptation."}},
    {FederationRefusal::federation_limit,
     {422, "federation-limit",
      "La limite de ce lien de fédération est atteinte dans ce sens : les échanges reprendront "
      "quand les comptes se seront rééquilibrés."}},
    {FederationRefusal::no_federation_link,
     {422, "no-federation-link", "Aucun lien de fédération actif avec cette communauté."}},
    {FederationRefusal::community_id_missing,
     {400, "invalid-input", "identifiant attendu", "community_id", "Communauté manquante."}},
    {FederationRefusal::rate_invalid,
     field_row("rate", "taux entre 0,01 et 100 minutes du partenaire pour une des nôtres",
               kLinkSummary)},
    {FederationRefusal::partner_invalid,
     field_row("partner", "{community_id} ou {url, community_id} attendu", kLinkSummary)},
    {FederationRefusal::link_not_suspended,
     {409, "link-not-suspended", "Ce lien n'est pas suspendu : il n'y a rien à reprendre."}},
};

}  // namespace
}  // namespace maillon::ledger::federation

namespace maillon {
template <>
struct MessageTable<ledger::federation::FederationRefusal> {
  static std::span<const MessageRow<ledger::federation::FederationRefusal>> rows() {
    return ledger::federation::kRefusals;
  }
};
}  // namespace maillon

namespace maillon::ledger::federation {
namespace {

using Json = nlohmann::json;

template <class T>
const T& value_or_throw(const FederationFound<T>& found) {
  if (found.refusal != FederationRefusal::none) throw problem(found.refusal);
  if (found.ledger_outcome) throw problem(*found.ledger_outcome);
  return found.value;
}

bool is_http_url(const std::string& url) {
  return (url.starts_with("https://") || url.starts_with("http://")) &&
         url.size() <= kPartnerUrlBytesMax && url.find_first_of(" \t\r\n") == std::string::npos;
}

std::optional<int64_t> rate_micro_of(BodyReader& r) {
  const auto rate = r.number("rate", 0, 1e9);
  if (!rate) return std::nullopt;
  const double micro = std::round(*rate * static_cast<double>(kRateMicroUnit));
  if (micro < static_cast<double>(kRateMicroMin) || micro > static_cast<double>(kRateMicroMax)) {
    r.add_error("rate", message(FederationRefusal::rate_invalid));
    return std::nullopt;
  }
  return static_cast<int64_t>(micro);
}

void read_partner(BodyReader& r, const Json& body, LinkProposal& in) {
  const auto partner = body.find("partner");
  if (partner == body.end() || !partner->is_object()) {
    r.add_error("partner", message(FederationRefusal::partner_invalid));
    return;
  }
  BodyReader p(*partner, {"community_id", "url"});
  in.partner_community_id = lowercase_ascii(p.required_uuid("community_id"));
  if (const auto url = p.text("url", kPartnerUrlBytesMax)) {
    if (is_http_url(*url))
      in.partner_url = *url;
    else
      p.add_error("url", "adresse http:// ou https:// attendue");
  }
  for (const auto& e : p.errors()) r.add_error("partner." + e.field, e.message);
}

LinkProposal parse_proposal(const Json& body) {
  BodyReader r(body,
               {"community_id", "partner", "debit_limit_minutes", "credit_limit_minutes", "rate"});
  LinkProposal in;
  in.community_id = lowercase_ascii(r.required_uuid("community_id"));
  read_partner(r, body, in);
  in.debit_limit_minutes = r.required_integer("debit_limit_minutes", 0, kFederationLimitMinutesMax);
  in.credit_limit_minutes =
      r.required_integer("credit_limit_minutes", 0, kFederationLimitMinutesMax);
  in.rate_micro = rate_micro_of(r).value_or(kRateMicroUnit);
  r.finish();
  return in;
}

std::optional<ClearingLimits> parse_acceptance(const Json& body) {
  BodyReader r(body, {"debit_limit_minutes", "credit_limit_minutes"});
  const auto debit = r.integer("debit_limit_minutes", 0, kFederationLimitMinutesMax);
  const auto credit = r.integer("credit_limit_minutes", 0, kFederationLimitMinutesMax);
  if (debit.has_value() != credit.has_value()) {
    r.add_error(debit ? "credit_limit_minutes" : "debit_limit_minutes",
                "les deux limites se donnent ensemble");
  }
  r.finish();
  if (!debit) return std::nullopt;
  return ClearingLimits{*debit, *credit};
}

DirectTransfer parse_direct_transfer(const Json& body) {
  BodyReader r(body, {"id", "payee_community_id", "to_member_id", "minutes", "memo"});
  DirectTransfer in;
  in.id = lowercase_ascii(r.required_uuid("id"));
  in.payee_community_id = lowercase_ascii(r.required_uuid("payee_community_id"));
  in.to_member_id = lowercase_ascii(r.required_uuid("to_member_id"));
  in.minutes = r.required_integer("minutes", 1, kTransferMinutesMax);
  in.memo = r.text("memo", kTransferMemoCharsMax).value_or("");
  r.finish();
  return in;
}

Json rate_json(int64_t rate_micro) {
  return static_cast<double>(rate_micro) / static_cast<double>(kRateMicroUnit);
}

Json clearing_json(const Account& a) {
  return {{"account_id", a.id},
          {"balance_minutes", a.balance_minutes},
          {"pending_debit_minutes", a.pending_debit_minutes},
          {"pending_credit_minutes", a.pending_credit_minutes}};
}

Json link_json(const LinkView& v) {
  const Link& l = v.side;
  Json partner = {{"community_id", l.partner_community_id}};
  if (l.partner_url) partner["url"] = *l.partner_url;
  if (!v.partner_name.empty()) partner["name"] = v.partner_name;
  return {{"id", l.id},
          {"community_id", l.community_id},
          {"partner", partner},
          {"state", std::string(to_string(l.state))},
          {"proposed_by_us", l.proposed_by_us},
          {"suspended_by_us", l.suspended_by_us},
          {"suspended_by_partner", l.suspended_by_partner},
          {"debit_limit_minutes", l.debit_limit_minutes},
          {"credit_limit_minutes", l.credit_limit_minutes},
          {"rate", rate_json(l.rate_micro)},
          {"balance_minutes", v.clearing.balance_minutes},
          {"pending_debit_minutes", v.clearing.pending_debit_minutes},
          {"pending_credit_minutes", v.clearing.pending_credit_minutes},
          {"created_at", rfc3339_from_us(l.created_at_us)},
          {"updated_at", rfc3339_from_us(l.updated_at_us)}};
}

Json leg_json(const std::optional<ClearingLeg>& leg) {
  if (!leg) return nullptr;
  return {{"state", std::string(to_string(leg->state))},
          {"paid_across", leg->paid_across},
          {"amount_minutes", leg->amount_minutes},
          {"posted_minutes", leg->posted_minutes}};
}

Json side_json(const LinkView& v) {
  Json side = clearing_json(v.clearing);
  side["community_id"] = v.side.community_id;
  side["rate"] = rate_json(v.side.rate_micro);
  return side;
}

Json reconciliation_json(const Reconciliation& r) {
  Json differences = Json::array();
  for (const auto& d : r.differences) {
    differences.push_back({{"transfer_id", d.transfer_id},
                           {"kind", std::string(to_string(d.kind))},
                           {"ours", leg_json(d.ours)},
                           {"theirs", leg_json(d.theirs)}});
  }
  return {{"link_id", r.ours.side.id},  {"community_id", r.ours.side.community_id},
          {"ours", side_json(r.ours)},  {"theirs", r.theirs ? side_json(*r.theirs) : Json(nullptr)},
          {"differences", differences}, {"truncated", r.truncated}};
}

Json direct_transfer_json(const FederatedResult& r) {
  const Transfer& payer = *r.payer_leg;
  // A payee in another installation: its leg is over there, the saga settles both (F2).
  if (!r.payee_leg) return remote::remote_payment_json(payer);
  const Transfer& payee = *r.payee_leg;
  return {{"id", payer.request.id},
          {"state", std::string(to_string(payer.state))},
          {"from_member_id", payer.request.from_account_id},
          {"to_member_id", payee.request.to_account_id},
          {"amount_minutes", payer.request.amount_minutes},
          {"payee_amount_minutes", payee.request.amount_minutes},
          {"memo", payer.request.memo},
          {"payer_leg", transfer_json(payer)},
          {"payee_leg", transfer_json(payee)},
          {"created_at", rfc3339_from_us(payer.created_at_us)}};
}

std::optional<std::string> community_choice(const Request& req) {
  auto community_id = req.query_value("community_id");
  if (community_id && !is_uuid(*community_id))
    throw problem(FederationRefusal::community_id_missing);
  return community_id;
}

class FederationApi : ServiceApi<FederationUseCases> {
 public:
  FederationApi(Service& s, PolicyCache& policies)
      : ServiceApi(s, s.db, s.outbox, policies, s.clock) {}

  void routes() {
    const RouteBinder bind(s_.http, this);
    bind("POST", "/v1/federation/links", &FederationApi::propose);
    bind("GET", "/v1/federation/links", &FederationApi::list);
    bind("POST", "/v1/federation/links/{id}/accept", &FederationApi::accept);
    bind("POST", "/v1/federation/links/{id}/suspend", &FederationApi::suspend);
    bind("POST", "/v1/federation/links/{id}/resume", &FederationApi::resume);
    bind("GET", "/v1/federation/links/{id}/reconciliation", &FederationApi::reconciliation);
    bind("POST", "/v1/federation/transfers", &FederationApi::pay);
  }

 private:
  // Only administrators manage links: refused before the body is read (403 before 400).
  Identity link_admin(const Request& req) {
    Identity who = s_.auth.require(req);
    if (!who.is_admin && who.admin_community_ids.empty())
      throw problem(FederationRefusal::not_link_admin);
    return who;
  }

  // A path id that is not a UUID names no link.
  static std::string link_id(const Request& req) {
    const std::string& id = req.param("id");
    if (!is_uuid(id)) throw problem(FederationRefusal::link_not_found);
    return lowercase_ascii(id);
  }

  Response propose(const Request& req) {
    const Identity who = link_admin(req);
    const LinkProposal in = parse_proposal(parse_json_object(req.body));
    return json_response(201, link_json(value_or_throw(uc_.propose(who, in))));
  }

  Response accept(const Request& req) {
    const Identity who = link_admin(req);
    const auto limits = parse_acceptance(parse_json_object(req.body, true));
    return json_response(200, link_json(value_or_throw(uc_.accept(who, link_id(req), limits))));
  }

  Response suspend(const Request& req) {
    const Identity who = link_admin(req);
    const auto found = uc_.suspend(who, link_id(req), community_choice(req));
    return json_response(200, link_json(value_or_throw(found)));
  }

  // 200 with the caller's side: `active` again, or still `suspended` (suspended_by_partner)
  // while the partner's own suspension stands.
  Response resume(const Request& req) {
    const Identity who = link_admin(req);
    const auto found = uc_.resume(who, link_id(req), community_choice(req));
    return json_response(200, link_json(value_or_throw(found)));
  }

  Response list(const Request& req) {
    const Identity who = s_.auth.require(req);
    const auto community_id = community_choice(req);
    if (!community_id) throw problem(FederationRefusal::community_id_missing);
    const auto found = uc_.list(who, lowercase_ascii(*community_id));
    Json items = Json::array();
    for (const auto& v : value_or_throw(found)) items.push_back(link_json(v));
    return json_response(200, {{"items", items}, {"next_cursor", nullptr}});
  }

  Response reconciliation(const Request& req) {
    const Identity who = link_admin(req);
    const auto found = uc_.reconcile(who, link_id(req), community_choice(req));
    Json body = reconciliation_json(value_or_throw(found));
    // The partner's side of a link with another installation is asked there (F2).
    if (found.value.ours.side.remote())
      remote::merge_remote_reconciliation(found.value.ours.side, body);
    return json_response(200, body);
  }

  Response pay(const Request& req) {
    const Identity who = s_.auth.require(req);
    if (const auto refusal = LedgerUseCases::paying_refusal(who); refusal != LedgerRefusal::none)
      throw problem(refusal);
    const DirectTransfer in = parse_direct_transfer(parse_json_object(req.body));
    const auto found = uc_.pay(who, in);
    const FederatedResult& result = value_or_throw(found);
    // 202 for a payee in another installation: our leg is held, the saga settles both (F2).
    const int status = result.outcome == LedgerOutcome::exists ? 200 : result.payee_leg ? 201 : 202;
    return json_response(status, direct_transfer_json(result));
  }
};

}  // namespace

void register_routes(Service& s, PolicyCache& policies) {
  // Owned for the life of the process: the routes hold a reference to it.
  static FederationApi api(s, policies);
  api.routes();
}

}  // namespace maillon::ledger::federation
