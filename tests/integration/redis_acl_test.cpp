// A service reaches Redis as its own ACL user (Kubernetes gives each one): the URL's user and
// password (percent-encoded when they hold reserved characters) reach AUTH, and the default user
// can be off. Runs its own redis-server on a free loopback port.
#include <gtest/gtest.h>
#include <hiredis/hiredis.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "harness.hpp"
#include "services/common/redis.hpp"

namespace maillon::testing {
namespace {

class AclRedis {
 public:
  AclRedis()
      : port_(free_port()),
        dir_(std::filesystem::temp_directory_path() / ("maillon-acl-" + unique_suffix())) {
    std::filesystem::create_directories(dir_);
    std::ofstream acl(dir_ / "users.acl");
    acl << "user default off\n"
        << "user svc-ledger on >p@ss:w%rd ~maillon:* resetchannels &maillon:* +@all\n";
    acl.close();
    pid_ = fork();
    if (pid_ == 0) {
      const std::string port = std::to_string(port_), aclfile = (dir_ / "users.acl").string();
      execlp("redis-server", "redis-server", "--bind", "127.0.0.1", "--port", port.c_str(),
             "--save", "", "--appendonly", "no", "--aclfile", aclfile.c_str(), "--dir",
             dir_.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
  }
  ~AclRedis() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
    std::filesystem::remove_all(dir_);
  }
  std::string url(const std::string& userinfo) const {
    return "redis://" + userinfo + "@127.0.0.1:" + std::to_string(port_);
  }
  // Waits until the server answers (it refuses the default user, which still proves it is up).
  bool wait_up() const {
    return eventually(
        [&] {
          Redis probe("redis://127.0.0.1:" + std::to_string(port_), 200);
          try {
            probe.command({"PING"});
            return true;
          } catch (const RedisError&) {
            return false;  // not listening yet
          }
        },
        10000, 50);
  }

 private:
  uint16_t port_;
  std::filesystem::path dir_;
  pid_t pid_ = -1;
};

TEST(RedisAcl, a_service_authenticates_as_its_own_user_with_an_encoded_password) {
  AclRedis server;
  ASSERT_TRUE(server.wait_up());
  Redis svc(server.url("svc-ledger:p%40ss%3Aw%25rd"));
  auto set = svc.command({"SET", "maillon:acl-check", "1"});
  ASSERT_TRUE(set);
  EXPECT_EQ(set->type, REDIS_REPLY_STATUS);
  // Outside its keys, the user is refused by the server, not by our client.
  auto other = svc.command({"SET", "other:key", "1"});
  ASSERT_TRUE(other);
  EXPECT_EQ(other->type, REDIS_REPLY_ERROR);
}

TEST(RedisAcl, a_wrong_password_is_a_connection_error_not_a_silent_default_user) {
  AclRedis server;
  ASSERT_TRUE(server.wait_up());
  Redis wrong(server.url("svc-ledger:nope"));
  EXPECT_THROW(wrong.command({"PING"}), RedisError);
}

}  // namespace
}  // namespace maillon::testing
