// POST /v1/photos: one photo in multipart/form-data → its re-encoded copy and thumbnail stored,
// 201 {id, url, thumb_url, width, height}. The type is told by the bytes, never by the name or
// the Content-Type; decoding waits in a bounded lane; files are stored before the record, so a
// photo id that exists always has its files.
#include <malloc.h>

#include <memory>

#include "services/common/auth.hpp"
#include "services/common/config.hpp"
#include "services/common/errors.hpp"
#include "services/common/http.hpp"
#include "services/common/ids.hpp"
#include "services/common/json_body.hpp"
#include "services/common/log.hpp"
#include "services/common/service.hpp"
#include "services/common/text.hpp"
#include "services/media/decode_lane.hpp"
#include "services/media/image_type.hpp"
#include "services/media/imaging.hpp"
#include "services/media/messages.hpp"
#include "services/media/multipart.hpp"
#include "services/media/register.hpp"
#include "services/media/repository.hpp"
#include "services/media/storage.hpp"

namespace maillon::media {
namespace {

struct MediaSettings {
  std::string dir;       // MAILLON_MEDIA_DIR
  std::string url_base;  // MAILLON_MEDIA_URL: where the gateway serves that directory
  S3Settings s3;         // MAILLON_MEDIA_S3_*: the store instead of the directory when url is set
  int decode_threads = 2;
  int decode_queue = 16;

  static MediaSettings from_env() {
    MediaSettings s;
    s.dir = Config::text("MAILLON_MEDIA_DIR", std::string(MAILLON_DEFAULT_MEDIA_DIR));
    s.url_base = Config::text("MAILLON_MEDIA_URL", "/media");
    while (s.url_base.size() > 1 && s.url_base.back() == '/') s.url_base.pop_back();
    s.decode_threads = static_cast<int>(Config::integer("MAILLON_IMAGE_THREADS", 2, 1, 64));
    s.decode_queue = static_cast<int>(Config::integer("MAILLON_IMAGE_QUEUE", 16, 0, 1024));
    s.s3.url = Config::text("MAILLON_MEDIA_S3_URL", "");
    if (!s.s3.url.empty()) {
      s.s3.url = Config::url("MAILLON_MEDIA_S3_URL", "", {"http", "https"});
      s.s3.bucket = Config::text("MAILLON_MEDIA_S3_BUCKET", "maillon-media");
      s.s3.region = Config::text("MAILLON_MEDIA_S3_REGION", "us-east-1");
      s.s3.access_key = Config::text("MAILLON_MEDIA_S3_ACCESS_KEY", "");
      s.s3.secret_key = Config::text("MAILLON_MEDIA_S3_SECRET_KEY", "");
    }
    return s;
  }
};

// The file part named "file" of the request, or the refusal that says what is wrong.
std::string_view upload_of(const Request& req, std::vector<FormPart>& parts) {
  auto boundary = multipart_boundary(req.header("content-type").value_or(""));
  if (!boundary) throw problem(MediaRefusal::not_multipart);
  auto parsed = parse_multipart(req.body, *boundary);
  if (!parsed) throw problem(MediaRefusal::malformed_form);
  parts = std::move(*parsed);
  for (const FormPart& part : parts) {
    if (part.name != "file") continue;
    if (part.data.empty()) throw problem(MediaRefusal::file_empty);
    if (part.data.size() > kPhotoBytesMax) throw problem(MediaRefusal::file_too_large);
    return part.data;
  }
  throw problem(MediaRefusal::file_missing);
}

void refuse(ImagingOutcome outcome) {
  if (outcome == ImagingOutcome::too_many_pixels) throw problem(MediaRefusal::too_many_pixels);
  if (outcome != ImagingOutcome::ok) throw problem(MediaRefusal::unreadable);
}

class PhotoRoutes {
 public:
  PhotoRoutes(Service& service, MediaSettings settings)
      : service_(service),
        settings_(std::move(settings)),
        store_(settings_.s3.url.empty() ? disk_store(settings_.dir) : s3_store(settings_.s3)),
        lane_(settings_.decode_threads, static_cast<std::size_t>(settings_.decode_queue)) {}

  // GET /media/ab/<uuid>.jpg (or -thumb.jpg): a stored file, for whoever has its unguessable
  // name, kept a year by any cache (never changed). What the gateway serves from the directory
  // itself; the only way to the files of an S3-compatible store, whose bucket stays private.
  Response file(const Request& req) {
    const std::string key = req.param("dir") + "/" + req.param("file");
    if (!is_photo_key(key)) throw not_found("Photo introuvable.");
    std::optional<std::string> bytes = store_->get(key);
    if (!bytes) throw not_found("Photo introuvable.");
    Response r = Response::text(200, std::move(*bytes), "image/jpeg");
    r.headers.emplace_back("Cache-Control", "public, max-age=31536000, immutable");
    return r;
  }

  Response upload(const Request& req) {
    const Identity who = service_.auth.require(req);
    std::vector<FormPart> parts;
    const std::string_view source = upload_of(req, parts);
    const auto type = sniff_image_type(source);
    if (!type) throw problem(MediaRefusal::unsupported_type);
    ProcessedPhoto processed;
    {
      DecodeLane::Ticket ticket(lane_, who.member_id);
      if (!ticket.admitted()) throw problem(MediaRefusal::busy);
      processed = process_photo(source, *type);
    }
    // A decode's pixels were freed: hand their pages back (glibc keeps large freed blocks in
    // the heap once its mmap threshold has grown), so a burst of photos leaves no lasting RSS.
    malloc_trim(0);
    refuse(processed.outcome);
    const std::string row_id = new_uuid();
    PhotoRow row{.id = row_id,
                 .owner_id = who.member_id,
                 .acted_by = who.actor_id(),
                 .width = processed.photo.width,
                 .height = processed.photo.height,
                 .thumb_width = processed.thumb.width,
                 .thumb_height = processed.thumb.height,
                 .source_type = std::string(to_string(*type)),
                 .source_bytes = static_cast<long long>(source.size()),
                 .stored_bytes = static_cast<long long>(processed.photo.bytes.size()),
                 .url = settings_.url_base + "/" + photo_key(row_id),
                 .thumb_url = settings_.url_base + "/" + thumb_key(row_id)};
    store(row, processed);
    return json_response(201, {{"id", row.id},
                               {"url", row.url},
                               {"thumb_url", row.thumb_url},
                               {"width", row.width},
                               {"height", row.height},
                               {"thumb_width", row.thumb_width},
                               {"thumb_height", row.thumb_height}});
  }

 private:
  Service& service_;
  MediaSettings settings_;
  std::unique_ptr<PhotoStore> store_;
  DecodeLane lane_;

  // "ab/<uuid>.jpg" or "ab/<uuid>-thumb.jpg" whose directory is the id's first two characters:
  // only names this service writes (nothing else of the store is reachable).
  static bool is_photo_key(const std::string& key) {
    if (key.size() < 3 + 36 + 4 || key[2] != '/') return false;
    const std::string id = key.substr(3, 36);
    if (!is_uuid(id) || id != lowercase_ascii(id) || key.substr(0, 2) != id.substr(0, 2))
      return false;
    return key == photo_key(id) || key == thumb_key(id);
  }

  // Two hex characters of the id as a directory keep any one directory small.
  static std::string photo_key(const std::string& id) {
    return id.substr(0, 2) + "/" + id + ".jpg";
  }
  static std::string thumb_key(const std::string& id) {
    return id.substr(0, 2) + "/" + id + "-thumb.jpg";
  }

  void store(const PhotoRow& row, const ProcessedPhoto& processed) {
    store_->put(photo_key(row.id), processed.photo.bytes, "image/jpeg");
    store_->put(thumb_key(row.id), processed.thumb.bytes, "image/jpeg");
    try {
      service_.db.transact([&](pqxx::work& tx) { insert_photo(tx, row); });
    } catch (...) {
      store_->remove(photo_key(row.id));
      store_->remove(thumb_key(row.id));
      throw;
    }
  }
};

}  // namespace

void register_service(Service& service) {
  // libvips itself starts with the first photo (init_imaging, once): its modules, types and
  // threads cost about 13 MiB of resident memory (measured: 25 MiB idle, 38 after a photo) that an
  // idle service need not hold. What can be checked without starting it is, so that a wrong library
  // still stops the service here.
  check_imaging_library();
  auto routes = std::make_shared<PhotoRoutes>(service, MediaSettings::from_env());
  service.http.route("POST", "/v1/photos",
                     [routes](const Request& req) { return routes->upload(req); });
  service.http.route("GET", "/media/{dir}/{file}",
                     [routes](const Request& req) { return routes->file(req); });
}

}  // namespace maillon::media
