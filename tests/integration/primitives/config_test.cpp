// The one typed Config: a value read from the environment is checked at start, and a bad one
// names its variable and stops the service with a non-zero exit.
#include "services/common/config.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "harness.hpp"

extern char** environ;

namespace maillon {
namespace {

using std::chrono::milliseconds;

// Sets a variable for one test and restores the environment after it.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    setenv(name, value, 1);
  }
  ~ScopedEnv() {
    if (old_)
      setenv(name_, old_->c_str(), 1);
    else
      unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

std::string message_of(const std::function<void()>& read) {
  try {
    read();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

TEST(ConfigTest, unset_or_empty_variables_give_the_fallback) {
  ScopedEnv empty("MAILLON_TEST_CONFIG_X", "");
  EXPECT_EQ(Config::integer("MAILLON_TEST_CONFIG_X", 7, 1, 10), 7);
  EXPECT_EQ(Config::integer("MAILLON_TEST_CONFIG_UNSET", 7, 1, 10), 7);
  EXPECT_EQ(Config::duration_ms("MAILLON_TEST_CONFIG_X", milliseconds(250), milliseconds(10),
                                milliseconds(1000)),
            milliseconds(250));
  EXPECT_EQ(Config::text("MAILLON_TEST_CONFIG_X", "abc"), "abc");
  EXPECT_EQ(Config::url("MAILLON_TEST_CONFIG_X", "redis://h:1", {"redis"}), "redis://h:1");
  EXPECT_EQ(Config::choice("MAILLON_TEST_CONFIG_X", "json", {"json", "text"}), "json");
}

TEST(ConfigTest, good_values_are_read_typed) {
  ScopedEnv set("MAILLON_TEST_CONFIG_X", "250");
  EXPECT_EQ(Config::integer("MAILLON_TEST_CONFIG_X", 7, 1, 1000), 250);
  EXPECT_EQ(Config::duration_ms("MAILLON_TEST_CONFIG_X", milliseconds(1), milliseconds(10),
                                milliseconds(1000)),
            milliseconds(250));
  ScopedEnv url("MAILLON_TEST_CONFIG_URL", "redis://127.0.0.1:6379");
  EXPECT_EQ(Config::url("MAILLON_TEST_CONFIG_URL", "", {"redis"}), "redis://127.0.0.1:6379");
  ScopedEnv text("MAILLON_TEST_CONFIG_FORMAT", "text");
  EXPECT_EQ(Config::choice("MAILLON_TEST_CONFIG_FORMAT", "json", {"json", "text"}), "text");
}

TEST(ConfigTest, a_bad_value_names_its_variable_the_rule_and_the_value) {
  {
    ScopedEnv bad("MAILLON_TEST_CONFIG_X", "12abc");
    EXPECT_EQ(message_of([] { Config::integer("MAILLON_TEST_CONFIG_X", 7, 1, 100); }),
              "MAILLON_TEST_CONFIG_X must be an integer between 1 and 100, not \"12abc\"");
  }
  {
    ScopedEnv low("MAILLON_TEST_CONFIG_X", "5");
    EXPECT_EQ(message_of([] {
                Config::duration_ms("MAILLON_TEST_CONFIG_X", milliseconds(100), milliseconds(10),
                                    milliseconds(1000));
              }),
              "MAILLON_TEST_CONFIG_X must be an integer between 10 and 1000, not \"5\"");
  }
  {
    ScopedEnv huge("MAILLON_TEST_CONFIG_X", "99999999999999999999999");
    EXPECT_NE(message_of([] { Config::integer("MAILLON_TEST_CONFIG_X", 7, 1, 100); }), "");
  }
  {
    ScopedEnv url("MAILLON_TEST_CONFIG_X", "http://127.0.0.1:6379");
    EXPECT_EQ(message_of([] { Config::url("MAILLON_TEST_CONFIG_X", "", {"redis"}); }),
              "MAILLON_TEST_CONFIG_X must be a URL starting with redis://, not "
              "\"http://127.0.0.1:6379\"");
  }
  {
    ScopedEnv format("MAILLON_TEST_CONFIG_X", "yaml");
    EXPECT_EQ(message_of([] {
                Config::choice("MAILLON_TEST_CONFIG_X", "json", {"json", "text"});
              }),
              "MAILLON_TEST_CONFIG_X must be one of json, text, not \"yaml\"");
  }
}

struct Exit {
  int code = -1;
  std::string log;
};

// Runs build/services/<name>/maillon-<name> with `env` added to ours; it is expected to stop by
// itself at start. Fails the test (and kills it) when it is still running after `timeout_ms`.
Exit run_to_exit(const std::string& name, const std::map<std::string, std::string>& env,
                 int timeout_ms = 20000) {
  std::string bin = MAILLON_BINARY_DIR;  // built by appending: GCC 12 misreads "a" + b + "c"
  bin.append("/services/").append(name).append("/maillon-").append(name);
  std::string log = "/tmp/maillon-it-config-";
  log.append(name).append("-").append(testing::unique_suffix()).append(".log");
  std::vector<std::string> strings;
  for (char** e = environ; *e; ++e) strings.emplace_back(*e);
  for (const auto& [k, v] : env) strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& s : strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  std::string path = bin;
  char* argv[] = {path.data(), nullptr};
  pid_t pid = -1;
  const int spawned = posix_spawn(&pid, bin.c_str(), &actions, nullptr, argv, envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) throw std::runtime_error("cannot start " + bin);
  Exit out;
  int status = 0;
  const bool ended =
      testing::eventually([&] { return waitpid(pid, &status, WNOHANG) == pid; }, timeout_ms);
  if (!ended) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    ADD_FAILURE() << name << " still ran " << timeout_ms << " ms after a bad value";
  }
  if (WIFEXITED(status)) out.code = WEXITSTATUS(status);
  std::stringstream text;
  text << std::ifstream(log).rdbuf();
  out.log = text.str();
  std::remove(log.c_str());
  return out;
}

class ConfigAtStart : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { database = new std::string(testing::create_database("config")); }
  static void TearDownTestSuite() {
    testing::drop_database(*database);
    delete database;
  }
  static std::map<std::string, std::string> env(std::map<std::string, std::string> more) {
    std::map<std::string, std::string> e = {
        {"DATABASE_URL", *database},
        {"REDIS_URL", testing::redis_url()},
        {"MAILLON_STREAM_PREFIX", std::string("t").append(testing::unique_suffix())},
        {"MAILLON_SCHEMAS_DIR", std::string(MAILLON_SOURCE_DIR).append("/schemas")},
        {"PORT", std::to_string(testing::free_port())},
        {"MAILLON_LOG_FORMAT", "json"}};
    for (auto& [k, v] : more) e[k] = v;
    return e;
  }
  static inline std::string* database = nullptr;
};

TEST_F(ConfigAtStart, a_bad_shared_value_stops_the_service_naming_its_variable) {
  const Exit exit = run_to_exit("members", env({{"MAILLON_DB_POOL", "lots"}}));
  EXPECT_EQ(exit.code, 1) << exit.log;
  EXPECT_NE(exit.log.find("start-up failed"), std::string::npos) << exit.log;
  EXPECT_NE(exit.log.find("MAILLON_DB_POOL must be an integer between 1 and 256"),
            std::string::npos)
      << exit.log;
}

TEST_F(ConfigAtStart, a_bad_url_stops_the_service_naming_its_variable) {
  const Exit exit = run_to_exit("members", env({{"REDIS_URL", "http://127.0.0.1:1"}}));
  EXPECT_EQ(exit.code, 1) << exit.log;
  EXPECT_NE(exit.log.find("REDIS_URL must be a URL starting with redis://"), std::string::npos)
      << exit.log;
}

TEST_F(ConfigAtStart, a_bad_service_setting_stops_the_service_naming_its_variable) {
  const struct {
    const char* service;
    const char* variable;
    const char* value;
  } cases[] = {
      {"exchange", "MAILLON_EXCHANGE_EXPIRY_INTERVAL_MS", "5"},
      {"notify", "MAILLON_NOTIFICATION_STREAMS_MAX", "many"},
      {"depot", "MAILLON_DEPOT_JOB_INTERVAL_MS", "1h"},
      {"ledger", "MAILLON_LEDGER_EXPIRE_INTERVAL_MS", "0"},
      {"offers", "MAILLON_EXPIRY_INTERVAL_MS", "-1"},
  };
  for (const auto& c : cases) {
    const Exit exit = run_to_exit(c.service, env({{c.variable, c.value}}));
    EXPECT_EQ(exit.code, 1) << c.service << " " << c.variable << "\n" << exit.log;
    EXPECT_NE(exit.log.find(std::string(c.variable) + " must be"), std::string::npos)
        << c.service << " " << c.variable << "\n"
        << exit.log;
  }
}

}  // namespace
}  // namespace maillon
