// `tsvector @@ tsquery` in memory: the texts below are what PostgreSQL printed for our
// french_unaccent configuration, so each test pins one rule of its matching.
#include "exchange/text_search.hpp"

#include <gtest/gtest.h>

namespace maillon {
namespace {

// "Perceuse à percussion" (title) + "coffret, forets béton et bois" (description).
constexpr const char* kDrill =
    "'a':2A 'beton':9C 'bois':11C 'coffret':6C 'foret':8C 'perceux':1A 'percuss':3A";
// "Machine à coudre Singer".
constexpr const char* kSewing = "'a':2A 'coudr':3A 'machin':1A 'singer':4A";

TsVector vector_of(const char* text) {
  auto v = parse_tsvector(text);
  EXPECT_TRUE(v.has_value()) << text;
  return v.value_or(TsVector{});
}

bool query_matches(const char* query, const char* vector) {
  TsQueryResult q = parse_tsquery(query);
  EXPECT_EQ(q.outcome, TsQueryParse::ok) << query;
  return ts_matches(q.query, vector_of(vector));
}

TEST(TextSearch, tsvector_keeps_lexemes_sorted_with_positions) {
  TsVector v = vector_of(kDrill);
  ASSERT_EQ(v.lexemes.size(), 7u);
  ASSERT_NE(v.find("percuss"), nullptr);
  EXPECT_EQ(v.find("percuss")->positions, std::vector<uint16_t>{3});
  EXPECT_EQ(v.find("perceuse"), nullptr);
  EXPECT_TRUE(std::is_sorted(v.lexemes.begin(), v.lexemes.end(),
                             [](const TsLexeme& a, const TsLexeme& b) { return a.text < b.text; }));
}

TEST(TextSearch, tsvector_reads_several_positions_and_escaped_quotes) {
  TsVector v = vector_of("'l''arbr':1A,4C 'vel':2,7B");
  ASSERT_NE(v.find("l'arbr"), nullptr);
  EXPECT_EQ(v.find("l'arbr")->positions, (std::vector<uint16_t>{1, 4}));
  EXPECT_EQ(v.find("vel")->positions, (std::vector<uint16_t>{2, 7}));
}

TEST(TextSearch, tsvector_refuses_an_unclosed_quote) {
  EXPECT_FALSE(parse_tsvector("'perceux:1A").has_value());
  EXPECT_FALSE(parse_tsvector("'perceux':A").has_value());
}

TEST(TextSearch, conjunction_needs_every_lexeme) {
  EXPECT_TRUE(query_matches("'perceux' & 'a' & 'percuss'", kDrill));
  EXPECT_FALSE(query_matches("'perceux' & 'velo'", kDrill));
}

TEST(TextSearch, disjunction_needs_one_lexeme) {
  EXPECT_TRUE(query_matches("'velo' | 'perceux'", kDrill));
  EXPECT_FALSE(query_matches("'velo' | 'tondeux'", kDrill));
}

TEST(TextSearch, negation_excludes_a_lexeme) {
  EXPECT_TRUE(query_matches("'perceux' & !'velo'", kDrill));
  EXPECT_FALSE(query_matches("'perceux' & !'bois'", kDrill));
  EXPECT_TRUE(query_matches("!'velo'", kDrill));
}

TEST(TextSearch, conjunction_binds_tighter_than_disjunction) {
  // 'machin' <-> 'a' <-> 'coudr' | 'velo' & !'cass' reads as phrase | (velo & !cass).
  const char* q = "'machin' <-> 'a' <-> 'coudr' | 'velo' & !'cass'";
  EXPECT_TRUE(query_matches(q, kSewing));
  EXPECT_FALSE(query_matches(q, kDrill));
  EXPECT_TRUE(query_matches(q, "'velo':1A"));
  EXPECT_FALSE(query_matches(q, "'cass':2A 'velo':1A"));
}

TEST(TextSearch, phrase_needs_the_exact_distance) {
  EXPECT_TRUE(query_matches("'machin' <-> 'a'", kSewing));
  EXPECT_TRUE(query_matches("'machin' <2> 'coudr'", kSewing));
  EXPECT_FALSE(query_matches("'machin' <-> 'coudr'", kSewing));
  EXPECT_FALSE(query_matches("'coudr' <-> 'machin'", kSewing));  // order matters
}

TEST(TextSearch, chained_phrase_follows_each_step) {
  EXPECT_TRUE(query_matches("'machin' <-> 'a' <-> 'coudr'", kSewing));
  EXPECT_FALSE(query_matches("'machin' <-> 'a' <-> 'singer'", kSewing));
  EXPECT_TRUE(query_matches("'machin' <-> 'a' <2> 'singer'", kSewing));
}

TEST(TextSearch, alternatives_inside_a_phrase_use_either_position) {
  EXPECT_TRUE(query_matches("'machin' <-> ( 'a' | 'velo' )", kSewing));
  EXPECT_FALSE(query_matches("'machin' <-> ( 'coudr' | 'velo' )", kSewing));
}

TEST(TextSearch, parentheses_group) {
  EXPECT_TRUE(query_matches("( 'velo' | 'perceux' ) & 'bois'", kDrill));
  EXPECT_FALSE(query_matches("( 'velo' | 'tondeux' ) & 'bois'", kDrill));
}

TEST(TextSearch, empty_query_matches_nothing) {
  TsQueryResult q = parse_tsquery("");
  ASSERT_EQ(q.outcome, TsQueryParse::ok);
  EXPECT_FALSE(ts_matches(q.query, vector_of(kDrill)));
}

TEST(TextSearch, prefix_weights_and_negated_phrase_parts_are_left_to_postgresql) {
  EXPECT_EQ(parse_tsquery("'perc':*").outcome, TsQueryParse::unsupported);
  EXPECT_EQ(parse_tsquery("'perceux':A").outcome, TsQueryParse::unsupported);
  EXPECT_EQ(parse_tsquery("'machin' <-> !'a'").outcome, TsQueryParse::unsupported);
  EXPECT_EQ(parse_tsquery("'machin' <-> ( 'a' & 'b' )").outcome, TsQueryParse::unsupported);
  EXPECT_EQ(parse_tsquery("'a' <-> ( 'b' <-> 'c' )").outcome, TsQueryParse::unsupported);
}

TEST(TextSearch, malformed_queries_are_refused) {
  EXPECT_EQ(parse_tsquery("'perceux' &").outcome, TsQueryParse::malformed);
  EXPECT_EQ(parse_tsquery("( 'a' | 'b'").outcome, TsQueryParse::malformed);
  EXPECT_EQ(parse_tsquery("perceux").outcome, TsQueryParse::malformed);
  EXPECT_EQ(parse_tsquery("'a' 'b'").outcome, TsQueryParse::malformed);
}

}  // namespace
}  // namespace maillon
