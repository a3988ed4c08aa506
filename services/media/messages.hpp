// The media service's words: one row per refusal with its HTTP status, problem type and French
// text. The only place its answers are put into words.
#pragma once

#include <span>

#include "services/common/problems.hpp"

namespace maillon::media {

enum class MediaRefusal {
  not_multipart,     // the body is not multipart/form-data with a valid boundary
  malformed_form,    // multipart that does not parse
  file_missing,      // no part named "file"
  file_empty,        // a "file" part without bytes
  file_too_large,    // more than kPhotoBytesMax
  unsupported_type,  // not JPEG, PNG, WebP or HEIC by its bytes
  unreadable,        // starts like an image but does not decode
  too_many_pixels,   // dimensions of a decompression bomb
  busy,              // the decode lane is full
};
inline constexpr MediaRefusal kLastMediaRefusal = MediaRefusal::busy;

std::span<const MessageRow<MediaRefusal>> refusal_messages();
ApiError problem(MediaRefusal refusal);

}  // namespace maillon::media
