// Routes of the ledger: each handler reads its input, calls one use case (usecases.hpp) and
// writes its answer; refusals are put into words by the message table (messages.hpp).
#include <stdexcept>

#include "services/common/errors.hpp"
#include "services/common/json_body.hpp"
#include "services/common/pagination.hpp"
#include "services/common/service.hpp"
#include "services/ledger/federation.hpp"
#include "services/ledger/federation_remote.hpp"
#include "services/ledger/grants.hpp"
#include "services/ledger/ledger_service.hpp"
#include "services/ledger/messages.hpp"
#include "services/ledger/repository.hpp"
#include "services/ledger/transfer_json.hpp"
#include "services/ledger/usecases.hpp"

namespace maillon::ledger {
namespace {

void refuse_if(LedgerRefusal refusal) {
  if (refusal != LedgerRefusal::none) throw problem(refusal);
}

// The answer of a write: the refusal, the review that waits (202), or the ledger's result.
Response answer(const TransferAnswer& answer, int created_status) {
  refuse_if(answer.refusal);
  if (answer.review) return json_response(202, grant_json(*answer.review));
  const TransferResult& result = answer.result;
  if (result.outcome == LedgerOutcome::ok)
    return json_response(created_status, transfer_json(*result.transfer));
  if (result.outcome == LedgerOutcome::exists)
    return json_response(200, transfer_json(*result.transfer));
  throw problem(result.outcome);
}

// The body of POST /v1/ledger/transfers, checked field by field before any lock is taken.
TransferBody parse_transfer(const Json& j) {
  if (!j.is_object()) throw problem(LedgerRefusal::body_not_object);
  BodyReader r(
      j, {"id", "to_member_id", "minutes", "memo", "from_member_id", "pending", "timeout_s", "ref"},
      {"state", "posted_minutes", "kind"});
  TransferBody in;
  in.id = r.required_uuid("id");
  in.to_member_id = r.required_uuid("to_member_id");
  in.minutes = r.required_integer("minutes", 1, kTransferMinutesMax);
  in.memo = r.text("memo", kTransferMemoCharsMax).value_or("");
  in.from_member_id = r.uuid("from_member_id");
  in.pending = r.boolean("pending").value_or(false);
  in.timeout_s = r.integer("timeout_s", 0, kTransferTimeoutSMax).value_or(0);
  in.ref = r.text("ref", kTransferRefBytesMax).value_or("");
  if (in.timeout_s > 0 && !in.pending)
    r.add_error("timeout_s", std::string(message(LedgerRefusal::timeout_without_hold)));
  r.finish();
  return in;
}

// The `transfers` array of a batch body: 1 to kTransferBatchItemsMax items, nothing else beside.
const Json& batch_items(const Json& body) {
  BodyReader r(body, {"transfers"});
  const auto items = body.find("transfers");
  if (items == body.end() || !items->is_array() || items->empty() ||
      items->size() > kTransferBatchItemsMax) {
    r.add_error("transfers", std::string(message(LedgerRefusal::batch_items_invalid)));
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
// up to a thousand of them), a review waiting (202), a refusal as its JSON tree.
void append_item_result(std::string& out, const Json& item, const TransferAnswer& answer) {
  if (answer.refusal != LedgerRefusal::none) {
    out += json_text(item_result(item, problem(answer.refusal)));
    return;
  }
  if (answer.review) {
    out += json_text(
        {{"id", answer.review->id}, {"status", 202}, {"grant", grant_json(*answer.review)}});
    return;
  }
  const TransferResult& result = answer.result;
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
  out += json_text(item_result(item, problem(result.outcome)));
}

// community_id of the query: a UUID.
std::string community_query(const Request& req) {
  std::string community_id = req.query_value("community_id").value_or("");
  if (!is_uuid(community_id)) throw problem(LedgerRefusal::community_id_missing);
  return community_id;
}

Json entry_json(const repo::EntryRow& row) {
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

Json next_cursor_json(const std::optional<std::string>& next) {
  return next ? Json(encode_cursor(*next)) : Json(nullptr);
}

class LedgerApi : ServiceApi<LedgerUseCases> {
 public:
  LedgerApi(Service& s, PolicyCache& policies, TransferBatcher& batcher)
      : ServiceApi(s, s.db, policies, batcher, s.clock) {}

  void routes() {
    const RouteBinder bind(s_.http, this);
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
  // Who may move credits is answered before the body is read.
  Identity paying_caller(const Request& req) {
    Identity who = s_.auth.require(req);
    refuse_if(LedgerUseCases::paying_refusal(who));
    return who;
  }

  Response create_transfer(const Request& req) {
    const Identity who = paying_caller(req);
    const TransferBody in = parse_transfer(parse_json_object(req.body));
    return answer(uc_.create_transfer(who, in), 201);
  }

  // Many transfers in one request, each checked and answered as POST /v1/ledger/transfers
  // would; the valid ones go to the writer together, so they share its transactions.
  Response create_transfers_batch(const Request& req) {
    const Identity who = paying_caller(req);
    const Json body = parse_json_object(req.body);
    const Json& items = batch_items(body);
    // Each item's answer as JSON text, in item order: refusals of the body now, the use case's
    // answers once the batch committed.
    std::vector<std::string> results(items.size());
    std::vector<TransferBody> bodies;
    std::vector<std::size_t> body_items;  // the item index of each body read
    for (std::size_t i = 0; i < items.size(); ++i) {
      try {
        bodies.push_back(parse_transfer(items[i]));
        body_items.push_back(i);
      } catch (const ApiError& error) {
        results[i] = json_text(item_result(items[i], error));
      }
    }
    const auto answers = uc_.create_transfers(who, bodies);
    for (std::size_t b = 0; b < answers.size(); ++b) {
      append_item_result(results[body_items[b]], items[body_items[b]], answers[b]);
    }
    std::string out = "{\"results\":[";
    for (std::size_t i = 0; i < results.size(); ++i) {
      if (i > 0) out += ',';
      out += results[i];
    }
    out += "]}";
    return Response::json_text(200, std::move(out));
  }

  Response get_transfer(const Request& req) {
    const auto found = uc_.get_transfer(s_.auth.require(req), req.param("id"));
    refuse_if(found.refusal);
    return json_response(200, transfer_json(found.value));
  }

  Response post_transfer(const Request& req) {
    const Identity who = s_.auth.require(req);
    refuse_if(LedgerUseCases::settling_refusal(who, req.param("id")));
    const Json j = parse_json_object(req.body, true);
    BodyReader r(j, {"minutes"});
    const auto minutes = r.integer("minutes", 1, kTransferMinutesMax);
    r.finish();
    return answer(uc_.post_transfer(who, req.param("id"), minutes), 200);
  }

  Response void_transfer(const Request& req) {
    return answer(uc_.void_transfer(s_.auth.require(req), req.param("id")), 200);
  }

  // The desk's list of grants in one state (awaiting_review by default), oldest first.
  Response list_grants(const Request& req) {
    const Identity who = s_.auth.require(req);
    const std::string community_id = community_query(req);
    const std::string state = req.query_value("state").value_or("awaiting_review");
    if (state != "awaiting_review" && state != "approved")
      throw problem(LedgerRefusal::grant_state_unknown);
    refuse_if(LedgerUseCases::grants_refusal(who, community_id));
    const PageRequest page = page_request(req);
    const auto found = uc_.list_grants(who, community_id, state, page.cursor, page.limit);
    refuse_if(found.refusal);
    Json items = Json::array();
    for (const auto& row : found.value.rows) items.push_back(grant_json(row));
    return json_response(
        200, {{"items", items}, {"next_cursor", next_cursor_json(found.value.next_cursor)}});
  }

  Response approve_grant(const Request& req) {
    return answer(uc_.approve_grant(s_.auth.require(req), req.param("id")), 200);
  }

  Response get_account(const Request& req) {
    const auto found = uc_.get_account(s_.auth.require(req), req.param("member_id"));
    refuse_if(found.refusal);
    const Account& a = found.value.account;
    const CommunityPolicy& policy = found.value.policy;
    return json_response(200, {{"member_id", a.id},
                               {"balance_minutes", a.balance_minutes},
                               {"pending_debit_minutes", a.pending_debit_minutes},
                               {"pending_credit_minutes", a.pending_credit_minutes},
                               {"available_minutes", a.available_minutes()},
                               {"min_balance", policy.min_balance},
                               {"max_balance", policy.max_balance}});
  }

  Response list_entries(const Request& req) {
    const Identity who = s_.auth.require(req);
    const PageRequest page = page_request(req);
    int64_t before_id = 0;
    if (!page.cursor.empty()) {
      try {
        before_id = std::stoll(page.cursor);
      } catch (const std::exception&) {
        throw problem(LedgerRefusal::cursor_invalid);
      }
    }
    const auto found = uc_.list_entries(who, req.param("member_id"), before_id, page.limit);
    refuse_if(found.refusal);
    Json items = Json::array();
    for (const auto& row : found.value.rows) items.push_back(entry_json(row));
    return json_response(
        200, {{"items", items}, {"next_cursor", next_cursor_json(found.value.next_cursor)}});
  }

  Response get_audit(const Request& req) {
    const Identity who = s_.auth.require(req);
    const std::string community_id = community_query(req);
    const auto found = uc_.audit(who, community_id);
    refuse_if(found.refusal);
    const AuditReport& report = found.value;
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
  }
};

}  // namespace

void register_service(Service& s) {
  // Owned for the life of the process: handlers, consumers and jobs hold references to them.
  repo::prepare_statements(s.db);
  static PolicyCache policies;
  static TransferBatcher batcher(s.db, s.outbox, policies, kBatchShards, s.clock, &s.metrics);
  static LedgerApi api(s, policies, batcher);
  api.routes();
  federation::register_routes(s, policies);
  remote::register_remote_federation(s, policies);
  register_consumers(s, policies);
}

}  // namespace maillon::ledger
