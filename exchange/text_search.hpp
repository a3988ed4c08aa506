// PostgreSQL full-text values evaluated in memory: a listing's tsvector and a search's tsquery,
// both as PostgreSQL prints them. PostgreSQL stays the one place that turns French text into
// lexemes (unaccent + french_stem); this file only answers "does this listing match?" exactly as
// `tsvector @@ tsquery` would, so the listing services can search a read model without a query.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace maillon {

// One lexeme and the positions where it occurs (weights are not used by searches).
struct TsLexeme {
  std::string text;
  std::vector<uint16_t> positions;  // ascending
};

// Lexemes sorted by text, as in PostgreSQL's own representation.
struct TsVector {
  std::vector<TsLexeme> lexemes;
  const TsLexeme* find(std::string_view lexeme) const;
};

// `'perceux':1A 'percuss':3A` → the vector; nullopt on text PostgreSQL would not print.
std::optional<TsVector> parse_tsvector(std::string_view text);

struct TsQueryNode {
  enum class Kind { lexeme, negation, conjunction, disjunction, phrase };
  Kind kind = Kind::lexeme;
  std::string lexeme;                        // Kind::lexeme
  uint16_t distance = 1;                     // Kind::phrase: `<N>`, `<->` is 1
  std::unique_ptr<TsQueryNode> left, right;  // negation uses `left` only
};

// A parsed tsquery. An empty query (only stop words) matches nothing, as in PostgreSQL.
struct TsQuery {
  std::unique_ptr<TsQueryNode> root;  // null when empty
};

enum class TsQueryParse { ok, unsupported, malformed };

struct TsQueryResult {
  TsQueryParse outcome = TsQueryParse::malformed;
  TsQuery query;
};

// `'machin' <-> 'coudr' | 'velo' & !'cass'` → the tree (precedence ! > <N> > & > |).
// Prefix (`:*`) and weight (`:A`) marks, and a negation or conjunction inside a phrase, are
// `unsupported`: the caller then asks PostgreSQL instead of guessing its semantics.
TsQueryResult parse_tsquery(std::string_view text);

// `vector @@ query`.
bool ts_matches(const TsQuery& query, const TsVector& vector);

}  // namespace maillon
