// libvips behind imaging.hpp: the only file of the media service that knows its C API.
#include "services/media/imaging.hpp"

#include <vips/vips.h>

#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>

namespace maillon::media {
namespace {

// One owner per VipsImage reference and per buffer libvips hands back.
struct ObjectUnref {
  void operator()(VipsImage* image) const { g_object_unref(image); }
};
using ImagePtr = std::unique_ptr<VipsImage, ObjectUnref>;
struct GFree {
  void operator()(void* p) const { g_free(p); }
};

// libvips names its loaders by class: the one it would pick must be the sniffed format's, so a
// file that merely starts like a JPEG never reaches another decoder.
bool loader_matches(std::string_view source, ImageType type) {
  const char* loader = vips_foreign_find_load_buffer(source.data(), source.size());
  if (loader == nullptr) return false;
  const std::string_view name(loader);
  switch (type) {
    case ImageType::jpeg:
      return name.find("Jpeg") != std::string_view::npos;
    case ImageType::png:
      return name.find("Png") != std::string_view::npos;
    case ImageType::webp:
      return name.find("Webp") != std::string_view::npos;
    case ImageType::heic:
      return name.find("Heif") != std::string_view::npos;
  }
  return false;
}

// The header only (libvips decodes lazily): refuses absurd dimensions before any pixel.
ImagingOutcome check_header(std::string_view source) {
  ImagePtr header(vips_image_new_from_buffer(source.data(), source.size(), "", nullptr));
  if (!header) return ImagingOutcome::unreadable;
  const int64_t width = vips_image_get_width(header.get());
  const int64_t height = vips_image_get_height(header.get());
  if (width <= 0 || height <= 0) return ImagingOutcome::unreadable;
  if (width > kSideMax || height > kSideMax || width * height > kPixelsMax) {
    return ImagingOutcome::too_many_pixels;
  }
  const int64_t sample_bytes =
      static_cast<int64_t>(vips_format_sizeof(vips_image_get_format(header.get())));
  const int64_t decoded = width * height * vips_image_get_bands(header.get()) * sample_bytes;
  if (decoded > kDecodedBytesMax) return ImagingOutcome::too_many_pixels;
  return ImagingOutcome::ok;
}

// A transparent PNG or WebP goes onto white (JPEG has no alpha; libvips would use black).
ImagePtr flatten(ImagePtr image) {
  if (!vips_image_hasalpha(image.get())) return image;
  VipsArrayDouble* white = vips_array_double_newv(1, 255.0);
  VipsImage* flat = nullptr;
  const int failed = vips_flatten(image.get(), &flat, "background", white, nullptr);
  vips_area_unref(VIPS_AREA(white));
  if (failed != 0) return nullptr;
  return ImagePtr(flat);
}

// JPEG with every metadata block left out ("strip"): EXIF, XMP, IPTC, ICC and comments.
bool encode_jpeg(VipsImage* image, EncodedImage& out) {
  void* buffer = nullptr;
  size_t size = 0;
  if (vips_jpegsave_buffer(image, &buffer, &size, "Q", 82, "strip", TRUE, "optimize_coding", TRUE,
                           nullptr) != 0) {
    return false;
  }
  std::unique_ptr<void, GFree> owned(buffer);
  out.bytes.assign(static_cast<const char*>(buffer), size);
  out.width = vips_image_get_width(image);
  out.height = vips_image_get_height(image);
  return true;
}

// Shrunk to fit side_max (never enlarged; shrink-on-load when the format allows it) and turned
// upright by its orientation tag (vips_thumbnail's auto-rotation), then encoded.
ImagingOutcome shrink_and_encode(std::string_view source, int side_max, EncodedImage& out) {
  VipsImage* raw = nullptr;
  if (vips_thumbnail_buffer(const_cast<char*>(source.data()), source.size(), &raw, side_max,
                            "height", side_max, "size", VIPS_SIZE_DOWN, nullptr) != 0) {
    vips_error_clear();
    return ImagingOutcome::unreadable;
  }
  ImagePtr image = flatten(ImagePtr(raw));
  const bool encoded = image && encode_jpeg(image.get(), out);
  if (!encoded) vips_error_clear();
  return encoded ? ImagingOutcome::ok : ImagingOutcome::unreadable;
}

}  // namespace

void init_imaging() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (VIPS_INIT("maillon-media") != 0) throw std::runtime_error("libvips did not start");
    vips_cache_set_max(0);
    vips_concurrency_set(1);
    vips_block_untrusted_set(TRUE);
  });
}

void check_imaging_library() {
  // vips_version reads constants: no type system, module or thread is started by it.
  const int major = vips_version(0), minor = vips_version(1);
  if (major < VIPS_MAJOR_VERSION || (major == VIPS_MAJOR_VERSION && minor < VIPS_MINOR_VERSION)) {
    throw std::runtime_error("libvips " + std::to_string(major) + "." + std::to_string(minor) +
                             " is older than the " VIPS_VERSION " this service was built with");
  }
}

ImagingOutcome make_thumbnail(std::string_view source, int side_max, EncodedImage& out) {
  init_imaging();
  const ImagingOutcome header = check_header(source);
  if (header != ImagingOutcome::ok) {
    vips_error_clear();
    return header;
  }
  return shrink_and_encode(source, side_max, out);
}

ProcessedPhoto process_photo(std::string_view source, ImageType type) {
  init_imaging();
  ProcessedPhoto p;
  if (!loader_matches(source, type)) {
    vips_error_clear();
    return p;
  }
  p.outcome = check_header(source);
  if (p.outcome != ImagingOutcome::ok) {
    vips_error_clear();
    return p;
  }
  p.outcome = shrink_and_encode(source, kPhotoSideMax, p.photo);
  // The thumbnail comes from the photo just made: upright already, and a smaller decode.
  if (p.outcome == ImagingOutcome::ok) {
    p.outcome = shrink_and_encode(p.photo.bytes, kThumbSideMax, p.thumb);
  }
  return p;
}

}  // namespace maillon::media
