// The one way from a use case's result code to an HTTP problem (RFC 9457): each service keeps a
// message table at its edge, one row per code, with the status, the problem type and the words
// shown to people. The domain and the use cases return codes only; the words live in the table,
// so that a second language is a second column, not a hunt through handlers.
#pragma once

#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "services/common/errors.hpp"

namespace maillon {

// The languages a message table holds. French is the network's language; a second one is a
// second member here and a second column in each table.
enum class Lang { fr };

// One row of a service's message table.
struct ProblemText {
  int status = 422;                  // 400, 401, 403, 404, 409, 410, 413, 422, 429, 503
  std::string_view code;             // the problem type's last segment ("insufficient-credits")
  std::string_view detail_fr;        // the sentence shown to people
  std::string_view field = {};       // for a 400: the body field at fault
  std::string_view summary_fr = {};  // for a 400 with a field: the problem's detail
  std::string_view title_fr = {};  // when the status's usual title does not fit ("Compte suspendu")
};

// Row builders for the usual refusals, shared by every table.
// A field refused: `message` names what is wrong with it, `summary` is the problem's detail.
constexpr ProblemText field_row(std::string_view field, std::string_view message,
                                std::string_view summary) {
  return {.status = 400,
          .code = "invalid-input",
          .detail_fr = message,
          .field = field,
          .summary_fr = summary};
}
constexpr ProblemText forbidden_row(std::string_view detail) {
  return {.status = 403, .code = "forbidden", .detail_fr = detail};
}
constexpr ProblemText not_found_row(std::string_view detail) {
  return {.status = 404, .code = "not-found", .detail_fr = detail};
}
constexpr ProblemText too_many_row(std::string_view detail) {
  return {.status = 429, .code = "too-many-requests", .detail_fr = detail};
}

// The French title of a status ("Conflit avec l'état actuel" for 409): one per status, shared by
// every service.
std::string_view problem_title(int status, Lang lang = Lang::fr);

// The ApiError a row stands for: a 400 names its field in `errors`, other statuses carry the
// row's code as the problem type.
ApiError problem_from(const ProblemText& row, Lang lang = Lang::fr);

// A message table: `Code` is a service's result enum; `rows[i].first` the code of row i.
template <class Code>
struct MessageRow {
  Code code;
  ProblemText text;
};

// The row of `code`; a code with no row is a programming error (each table's test walks every
// code), reported as a logic_error rather than a guessed status.
template <class Code>
const ProblemText& problem_text(std::span<const MessageRow<Code>> table, Code code) {
  for (const auto& row : table) {
    if (row.code == code) return row.text;
  }
  throw std::logic_error("a result code has no row in its message table");
}

template <class Code>
ApiError problem_for(std::span<const MessageRow<Code>> table, Code code, Lang lang = Lang::fr) {
  return problem_from(problem_text(table, code), lang);
}

// A service's table for `Code`, found by the code's type: the service specialises this with
//   static std::span<const MessageRow<Code>> rows();
// and the four functions below answer for its codes (its namespace brings them in with
// `using maillon::problem;` ..., so that depot::problem(code) reads as before).
template <class Code>
struct MessageTable {};

template <class Code>
concept HasMessageTable = requires {
  MessageTable<Code>::rows();
};

// The text of a code alone, for a field error among others of the same body.
template <HasMessageTable Code>
std::string message(Code code) {
  return std::string(problem_text(MessageTable<Code>::rows(), code).detail_fr);
}

// The problem a code answers.
template <HasMessageTable Code>
ApiError problem(Code code) {
  return problem_for(MessageTable<Code>::rows(), code);
}

// The problem a code answers, carrying the field errors given (the domain's, or a reader's).
template <HasMessageTable Code>
ApiError problem(Code code, FieldErrors errors) {
  const ApiError row = problem(code);
  return ApiError(row.status(), row.code(), row.title(), row.detail(), std::move(errors));
}

// A 400 row's text put on a field named at run time (a query parameter, a member's role).
template <HasMessageTable Code>
ApiError problem_on_field(Code code, std::string field) {
  return problem(code, {{std::move(field), message(code)}});
}

}  // namespace maillon
