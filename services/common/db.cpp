// Connection pool and migrations.
#include "services/common/db.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <pqxx/tablewriter>
#include <sstream>
#include <stdexcept>
#include <unordered_set>

#include "services/common/errors.hpp"
#include "services/common/log.hpp"

namespace maillon {

Db::Db(std::string url, int pool_size, std::string schema)
    : url_(std::move(url)), schema_(std::move(schema)), pool_size_(pool_size) {}

Db::~Db() = default;

Db::Lease::~Lease() {
  if (db_) db_->give_back(std::move(conn_));
}

void ValueText::separate() {
  if (!at_row_start_) text_ += syntax_ == Syntax::array_literal ? ',' : '\t';
  at_row_start_ = false;
}

void ValueText::add(std::string_view value) {
  separate();
  if (syntax_ == Syntax::array_literal) {
    text_ += '"';
    for (const char c : value) {
      if (c == '"' || c == '\\') text_ += '\\';
      text_ += c;
    }
    text_ += '"';
    return;
  }
  // COPY's text format. Runs that need no escape (nearly every id and text) go in whole.
  std::size_t run = 0;
  for (std::size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    if (c != '\\' && c != '\t' && c != '\n' && c != '\r') continue;
    text_.append(value, run, i - run);
    run = i + 1;
    text_ += '\\';
    text_ += c == '\\' ? '\\' : c == '\t' ? 't' : c == '\n' ? 'n' : 'r';
  }
  text_.append(value, run, value.size() - run);
}

void ValueText::add(int64_t value) {
  separate();
  char buffer[24];
  const auto end = std::to_chars(buffer, buffer + sizeof buffer, value).ptr;
  text_.append(buffer, end);
}

void ValueText::add(bool value) {
  separate();
  text_ += value ? 't' : 'f';
}

void ValueText::add_null() {
  separate();
  text_ += syntax_ == Syntax::array_literal ? "NULL" : "\\N";
}

std::vector<std::string> ArrayColumns::texts() const {
  std::vector<std::string> texts;
  texts.reserve(columns_.size());
  for (const auto& column : columns_) texts.push_back(column.text());
  return texts;
}

std::string array_literal(const std::vector<std::string>& values) {
  ArrayLiteral array;
  for (const auto& v : values) array.add(v);
  return array.text();
}

void append_literal(std::string& out, std::string_view text) {
  out.reserve(out.size() + text.size() + 3);
  out += "E'";
  const char* run = text.data();
  const char* const end = text.data() + text.size();
  for (const char* at = run; at != end; ++at) {
    const char c = *at;
    if (c != '\'' && c != '\\' && c != '\0') continue;
    if (c == '\0') throw std::invalid_argument("a text sent to PostgreSQL cannot hold a NUL byte");
    out.append(run, at + 1);  // the character itself, then its double
    out += c;
    run = at + 1;
  }
  out.append(run, end);
  out += '\'';
}

std::string inline_params(std::string_view sql, const std::vector<std::string>& args) {
  std::string out;
  out.reserve(sql.size() + 64);
  for (std::size_t i = 0; i < sql.size();) {
    std::size_t end = i + 1;
    while (sql[i] == '$' && end < sql.size() && sql[end] >= '0' && sql[end] <= '9') ++end;
    if (end == i + 1) {
      out += sql[i++];
      continue;
    }
    const auto n = std::stoul(std::string(sql.substr(i + 1, end - i - 1)));
    append_literal(out, args.at(n - 1));
    i = end;
  }
  return out;
}

std::string execute_params(pqxx::transaction_base& tx, const std::string& sql,
                           const std::vector<std::string>& args) {
  const std::string name = prepared_name(tx, sql);
  if (name.empty()) return inline_params(sql, args);
  tx.conn().prepare_now(name);
  std::string out = "EXECUTE " + name;
  for (std::size_t i = 0; i < args.size(); ++i) {
    out += i == 0 ? "(" : ", ";
    append_literal(out, args[i]);
  }
  if (!args.empty()) out += ')';
  return out;
}

void CopyRows::end_row() {
  text_ += '\n';
  start_row();
  ++rows_;
}

std::string CopyRows::take_lines() {
  std::string lines = std::move(text_);
  if (!lines.empty()) lines.pop_back();
  *this = CopyRows{};
  return lines;
}

void copy_into(pqxx::transaction_base& tx, const std::string& table,
               const std::vector<std::string>& columns, CopyRows rows) {
  if (rows.rows() == 0) return;
    // libpqxx 6 sends raw COPY data only through tablewriter (deprecated for stream_to, whose
    // per-field conversions cost more than the rows save here). COPY's data is a byte stream, so
    // all rows go in one piece: every line but the last ends with its line break, and
    // write_raw_line adds the last one.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  pqxx::tablewriter writer(tx, table, columns.begin(), columns.end());
#pragma GCC diagnostic pop
  writer.write_raw_line(rows.take_lines());
  writer.complete();
}

std::string prepared_name(pqxx::transaction_base& tx, const std::string& sql) {
  // MAILLON_DB_PREPARED=off: every statement unnamed, for a pooler in front of PostgreSQL that
  // does not keep a server connection per client connection (PgBouncer's transaction mode).
  static const bool enabled = [] {
    const char* value = std::getenv("MAILLON_DB_PREPARED");
    return value == nullptr || std::string_view(value) != "off";
  }();
  if (!enabled) return {};
  static std::mutex mutex;
  static std::unordered_set<std::size_t> known;  // the texts this process prepares
  const std::size_t hash = std::hash<std::string>{}(sql);
  {
    std::lock_guard lock(mutex);
    if (!known.contains(hash)) {
      if (known.size() >= kPreparedTextsMax) return {};
      known.insert(hash);
    }
  }
  char name[24];
  std::snprintf(name, sizeof name, "q_%016zx", hash);
  try {
    // Known to the connection already: a look-up and a comparison of the text, nothing sent.
    tx.conn().prepare(name, sql);
  } catch (const pqxx::argument_error&) {
    return {};  // two texts of one hash: the second runs unnamed
  }
  return name;
}

bool Db::is_stale_plan(const pqxx::feature_not_supported& e) {
  return std::string_view(e.what()).find("cached plan must not change result type") !=
         std::string_view::npos;
}

void Db::prepare(std::string name, std::string sql) {
  std::lock_guard lock(mutex_);
  statements_.emplace_back(std::move(name), std::move(sql));
  // Connections opened before this call learn the statement when they are next opened; prepare
  // everything before the first request.
  for (auto& c : idle_) c->prepare(statements_.back().first, statements_.back().second);
}

std::unique_ptr<pqxx::connection> Db::connect() {
  auto conn = std::make_unique<pqxx::connection>(url_);
  {
    pqxx::nontransaction tx(*conn);
    // UTF-8 whatever the server's default: append_literal relies on it.
    tx.exec("SET client_encoding TO 'UTF8'; SET search_path TO " + tx.quote_name(schema_) +
            ", public");
  }
  std::vector<std::pair<std::string, std::string>> statements;
  {
    std::lock_guard lock(mutex_);
    statements = statements_;
  }
  for (const auto& [name, sql] : statements) conn->prepare(name, sql);
  return conn;
}

Db::Lease Db::acquire() {
  std::unique_lock lock(mutex_);
  for (;;) {
    if (!idle_.empty()) {
      auto conn = std::move(idle_.back());
      idle_.pop_back();
      if (conn && conn->is_open()) return Lease(*this, std::move(conn));
      --open_;
      continue;
    }
    if (open_ < pool_size_) {
      ++open_;
      lock.unlock();
      try {
        return Lease(*this, connect());
      } catch (const pqxx::broken_connection& e) {
        lock.lock();
        --open_;
        available_.notify_one();
        // The server refused or did not answer (restarting, or "too many clients"): a request
        // is told to retry (503), not that the service failed (500).
        log::warn("database unreachable", {{"schema", schema_}, {"error", e.what()}});
        throw ApiError(503, "unavailable", "Service indisponible",
                       "La base de données est momentanément injoignable ; réessayez.");
      } catch (...) {
        lock.lock();
        --open_;
        available_.notify_one();
        throw;
      }
    }
    available_.wait(lock);
  }
}

void Db::give_back(std::unique_ptr<pqxx::connection> conn) {
  std::lock_guard lock(mutex_);
  if (conn && conn->is_open()) {
    idle_.push_back(std::move(conn));
  } else {
    --open_;
  }
  available_.notify_one();
}

bool Db::ping() {
  try {
    Lease lease = acquire();
    pqxx::nontransaction tx(lease.conn());
    tx.exec("SELECT 1");
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

namespace {

// The runtime's tables, present in every service schema.
constexpr const char* kRuntimeTables = R"SQL(
CREATE TABLE IF NOT EXISTS schema_migrations (
  version integer PRIMARY KEY,
  name text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS outbox (
  id bigserial PRIMARY KEY,
  event_id uuid NOT NULL UNIQUE,
  stream text NOT NULL,
  payload text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  published_at timestamptz
);
CREATE INDEX IF NOT EXISTS outbox_unpublished ON outbox (id) WHERE published_at IS NULL;
-- A batch writer stores many events in one row (Outbox::kEventsPerRowMax): lz4 compresses such a
-- payload several times faster than the default pglz. A server built without lz4 keeps pglz.
DO $$
BEGIN
  IF (SELECT attcompression FROM pg_attribute
      WHERE attrelid = 'outbox'::regclass AND attname = 'payload') IS DISTINCT FROM 'l' THEN
    ALTER TABLE outbox ALTER COLUMN payload SET COMPRESSION lz4;
  END IF;
EXCEPTION WHEN feature_not_supported THEN
  RAISE NOTICE 'lz4 is not available: outbox payloads stay compressed with pglz';
END
$$;
CREATE TABLE IF NOT EXISTS applied_events (
  consumer text NOT NULL,
  event_id uuid NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer, event_id)
);
)SQL";

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A schema migrated by a newer release may have dropped or changed what this build still uses
// (the contract step of expand → migrate → contract): serving on it would corrupt data quietly,
// so the service stops at start with both versions named.
void refuse_newer_schema(pqxx::work& tx, const std::string& schema, int known) {
  auto newest =
      tx.exec("SELECT version, name FROM schema_migrations ORDER BY version DESC LIMIT 1");
  if (newest.empty() || newest[0][0].as<int>() <= known) return;
  throw std::runtime_error("schema " + schema + " is at version " + newest[0][0].c_str() + " (" +
                           newest[0][1].c_str() + "), newer than this build understands (up to " +
                           std::to_string(known) +
                           "): run the release that migrated it, or restore a back-up taken "
                           "with this one");
}

}  // namespace

void migrate(Db& db, const std::string& schemas_dir) {
  namespace fs = std::filesystem;
  std::vector<std::pair<int, fs::path>> files;
  fs::path dir = fs::path(schemas_dir) / db.schema();
  if (fs::exists(dir)) {
    for (const auto& entry : fs::directory_iterator(dir)) {
      auto name = entry.path().filename().string();
      if (entry.path().extension() != ".sql" || name.size() < 5 || !std::isdigit(name[0])) continue;
      files.emplace_back(std::stoi(name.substr(0, name.find('_'))), entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  auto lease = db.acquire();
  pqxx::work tx(lease.conn());
  // One lock for all schemas: CREATE EXTENSION and friends race across services too.
  tx.exec("SELECT pg_advisory_xact_lock(7366270)");
  tx.exec("CREATE SCHEMA IF NOT EXISTS " + tx.quote_name(db.schema()));
  tx.exec("SET LOCAL search_path TO " + tx.quote_name(db.schema()) + ", public");
  tx.exec(kRuntimeTables);
  refuse_newer_schema(tx, db.schema(), files.empty() ? 0 : files.back().first);
  for (const auto& [version, path] : files) {
    auto done = tx.exec_params("SELECT 1 FROM schema_migrations WHERE version = $1", version);
    if (!done.empty()) continue;
    tx.exec(read_file(path));
    tx.exec_params("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", version,
                   path.filename().string());
    log::info("migration applied", {{"schema", db.schema()}, {"file", path.filename().string()}});
  }
  tx.commit();
}

}  // namespace maillon
