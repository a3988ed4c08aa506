// Preferences per kind (in the app or not; by mail instantly, in a daily digest or not at all)
// and the one-click unsubscribe of every mail (RFC 8058): the mail's token is the only key, no
// login, and it turns off that kind's mail for that member, nothing else.
#include <map>

#include "services/common/errors.hpp"
#include "services/common/ids.hpp"
#include "services/common/json_body.hpp"
#include "services/common/service.hpp"
#include "services/notify/messages.hpp"
#include "services/notify/notify_service.hpp"

namespace maillon::notify {
namespace {

constexpr std::size_t kTokenBytesMax = 128;

Json preferences_json(pqxx::work& tx, const std::string& member_id) {
  std::map<std::string, Preference> chosen;
  for (auto& [kind, p] : repo::changed_preferences(tx, member_id)) chosen[kind] = p;
  Json kinds_json = Json::object();
  for (std::string_view kind : kinds()) {
    const auto found = chosen.find(std::string(kind));
    const Preference p = found == chosen.end() ? default_preference(kind) : found->second;
    kinds_json[std::string(kind)] = {{"in_app", p.in_app}, {"email", to_string(p.email)}};
  }
  return {{"kinds", kinds_json}};
}

// Each kind named in the body: its in_app and/or email, the other left as it was.
struct Change {
  std::string kind;
  std::optional<bool> in_app;
  std::optional<EmailChoice> email;
};

Change read_change(const std::string& kind, const Json& value) {
  if (!is_kind(kind)) throw problem_on_field(NotifyRefusal::kind_unknown, "kinds." + kind);
  if (!value.is_object()) throw problem_on_field(NotifyRefusal::kind_unknown, "kinds." + kind);
  Change c{kind, std::nullopt, std::nullopt};
  for (const auto& [field, v] : value.items()) {
    if (field == "in_app") {
      if (!v.is_boolean()) {
        throw problem_on_field(NotifyRefusal::in_app_invalid, "kinds." + kind + ".in_app");
      }
      c.in_app = v.get<bool>();
    } else if (field == "email") {
      const auto choice = v.is_string() ? email_choice_named(v.get<std::string>()) : std::nullopt;
      if (!choice) {
        throw problem_on_field(NotifyRefusal::email_choice_invalid, "kinds." + kind + ".email");
      }
      c.email = choice;
    } else {
      std::string path = "kinds." + kind;
      path += '.';
      path += field;
      throw invalid_input("Préférences invalides.", {{std::move(path), "champ inconnu"}});
    }
  }
  return c;
}

std::vector<Change> read_changes(const Request& r) {
  const Json body = parse_json_object(r.body);
  for (const auto& [field, v] : body.items()) {
    if (field != "kinds") throw invalid_input("Préférences invalides.", {{field, "champ inconnu"}});
  }
  if (!body.contains("kinds") || !body["kinds"].is_object()) {
    throw problem(NotifyRefusal::kinds_missing);
  }
  std::vector<Change> changes;
  for (const auto& [kind, value] : body["kinds"].items())
    changes.push_back(read_change(kind, value));
  return changes;
}

Response get_preferences(Service& s, const Request& r) {
  const Identity who = s.auth.require(r);
  Json body = s.db.transact([&](pqxx::work& tx) { return preferences_json(tx, who.member_id); });
  return json_response(200, body);
}

Response put_preferences(Service& s, const Request& r) {
  const Identity who = s.auth.require(r);
  const std::vector<Change> changes = read_changes(r);
  Json body = s.db.transact([&](pqxx::work& tx) {
    for (const Change& c : changes) {
      Preference p = repo::preference(tx, who.member_id, c.kind);
      if (c.in_app) p.in_app = *c.in_app;
      if (c.email) p.email = *c.email;
      repo::set_preference(tx, who.member_id, c.kind, p);
    }
    return preferences_json(tx, who.member_id);
  });
  return json_response(200, body);
}

// GET (the link followed) and POST (the mail client's one-click, RFC 8058) alike.
Response unsubscribe(Service& s, const Request& r) {
  const std::string token = r.query_value("token").value_or("");
  if (token.empty() || token.size() > kTokenBytesMax) {
    throw problem(NotifyRefusal::unsubscribe_token_unknown);
  }
  Json body = s.db.transact([&](pqxx::work& tx) -> Json {
    const auto owner = repo::unsubscribe_token(tx, token_hash(token));
    if (!owner) throw problem(NotifyRefusal::unsubscribe_token_unknown);
    const auto& [member_id, kind] = *owner;
    Preference p = repo::preference(tx, member_id, kind);
    p.email = EmailChoice::off;
    repo::set_preference(tx, member_id, kind, p);
    return {{"kind", kind}, {"email", "off"}};
  });
  return json_response(200, body);
}

}  // namespace

void register_preference_routes(Service& s) {
  s.http.route("GET", "/v1/me/preferences",
               [&s](const Request& r) { return get_preferences(s, r); });
  s.http.route("PUT", "/v1/me/preferences",
               [&s](const Request& r) { return put_preferences(s, r); });
  s.http.route("GET", "/v1/unsubscribe", [&s](const Request& r) { return unsubscribe(s, r); });
  s.http.route("POST", "/v1/unsubscribe", [&s](const Request& r) { return unsubscribe(s, r); });
}

}  // namespace maillon::notify
