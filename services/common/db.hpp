// PostgreSQL: a bounded connection pool, transactions retried on serialization failures and
// deadlocks in one place, and per-schema migrations applied at start.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <pqxx/pqxx>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace maillon {

class Db {
 public:
  static constexpr int kMaxAttempts = 8;

  Db(std::string url, int pool_size, std::string schema);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // A prepared statement made on every connection of the pool (names are per service).
  void prepare(std::string name, std::string sql);

  class Lease {
   public:
    Lease(Db& db, std::unique_ptr<pqxx::connection> conn) : db_(&db), conn_(std::move(conn)) {}
    Lease(Lease&& other) noexcept
        : db_(std::exchange(other.db_, nullptr)), conn_(std::move(other.conn_)) {}
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    pqxx::connection& conn() { return *conn_; }
    void discard() { conn_.reset(); }

   private:
    Db* db_;
    std::unique_ptr<pqxx::connection> conn_;
  };
  Lease acquire();

  // Runs f(tx) in a transaction and commits; retried from the start on 40001 / 40P01 and on a
  // lost connection, so f must not have effects outside the transaction.
  template <class F>
  auto transact(F&& f) -> std::invoke_result_t<F&, pqxx::work&> {
    using R = std::invoke_result_t<F&, pqxx::work&>;
    for (int attempt = 1;; ++attempt) {
      Lease lease = acquire();
      try {
        pqxx::work tx(lease.conn());
        if constexpr (std::is_void_v<R>) {
          f(tx);
          tx.commit();
          committed();
          return;
        } else {
          R result = f(tx);
          tx.commit();
          committed();
          return result;
        }
      } catch (const pqxx::serialization_failure&) {
        if (attempt >= kMaxAttempts) throw;
      } catch (const pqxx::deadlock_detected&) {
        if (attempt >= kMaxAttempts) throw;
      } catch (const pqxx::broken_connection&) {
        lease.discard();
        if (attempt >= kMaxAttempts) throw;
      } catch (const pqxx::feature_not_supported& e) {
        // A statement prepared on this connection before a migration changed its table: a new
        // connection prepares it again.
        if (!is_stale_plan(e) || attempt >= kMaxAttempts) throw;
        lease.discard();
      }
      retried();
      std::this_thread::sleep_for(std::chrono::milliseconds(attempt * attempt));
    }
  }

  bool ping();
  // "cached plan must not change result type": see exec_cached.
  static bool is_stale_plan(const pqxx::feature_not_supported& e);
  const std::string& schema() const { return schema_; }
  // Called after every commit (the outbox relay listens to it to publish at once).
  void on_commit(std::function<void()> hook) { commit_hook_ = std::move(hook); }
  // For a writer that commits on a leased connection itself (the ledger's batches send their
  // own BEGIN and COMMIT): runs the same hook as transact's commits.
  void after_commit() { committed(); }
  uint64_t retries() const { return retries_.load(); }

 private:
  std::string url_;
  std::string schema_;
  int pool_size_;
  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<pqxx::connection>> idle_;
  int open_ = 0;
  std::vector<std::pair<std::string, std::string>> statements_;
  std::function<void()> commit_hook_;
  std::atomic<uint64_t> retries_{0};

  std::unique_ptr<pqxx::connection> connect();
  void give_back(std::unique_ptr<pqxx::connection> conn);
  void committed() {
    if (commit_hook_) commit_hook_();
  }
  void retried() { ++retries_; }
};

// One statement with parameters, run as a prepared statement of the connection it goes on: the
// first run of a text on a connection prepares it (one round trip more, once), every later run
// skips PostgreSQL's parse and, once the server keeps a generic plan, its planning too. Measured
// for #22, parse and bind (which plans an unnamed statement) took more of the backends' time than
// running the statements. A process prepares at most kPreparedTextsMax distinct texts; any
// further text (a bug that builds SQL from values would make endless ones) runs unnamed.
inline constexpr std::size_t kPreparedTextsMax = 2000;
// The name `sql` is prepared under on tx's connection, or "" to run it unnamed.
std::string prepared_name(pqxx::transaction_base& tx, const std::string& sql);
template <class... Args>
pqxx::result exec_cached(pqxx::transaction_base& tx, const std::string& sql, Args&&... args) {
  const std::string name = prepared_name(tx, sql);
  if (name.empty()) return tx.exec_params(sql, std::forward<Args>(args)...);
  return tx.exec_prepared(name, std::forward<Args>(args)...);
}

// PostgreSQL values written as text one at a time, the part ArrayLiteral and CopyRows share: they
// differ only in their syntax (how values are separated, how a text is escaped, how NULL reads).
class ValueText {
 public:
  void add(std::string_view value);
  void add(const char* value) { add(std::string_view(value)); }  // not the bool overload
  void add(int64_t value);
  void add(bool value);
  void add_null();
  // Several values in a row, in order: one call per row instead of one per field.
  template <class... T>
  void add_values(const T&... values) {
    (add(values), ...);
  }

 protected:
  enum class Syntax { array_literal, copy_text };
  ValueText(Syntax syntax, std::string start) : syntax_(syntax), text_(std::move(start)) {}
  // The next value starts a row (CopyRows) or the array: no separator before it.
  void start_row() { at_row_start_ = true; }

  Syntax syntax_;
  std::string text_;

 private:
  bool at_row_start_ = true;
  void separate();
};

// A PostgreSQL array literal ("{...}") for one parameter (`= ANY($1::uuid[])`, `unnest(...)`),
// built one element at a time. Text elements are quoted and escaped, so any string is safe;
// PostgreSQL reads quoted numbers and uuids as well.
class ArrayLiteral : public ValueText {
 public:
  ArrayLiteral() : ValueText(Syntax::array_literal, "{") {}
  std::string text() const { return text_ + '}'; }
};

// Rows written one field at a time as one ArrayLiteral per column: the parameters of an
// `INSERT ... SELECT * FROM unnest($1::text[], ...)`. The same row writer (a template over
// add/add_null/end_row) serves these and CopyRows.
class ArrayColumns {
 public:
  explicit ArrayColumns(std::size_t columns) : columns_(columns) {}
  template <class T>
  void add(const T& value) {
    columns_.at(next_++).add(value);
  }
  void add_null() { columns_.at(next_++).add_null(); }
  // As ValueText::add_values: the next columns, in order.
  template <class... T>
  void add_values(const T&... values) {
    (add(values), ...);
  }
  void end_row() { next_ = 0; }
  // One array literal per column, in column order.
  std::vector<std::string> texts() const;

 private:
  std::vector<ArrayLiteral> columns_;
  std::size_t next_ = 0;
};

// A text column parsed into `out` by `parse` (an enum from its name, say), which answers an
// optional: a text it does not know throws std::logic_error, as the table holds only what this
// service wrote. For read_columns: `parsed(item.status, item_status_from_string)`.
template <class V, class Parse>
struct ParsedColumn {
  V& out;
  Parse parse;
  void read(const pqxx::field& f) const {
    auto value = parse(std::string_view(f.c_str()));
    if (!value) throw std::logic_error("unknown value in column " + std::string(f.name()));
    out = *value;
  }
};
template <class V, class Parse>
ParsedColumn<V, Parse> parsed(V& out, Parse parse) {
  return {out, parse};
}

// Reads a row's columns, in order, into `out...`: a std::string takes the text (empty for NULL),
// a std::optional is empty for NULL, a ParsedColumn parses the text, any other type is the column
// converted (pqxx's as<T>). One line per row reader instead of one per column.
// read_columns_from starts at column `first`.
template <class T>
concept ColumnTarget = std::is_lvalue_reference_v<T> || requires(const T& t, const pqxx::field& f) {
  t.read(f);
};
template <ColumnTarget... T>
void read_columns_from(const pqxx::row& row, pqxx::row::size_type first, T&&... out) {
  pqxx::row::size_type i = first;
  auto read = [&row, &i](auto&& value) {
    using V = std::remove_cvref_t<decltype(value)>;
    const pqxx::field f = row[i++];
    if constexpr (requires { value.read(f); }) {
      value.read(f);
    } else if constexpr (std::is_same_v<V, std::string>) {
      value = f.c_str();
    } else if constexpr (requires {
                           typename V::value_type;
                           value.reset();
                         }) {
      if (f.is_null())
        value.reset();
      else
        value = f.as<typename V::value_type>();
    } else {
      value = f.as<V>();
    }
  };
  (read(out), ...);
}
template <ColumnTarget... T>
void read_columns(const pqxx::row& row, T&&... out) {
  read_columns_from(row, 0, std::forward<T>(out)...);
}

// The literal of a list of strings (ids, slugs, numbers already written as text).
std::string array_literal(const std::vector<std::string>& values);

// Appends `text` as a string constant in PostgreSQL's escape syntax (E'...', each quote and
// backslash doubled), which reads the same whatever standard_conforming_strings says. Safe for any
// text on the connections Db opens, which speak UTF-8: no byte of a multibyte character is a
// quote or a backslash. A NUL byte, which no PostgreSQL text holds, throws std::invalid_argument.
// Unlike pqxx's quote, it needs no connection and allocates nothing but `out`'s growth.
void append_literal(std::string& out, std::string_view text);

// `sql` with each $n replaced by the quoted literal of args[n-1] (append_literal), in one pass (a
// value holding "$2" stays as it is): for statements sent together as one simple query, which
// carries no parameters, when they are not prepared (execute_params, below).
std::string inline_params(std::string_view sql, const std::vector<std::string>& args);

// The same statement for such a simple query, but prepared on tx's connection (prepared_name;
// the first time there, one round trip to prepare it): "EXECUTE <name>(<literals>)", which
// PostgreSQL neither parses nor, once it keeps a generic plan, plans again. `sql` inlined
// (inline_params) when statements are not prepared. Measured for #22: a ledger batch's three
// writes took 0.55-0.8 ms as EXECUTE where inlined they took 1.0 ms, round trips included.
std::string execute_params(pqxx::transaction_base& tx, const std::string& sql,
                           const std::vector<std::string>& args);

// Rows in COPY's text format (fields separated by tabs, one line per row), built one field at a
// time, for copy_into. Text fields are escaped (backslash, tab, line breaks), so any string is
// safe. Loading thousands of rows this way skips what an INSERT of unnest(arrays) costs the
// server: parsing each array, then projecting its rows.
class CopyRows : public ValueText {
 public:
  CopyRows() : ValueText(Syntax::copy_text, {}) {}
  void end_row();
  std::size_t rows() const { return rows_; }
  // The text without its last line break (what copy_into sends); leaves this empty.
  std::string take_lines();

 private:
  std::size_t rows_ = 0;
};

// COPY table (columns) FROM STDIN with those rows, in their order. Like any statement, an error
// (a unique violation, say) is thrown as its pqxx exception and leaves `tx` aborted.
void copy_into(pqxx::transaction_base& tx, const std::string& table,
               const std::vector<std::string>& columns, CopyRows rows);

// Runs a read of ONE statement outside Db::transact: a single statement sees one snapshot, so
// it needs no BEGIN/COMMIT round trips, has nothing to retry on serialization failures, and does
// not wake the outbox relay (Db::transact's commit hook) for every read. One retry on a
// connection lost while idle in the pool, or holding a plan a migration made stale.
template <class F>
auto read_only(Db& db, F&& f) {
  for (int attempt = 1;; ++attempt) {
    Db::Lease lease = db.acquire();
    try {
      pqxx::nontransaction tx(lease.conn());
      return f(tx);
    } catch (const pqxx::broken_connection&) {
      lease.discard();
      if (attempt >= 2) throw;
    } catch (const pqxx::feature_not_supported& e) {
      if (!Db::is_stale_plan(e) || attempt >= 2) throw;
      lease.discard();  // as Db::transact
    }
  }
}

// Applies schemas/<schema>/NNN_*.sql in order, each once, recorded in <schema>.schema_migrations,
// under an advisory lock so that replicas starting together migrate one at a time. Also creates
// the runtime's own tables (outbox, applied_events) in the schema. Throws, changing nothing, when
// the schema holds a migration newer than any of these files (a newer release migrated it).
void migrate(Db& db, const std::string& schemas_dir);

}  // namespace maillon
