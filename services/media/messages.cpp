// The media service's message table (see messages.hpp).
#include "services/media/messages.hpp"

namespace maillon::media {
namespace {

constexpr std::string_view kUnsupportedTitle = "Type de fichier non pris en charge";

constexpr MessageRow<MediaRefusal> kRefusals[] = {
    {MediaRefusal::not_multipart,
     {.status = 415,
      .code = "unsupported-media-type",
      .detail_fr = "Envoyez la photo en multipart/form-data, dans le champ « file ».",
      .title_fr = kUnsupportedTitle}},
    {MediaRefusal::malformed_form,
     field_row("file", "formulaire multipart illisible", "Le formulaire envoyé est mal formé.")},
    {MediaRefusal::file_missing,
     field_row("file", "est obligatoire", "Aucune photo dans le champ « file ».")},
    {MediaRefusal::file_empty, field_row("file", "est vide", "Le fichier envoyé est vide.")},
    {MediaRefusal::file_too_large,
     {.status = 413, .code = "payload-too-large", .detail_fr = "Une photo pèse au plus 10 Mo."}},
    {MediaRefusal::unsupported_type,
     {.status = 415,
      .code = "unsupported-media-type",
      .detail_fr = "Seules les photos JPEG, PNG, WebP ou HEIC sont acceptées.",
      .title_fr = kUnsupportedTitle}},
    {MediaRefusal::unreadable,
     {.status = 415,
      .code = "unsupported-media-type",
      .detail_fr = "Cette image est endommagée ou illisible.",
      .title_fr = kUnsupportedTitle}},
    {MediaRefusal::too_many_pixels,
     {.status = 422,
      .code = "image-too-large",
      .detail_fr =
          "Les dimensions de cette image sont démesurées (au plus 50 mégapixels, 200 Mo une "
          "fois décodée)."}},
    {MediaRefusal::busy,
     too_many_row("Trop de photos sont en cours de traitement : réessayez dans un instant.")},
};

}  // namespace

std::span<const MessageRow<MediaRefusal>> refusal_messages() {
  return kRefusals;
}

ApiError problem(MediaRefusal refusal) {
  if (refusal == MediaRefusal::busy) {
    return too_many_requests(2, std::string(problem_text(refusal_messages(), refusal).detail_fr));
  }
  return problem_for(refusal_messages(), refusal);
}

}  // namespace maillon::media
