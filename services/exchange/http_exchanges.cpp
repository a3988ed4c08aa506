// Routes of the exchange service: each handler reads its input, runs one workflow command in a
// transaction (row locked, so two concurrent accepts or confirmations serialise), answers.
#include "services/common/errors.hpp"
#include "services/common/ids.hpp"
#include "services/common/json_body.hpp"
#include "services/common/pagination.hpp"
#include "services/common/service.hpp"
#include "services/exchange/desk_items.hpp"
#include "services/exchange/exchange_service.hpp"

namespace maillon::exchange {
namespace {

// A staff member's or a party's own words: bounded, and without NUL (which PostgreSQL text
// cannot hold), refused as a 400 like any other invalid field.
std::string free_text(BodyReader& r, std::string_view field, size_t max_code_points) {
  const std::optional<std::string> text = r.text(field, max_code_points);
  if (!text) return {};
  for (FieldError& error : validate_free_text(field, *text, max_code_points)) {
    r.add_error(std::move(error.field), std::move(error.message));
  }
  return *text;
}

struct ProposalInput {
  std::optional<std::string> offer_id, request_id, match_id, site_id, scheduled_at, message;
  std::optional<int64_t> minutes;
};

ProposalInput parse_proposal(const std::string& body) {
  Json j = parse_json_object(body);
  BodyReader r(
      j, {"offer_id", "request_id", "match_id", "minutes", "site_id", "scheduled_at", "message"},
      {"provider_id", "receiver_id", "state", "id"});
  ProposalInput in{r.uuid("offer_id"),
                   r.uuid("request_id"),
                   r.uuid("match_id"),
                   r.uuid("site_id"),
                   r.text("scheduled_at", 40),
                   r.has("message") ? std::optional(free_text(
                                          r, "message", static_cast<size_t>(kMessageCodePointsMax)))
                                    : std::nullopt,
                   r.integer("minutes", 0, kExchangeMinutesMax)};
  if (!in.offer_id && !in.request_id && !in.match_id) {
    r.add_error("offer_id", "une offre, une demande ou une correspondance est obligatoire");
  }
  if (in.scheduled_at && !plausible_rfc3339(*in.scheduled_at)) {
    r.add_error("scheduled_at", "doit être une date RFC 3339");
  }
  r.finish();
  return in;
}

std::optional<int64_t> seq_cursor(const PageRequest& page) {
  if (page.cursor.empty()) return std::nullopt;
  try {
    return std::stoll(page.cursor);
  } catch (const std::exception&) {
    throw invalid_input("Curseur invalide.", {{"cursor", "curseur invalide"}});
  }
}

bool is_party(const Exchange& ex, const std::string& member_id) {
  return member_id == ex.provider_id || member_id == ex.receiver_id;
}

bool can_see(const Identity& who, const Exchange& ex) {
  return is_party(ex, who.member_id) || (!ex.site_id.empty() && who.is_staff_of(ex.site_id));
}

// Who acts, as the workflow sees it. `as_staff`: a party who is also staff of the site acts as
// staff (resolution); otherwise a party acts as a party.
ExchangeActor actor_for(const Identity& who, const Exchange& ex, bool as_staff) {
  if (!who.acting_staff_id.empty())
    return ExchangeActor::staff_for(who.acting_staff_id, who.member_id);
  const bool staff = !ex.site_id.empty() && who.is_staff_of(ex.site_id);
  if (staff && (as_staff || !is_party(ex, who.member_id)))
    return ExchangeActor::staff(who.member_id);
  return ExchangeActor::member(who.member_id);
}

std::string parse_dispute_reason(const std::string& body) {
  Json j = parse_json_object(body, true);
  BodyReader r(j, {"reason"});
  std::string reason = free_text(r, "reason", kDisputeReasonCodePointsMax);
  r.finish();
  return reason;
}

// The outcome must be named exactly: anything else would otherwise move credits.
std::optional<ResolutionOutcome> outcome_named(const std::string& name) {
  if (name == "post") return ResolutionOutcome::post;
  if (name == "void") return ResolutionOutcome::void_hold;
  if (name == "partial") return ResolutionOutcome::partial;
  return std::nullopt;
}

Resolution parse_resolution(const std::string& body) {
  Json j = parse_json_object(body);
  BodyReader r(j, {"outcome", "minutes", "absent_member_id", "note"});
  const bool named = r.has("outcome");
  const std::string outcome_text = r.required_text("outcome", 20);
  auto minutes = r.integer("minutes", 1, kExchangeMinutesMax);
  auto absent = r.uuid("absent_member_id");
  Resolution resolution;
  resolution.note = free_text(r, "note", kResolutionNoteCodePointsMax);
  const std::optional<ResolutionOutcome> outcome = outcome_named(outcome_text);
  if (!outcome) {
    if (named && r.errors().empty()) r.add_error("outcome", "doit valoir post, void ou partial");
  } else if (*outcome == ResolutionOutcome::partial && !minutes) {
    r.add_error("minutes", "est obligatoire pour une résolution partielle");
  } else if (*outcome != ResolutionOutcome::partial && minutes) {
    r.add_error("minutes", "seulement pour une résolution partielle");
  }
  r.finish();
  resolution.outcome = *outcome;
  resolution.minutes = minutes.value_or(0);
  resolution.absent_member_id = absent.value_or("");
  return resolution;
}

// A member whose membership awaits approval may browse and post listings, not exchange.
void require_full_member(const Identity& who) {
  if (who.is_pending()) {
    throw ApiError(403, "membership-pending", "Adhésion en attente",
                   "Votre adhésion attend la validation du personnel de votre lieu : vous pourrez "
                   "échanger une fois adhérent.");
  }
  if (who.status == "suspended") {
    throw ApiError(403, "member-suspended", "Action non autorisée", "Ce membre est suspendu.");
  }
}

// Staff who are a party never act for the other side of their own exchange (they would write,
// confirm or rate in the counterpart's name).
void refuse_acting_across(const Identity& who, const std::string& provider_id,
                          const std::string& receiver_id) {
  const std::string& staff = who.acting_staff_id;
  if (staff.empty() || staff == who.member_id) return;
  if (staff == provider_id || staff == receiver_id) throw party_to_exchange();
}

class ExchangeApi : public std::enable_shared_from_this<ExchangeApi> {
 public:
  ExchangeApi(Service& s, std::shared_ptr<Workflow> w) : s_(s), w_(std::move(w)) {}

  void routes() {
    // Each route owns a reference to the api: it lives as long as the server's routes.
    auto bind = [this](const char* method, const char* path,
                       Response (ExchangeApi::*fn)(const Request&)) {
      s_.http.route(method, path,
                    [self = shared_from_this(), fn](const Request& r) { return ((*self).*fn)(r); });
    };
    bind("POST", "/v1/exchanges", &ExchangeApi::create);
    bind("GET", "/v1/exchanges", &ExchangeApi::list);
    bind("GET", "/v1/exchanges/{id}", &ExchangeApi::get);
    bind("POST", "/v1/exchanges/{id}/accept", &ExchangeApi::accept);
    bind("POST", "/v1/exchanges/{id}/decline", &ExchangeApi::decline);
    bind("POST", "/v1/exchanges/{id}/cancel", &ExchangeApi::cancel);
    bind("POST", "/v1/exchanges/{id}/complete", &ExchangeApi::complete);
    bind("POST", "/v1/exchanges/{id}/dispute", &ExchangeApi::dispute);
    bind("POST", "/v1/exchanges/{id}/resolve", &ExchangeApi::resolve);
    bind("POST", "/v1/exchanges/{id}/messages", &ExchangeApi::post_message);
    bind("GET", "/v1/exchanges/{id}/messages", &ExchangeApi::list_messages);
    bind("POST", "/v1/exchanges/{id}/rating", &ExchangeApi::rate);
    bind("GET", "/v1/sites/{id}/desk", &ExchangeApi::desk);
  }

 private:
  Service& s_;
  std::shared_ptr<Workflow> w_;

  using Command = std::function<ExchangeResult(Exchange&, const ExchangeActor&,
                                               const CommunityPolicy&, int64_t)>;

  // Loads the exchange locked, lets `command` move it, stores it with its effects, answers.
  // `full_member`: the caller (or whom staff act for) must be a full member (not pending).
  Response run(const Request& r, int status, bool as_staff, const Command& command,
               bool full_member = false) {
    const Identity who = s_.auth.require(r);
    if (full_member) require_full_member(who);
    if (!is_uuid(r.param("id"))) throw not_found();
    Json body = s_.db.transact([&](pqxx::work& tx) {
      auto record = repo::find_exchange(tx, r.param("id"), true);
      if (!record || !can_see(who, record->exchange)) throw not_found();
      const CommunityPolicy policy = repo::community_policy(tx, record->community_id);
      const ExchangeState before = record->exchange.state;
      ExchangeResult result = command(record->exchange, actor_for(who, record->exchange, as_staff),
                                      policy, w_->now_s());
      if (!result.ok()) throw_refusal(result.outcome);
      w_->commit_transition(tx, *record, result, transition_event_type(before, result.state));
      return exchange_api_json(*record, policy);
    });
    return json_response(status, body);
  }

  // The parties and listings of a new exchange, from what the caller named.
  struct Parties {
    std::string provider_id, receiver_id, community_id;
    std::optional<ListingCopy> offer, request;
  };

  std::optional<ListingCopy> listing(pqxx::work& tx, const std::optional<std::string>& id,
                                     const char* side, const Identity& who) {
    if (!id) return std::nullopt;
    auto l = repo::find_listing(tx, *id);
    const std::string field = std::string(side) + "_id";
    if (!l || l->side != side || l->community_id != who.community_id) {
      throw business_rule("unknown-listing", "Annonce inconnue : " + field + ".");
    }
    if (l->status != "active") {
      throw business_rule("listing-unavailable", "Cette annonce n'est plus disponible.");
    }
    // A depot item is owned by its site (member_id = site_id): it is reserved at the depot
    // (POST /v1/items/{id}/reserve), never through an exchange nobody could accept.
    if (l->site_id && l->member_id == *l->site_id) {
      throw business_rule("depot-item", "Cet objet se réserve au dépôt, pas par un échange.");
    }
    return l;
  }

  Parties parties(pqxx::work& tx, ProposalInput& in, const Identity& who) {
    if (in.match_id) {
      auto match = repo::find_match(tx, *in.match_id);
      if (!match) throw business_rule("unknown-match", "Correspondance inconnue.");
      if ((in.offer_id && *in.offer_id != match->first) ||
          (in.request_id && *in.request_id != match->second)) {
        throw invalid_input("Annonces incohérentes.",
                            {{"match_id", "ne correspond pas aux annonces"}});
      }
      in.offer_id = match->first;
      in.request_id = match->second;
    }
    Parties p;
    p.offer = listing(tx, in.offer_id, "offer", who);
    p.request = listing(tx, in.request_id, "request", who);
    p.provider_id = p.offer ? p.offer->member_id : who.member_id;
    p.receiver_id = p.request ? p.request->member_id : who.member_id;
    if (p.offer && p.request && !is_party_id(p, who.member_id)) {
      throw forbidden("Seules les deux parties peuvent ouvrir cet échange.");
    }
    if (p.provider_id == p.receiver_id) {
      throw business_rule("own-listing", "Vous ne pouvez pas échanger avec vous-même.");
    }
    p.community_id = who.community_id;
    return p;
  }

  static bool is_party_id(const Parties& p, const std::string& id) {
    return id == p.provider_id || id == p.receiver_id;
  }

  std::string site_of(pqxx::work& tx, const ProposalInput& in, const Parties& p) {
    if (in.site_id) {
      auto community = repo::site_community(tx, *in.site_id);
      if (!community || *community != p.community_id) {
        throw invalid_input("Site inconnu.", {{"site_id", "site inconnu dans votre communauté"}});
      }
      return *in.site_id;
    }
    if (p.offer && p.offer->site_id) return *p.offer->site_id;
    if (p.request && p.request->site_id) return *p.request->site_id;
    return "";
  }

  Response create(const Request& r) {
    const Identity who = s_.auth.require(r);
    require_full_member(who);
    ProposalInput in = parse_proposal(r.body);
    Json body = s_.db.transact([&](pqxx::work& tx) {
      ProposalInput input = in;
      Parties p = parties(tx, input, who);
      refuse_acting_across(who, p.provider_id, p.receiver_id);
      const int64_t price = p.offer ? p.offer->price_minutes : p.request->price_minutes;
      ExchangeProposal proposal{new_uuid(),    site_of(tx, input, p),
                                p.provider_id, p.receiver_id,
                                who.member_id, input.minutes.value_or(price)};
      if (FieldErrors errors = validate_proposal(proposal); !errors.empty()) {
        throw invalid_input("Proposition invalide.", errors);
      }
      const ExchangeActor actor =
          who.acting_staff_id.empty()
              ? ExchangeActor::member(who.member_id)
              : ExchangeActor::staff_for(who.acting_staff_id, who.member_id);
      ExchangeRecord record;
      record.exchange = open_exchange(proposal, actor, w_->now_s());
      record.community_id = p.community_id;
      record.offer_id = input.offer_id;
      record.request_id = input.request_id;
      record.match_id = input.match_id;
      record.scheduled_at = input.scheduled_at;
      record.message = input.message;
      repo::insert_exchange(tx, record);
      auto stored = *repo::find_exchange(tx, proposal.id, false);
      w_->publish(tx, stored, "exchange.proposed");
      return exchange_api_json(stored, repo::community_policy(tx, p.community_id));
    });
    return json_response(201, body);
  }

  Response get(const Request& r) {
    const Identity who = s_.auth.require(r);
    if (!is_uuid(r.param("id"))) throw not_found();
    Json body = s_.db.transact([&](pqxx::work& tx) {
      auto record = repo::find_exchange(tx, r.param("id"), false);
      if (!record || !can_see(who, record->exchange)) throw not_found();
      return exchange_api_json(*record, repo::community_policy(tx, record->community_id));
    });
    return json_response(200, body);
  }

  Response list(const Request& r) {
    const Identity who = s_.auth.require(r);
    const PageRequest page = page_request(r);
    repo::ListFilter filter{who.member_id, r.query_value("state"), r.query_value("role"),
                            seq_cursor(page), page.limit};
    if (filter.state && !exchange_state_from_string(*filter.state)) {
      throw invalid_input("Filtre invalide.", {{"state", "état inconnu"}});
    }
    if (filter.role && *filter.role != "provider" && *filter.role != "receiver") {
      throw invalid_input("Filtre invalide.", {{"role", "doit valoir provider ou receiver"}});
    }
    Json body = s_.db.transact([&](pqxx::work& tx) {
      Json items = Json::array();
      auto records = repo::list_exchanges(tx, filter);
      for (const auto& rec : records) {
        items.push_back(exchange_api_json(rec, repo::community_policy(tx, rec.community_id)));
      }
      Json next = static_cast<int>(records.size()) == filter.limit
                      ? Json(encode_cursor(std::to_string(records.back().seq)))
                      : Json(nullptr);
      return Json{{"items", items}, {"next_cursor", next}};
    });
    return json_response(200, body);
  }

  Response accept(const Request& r) {
    return run(
        r, 202, false,
        [](Exchange& ex, const ExchangeActor& a, const CommunityPolicy& p, int64_t now) {
          return accept_exchange(ex, a, p, now);
        },
        true);
  }
  Response decline(const Request& r) {
    return run(r, 200, false,
               [](Exchange& ex, const ExchangeActor& a, const CommunityPolicy&, int64_t now) {
                 return decline_exchange(ex, a, now);
               });
  }
  Response cancel(const Request& r) {
    return run(r, 200, false,
               [](Exchange& ex, const ExchangeActor& a, const CommunityPolicy&, int64_t now) {
                 return cancel_exchange(ex, a, now);
               });
  }
  Response complete(const Request& r) {
    return run(r, 200, false,
               [](Exchange& ex, const ExchangeActor& a, const CommunityPolicy&, int64_t now) {
                 return confirm_completion(ex, a, now);
               });
  }
  // Bodies are read once the caller may see the exchange: a stranger learns nothing from a 400.
  Response dispute(const Request& r) {
    return run(r, 200, false,
               [&r](Exchange& ex, const ExchangeActor& a, const CommunityPolicy&, int64_t now) {
                 return dispute_exchange(ex, a, parse_dispute_reason(r.body), now);
               });
  }
  Response resolve(const Request& r) {
    return run(r, 200, true,
               [&r](Exchange& ex, const ExchangeActor& a, const CommunityPolicy&, int64_t now) {
                 return resolve_dispute(ex, a, parse_resolution(r.body), now);
               });
  }

  ExchangeRecord visible(pqxx::work& tx, const Request& r, const Identity& who) {
    if (!is_uuid(r.param("id"))) throw not_found();
    auto record = repo::find_exchange(tx, r.param("id"), false);
    if (!record || !can_see(who, record->exchange)) throw not_found();
    return *record;
  }

  Response post_message(const Request& r) {
    const Identity who = s_.auth.require(r);
    Json j = parse_json_object(r.body);
    BodyReader reader(j, {"body"});
    if (!reader.has("body")) reader.add_error("body", "champ obligatoire");
    const std::string text = free_text(reader, "body", static_cast<size_t>(kMessageCodePointsMax));
    if (reader.errors().empty() && text.empty()) reader.add_error("body", "est obligatoire");
    reader.finish();
    Json body = s_.db.transact([&](pqxx::work& tx) {
      ExchangeRecord record = visible(tx, r, who);
      refuse_acting_across(who, record.exchange.provider_id, record.exchange.receiver_id);
      Json message =
          repo::insert_message(tx, record.exchange.id, who.member_id, who.acting_staff_id, text);
      w_->publish(tx, record, "exchange.message",
                  {{"message_id", message["id"]}, {"author_id", who.member_id}});
      return message;
    });
    return json_response(201, body);
  }

  Response list_messages(const Request& r) {
    const Identity who = s_.auth.require(r);
    const PageRequest page = page_request(r);
    Json body = s_.db.transact([&](pqxx::work& tx) {
      ExchangeRecord record = visible(tx, r, who);
      auto items = repo::list_messages(tx, record.exchange.id, seq_cursor(page), page.limit);
      Json next = static_cast<int>(items.size()) == page.limit
                      ? Json(encode_cursor(std::to_string(items.back()["seq"].get<int64_t>())))
                      : Json(nullptr);
      return Json{{"items", items}, {"next_cursor", next}};
    });
    return json_response(200, body);
  }

  Response rate(const Request& r) {
    const Identity who = s_.auth.require(r);
    Json j = parse_json_object(r.body);
    BodyReader reader(j, {"stars", "comment"});
    const int64_t stars = reader.required_integer("stars", 1, 5);
    const std::string comment = reader.text("comment", kRatingCommentCodePointsMax).value_or("");
    reader.finish();
    if (FieldErrors errors = validate_rating(static_cast<int32_t>(stars), comment);
        !errors.empty()) {
      throw invalid_input("Note invalide.", errors);
    }
    Json body = s_.db.transact([&](pqxx::work& tx) {
      ExchangeRecord record = visible(tx, r, who);
      const Exchange& ex = record.exchange;
      refuse_acting_across(who, ex.provider_id, ex.receiver_id);
      switch (may_rate(ex, who.member_id, repo::has_rated(tx, ex.id, who.member_id))) {
        case RatingPermission::not_a_party:
          throw forbidden("Seules les parties notent un échange.");
        case RatingPermission::invalid_state:
          throw conflict("invalid-state", "Un échange se note une fois terminé.");
        case RatingPermission::already_rated:
          throw conflict("already-rated", "Vous avez déjà noté cet échange.");
        case RatingPermission::allowed:
          break;
      }
      const std::string rated = who.member_id == ex.provider_id ? ex.receiver_id : ex.provider_id;
      auto rating = repo::insert_rating(tx, ex.id, who.member_id, rated,
                                        static_cast<int32_t>(stars), comment, who.acting_staff_id);
      if (!rating) throw conflict("already-rated", "Vous avez déjà noté cet échange.");
      w_->publish(tx, record, "exchange.rated",
                  {{"rater_id", who.member_id}, {"rated_id", rated}, {"stars", stars}});
      return *rating;
    });
    return json_response(201, body);
  }

  Response desk(const Request& r) {
    const Identity who = s_.auth.require(r);
    const std::string& site = r.param("id");
    if (!is_uuid(site)) throw not_found();
    // Acting for a member keeps the caller's own staff sites (never the member's): the desk
    // stays theirs while they serve someone at it.
    if (!who.is_staff_of(site)) {
      throw forbidden("Le bureau d'un site est réservé à son personnel.");
    }
    Json body = s_.db.transact([&](pqxx::work& tx) {
      const CommunityPolicy policy = repo::community_policy(tx, who.community_id);
      auto section = [&](const std::vector<ExchangeRecord>& records) {
        Json items = Json::array();
        for (const auto& rec : records) items.push_back(exchange_api_json(rec, policy));
        return items;
      };
      DeskItems shelf = desk_items(tx, site);
      return Json{{"site_id", site},
                  {"due_today", section(repo::desk_due_today(tx, site))},
                  {"disputed", section(repo::desk_disputed(tx, site))},
                  {"overdue", section(repo::desk_overdue(tx, site, w_->now_s()))},
                  {"items_to_hand_out", std::move(shelf.to_hand_out)},
                  {"items_to_redirect", std::move(shelf.to_redirect)}};
    });
    name_reservers(body["items_to_hand_out"], s_.auth);  // outside the transaction: Redis
    return json_response(200, body);
  }
};

}  // namespace

void register_routes(Service& service, const std::shared_ptr<Workflow>& workflow) {
  auto api = std::make_shared<ExchangeApi>(service, workflow);
  api->routes();
}

}  // namespace maillon::exchange
