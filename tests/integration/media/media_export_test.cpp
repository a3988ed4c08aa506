// The media service's part of the RGPD export: GET /v1/me/export (members service) gathers
// media.member_export, the member's photos with the addresses they were answered with at upload,
// and nobody else's.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "harness.hpp"
#include "media/photo_upload.hpp"

namespace maillon::testing {
namespace {

namespace fs = std::filesystem;

TEST(MediaExport, the_export_lists_the_members_photos_and_nobody_elses) {
  const fs::path dir = fs::temp_directory_path() / ("maillon-media-export-" + unique_suffix());
  MembersWorld world("media_export");
  const std::string community = world.create_community("Photos exportées");
  ServiceProcess media("media", world.env({{"MAILLON_MEDIA_DIR", dir.string()}}));
  media.start();
  const MemberInfo lina = world.register_member(community, "Lina");
  const MemberInfo yann = world.register_member(community, "Yann");

  std::map<std::string, Json> sent;  // Lina's uploads by id
  for (int i = 0; i < 2; ++i) {
    auto r = photos::upload(media.url(), lina.token, photos::plain_jpeg());
    ASSERT_EQ(r.status, 201) << r.body;
    sent[r.json()["id"]] = r.json();
  }
  auto others = photos::upload(media.url(), yann.token, photos::plain_jpeg());
  ASSERT_EQ(others.status, 201) << others.body;

  auto exported = Client(world.members->url(), lina.token).get("/v1/me/export");
  ASSERT_EQ(exported.status, 200) << exported.body;
  const Json part = exported.json()["media"];
  ASSERT_TRUE(part.is_object()) << exported.body;
  EXPECT_EQ(part["truncated"], false);
  ASSERT_EQ(part["photos"].size(), 2u) << part.dump();
  for (const Json& p : part["photos"]) {
    const auto it = sent.find(p["id"]);
    ASSERT_NE(it, sent.end()) << p.dump();
    EXPECT_EQ(p["url"], it->second["url"]);
    EXPECT_EQ(p["thumb_url"], it->second["thumb_url"]);
    EXPECT_EQ(p["width"], it->second["width"]);
    EXPECT_EQ(p["source_type"], "jpeg");
    EXPECT_FALSE(p["created_at"].get<std::string>().empty());
  }
  EXPECT_EQ(exported.body.find(others.json()["id"].get<std::string>()), std::string::npos);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace maillon::testing
