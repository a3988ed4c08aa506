// Routes of the ledger: each handler checks who may act, builds one domain command, hands it to
// the batcher (writes) or reads one snapshot (reads), and maps the outcome through one table.
#include <array>
#include <stdexcept>

#include "exchange/ledger_audit.hpp"
#include "services/common/errors.hpp"
#include "services/common/json_body.hpp"
#include "services/common/pagination.hpp"
#include "services/common/service.hpp"
#include "services/ledger/grants.hpp"
#include "services/ledger/ledger_service.hpp"
#include "services/ledger/repository.hpp"
#include "services/ledger/transfer_json.hpp"

namespace maillon::ledger {
namespace {

// Every refusal the domain can give, as HTTP: the one place statuses are chosen.
struct OutcomeHttp {
  LedgerOutcome outcome;
  int status;
  const char* field;  // for 400s: the body field at fault
  const char* detail;
};
constexpr std::array<OutcomeHttp, 15> kOutcomeHttp{{
    {LedgerOutcome::exists_with_different_body, 409, "",
     "Cet identifiant de transfert existe déjà avec un autre contenu."},
    {LedgerOutcome::invalid_id, 400, "id", "identifiant de 1 à 64 octets"},
    {LedgerOutcome::invalid_amount, 400, "minutes", "montant hors des bornes"},
    {LedgerOutcome::invalid_timeout, 400, "timeout_s", "délai invalide pour ce transfert"},
    {LedgerOutcome::invalid_memo, 400, "memo", "mémo trop long ou contenant un octet nul"},
    {LedgerOutcome::invalid_ref, 400, "ref", "référence trop longue ou contenant un octet nul"},
    {LedgerOutcome::same_account, 422, "", "Un compte ne peut pas se payer lui-même."},
    {LedgerOutcome::account_not_found, 404, "", "Compte introuvable dans cette communauté."},
    {LedgerOutcome::insufficient_credits, 422, "", "Crédits disponibles insuffisants."},
    {LedgerOutcome::balance_cap, 422, "", "Le solde du bénéficiaire dépasserait le plafond."},
    {LedgerOutcome::not_found, 404, "", "Transfert introuvable."},
    {LedgerOutcome::already_posted, 409, "", "Ce transfert est déjà validé."},
    {LedgerOutcome::already_voided, 409, "", "Ce transfert est déjà annulé."},
    {LedgerOutcome::expired, 409, "", "Ce transfert a expiré."},
    {LedgerOutcome::exceeds_pending, 422, "", "Montant supérieur au montant réservé."},
}};

ApiError outcome_error(LedgerOutcome outcome) {
  for (const auto& row : kOutcomeHttp) {
    if (row.outcome != outcome) continue;
    const std::string code(to_string(outcome));
    if (row.status == 400) return invalid_input("Transfert invalide.", {{row.field, row.detail}});
    const char* title = row.status == 409   ? "Conflit avec l'état actuel"
                        : row.status == 404 ? "Introuvable"
                                            : "Règle métier non respectée";
    return ApiError(row.status, code, title, row.detail);
  }
  throw std::logic_error("a ledger outcome has no HTTP mapping");
}

// Trust refusals (api.md, "Trust"): each has its own problem type, so that a client can tell a
// rule of the community from a missing role.
ApiError owned_by_saga() {
  return ApiError(403, "owned-by-saga", "Action non autorisée",
                  "Ce transfert appartient à un échange ou à un service de Maillon : lui seul le "
                  "valide ou l'annule.");
}
ApiError membership_pending() {
  return ApiError(403, "membership-pending", "Action non autorisée",
                  "Votre adhésion attend la validation de l'équipe : les transferts s'ouvriront "
                  "ensuite.");
}
ApiError self_grant() {
  return ApiError(403, "self-grant", "Action non autorisée",
                  "Le personnel ne s'accorde pas de crédits à lui-même.");
}

Response answer(const TransferResult& result, int created_status) {
  if (result.outcome == LedgerOutcome::ok)
    return json_response(created_status, transfer_json(*result.transfer));
  if (result.outcome == LedgerOutcome::exists)
    return json_response(200, transfer_json(*result.transfer));
  throw outcome_error(result.outcome);
}

// The body of POST /v1/ledger/transfers, checked field by field before any lock is taken.
struct TransferBody {
  std::string id;
  std::string to_member_id;
  int64_t minutes = 0;
  std::string memo;
  std::optional<std::string> from_member_id;
  bool pending = false;
  int64_t timeout_s = 0;
  std::string ref;
};

TransferBody parse_transfer(const Json& j) {
  if (!j.is_object()) throw invalid_input("Transfert invalide.", {{"body", "objet JSON attendu"}});
  BodyReader r(
      j, {"id", "to_member_id", "minutes", "memo", "from_member_id", "pending", "timeout_s", "ref"},
      {"state", "posted_minutes", "kind"});
  TransferBody in;
  in.id = r.required_uuid("id");
  in.to_member_id = r.required_uuid("to_member_id");
  in.minutes = r.required_integer("minutes", 1, kTransferMinutesMax);
  in.memo = r.text("memo", kTransferMemoBytesMax).value_or("");
  in.from_member_id = r.uuid("from_member_id");
  in.pending = r.boolean("pending").value_or(false);
  in.timeout_s = r.integer("timeout_s", 0, kTransferTimeoutSMax).value_or(0);
  in.ref = r.text("ref", kTransferRefBytesMax).value_or("");
  if (in.timeout_s > 0 && !in.pending)
    r.add_error("timeout_s", "un délai ne vaut que pour une réservation");
  r.finish();
  return in;
}

// The `transfers` array of a batch body: 1 to kTransferBatchItemsMax items, nothing else beside.
const Json& batch_items(const Json& body) {
  BodyReader r(body, {"transfers"});
  const auto items = body.find("transfers");
  if (items == body.end() || !items->is_array() || items->empty() ||
      items->size() > kTransferBatchItemsMax) {
    r.add_error("transfers",
                "liste de 1 à " + std::to_string(kTransferBatchItemsMax) + " transferts attendue");
  }
  r.finish();
  return *items;
}

// The id an item names, echoed back so that a client can match answers even to bad items.
Json item_id(const Json& item) {
  const auto id = item.is_object() ? item.find("id") : item.end();
  return id != item.end() && id->is_string() ? *id : Json(nullptr);
}

Json item_result(const Json& item, const ApiError& error) {
  return {{"id", item_id(item)},
          {"status", error.status()},
          {"problem", Json::parse(problem_json(error, ""))}};
}

// One item of a batch answer, appended to `out`: the transfer written by hand (a batch answers
// up to a thousand of them), a refusal as its JSON tree.
void append_item_result(std::string& out, const Json& item, const TransferResult& result) {
  if (result.outcome == LedgerOutcome::ok || result.outcome == LedgerOutcome::exists) {
    // The transfer bears the id the item named (a new one, or the existing one of that id).
    out += "{\"id\":";
    append_json_string(out, result.transfer->request.id);
    out += result.outcome == LedgerOutcome::ok ? ",\"status\":201" : ",\"status\":200";
    out += ",\"transfer\":";
    append_transfer_json(out, *result.transfer);
    out += '}';
    return;
  }
  out += json_text(item_result(item, outcome_error(result.outcome)));
}

// A large grant's item of a batch answer: 202 with the review waiting.
std::string grant_item_result(const repo::GrantRow& review) {
  return json_text({{"id", review.id}, {"status", 202}, {"grant", grant_json(review)}});
}

class LedgerApi {
 public:
  LedgerApi(Service& s, PolicyCache& policies, TransferBatcher& batcher)
      : s_(s), policies_(policies), batcher_(batcher) {}

  void routes() {
    auto bind = [this](const char* method, const char* path,
                       Response (LedgerApi::*fn)(const Request&)) {
      s_.http.route(method, path, [this, fn](const Request& r) { return (this->*fn)(r); });
    };
    bind("GET", "/v1/ledger/accounts/{member_id}", &LedgerApi::get_account);
    bind("GET", "/v1/ledger/accounts/{member_id}/entries", &LedgerApi::list_entries);
    bind("POST", "/v1/ledger/transfers", &LedgerApi::create_transfer);
    bind("POST", "/v1/ledger/transfers/batch", &LedgerApi::create_transfers_batch);
    bind("GET", "/v1/ledger/transfers/{id}", &LedgerApi::get_transfer);
    bind("POST", "/v1/ledger/transfers/{id}/post", &LedgerApi::post_transfer);
    bind("POST", "/v1/ledger/transfers/{id}/void", &LedgerApi::void_transfer);
    bind("GET", "/v1/ledger/audit", &LedgerApi::get_audit);
    bind("GET", "/v1/ledger/grants", &LedgerApi::list_grants);
    bind("POST", "/v1/ledger/grants/{id}/approve", &LedgerApi::approve_grant);
  }

 private:
  Service& s_;
  PolicyCache& policies_;
  TransferBatcher& batcher_;

  static void require_community(const Identity& who) {
    if (who.community_id.empty()) throw forbidden("Il faut appartenir à une communauté.");
  }
  Identity member_caller(const Request& req) {
    Identity who = s_.auth.require(req);
    require_community(who);
    return who;
  }
  // Who may move credits: a member of the community whose membership is approved (also when
  // staff act for them: the Identity is then the member's).
  Identity paying_caller(const Request& req) {
    Identity who = member_caller(req);
    if (who.is_pending()) throw membership_pending();
    if (who.status == "suspended") throw forbidden("Ce compte est suspendu.");
    return who;
  }

  // Who pays. A member pays from their own account, and so does a staff member acting for them
  // (X-On-Behalf-Of: the Identity is the member's, acting_staff_id the staff's, recorded as the
  // actor). Staff in their own name grant from the community's account (kind manual), never to
  // themselves. Nobody debits another member's account: from_member_id, when given, must be the
  // Identity's own member (the acted-for member while acting).
  TransferRequest transfer_request(const Identity& who, const TransferBody& in) {
    TransferRequest request{in.id,      who.member_id, in.to_member_id,        in.minutes,
                            in.pending, in.timeout_s,  TransferKind::exchange, in.memo,
                            in.ref};
    if (in.from_member_id && *in.from_member_id != who.member_id) {
      throw forbidden(
          "On ne paie que depuis son propre compte ; le personnel agit pour le membre "
          "(X-On-Behalf-Of).");
    }
    const bool acting = !who.acting_staff_id.empty();
    // Acting for a member lends their account, not a way to pay oneself from it.
    if (acting && in.to_member_id == who.acting_staff_id) throw self_grant();
    if (in.from_member_id || acting || !who.is_staff()) return request;
    if (in.to_member_id == who.member_id) throw self_grant();
    request.from_account_id = community_account_id(who.community_id);
    request.kind = TransferKind::manual;
    return request;
  }

  // The policy for the grant check; read once per community, then from memory.
  CommunityPolicy policy_of(const std::string& community_id) {
    if (auto policy = policies_.cached(community_id)) return *policy;
    return s_.db.transact([&](pqxx::work& tx) { return policies_.get(tx, community_id); });
  }
  // A large grant waits for a second pair of eyes instead of reaching the writer.
  bool waits_for_review(const Identity& who, const TransferRequest& request) {
    return request.kind == TransferKind::manual &&
           needs_review(request, policy_of(who.community_id));
  }

  Response ask_review(const Identity& who, const TransferRequest& request) {
    const GrantAsked asked = ask_grant(s_.db, who, request, now_us());
    if (asked.review) return json_response(202, grant_json(*asked.review));
    return answer(asked.transfer, 200);
  }

  Response create_transfer(const Request& req) {
    const Identity who = paying_caller(req);
    const TransferBody in = parse_transfer(parse_json_object(req.body));
    const TransferRequest request = transfer_request(who, in);
    if (waits_for_review(who, request)) return ask_review(who, request);
    return answer(batcher_.submit(who.community_id, CreateTransfer{request, 0}, who.actor_id()),
                  201);
  }

  // Many transfers in one request, each checked and answered as POST /v1/ledger/transfers
  // would; the valid ones go to the writer together, so they share its transactions.
  Response create_transfers_batch(const Request& req) {
    const Identity who = paying_caller(req);
    const Json body = parse_json_object(req.body);
    const Json& items = batch_items(body);
    // Each item's answer as JSON text, in item order: refusals of the body now, outcomes of the
    // commands once the batch committed.
    std::vector<std::string> results(items.size());
    std::vector<LedgerCommand> commands;
    std::vector<std::size_t> command_items;  // the item index of each command
    for (std::size_t i = 0; i < items.size(); ++i) {
      try {
        const TransferRequest request = transfer_request(who, parse_transfer(items[i]));
        if (waits_for_review(who, request)) {
          results[i] = review_item_result(who, request, items[i]);
          continue;
        }
        commands.push_back(CreateTransfer{request, 0});
        command_items.push_back(i);
      } catch (const ApiError& error) {
        results[i] = json_text(item_result(items[i], error));
      }
    }
    if (!commands.empty()) {
      const auto outcomes = batcher_.submit_many(who.community_id, commands, who.actor_id());
      for (std::size_t c = 0; c < outcomes.size(); ++c) {
        append_item_result(results[command_items[c]], items[command_items[c]], outcomes[c]);
      }
    }
    std::string answer = "{\"results\":[";
    for (std::size_t i = 0; i < results.size(); ++i) {
      if (i > 0) answer += ',';
      answer += results[i];
    }
    answer += "]}";
    return Response::json_text(200, std::move(answer));
  }

  std::string review_item_result(const Identity& who, const TransferRequest& request,
                                 const Json& item) {
    const GrantAsked asked = ask_grant(s_.db, who, request, now_us());
    if (asked.review) return grant_item_result(*asked.review);
    std::string out;
    append_item_result(out, item, asked.transfer);
    return out;
  }

  // A transfer the caller may see: a party's or any in the staff's community; 404 otherwise.
  Transfer visible_transfer(const Identity& who, const std::string& id) {
    const auto t = s_.db.transact(
        [&](pqxx::work& tx) { return repo::find_transfer(tx, who.community_id, id); });
    if (!t || !(is_party(who, *t) || who.is_staff())) throw not_found("Transfert introuvable.");
    return *t;
  }
  static bool is_payer(const Identity& who, const Transfer& t) {
    return t.request.from_account_id == who.member_id;
  }
  static bool is_party(const Identity& who, const Transfer& t) {
    return is_payer(who, t) || t.request.to_account_id == who.member_id;
  }

  Response get_transfer(const Request& req) {
    const Identity who = member_caller(req);
    return json_response(200, transfer_json(visible_transfer(who, req.param("id"))));
  }

  // The caller who may settle a client's hold. A system id (a saga's hold, a bonus) is refused
  // before anything is read, to every caller alike: its saga alone settles it, through
  // ledger.commands (see is_client_transfer_id).
  Identity settling_caller(const Request& req) {
    const Identity who = s_.auth.require(req);
    if (!is_client_transfer_id(req.param("id"))) throw owned_by_saga();
    require_community(who);
    if (who.is_pending()) throw membership_pending();
    return who;
  }

  Response post_transfer(const Request& req) {
    const Identity who = settling_caller(req);
    const Json j = parse_json_object(req.body, true);
    BodyReader r(j, {"minutes"});
    const auto minutes = r.integer("minutes", 1, kTransferMinutesMax);
    r.finish();
    const Transfer t = visible_transfer(who, req.param("id"));
    if (!is_payer(who, t) && !who.is_staff())
      throw forbidden("Seul le payeur valide ce transfert.");
    return answer(
        batcher_.submit(who.community_id, PostTransfer{t.request.id, minutes, 0}, who.actor_id()),
        200);
  }

  Response void_transfer(const Request& req) {
    const Identity who = settling_caller(req);
    const Transfer t = visible_transfer(who, req.param("id"));
    return answer(batcher_.submit(who.community_id, VoidTransfer{t.request.id, 0}, who.actor_id()),
                  200);
  }

  // The desk's list of grants in one state (awaiting_review by default), oldest first.
  Response list_grants(const Request& req) {
    const Identity who = s_.auth.require(req);
    const std::string community_id = req.query_value("community_id").value_or("");
    if (!is_uuid(community_id)) {
      throw invalid_input("Communauté manquante.", {{"community_id", "identifiant attendu"}});
    }
    const std::string state = req.query_value("state").value_or("awaiting_review");
    if (state != "awaiting_review" && state != "approved") {
      throw invalid_input("État inconnu.", {{"state", "awaiting_review ou approved"}});
    }
    if (!may_see_grants(who, community_id)) throw forbidden();
    const PageRequest page = page_request(req);
    const auto [after_at_us, after_id] = grant_cursor(page.cursor);
    return s_.db.transact([&](pqxx::work& tx) {
      auto rows = repo::list_grants(tx, community_id, state, after_at_us, after_id, page.limit + 1);
      Json next = nullptr;
      if (rows.size() > static_cast<std::size_t>(page.limit)) {
        rows.pop_back();
        next = encode_cursor(std::to_string(rows.back().requested_at_us) + "|" + rows.back().id);
      }
      Json items = Json::array();
      for (auto& row : rows) {
        row.state = state;  // a review whose transfer exists is approved, marked or not
        items.push_back(grant_json(row));
      }
      return json_response(200, {{"items", items}, {"next_cursor", next}});
    });
  }

  static std::pair<int64_t, std::string> grant_cursor(const std::string& cursor) {
    if (cursor.empty()) return {-1, ""};
    const auto bar = cursor.find('|');
    try {
      if (bar != std::string::npos)
        return {std::stoll(cursor.substr(0, bar)), cursor.substr(bar + 1)};
    } catch (const std::exception&) {
    }
    throw invalid_input("Curseur invalide.", {{"cursor", "curseur inconnu ou altéré"}});
  }

  // A second staff member (or an administrator) posts a grant that waits for review; the answer
  // is the transfer, or the ledger's refusal (balance-cap...), after which the review still waits.
  // Staff acting for a member keep their own staff rights, so they may approve, as themselves.
  Response approve_grant(const Request& req) {
    const Identity who = s_.auth.require(req);
    const std::string id = req.param("id");
    const auto grant = s_.db.transact([&](pqxx::work& tx) { return repo::find_grant(tx, id); });
    if (!grant) throw not_found("Demande de crédit introuvable.");
    check_approver(who, *grant);
    const TransferResult result =
        batcher_.submit(grant->community_id, CreateTransfer{grant_transfer_request(*grant), 0},
                        grant->requested_by);
    if (is_accepted(result.outcome)) {
      s_.db.transact(
          [&](pqxx::work& tx) { repo::mark_grant_approved(tx, id, who.actor_id(), now_us()); });
    }
    return answer(result, 200);
  }

  // Self, staff of the account's community, or an administrator; 404 for anyone else.
  repo::AccountRow visible_account(pqxx::work& tx, const Identity& who,
                                   const std::string& member_id) {
    const bool allowed = member_id == who.member_id || who.is_staff() || who.is_admin;
    const auto row = allowed ? repo::find_account(tx, member_id) : std::nullopt;
    if (!row || row->account.community ||
        (!who.is_admin && row->community_id != who.community_id)) {
      throw not_found("Compte introuvable.");
    }
    return *row;
  }

  Response get_account(const Request& req) {
    const Identity who = s_.auth.require(req);
    return s_.db.transact([&](pqxx::work& tx) {
      const repo::AccountRow row = visible_account(tx, who, req.param("member_id"));
      const CommunityPolicy policy = policies_.get(tx, row.community_id);
      const Account& a = row.account;
      return json_response(200, {{"member_id", a.id},
                                 {"balance_minutes", a.balance_minutes},
                                 {"pending_debit_minutes", a.pending_debit_minutes},
                                 {"pending_credit_minutes", a.pending_credit_minutes},
                                 {"available_minutes", a.available_minutes()},
                                 {"min_balance", policy.min_balance},
                                 {"max_balance", policy.max_balance}});
    });
  }

  static Json entry_json(const repo::EntryRow& row) {
    const Entry& e = row.entry;
    Json counterparty = row.counterparty_pseudonym.empty()
                            ? nullable_member(e.counterparty_account_id)
                            : Json(row.counterparty_pseudonym);
    if (counterparty.is_null()) counterparty = "community";
    return {{"transfer_id", e.transfer_id},
            {"amount_minutes", e.amount_minutes},
            {"balance_after_minutes", e.balance_after_minutes},
            {"kind", std::string(to_string(e.kind))},
            {"ref", e.ref},
            {"counterparty", counterparty},
            {"at", rfc3339_from_us(e.at_us)}};
  }

  Response list_entries(const Request& req) {
    const Identity who = s_.auth.require(req);
    const PageRequest page = page_request(req);
    int64_t before_id = 0;
    if (!page.cursor.empty()) {
      try {
        before_id = std::stoll(page.cursor);
      } catch (const std::exception&) {
        throw invalid_input("Curseur invalide.", {{"cursor", "curseur inconnu ou altéré"}});
      }
    }
    return s_.db.transact([&](pqxx::work& tx) {
      const repo::AccountRow account = visible_account(tx, who, req.param("member_id"));
      auto rows = repo::list_entries(tx, account.account.id, before_id, page.limit + 1);
      Json next = nullptr;
      if (rows.size() > static_cast<std::size_t>(page.limit)) {
        rows.pop_back();
        next = encode_cursor(std::to_string(rows.back().id));
      }
      Json items = Json::array();
      for (const auto& row : rows) items.push_back(entry_json(row));
      return json_response(200, {{"items", items}, {"next_cursor", next}});
    });
  }

  Response get_audit(const Request& req) {
    const Identity who = s_.auth.require(req);
    const std::string community_id = req.query_value("community_id").value_or("");
    if (!is_uuid(community_id)) {
      throw invalid_input("Communauté manquante.", {{"community_id", "identifiant attendu"}});
    }
    if (!who.is_admin && !(who.is_staff() && who.community_id == community_id)) throw forbidden();
    return s_.db.transact([&](pqxx::work& tx) {
      std::map<AccountId, int64_t> sums;
      const auto accounts = repo::audit_accounts(tx, community_id, sums);
      const AuditReport report = audit(accounts, sums, policies_.get(tx, community_id));
      Json violations = Json::array();
      for (const auto& v : report.violations) {
        violations.push_back({{"check", std::string(to_string(v.check))},
                              {"account_id", v.account_id},
                              {"detail", v.detail}});
      }
      return json_response(200, {{"community_id", community_id},
                                 {"accounts", report.accounts},
                                 {"sum_balances_minutes", report.sum_balances_minutes},
                                 {"pending_minutes", report.pending_debit_minutes},
                                 {"pending_debit_minutes", report.pending_debit_minutes},
                                 {"pending_credit_minutes", report.pending_credit_minutes},
                                 {"ok", report.ok()},
                                 {"violations", violations}});
    });
  }
};

}  // namespace

void register_service(Service& s) {
  // Owned for the life of the process: handlers, consumers and jobs hold references to them.
  repo::prepare_statements(s.db);
  static PolicyCache policies;
  static TransferBatcher batcher(s.db, s.outbox, policies, kBatchShards);
  static LedgerApi api(s, policies, batcher);
  api.routes();
  register_consumers(s, policies);
}

}  // namespace maillon::ledger
