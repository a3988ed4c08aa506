// The media service's entry point, all that main.cpp needs.
#pragma once

#include <cstddef>

namespace maillon {
class Service;
}

namespace maillon::media {

// A photo is at most 10 MiB; the request carrying it a little more (the form's boundaries and
// part headers). The HTTP layer refuses a larger body with 413 before reading it.
inline constexpr std::size_t kPhotoBytesMax = 10 * 1024 * 1024;
inline constexpr std::size_t kUploadBodyBytesMax = kPhotoBytesMax + 64 * 1024;

void register_service(Service& service);

}  // namespace maillon::media
