// How the members routes answer (http_members.cpp, http_moderation.cpp): who calls, a use case's
// outcome as 201 or 204, and a page of rows, each written once for every route of its shape.
#pragma once

#include <cstddef>
#include <utility>

#include "services/common/http.hpp"
#include "services/common/json_body.hpp"
#include "services/common/pagination.hpp"
#include "services/common/service.hpp"
#include "services/members/messages.hpp"
#include "services/members/usecases.hpp"

namespace maillon::members {

// The API classes of the members routes: their caller is the session's member (401 without one).
class MembersRoutes : protected ServiceApi<MembersUseCases> {
 protected:
  explicit MembersRoutes(Service& s) : ServiceApi(s, s) {}

  Identity caller(const Request& r) { return s_.auth.require(r); }

  // The caller once `may` admits them, else its refusal thrown: asked before the body is read,
  // so that a 403 comes before any 400.
  Identity admitted(const Request& r, MembersCode (MembersUseCases::*may)(const Identity&) const) {
    Identity who = caller(r);
    admit((uc_.*may)(who));
    return who;
  }
};

// 201 with what the use case created; its refusal is thrown as its problem.
template <class T, class ToJson>
Response created(Outcome<T>&& outcome, ToJson to_json) {
  return json_response(201, to_json(settled(std::move(outcome))));
}

// 204 when the use case did it; its refusal is thrown as its problem.
template <class T>
Response done(Outcome<T>&& outcome) {
  settled(std::move(outcome));
  return Response::no_content();
}

// A page of rows fetched with one extra: the items and the cursor to the next page.
template <class Row, class ToJson>
Json page_json(const PageOf<Row>& page, ToJson to_json) {
  const auto limit = static_cast<std::size_t>(page.limit);
  Json items = Json::array();
  for (std::size_t i = 0; i < page.rows.size() && i < limit; ++i)
    items.push_back(to_json(page.rows[i]));
  Json next =
      page.rows.size() > limit ? Json(encode_cursor(page.rows[limit - 1].id)) : Json(nullptr);
  return {{"items", items}, {"next_cursor", next}};
}

// The page asked for, whose cursor (a row id) must be a uuid.
inline Page uuid_page(const PageRequest& page) {
  if (!page.cursor.empty() && !is_uuid(page.cursor)) throw problem(MembersCode::invalid_cursor);
  return {page.cursor, page.limit};
}

}  // namespace maillon::members
