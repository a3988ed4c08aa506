// Benchmark of photo thumbnails: 4,000×3,000 JPEGs (a 12-megapixel phone photo) made into the
// media service's 400 px thumbnail (services/media/imaging.hpp: header check, shrink-on-load,
// upright, re-encoded without metadata) against libvips' own command-line tool vipsthumbnail
// doing the same in the same run (the anchor), both on one thread.
//
// Env: optional MAILLON_BENCH_PHOTOS (default 40). Needs vips and vipsthumbnail (libvips-tools).
// Prints: BENCH media.thumbnail ours=<thumbnails/s> anchor=<thumbnails/s> ratio=<x>.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "services/media/imaging.hpp"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

void run(const std::string& command) {
  if (std::system(command.c_str()) != 0) throw std::runtime_error("failed: " + command);
}

// A photo-like 4000×3000 JPEG: smoothed noise in three bands (a flat image would decode and
// compress unrealistically fast).
std::string make_source(const fs::path& dir) {
  const std::string d = dir.string();
  run("vips gaussnoise " + d + "/n.v 4000 3000 --sigma 40 --mean 128 && vips gaussblur " + d +
      "/n.v " + d + "/b.v 2 && vips bandjoin \"" + d + "/b.v " + d + "/b.v " + d + "/b.v\" " + d +
      "/c.v && vips cast " + d + "/c.v " + d + "/u.v uchar && vips jpegsave " + d + "/u.v " + d +
      "/photo.jpg --Q 88");
  std::ifstream in(dir / "photo.jpg", std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

double ours_per_second(const std::string& source, int photos) {
  maillon::media::EncodedImage out;
  maillon::media::make_thumbnail(source, maillon::media::kThumbSideMax, out);  // warm-up
  const auto start = Clock::now();
  for (int i = 0; i < photos; ++i) {
    if (maillon::media::make_thumbnail(source, maillon::media::kThumbSideMax, out) !=
        maillon::media::ImagingOutcome::ok) {
      throw std::runtime_error("thumbnail failed");
    }
  }
  return photos / std::chrono::duration<double>(Clock::now() - start).count();
}

// vipsthumbnail given the same file `photos` times in one process (no start-up per photo),
// writing a stripped JPEG of the same size.
double anchor_per_second(const fs::path& dir, int photos) {
  std::string files;
  for (int i = 0; i < photos; ++i) files += " " + (dir / "photo.jpg").string();
  const std::string tool = "VIPS_CONCURRENCY=1 vipsthumbnail --size 400 -o '" +
                           (dir / "tn_%s.jpg").string() + "[Q=82,strip]'";
  run(tool + " " + (dir / "photo.jpg").string());  // warm-up
  const auto start = Clock::now();
  run(tool + files);
  return photos / std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

int main() {
  const char* given = std::getenv("MAILLON_BENCH_PHOTOS");
  const int photos = given && *given ? std::atoi(given) : 40;
  const fs::path dir =
      fs::temp_directory_path() / ("maillon-bench-media-" + std::to_string(getpid()));
  fs::create_directories(dir);
  try {
    const std::string source = make_source(dir);
    const double anchor = anchor_per_second(dir, photos);
    const double ours = ours_per_second(source, photos);
    std::printf("BENCH media.thumbnail ours=%.1f anchor=%.1f ratio=%.2f\n", ours, anchor,
                ours / anchor);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "media bench: %s\n", e.what());
    fs::remove_all(dir);
    return 1;
  }
  fs::remove_all(dir);
  return 0;
}
