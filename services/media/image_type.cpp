// Magic numbers of the accepted formats (see image_type.hpp).
#include "services/media/image_type.hpp"

#include <array>

namespace maillon::media {
namespace {

// ISO BMFF brands of HEIF images (HEVC-coded, single images and sequences; mif1 and msf1 are
// the generic HEIF brands iPhones also write).
constexpr std::array<std::string_view, 8> kHeifBrands = {"heic", "heix", "heim", "heis",
                                                         "hevc", "hevx", "mif1", "msf1"};

bool is_heif(std::string_view b) {
  // [size:4]["ftyp"][major brand:4][minor version:4][compatible brands:4 each...]
  if (b.size() < 16 || b.substr(4, 4) != "ftyp") return false;
  const auto box_size = (static_cast<unsigned char>(b[0]) << 24) |
                        (static_cast<unsigned char>(b[1]) << 16) |
                        (static_cast<unsigned char>(b[2]) << 8) | static_cast<unsigned char>(b[3]);
  if (box_size < 16 || static_cast<std::size_t>(box_size) > b.size() || box_size > 4096) {
    return false;
  }
  auto is_brand = [](std::string_view brand) {
    for (auto known : kHeifBrands) {
      if (brand == known) return true;
    }
    return false;
  };
  if (is_brand(b.substr(8, 4))) return true;
  for (std::size_t at = 16; at + 4 <= static_cast<std::size_t>(box_size); at += 4) {
    if (is_brand(b.substr(at, 4))) return true;
  }
  return false;
}

}  // namespace

std::string_view to_string(ImageType type) {
  switch (type) {
    case ImageType::jpeg:
      return "jpeg";
    case ImageType::png:
      return "png";
    case ImageType::webp:
      return "webp";
    case ImageType::heic:
      return "heic";
  }
  return "jpeg";
}

std::optional<ImageType> sniff_image_type(std::string_view b) {
  if (b.size() >= 3 && b.substr(0, 3) == "\xFF\xD8\xFF") return ImageType::jpeg;
  if (b.size() >= 8 && b.substr(0, 8) == "\x89PNG\r\n\x1A\n") return ImageType::png;
  if (b.size() >= 12 && b.substr(0, 4) == "RIFF" && b.substr(8, 4) == "WEBP") {
    return ImageType::webp;
  }
  if (is_heif(b)) return ImageType::heic;
  return std::nullopt;
}

}  // namespace maillon::media
