// What an uploaded file is, told by its first bytes (magic numbers) and never by its name or
// the Content-Type the client wrote: an .exe renamed photo.jpg is still an .exe.
#pragma once

#include <optional>
#include <string_view>

namespace maillon::media {

enum class ImageType { jpeg, png, webp, heic };

std::string_view to_string(ImageType type);

// The type of the accepted formats the bytes start like; nullopt for anything else.
std::optional<ImageType> sniff_image_type(std::string_view bytes);

}  // namespace maillon::media
