// The media schema's SQL (one named constant per statement, in repository.cpp).
#pragma once

#include <pqxx/pqxx>
#include <string>

namespace maillon::media {

struct PhotoRow {
  std::string id;
  std::string owner_id;
  std::string acted_by;
  int width = 0;
  int height = 0;
  int thumb_width = 0;
  int thumb_height = 0;
  std::string source_type;
  long long source_bytes = 0;
  long long stored_bytes = 0;
  std::string url;  // as answered at upload, kept for the RGPD export
  std::string thumb_url;
};

void insert_photo(pqxx::work& tx, const PhotoRow& row);

}  // namespace maillon::media
