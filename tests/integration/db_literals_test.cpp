// What the runtime hands PostgreSQL as bulk data, read back by PostgreSQL itself: array literals
// (unnest, = ANY) and COPY rows (copy_into) must carry any text unchanged, NULLs and numbers.
#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "harness.hpp"
#include "services/common/db.hpp"

namespace maillon::testing {
namespace {

const std::vector<std::string> kTexts = {
    "",    "plain",      "tab\there",      "line\nbreak", "carriage\rreturn", "back\\slash",
    "\\N", "\"quoted\"", "{braces},comma", "NULL",        "échange été · ❤",  "trailing\\"};

class DbLiteralsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // exec_cached prepares only when asked to (read once, at its first call in this process).
    setenv("MAILLON_DB_PREPARED", "on", 1);
    url_ = new std::string(create_database("literals"));
  }
  static void TearDownTestSuite() {
    drop_database(*url_);
    delete url_;
  }
  static std::string* url_;
};
std::string* DbLiteralsTest::url_ = nullptr;

TEST_F(DbLiteralsTest, copy_rows_carry_any_text_nulls_numbers_and_booleans) {
  Db db(*url_, 1, "public");
  db.transact([](pqxx::work& tx) {
    tx.exec("CREATE TABLE copied (n bigint, t text, b boolean, maybe text)");
  });
  CopyRows rows;
  for (std::size_t i = 0; i < kTexts.size(); ++i) {
    rows.add(static_cast<int64_t>(i) - 3);
    rows.add(kTexts[i]);
    rows.add(i % 2 == 0);
    if (i % 3 == 0) {
      rows.add_null();
    } else {
      rows.add("x");
    }
    rows.end_row();
  }
  EXPECT_EQ(rows.rows(), kTexts.size());
  db.transact([&](pqxx::work& tx) {
    copy_into(tx, "copied", {"n", "t", "b", "maybe"}, std::move(rows));
  });
  const auto r = db.transact(
      [](pqxx::work& tx) { return tx.exec("SELECT n, t, b, maybe FROM copied ORDER BY n"); });
  ASSERT_EQ(r.size(), kTexts.size());
  for (std::size_t i = 0; i < kTexts.size(); ++i) {
    EXPECT_EQ(r[i][0].as<int64_t>(), static_cast<int64_t>(i) - 3);
    EXPECT_EQ(r[i][1].as<std::string>(), kTexts[i]) << i;
    EXPECT_EQ(r[i][2].as<bool>(), i % 2 == 0);
    EXPECT_EQ(r[i][3].is_null(), i % 3 == 0);
  }
}

TEST_F(DbLiteralsTest, copy_of_a_duplicate_key_throws_a_unique_violation) {
  Db db(*url_, 1, "public");
  db.transact([](pqxx::work& tx) { tx.exec("CREATE TABLE keyed (id text PRIMARY KEY)"); });
  CopyRows rows;
  for (const char* id : {"a", "b", "a"}) {
    rows.add(id);
    rows.end_row();
  }
  EXPECT_THROW(
      db.transact([&](pqxx::work& tx) { copy_into(tx, "keyed", {"id"}, std::move(rows)); }),
      pqxx::unique_violation);
  const int left = db.transact(
      [](pqxx::work& tx) { return tx.exec("SELECT count(*) FROM keyed")[0][0].as<int>(); });
  EXPECT_EQ(left, 0);  // nothing of the failed COPY stays
}

TEST_F(DbLiteralsTest, array_literals_carry_any_text_and_nulls) {
  Db db(*url_, 1, "public");
  ArrayLiteral texts;
  for (const std::string& t : kTexts) texts.add(t);
  texts.add_null();
  const auto r = db.transact([&](pqxx::work& tx) {
    return tx.exec_params("SELECT u FROM unnest($1::text[]) WITH ORDINALITY AS a(u, i) ORDER BY i",
                          texts.text());
  });
  ASSERT_EQ(r.size(), kTexts.size() + 1);
  for (std::size_t i = 0; i < kTexts.size(); ++i) {
    EXPECT_EQ(r[i][0].as<std::string>(), kTexts[i]) << i;
  }
  EXPECT_TRUE(r[kTexts.size()][0].is_null());
}

// Values written into a simple query's text (inline_params, the outbox's batch rows): read back
// unchanged whatever standard_conforming_strings says, $n in a value left alone, NUL refused.
TEST_F(DbLiteralsTest, inlined_literals_carry_any_text_whatever_standard_conforming_strings_says) {
  Db db(*url_, 1, "public");
  std::vector<std::string> texts = kTexts;
  texts.emplace_back("it's $1 and ''doubled'' \\' \\\\");
  texts.emplace_back(std::string(200000, '\'') + "\\");
  for (const char* conforming : {"on", "off"}) {
    for (const std::string& text : texts) {
      const std::string sql = inline_params("SELECT $1::text, $2::text", {text, "$1"});
      const auto r = db.transact([&](pqxx::work& tx) {
        tx.exec(std::string("SET LOCAL standard_conforming_strings = ") + conforming);
        return tx.exec(sql);
      });
      ASSERT_EQ(r.size(), 1U);
      EXPECT_EQ(r[0][0].as<std::string>(), text) << conforming << " " << text.substr(0, 40);
      EXPECT_EQ(r[0][1].as<std::string>(), "$1");
    }
  }
  std::string out = "x";
  append_literal(out, "a'b\\c");
  EXPECT_EQ(out, "xE'a''b\\\\c'");
  EXPECT_THROW(append_literal(out, std::string("nul\0inside", 10)), std::invalid_argument);
}

// exec_cached: a text is prepared once per connection and then run by its name, with the same
// parameters and answers as an unnamed statement.
TEST_F(DbLiteralsTest, exec_cached_prepares_a_text_once_per_connection_and_runs_it_by_name) {
  Db db(*url_, 1, "public");  // one connection: every transaction below runs on it
  db.transact([](pqxx::work& tx) { tx.exec("CREATE TABLE cached (n bigint, t text)"); });
  const std::string insert = "INSERT INTO cached (n, t) VALUES ($1, $2)";
  for (int64_t n = 1; n <= 3; ++n) {
    db.transact([&](pqxx::work& tx) {
      exec_cached(tx, insert, n, n == 2 ? std::optional<std::string>() : std::optional("x"));
    });
  }
  const auto r = db.transact([](pqxx::work& tx) {
    return tx.exec(
        "SELECT name, (SELECT count(*) FROM cached WHERE t IS NULL) "
        "FROM pg_prepared_statements WHERE statement = " +
        tx.quote("INSERT INTO cached (n, t) VALUES ($1, $2)"));
  });
  ASSERT_EQ(r.size(), 1U) << "prepared once on the connection";
  EXPECT_EQ(std::string(r[0][0].c_str()).rfind("q_", 0), 0U);
  EXPECT_EQ(r[0][1].as<int>(), 1) << "a NULL parameter stays NULL";
  const auto sum = read_only(db, [](pqxx::transaction_base& tx) {
    return exec_cached(tx, "SELECT sum(n) FROM cached WHERE n >= $1", 2)[0][0].as<int64_t>();
  });
  EXPECT_EQ(sum, 5);
}

// A migration that changes a table under a prepared statement (an expand step beside running
// services): the next run does not fail, it goes on a new connection that prepares the text again.
TEST_F(DbLiteralsTest, a_statement_made_stale_by_a_migration_is_prepared_again) {
  Db db(*url_, 1, "public");
  db.transact([](pqxx::work& tx) {
    tx.exec("CREATE TABLE widened (a int); INSERT INTO widened VALUES (1)");
  });
  const std::string select = "SELECT * FROM widened WHERE a = $1";
  const auto columns = [&] {
    return db.transact([&](pqxx::work& tx) { return exec_cached(tx, select, 1).columns(); });
  };
  EXPECT_EQ(columns(), 1U);
  db.transact([](pqxx::work& tx) { tx.exec("ALTER TABLE widened ADD COLUMN b int DEFAULT 7"); });
  EXPECT_EQ(columns(), 2U);
  db.transact([](pqxx::work& tx) { tx.exec("ALTER TABLE widened ADD COLUMN c int DEFAULT 8"); });
  const auto read = read_only(
      db, [&](pqxx::transaction_base& tx) { return exec_cached(tx, select, 1)[0]["c"].as<int>(); });
  EXPECT_EQ(read, 8);
}

}  // namespace
}  // namespace maillon::testing
