// Photos re-encoded with libvips: the stored image and its thumbnail are new JPEG files made
// from the decoded pixels, turned upright by their orientation tag first, and saved without any
// metadata block (EXIF with its GPS position, XMP, IPTC, ICC, comments). Decoding is bounded:
// a file announcing absurd dimensions (a decompression bomb) is refused from its header alone.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "services/media/image_type.hpp"

namespace maillon::media {

// Refused from the header, before any pixel is decoded: each side and the area.
inline constexpr int kSideMax = 16384;
inline constexpr int64_t kPixelsMax = 50'000'000;
// What the decoded pixels may weigh: 50 megapixels of 8-bit RGBA. An image of deeper samples
// (16-bit) or more bands must have fewer pixels: each byte decoded costs memory and time.
inline constexpr int64_t kDecodedBytesMax = kPixelsMax * 4;
// The stored photo fits in this square (never enlarged); the thumbnail in the second.
inline constexpr int kPhotoSideMax = 2048;
inline constexpr int kThumbSideMax = 400;

// libvips started once per process (its own threads and caches) with what a service needs:
// no operation cache (each photo is seen once), one thread per operation (the lane bounds how
// many run), and untrusted loaders blocked (only the formats accepted here ever decode).
// Thread-safe and idempotent; process_photo and make_thumbnail call it, so the first photo
// starts libvips and an idle service never does. Throws when libvips does not start.
void init_imaging();

// At start, without starting libvips: the library loaded is at least the version this service
// was built against (older ones lack what it calls). Throws otherwise.
void check_imaging_library();

enum class ImagingOutcome { ok, unreadable, too_many_pixels };

struct EncodedImage {
  std::string bytes;  // JPEG
  int width = 0;
  int height = 0;
};

struct ProcessedPhoto {
  ImagingOutcome outcome = ImagingOutcome::unreadable;
  EncodedImage photo;
  EncodedImage thumb;
};

// Decodes `source` (already sniffed as `type`), checks its dimensions, and makes the photo and
// its thumbnail. Thread-safe; each call holds at most one decoded photo in memory.
ProcessedPhoto process_photo(std::string_view source, ImageType type);

// The thumbnail alone, straight from a source image (what the benchmark times).
ImagingOutcome make_thumbnail(std::string_view source, int side_max, EncodedImage& out);

}  // namespace maillon::media
