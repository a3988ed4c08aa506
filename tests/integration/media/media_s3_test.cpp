// The media service on an S3-compatible store: a real one, s3rver (npm, tests/s3), started on a
// free loopback port. Photos go to the bucket as
// objects (signed with AWS Signature V4 by libcurl), nothing to the directory, and come back
// through GET /media/<key> with a year's immutable cache.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "harness.hpp"
#include "media/photo_upload.hpp"

extern char** environ;

namespace maillon::testing {
namespace {

namespace fs = std::filesystem;
constexpr const char* kBucket = "maillon-photos";

// A command's standard output.
std::string run_output(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return out;
  char buffer[256];
  while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) out += buffer;
  ::pclose(pipe);
  return out;
}

// s3rver (npm, tests/s3: `npm ci` there, as script/test does) for the test's lifetime: an
// S3-compatible store that checks every signature (version 4) against its own credentials.
constexpr const char* kS3Access = "S3RVER";
constexpr const char* kS3Secret = "S3RVER";

class S3Server {
 public:
  S3Server()
      : port_(free_port()),
        dir_(fs::temp_directory_path() / ("maillon-s3rver-" + unique_suffix())) {
    fs::create_directories(dir_);
    const std::string bin = std::string(MAILLON_SOURCE_DIR) + "/tests/s3/node_modules/.bin/s3rver";
    if (!fs::exists(bin)) throw std::runtime_error("no " + bin + ": run npm ci in tests/s3");
    std::vector<std::string> args = {
        "node", bin, "-d", dir_.string(), "-a", "127.0.0.1", "-p", std::to_string(port_), "-s"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t quiet;
    posix_spawn_file_actions_init(&quiet);
    posix_spawn_file_actions_addopen(&quiet, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&quiet, 2, "/dev/null", O_WRONLY, 0);
    const int rc = posix_spawnp(&pid_, "node", &quiet, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&quiet);
    if (rc != 0) throw std::runtime_error("s3rver cannot start (node missing?)");
    const bool up = eventually(
        [&] { return photos::raw_request(url(), "GET", "/", "", "", "").status > 0; }, 30000, 100);
    if (!up) throw std::runtime_error("s3rver never answered on " + url());
  }
  ~S3Server() {
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  int port_;
  fs::path dir_;
  pid_t pid_ = -1;
};

// The one-machine gateway (nginx from deploy/nginx.conf.template, written and started by
// script/lib.sh as script/server and script/install do) in front of the media service, with the
// photos in the store named by MAILLON_MEDIA_S3_URL; stopped and removed at the end.
class S3Gateway {
 public:
  S3Gateway(const ServiceProcess& media, const std::string& s3_url, const fs::path& media_dir)
      : prefix_(fs::temp_directory_path() / ("maillon-gw-s3-" + unique_suffix())),
        port_(free_port()) {
    const std::string port = std::to_string(port_);
    run("MAILLON_MEDIA_S3_URL=" + s3_url + " MAILLON_MEDIA_DIR=" + media_dir.string() +
        " gateway_write_conf " + prefix_.string() + " " + port + " media:" +
        std::to_string(media.port()) + " && gateway_start " + prefix_.string() + " " + port);
  }
  ~S3Gateway() {
    run("gateway_stop " + prefix_.string());
    std::error_code ignored;
    fs::remove_all(prefix_, ignored);
  }
  S3Gateway(const S3Gateway&) = delete;
  S3Gateway& operator=(const S3Gateway&) = delete;

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string conf() const {
    std::ifstream in(prefix_ / "nginx.conf");
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }

 private:
  // The words above hold no quote or space of their own (temporary paths, a URL, ports).
  static void run(const std::string& commands) {
    const std::string line = "bash -c 'set -euo pipefail; source \"" +
                             std::string(MAILLON_SOURCE_DIR) + "/script/lib.sh\"; " + commands +
                             "' >/dev/null";
    if (std::system(line.c_str()) != 0) throw std::runtime_error("gateway: " + commands);
  }

  fs::path prefix_;
  int port_;
};

TEST(MediaS3, photos_go_to_the_bucket_and_are_served_back_with_a_long_cache) {
  S3Server s3;
  ASSERT_EQ(photos::raw_request(s3.url(), "PUT", std::string("/") + kBucket, "", "", "").status,
            200);
  const fs::path dir = fs::temp_directory_path() / ("maillon-media-s3-" + unique_suffix());
  MembersWorld world("media_s3");
  const std::string community = world.create_community("Photos S3");
  ServiceProcess media("media", world.env({{"MAILLON_MEDIA_DIR", dir.string()},
                                           {"MAILLON_MEDIA_S3_URL", s3.url()},
                                           {"MAILLON_MEDIA_S3_BUCKET", kBucket},
                                           {"MAILLON_MEDIA_S3_REGION", "eu-west-3"},
                                           {"MAILLON_MEDIA_S3_ACCESS_KEY", kS3Access},
                                           {"MAILLON_MEDIA_S3_SECRET_KEY", kS3Secret}}));
  media.start();
  const MemberInfo ines = world.register_member(community, "Inès");

  const std::string sent = photos::jpeg_with_gps(1);
  auto r = photos::upload(media.url(), ines.token, sent);
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string url = r.json()["url"], thumb_url = r.json()["thumb_url"];
  ASSERT_EQ(url.substr(0, 7), "/media/");

  // In the bucket, re-encoded without the GPS position; nothing in the directory. Read back
  // with curl's own signed request.
  const std::string key = url.substr(7);
  const fs::path copy = fs::temp_directory_path() / ("maillon-s3-object-" + unique_suffix());
  const std::string fetch = "curl -s -o " + copy.string() +
                            " -w '%{http_code}' -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' " +
                            "--aws-sigv4 aws:amz:eu-west-3:s3 " + std::string("--user ") +
                            kS3Access + ":" + kS3Secret + " " + s3.url() + "/" + kBucket + "/";
  ASSERT_EQ(run_output(fetch + thumb_url.substr(7)), "200");
  ASSERT_EQ(run_output(fetch + key), "200");
  std::ifstream in(copy, std::ios::binary);
  const std::string object((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  fs::remove(copy);
  EXPECT_EQ(object.substr(0, 3), "\xFF\xD8\xFF");
  EXPECT_FALSE(photos::holds_planted_gps(object));
  EXPECT_FALSE(fs::exists(dir / key));

  // Served back by the media service, the same bytes, cacheable for a year.
  auto served = Client(media.url()).get(url);
  ASSERT_EQ(served.status, 200) << served.body;
  EXPECT_EQ(served.body, object);
  EXPECT_EQ(served.headers["content-type"], "image/jpeg");
  EXPECT_EQ(served.headers["cache-control"], "public, max-age=31536000, immutable");
  EXPECT_EQ(Client(media.url()).get(thumb_url).status, 200);

  // Only the names it writes: another id, or another object of the bucket, is a 404.
  const std::string other = "/media/0b/0b0e2f9a-1c4d-4e5f-8a6b-7c8d9e0f1a2b.jpg";
  EXPECT_EQ(Client(media.url()).get(other).status, 404);
  EXPECT_EQ(Client(media.url()).get("/media/" + key.substr(0, 2) + "/secret.txt").status, 404);

  // A one-machine install on S3: the gateway's /media/ URL (the one the photo's answer gave)
  // reaches the bucket through the media service, with the same year-long cache, not the empty
  // directory; a name the media service never writes stays a 404 at the gateway.
  S3Gateway gateway(media, s3.url(), dir);
  EXPECT_EQ(gateway.conf().find("alias " + dir.string()), std::string::npos);
  auto through = Client(gateway.url()).get(url);
  ASSERT_EQ(through.status, 200) << through.body;
  EXPECT_EQ(through.body, object);
  EXPECT_EQ(through.headers["content-type"], "image/jpeg");
  EXPECT_EQ(through.headers["cache-control"], "public, max-age=31536000, immutable");
  auto thumb = Client(gateway.url()).get(thumb_url);
  EXPECT_EQ(thumb.status, 200);
  EXPECT_EQ(thumb.body.substr(0, 3), "\xFF\xD8\xFF");
  EXPECT_EQ(Client(gateway.url()).get(other).status, 404);
  EXPECT_EQ(Client(gateway.url()).get("/media/" + key.substr(0, 2) + "/secret.txt").status, 404);
  fs::remove_all(dir);
}

TEST(MediaS3, a_store_that_does_not_answer_fails_the_upload_and_the_service_lives_on) {
  const int closed_port = free_port();
  MembersWorld world("media_s3_down");
  const std::string community = world.create_community("Photos S3 en panne");
  ServiceProcess media(
      "media",
      world.env({{"MAILLON_MEDIA_S3_URL", "http://127.0.0.1:" + std::to_string(closed_port)},
                 {"MAILLON_MEDIA_S3_BUCKET", kBucket},
                 {"MAILLON_MEDIA_S3_ACCESS_KEY", "maillon"},
                 {"MAILLON_MEDIA_S3_SECRET_KEY", "secret-de-test"}}));
  media.start();
  const MemberInfo paul = world.register_member(community, "Paul");
  auto r = deliberately_wrong(
      [&] { return photos::upload(media.url(), paul.token, photos::plain_jpeg()); });
  EXPECT_GE(r.status, 500) << r.body;
  EXPECT_TRUE(media.alive());
}

}  // namespace
}  // namespace maillon::testing
