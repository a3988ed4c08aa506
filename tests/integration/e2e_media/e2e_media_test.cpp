// Photos end to end through the nginx gateway (MAILLON_TEST_GATEWAY_URL): uploaded through
// /v1/photos, served from /media/ without a token with long cache headers, stripped of their
// GPS position, and refused when they are not images by their bytes or are too large.
#include <gtest/gtest.h>

#include "e2e/e2e_suite.hpp"
#include "listing_bodies.hpp"
#include "media/photo_upload.hpp"

namespace maillon::testing {
namespace {

class E2eMediaTest : public E2eSuite {};

TEST_F(E2eMediaTest, a_photo_with_gps_comes_back_through_the_gateway_without_it) {
  const GatewayCommunity c = gateway->community("Photos", trading_policy());
  const MemberInfo camille = gateway->member(c, "camille");
  auto r = photos::upload(gateway->url(), camille.token, photos::jpeg_with_gps(6), "maison.jpg");
  ASSERT_EQ(r.status, 201) << r.body;
  const Json photo = r.json();
  EXPECT_EQ(photo["width"], 48);
  EXPECT_EQ(photo["height"], 64);
  for (const char* field : {"url", "thumb_url"}) {
    // No token: anyone holding the address may see it.
    auto got = photos::raw_request(gateway->url(), "GET", photo[field], "", "", "");
    ASSERT_EQ(got.status, 200) << field << " " << got.body.substr(0, 200);
    EXPECT_EQ(got.headers["content-type"], "image/jpeg");
    EXPECT_NE(got.headers["cache-control"].find("immutable"), std::string::npos);
    EXPECT_EQ(got.headers["x-content-type-options"], "nosniff");
    EXPECT_EQ(got.body.substr(0, 3), "\xFF\xD8\xFF");
    EXPECT_FALSE(photos::holds_planted_gps(got.body));
    EXPECT_EQ(got.body.find(std::string("Exif\0\0", 6)), std::string::npos);
  }
  // Only names the service writes are served from the media directory.
  const std::string id = photo["id"];
  auto other = deliberately_wrong([&] {
    return photos::raw_request(gateway->url(), "GET", "/media/" + id.substr(0, 2) + "/", "", "",
                               "");
  });
  EXPECT_EQ(other.status, 404);
}

TEST_F(E2eMediaTest, an_exe_renamed_jpg_and_a_photo_over_10_mb_are_refused) {
  const GatewayCommunity c = gateway->community("Photos refusées", trading_policy());
  const MemberInfo m = gateway->member(c, "dominique");
  auto exe = photos::upload(gateway->url(), m.token, photos::windows_executable(), "chat.jpg");
  EXPECT_EQ(exe.status, 415) << exe.body;
  std::string big = photos::plain_jpeg();
  big.resize(10 * 1024 * 1024 + 100, '\0');
  auto large = photos::upload(gateway->url(), m.token, big);
  EXPECT_EQ(large.status, 413) << large.body;
  auto anonymous =
      deliberately_wrong([&] { return photos::upload(gateway->url(), "", photos::plain_jpeg()); });
  EXPECT_EQ(anonymous.status, 401);
}

std::string uploaded(const Gateway& g, const MemberInfo& m) {
  auto r = photos::upload(g.url(), m.token, photos::plain_jpeg());
  EXPECT_EQ(r.status, 201) << r.body;
  return r.status == 201 ? r.json()["id"].get<std::string>() : "";
}

TEST_F(E2eMediaTest, listings_and_depot_items_carry_their_uploaders_photos_only) {
  const StaffedCommunity c = staffed_community("Annonces en photos");
  const MemberInfo camille = gateway->member(c, "camille");
  const MemberInfo sacha = gateway->member(c, "sacha");
  const std::string first = uploaded(*gateway, camille);
  const std::string second = uploaded(*gateway, camille);
  const std::string not_hers = uploaded(*gateway, sacha);

  Json body = service_offer(30, c.site);
  body["photos"] = {first};
  auto created = as(camille).post("/v1/offers", body);
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.json()["photos"], Json::array({first}));
  const std::string offer = created.json()["id"];

  auto patched = as(camille).patch("/v1/offers/" + offer, {{"photos", {second, first}}});
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(patched.json()["photos"], Json::array({second, first}));
  EXPECT_EQ(as(camille).get("/v1/offers/" + offer).json()["photos"], Json::array({second, first}));

  // Another member's photo, an id that names nothing, a URL, seven photos: all refused.
  for (const Json& photos :
       {Json::array({not_hers}), Json::array({"3f2504e0-4f89-41d3-9a0c-0305e82c3301"}),
        Json::array({"https://example.org/a.jpg"}), Json(std::vector<std::string>(7, first))}) {
    auto refused = as(camille).wrong().patch("/v1/offers/" + offer, {{"photos", photos}});
    EXPECT_EQ(refused.status, 400) << photos.dump() << " " << refused.body;
  }
  EXPECT_EQ(as(camille).get("/v1/offers/" + offer).json()["photos"], Json::array({second, first}));

  // A depot item: the photos of the staff member who takes it in.
  // Roles are read at login: the staff member logs in again after being made staff.
  MemberInfo staff = c.staff;
  staff.token = login(c.staff).json().value("token", "");
  const std::string shelf_photo = uploaded(*gateway, staff);
  const Json item = {{"category", "perceuses"},
                     {"title", "Perceuse"},
                     {"condition", "good"},
                     {"weight_g", 1500},
                     {"mode", "give"}};
  Json with_photo = item;
  with_photo["photos"] = {shelf_photo};
  auto intake = as(staff).post("/v1/sites/" + c.site + "/items", with_photo);
  ASSERT_EQ(intake.status, 201) << intake.body;
  EXPECT_EQ(intake.json()["photos"], Json::array({shelf_photo}));
  Json with_other = item;
  with_other["photos"] = {first};
  auto other = as(staff).wrong().post("/v1/sites/" + c.site + "/items", with_other);
  EXPECT_EQ(other.status, 400) << other.body;
}

}  // namespace
}  // namespace maillon::testing
