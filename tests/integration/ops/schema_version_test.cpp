// A service refuses to start on a schema newer than its build understands (migrate() in
// services/common/db.cpp): a newer release's contract step may have dropped what this build
// still uses, so serving would corrupt data quietly. Checked on real PostgreSQL, through
// migrate() and through a real service executable, whose log names both versions.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "harness.hpp"
#include "services/common/db.hpp"
#include "services/common/ids.hpp"

namespace maillon::testing {
namespace {

namespace fs = std::filesystem;

const std::string kSchemas = std::string(MAILLON_SOURCE_DIR) + "/schemas";

struct ThrowawayDatabase {
  std::string url = create_database("schema_version");
  ~ThrowawayDatabase() { drop_database(url); }
};

int version_of(const fs::path& file) {
  const std::string name = file.filename().string();
  return std::stoi(name.substr(0, name.find('_')));
}

// The highest migration of schemas/<schema>/.
int newest_version(const std::string& schema) {
  int newest = 0;
  for (const auto& entry : fs::directory_iterator(fs::path(kSchemas) / schema)) {
    if (entry.path().extension() == ".sql") newest = std::max(newest, version_of(entry.path()));
  }
  return newest;
}

// A schemas directory as an older build ships it: schemas/<schema>/ without its newest
// migration. Removed with the object.
struct OlderSchemas {
  fs::path dir = fs::temp_directory_path() / ("maillon-older-schemas-" + new_uuid());
  int known = 0;
  explicit OlderSchemas(const std::string& schema) {
    fs::create_directories(dir / schema);
    // The files beside the schema directories (categories.json) as they are.
    for (const auto& entry : fs::directory_iterator(kSchemas)) {
      if (entry.is_regular_file()) fs::copy_file(entry.path(), dir / entry.path().filename());
    }
    const int newest = newest_version(schema);
    for (const auto& entry : fs::directory_iterator(fs::path(kSchemas) / schema)) {
      if (entry.path().extension() != ".sql") continue;
      const int version = version_of(entry.path());
      if (version == newest) continue;
      known = std::max(known, version);
      fs::copy_file(fs::canonical(entry.path()), dir / schema / entry.path().filename());
    }
  }
  ~OlderSchemas() { fs::remove_all(dir); }
};

std::string read_all(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(SchemaVersion, migrate_refuses_a_schema_newer_than_its_migrations_and_names_both) {
  ThrowawayDatabase database;
  Db db(database.url, 2, "offers");
  migrate(db, kSchemas);
  const OlderSchemas older("offers");
  const std::string newest = std::to_string(newest_version("offers"));
  try {
    migrate(db, older.dir.string());
    FAIL() << "an older build migrated a newer schema";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("schema offers is at version " + newest), std::string::npos) << what;
    EXPECT_NE(what.find("up to " + std::to_string(older.known)), std::string::npos) << what;
  }
  // The build that migrated it still starts on it, and nothing was changed by the refusal.
  EXPECT_NO_THROW(migrate(db, kSchemas));
}

TEST(SchemaVersion, an_older_schema_is_migrated_forward_as_before) {
  ThrowawayDatabase database;
  Db db(database.url, 2, "offers");
  const OlderSchemas older("offers");
  migrate(db, older.dir.string());
  EXPECT_NO_THROW(migrate(db, kSchemas));
}

TEST(SchemaVersion, the_service_executable_exits_at_start_with_a_clear_message) {
  const char* bin_dir = std::getenv("MAILLON_TEST_BIN_DIR");
  const fs::path bin =
      fs::path(bin_dir ? bin_dir : MAILLON_SOURCE_DIR "/build") / "services/offers/maillon-offers";
  if (!fs::exists(bin)) GTEST_SKIP() << bin << " is not built";
  ThrowawayDatabase database;
  {
    Db db(database.url, 2, "offers");
    migrate(db, kSchemas);
  }
  const OlderSchemas older("offers");
  const fs::path log = older.dir / "offers.log";
  // The port is never bound: the refusal comes before the HTTP listener.
  const std::string command =
      "env PORT=1 DATABASE_URL='" + database.url + "' REDIS_URL='" +
      required_env("MAILLON_TEST_REDIS_URL") + "' MAILLON_STREAM_PREFIX=schema_version_" +
      new_uuid() + " MAILLON_SCHEMAS_DIR='" + older.dir.string() +
      "' MAILLON_LOG_FORMAT=text timeout 60 '" + bin.string() + "' >'" + log.string() + "' 2>&1";
  const int status = std::system(command.c_str());
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 1) << read_all(log);
  const std::string output = read_all(log);
  EXPECT_NE(
      output.find("newer than this build understands (up to " + std::to_string(older.known) + ")"),
      std::string::npos)
      << output;
}

}  // namespace
}  // namespace maillon::testing
