// The media service against real PostgreSQL and Redis (and the members service for sessions):
// uploads re-encoded without their metadata and turned upright, types told by the bytes, sizes
// bounded, and the files written where the gateway serves them.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "harness.hpp"
#include "media/photo_upload.hpp"
#include "services/media/decode_lane.hpp"
#include "services/media/multipart.hpp"

namespace maillon::testing {
namespace {

namespace fs = std::filesystem;
using photos::upload;

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class MediaPhotos : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(fs::temp_directory_path() / ("maillon-media-" + unique_suffix()));
    world_ = new MembersWorld("media");
    community_ = new std::string(world_->create_community("Photos"));
    media_ = new ServiceProcess("media", world_->env({{"MAILLON_MEDIA_DIR", dir_->string()}}));
    media_->start();
  }
  static void TearDownTestSuite() {
    delete media_;
    delete world_;
    fs::remove_all(*dir_);
    delete dir_;
    delete community_;
  }
  static MemberInfo member(const std::string& name) {
    return world_->register_member(*community_, name);
  }
  // The stored file behind a url of the answer ("/media/ab/<id>.jpg").
  static fs::path stored(const std::string& url) {
    return *dir_ / url.substr(std::string("/media/").size());
  }

  static inline fs::path* dir_ = nullptr;
  static inline MembersWorld* world_ = nullptr;
  static inline std::string* community_ = nullptr;
  static inline ServiceProcess* media_ = nullptr;
};

TEST_F(MediaPhotos, a_photo_with_gps_exif_is_stored_without_it_and_upright) {
  const MemberInfo camille = member("Camille");
  const std::string sent = photos::jpeg_with_gps(6);
  ASSERT_TRUE(photos::holds_planted_gps(sent));
  auto r = upload(media_->url(), camille.token, sent);
  ASSERT_EQ(r.status, 201) << r.body;
  const Json j = r.json();
  EXPECT_EQ(j["id"].get<std::string>().size(), 36u);
  // Orientation 6: the 64×48 picture is shown turned a quarter, so it comes back 48×64.
  EXPECT_EQ(j["width"], 48);
  EXPECT_EQ(j["height"], 64);
  const std::string photo = read_file(stored(j["url"]));
  const std::string thumb = read_file(stored(j["thumb_url"]));
  ASSERT_GT(photo.size(), 100u);
  ASSERT_GT(thumb.size(), 100u);
  for (const std::string* file : {&photo, &thumb}) {
    EXPECT_EQ(file->substr(0, 3), "\xFF\xD8\xFF");
    EXPECT_FALSE(photos::holds_planted_gps(*file));
    EXPECT_EQ(file->find(std::string("Exif\0\0", 6)), std::string::npos);
    EXPECT_EQ(file->find("\xFF\xE1"), std::string::npos) << "an APP1 (EXIF/XMP) segment is left";
  }
}

TEST_F(MediaPhotos, an_executable_renamed_jpg_is_refused_by_its_bytes) {
  const MemberInfo m = member("Dominique");
  auto r = upload(media_->url(), m.token, photos::windows_executable(), "vacances.jpg");
  EXPECT_EQ(r.status, 415) << r.body;
  EXPECT_EQ(r.json()["type"], "/problems/unsupported-media-type");
  // The other way round: a real JPEG named .exe and said to be a program is a photo.
  auto ok =
      upload(media_->url(), m.token, photos::plain_jpeg(), "setup.exe", "application/octet-stream");
  EXPECT_EQ(ok.status, 201) << ok.body;
  EXPECT_EQ(ok.json()["width"], 64);
}

TEST_F(MediaPhotos, something_that_only_starts_like_a_jpeg_is_refused) {
  const MemberInfo m = member("Sacha");
  std::string fake = photos::plain_jpeg().substr(0, 40) + std::string(500, 'x');
  auto r = upload(media_->url(), m.token, fake);
  EXPECT_EQ(r.status, 415) << r.body;
}

TEST_F(MediaPhotos, a_file_over_10_mb_is_refused_with_413) {
  const MemberInfo m = member("Alex");
  std::string big = photos::plain_jpeg();
  big.resize(10 * 1024 * 1024 + 1, '\0');
  auto r = upload(media_->url(), m.token, big);
  EXPECT_EQ(r.status, 413) << r.body;
}

TEST_F(MediaPhotos, a_decompression_bomb_is_refused_from_its_header) {
  const MemberInfo m = member("Lou");
  // A PNG header announcing 60000 × 60000 pixels (3.6 gigapixels) and no real data.
  std::string png = "\x89PNG\r\n\x1A\n";
  std::string ihdr;
  photos::put32(ihdr, 13);
  ihdr += "IHDR";
  photos::put32(ihdr, 60000);
  photos::put32(ihdr, 60000);
  ihdr += std::string("\x08\x02\x00\x00\x00", 5);
  photos::put32(ihdr, 0);  // CRC left wrong: either way it must never be decoded
  auto r = upload(media_->url(), m.token, png + ihdr + std::string(64, '\0'));
  EXPECT_TRUE(r.status == 422 || r.status == 415) << r.status << " " << r.body;
  EXPECT_TRUE(media_->alive());
}

// One PNG chunk: its length, type and data, and their CRC-32.
std::string png_chunk(const std::string& type, const std::string& data) {
  const std::string typed = type + data;
  uint32_t crc = 0xFFFFFFFFu;
  for (const char c : typed) {
    crc ^= static_cast<uint8_t>(c);
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  std::string out;
  photos::put32(out, static_cast<uint32_t>(data.size()));
  out += typed;
  photos::put32(out, ~crc);
  return out;
}

// A well-formed PNG of width x height pixels, `depth` bits per sample and color type `color`
// (2: RGB, 6: RGBA), whose image data holds only 100 zero bytes (a zlib stream of one stored
// block): its header reads, and its missing rows decode as black.
std::string png_header(uint32_t width, uint32_t height, uint8_t depth, uint8_t color) {
  std::string ihdr;
  photos::put32(ihdr, width);
  photos::put32(ihdr, height);
  ihdr += std::string{static_cast<char>(depth), static_cast<char>(color), 0, 0, 0};
  std::string idat = "\x78\x01\x01\x64\x00\x9B\xFF";  // zlib, one final stored block of 100
  idat += std::string(100, '\0');
  photos::put32(idat, (100u << 16) | 1u);  // Adler-32 of 100 zero bytes
  return "\x89PNG\r\n\x1A\n" + png_chunk("IHDR", ihdr) + png_chunk("IDAT", idat) +
         png_chunk("IEND", "");
}

TEST_F(MediaPhotos, an_image_whose_decoded_pixels_would_weigh_too_much_is_refused_first) {
  const MemberInfo m = member("Sacha");
  // 49 megapixels of 16-bit RGBA would decode to 392 MB: refused from the header, under the
  // pixel count's bound all the same.
  auto deep = upload(media_->url(), m.token, png_header(7000, 7000, 16, 6));
  EXPECT_EQ(deep.status, 422) << deep.body;
  EXPECT_EQ(deep.json().value("code", ""), "image-too-large") << deep.body;
  // The same pixels in 8-bit RGB (147 MB) are taken (the missing rows decode as black).
  auto plain = upload(media_->url(), m.token, png_header(7000, 7000, 8, 2));
  EXPECT_EQ(plain.status, 201) << plain.body;
  EXPECT_TRUE(media_->alive());
}

TEST(DecodeLane, one_member_holds_at_most_two_places_and_others_still_get_theirs) {
  media::DecodeLane lane(4, 16, 2);
  media::DecodeLane::Ticket first(lane, "a"), second(lane, "a");
  EXPECT_TRUE(first.admitted());
  EXPECT_TRUE(second.admitted());
  {
    media::DecodeLane::Ticket third(lane, "a");
    EXPECT_FALSE(third.admitted());  // 429 for this one
  }
  media::DecodeLane::Ticket other(lane, "b");
  EXPECT_TRUE(other.admitted());
  {
    // A place given back is the member's again.
    media::DecodeLane::Ticket gone(lane, "b");
    EXPECT_TRUE(gone.admitted());
  }
  media::DecodeLane::Ticket again(lane, "b");
  EXPECT_TRUE(again.admitted());
}

TEST_F(MediaPhotos, an_upload_needs_a_session_and_a_form) {
  auto anonymous =
      deliberately_wrong([&] { return upload(media_->url(), "", photos::plain_jpeg()); });
  EXPECT_EQ(anonymous.status, 401);
  const MemberInfo m = member("Noa");
  auto json =
      photos::raw_request(media_->url(), "POST", "/v1/photos", m.token, "application/json", "{}");
  EXPECT_EQ(json.status, 415) << json.body;
  auto no_file = photos::raw_request(
      media_->url(), "POST", "/v1/photos", m.token,
      "multipart/form-data; boundary=" + photos::kBoundary,
      photos::multipart_body(photos::plain_jpeg(), "a.jpg", "image/jpeg", "image"));
  EXPECT_EQ(no_file.status, 400) << no_file.body;
}

TEST(Multipart, parses_a_browser_form_and_refuses_broken_ones) {
  const std::string body = photos::multipart_body("abc\r\ndef", "a;b.jpg", "image/jpeg");
  auto parts = media::parse_multipart(body, photos::kBoundary);
  ASSERT_TRUE(parts);
  ASSERT_EQ(parts->size(), 1u);
  EXPECT_EQ((*parts)[0].name, "file");
  EXPECT_EQ((*parts)[0].filename, "a;b.jpg");
  EXPECT_EQ((*parts)[0].data, "abc\r\ndef");
  EXPECT_FALSE(media::parse_multipart(body.substr(0, body.size() - 12), photos::kBoundary));
  EXPECT_FALSE(media::parse_multipart("", photos::kBoundary));
  EXPECT_EQ(media::multipart_boundary("multipart/form-data; boundary=\"x y\""), "x y");
  EXPECT_FALSE(media::multipart_boundary("application/json"));
  EXPECT_FALSE(media::multipart_boundary("multipart/form-data; boundary=" + std::string(71, 'a')));
}

}  // namespace
}  // namespace maillon::testing
