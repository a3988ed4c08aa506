// free_port: the ports the harness gives the services it starts are this test process's alone,
// whatever other test processes ctest runs beside it ask for at the same moment.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>

#include "harness.hpp"

namespace maillon::testing {
namespace {

TEST(FreePort, a_port_is_handed_out_once_per_process_and_never_to_a_process_beside_it) {
  std::set<uint16_t> mine;
  for (int i = 0; i < 200; ++i) {
    const uint16_t port = free_port();
    EXPECT_TRUE(mine.insert(port).second) << "port " << port << " handed out twice";
  }
  // A process running beside this one (a child: it opens the claims afresh, as another test
  // executable would) draws 400 ports and writes them to a pipe; none may be one of ours.
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(fds[0]);
    for (int i = 0; i < 400; ++i) {
      const uint16_t port = free_port();
      if (::write(fds[1], &port, sizeof port) != sizeof port) ::_exit(2);
    }
    ::_exit(0);
  }
  ::close(fds[1]);
  std::set<uint16_t> theirs;
  uint16_t port = 0;
  while (::read(fds[0], &port, sizeof port) == sizeof port) theirs.insert(port);
  ::close(fds[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_EQ(theirs.size(), 400U);
  for (uint16_t p : theirs) EXPECT_EQ(mine.count(p), 0U) << "port " << p << " given to both";
}

}  // namespace
}  // namespace maillon::testing
