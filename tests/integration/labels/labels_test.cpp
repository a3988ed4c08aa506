// The label sheet (GET /v1/sites/{id}/labels.pdf) and the kiosk's scan (GET
// /v1/sites/{id}/items?code=) against the real depot and offers services: the PDF is checked by
// real readers (qpdf --check, pdfinfo, pdftotext of Debian's qpdf and poppler-utils), and its QR
// codes are rendered (pdftoppm) and decoded back (zbarimg of zbar-tools) into the objects' URLs.
#include "services/depot/labels.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "depot/depot_world.hpp"
#include "harness.hpp"
#include "services/depot/labels_pdf.hpp"

namespace maillon::testing {
namespace {

namespace fs = std::filesystem;

constexpr const char* kPublicUrl = "https://maillon.example.org";

struct Ran {
  int status = -1;
  std::string out;
};

// A shell command's exit status and standard output.
Ran run(const std::string& command) {
  Ran r;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return r;
  std::array<char, 4096> buffer{};
  std::size_t n = 0;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0)
    r.out.append(buffer.data(), n);
  const int status = ::pclose(pipe);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// A PDF written to a fresh directory, where its renderings go too.
class PdfFile {
 public:
  explicit PdfFile(const std::string& bytes)
      : dir_(fs::temp_directory_path() / ("maillon-labels-" + unique_suffix())) {
    fs::create_directories(dir_);
    std::ofstream(path(), std::ios::binary) << bytes;
  }
  ~PdfFile() { fs::remove_all(dir_); }
  std::string path() const { return (dir_ / "labels.pdf").string(); }

  Ran check() const { return run("qpdf --check " + path() + " 2>&1"); }
  Ran info() const { return run("pdfinfo " + path() + " 2>&1"); }
  Ran text() const { return run("pdftotext -enc UTF-8 " + path() + " - 2>&1"); }
  // Every QR code of the document, decoded. Each label is cut out of its page and read alone,
  // as a scanner reads one label: zbar reading a whole page of codes at once misses some.
  std::multiset<std::string> qr_texts() const {
    const Ran rendered = run("pdftoppm -r " + std::to_string(kDpi) + " -gray -aa no -aaVector no " +
                             path() + " " + (dir_ / "page").string() + " 2>&1");
    EXPECT_EQ(rendered.status, 0) << rendered.out;
    std::string cells;
    for (const auto& entry : fs::directory_iterator(dir_)) {
      if (entry.path().extension() != ".pgm") continue;
      for (std::size_t slot = 0; slot < depot::kLabelsPerPage; ++slot) {
        const fs::path cell = entry.path().string() + "-" + std::to_string(slot) + ".pgm";
        if (cut(entry.path(), depot::label_box(slot), cell)) cells += " " + cell.string();
      }
    }
    std::multiset<std::string> texts;
    if (cells.empty()) return texts;
    const Ran read = run("zbarimg --raw -q -Sdisable -Sqrcode.enable" + cells + " 2>/dev/null");
    std::istringstream lines(read.out);
    for (std::string line; std::getline(lines, line);) {
      if (!line.empty()) texts.insert(line);
    }
    return texts;
  }

 private:
  static constexpr int kDpi = 200;

  // The box (in points) of a binary PGM page written as a PGM of its own.
  static bool cut(const fs::path& page, const depot::LabelBox& box, const fs::path& out) {
    std::ifstream in(page, std::ios::binary);
    std::string magic;
    int width = 0, height = 0, maximum = 0;
    in >> magic >> width >> height >> maximum;
    in.get();
    if (magic != "P5" || width <= 0 || height <= 0) return false;
    std::string pixels(static_cast<std::size_t>(width) * static_cast<std::size_t>(height), '\0');
    in.read(pixels.data(), static_cast<std::streamsize>(pixels.size()));
    const auto px = [](double pt) { return static_cast<int>(pt * kDpi / 72.0); };
    const int x0 = px(box.left), y0 = px(box.top);
    const int w = std::min(px(box.width), width - x0), h = std::min(px(box.height), height - y0);
    std::ofstream o(out, std::ios::binary);
    o << "P5\n" << w << " " << h << "\n255\n";
    for (int y = y0; y < y0 + h; ++y) {
      o.write(pixels.data() + static_cast<std::size_t>(y) * width + x0, w);
    }
    return true;
  }

 private:
  fs::path dir_;
};

// "Pages:   2" of pdfinfo's answer.
int pages_of(const std::string& info) {
  const std::size_t at = info.find("Pages:");
  return at == std::string::npos ? -1 : std::atoi(info.c_str() + at + 6);
}

std::string page_of(const std::string& id) {
  return std::string(kPublicUrl) + "/annonces/offre/" + id;
}

class Labels : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    w_ = new DepotWorld("labels");
    offers_ = new ServiceProcess("offers", w_->world.env({{"MAILLON_PUBLIC_URL", kPublicUrl}}));
    offers_->start();
    // The depot reads the public URL at start: restart it with the test's.
    w_->depot = std::make_unique<ServiceProcess>(
        "depot", w_->world.env({{"MAILLON_CLOCK_OFFSET_FILE", w_->clock_path},
                                {"MAILLON_PUBLIC_URL", kPublicUrl}}));
    w_->depot->start();
  }
  static void TearDownTestSuite() {
    delete offers_;
    delete w_;
  }

  static std::string intake(const std::string& title, const std::string& mode = "give") {
    Json body = {{"category", "perceuses"},
                 {"title", title},
                 {"condition", "good"},
                 {"weight_g", 1500},
                 {"mode", mode}};
    auto r = w_->desk().post("/v1/sites/" + w_->site + "/items", body);
    EXPECT_EQ(r.status, 201) << r.body;
    return r.json().value("id", "");
  }
  // A member's drill to lend, handed over at the site (once offers has heard of the site).
  static std::string lend_offer(const MemberInfo& owner, const std::string& title) {
    const Json body = {{"kind", "good"}, {"mode", "lend"},      {"category", "perceuses"},
                       {"title", title}, {"price_minutes", 30}, {"site_id", w_->site}};
    HttpResult r;
    EXPECT_TRUE(eventually(
        [&] {
          r = Client(offers_->url(), owner.token).post("/v1/offers", body);
          return r.status == 201;
        },
        10000))
        << r.status << " " << r.body;
    return r.json().value("id", "");
  }
  static HttpResult sheet(const Client& client, const std::string& query = "") {
    return client.get("/v1/sites/" + w_->site + "/labels.pdf" + query);
  }

  static inline DepotWorld* w_ = nullptr;
  static inline ServiceProcess* offers_ = nullptr;
};

TEST_F(Labels, a_sheet_reads_as_a_valid_a4_pdf_whose_codes_open_the_objects_pages) {
  const MemberInfo owner = w_->member("Odile");
  const std::string saw = intake("Scie sauteuse « Bosch » — état neuf");
  const std::string drill = intake("Perceuse", "lend");
  const std::string ladder = lend_offer(owner, "Échelle d'Odile");
  const std::string others = intake("Pas sur la planche");

  auto r = sheet(w_->desk(), "?items=" + saw + "," + ladder + "," + drill);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers["content-type"].substr(0, 15), "application/pdf");
  ASSERT_EQ(r.body.substr(0, 8), "%PDF-1.4");
  const PdfFile pdf(r.body);
  const Ran checked = pdf.check();
  EXPECT_EQ(checked.status, 0) << checked.out;  // 0: no error and no warning
  const Ran info = pdf.info();
  ASSERT_EQ(info.status, 0) << info.out;
  EXPECT_EQ(pages_of(info.out), 1) << info.out;
  EXPECT_NE(info.out.find("(A4)"), std::string::npos) << info.out;

  const Ran text = pdf.text();
  EXPECT_NE(text.out.find("Scie sauteuse « Bosch » — état neuf"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("Échelle d'Odile"), std::string::npos) << text.out;
  for (const std::string& id : {saw, drill, ladder}) {
    EXPECT_NE(text.out.find(depot::short_code(id)), std::string::npos) << id << "\n" << text.out;
  }
  EXPECT_EQ(text.out.find(depot::short_code(others)), std::string::npos);

  const std::multiset<std::string> expected = {page_of(saw), page_of(drill), page_of(ladder)};
  EXPECT_EQ(pdf.qr_texts(), expected);
}

TEST_F(Labels, without_a_list_the_sheet_holds_the_sites_objects_over_several_pages) {
  const PdfFile before(sheet(w_->desk()).body);
  const std::size_t already = before.qr_texts().size();
  std::set<std::string> ids;
  while (already + ids.size() < depot::kLabelsPerPage + 3) ids.insert(intake("Objet en série"));
  auto r = sheet(w_->desk());
  ASSERT_EQ(r.status, 200) << r.body;
  const PdfFile pdf(r.body);
  EXPECT_EQ(pdf.check().status, 0) << pdf.check().out;
  EXPECT_EQ(pages_of(pdf.info().out), 2) << pdf.info().out;
  const std::multiset<std::string> read = pdf.qr_texts();
  EXPECT_EQ(read.size(), already + ids.size());
  for (const std::string& id : ids) EXPECT_EQ(read.count(page_of(id)), 1u) << id;
}

TEST_F(Labels, only_the_sites_staff_print_and_only_its_objects) {
  const MemberInfo member = w_->member("Marc");
  const std::string item = intake("Tondeuse");
  EXPECT_EQ(deliberately_wrong([&] { return sheet(Client(w_->depot->url())); }).status, 401);
  EXPECT_EQ(sheet(w_->as(member).wrong(), "?items=" + item).status, 403);
  auto bad = sheet(w_->desk().wrong(), "?items=" + item + ",pas-un-id");
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_EQ(bad.json()["errors"][0]["field"], "items") << bad.body;
  // An id of nothing here (an offer given away, an unknown id) is refused, not skipped.
  const std::string gift_elsewhere = "0b0e2f9a-1c4d-4e5f-8a6b-7c8d9e0f1a2b";
  EXPECT_EQ(sheet(w_->desk().wrong(), "?items=" + item + "," + gift_elsewhere).status, 400);
}

TEST_F(Labels, the_kiosk_finds_an_item_by_its_scanned_url_or_short_code) {
  const std::string item = intake("Ponceuse");
  const std::string path = "/v1/sites/" + w_->site + "/items?code=";
  const Client kiosk(w_->depot->url());  // the kiosk reads the shelf without a session
  for (const std::string& scanned : {page_of(item), item, depot::short_code(item),
                                     item.substr(0, 4) + " " + item.substr(4, 4)}) {
    std::string encoded;
    for (char c : scanned) {
      encoded += std::isalnum(static_cast<unsigned char>(c)) || c == '-' ? std::string(1, c)
                 : c == ' '                                              ? std::string("%20")
                                                                         : [&] {
                                char hex[4];
                                std::snprintf(hex, 4, "%%%02X", static_cast<unsigned char>(c));
                                return std::string(hex);
                              }();
    }
    auto r = kiosk.get(path + encoded);
    ASSERT_EQ(r.status, 200) << scanned << " " << r.body;
    ASSERT_EQ(r.json()["items"].size(), 1u) << scanned << " " << r.body;
    EXPECT_EQ(r.json()["items"][0]["id"], item);
    EXPECT_EQ(r.json()["items"][0]["title"], "Ponceuse");
  }
  // A code of nothing here finds nothing; text that is no code at all is refused.
  auto none = kiosk.get(path + "0b0e2f9a-1c4d-4e5f-8a6b-7c8d9e0f1a2b");
  ASSERT_EQ(none.status, 200);
  EXPECT_TRUE(none.json()["items"].empty());
  EXPECT_EQ(kiosk.wrong().get(path + "bonjour").status, 400);
}

TEST(LabelScan, reads_urls_ids_and_short_codes_and_nothing_else) {
  const std::string id = "3fa291bc-1c4d-4e5f-8a6b-7c8d9e0f1a2b";
  EXPECT_EQ(
      depot::read_scanned_code("https://x.org/annonces/offre/3FA291BC-1C4D-4E5F-8A6B-7C8D9E0F1A2B")
          ->id,
      id);
  EXPECT_EQ(depot::read_scanned_code(id)->id, id);
  EXPECT_EQ(depot::read_scanned_code("3FA2-91BC")->prefix, "3fa291bc");
  EXPECT_EQ(depot::read_scanned_code(" 3fa2 91bc ")->prefix, "3fa291bc");
  EXPECT_FALSE(depot::read_scanned_code("3FA2-91B"));
  EXPECT_FALSE(depot::read_scanned_code("3FA2-91BC-77"));
  EXPECT_FALSE(depot::read_scanned_code("https://x.org/annonces/offre/3FA2"));
  EXPECT_EQ(depot::short_code(id), "3FA2-91BC");
}

TEST(LabelPdf, an_empty_sheet_and_french_names_stay_valid) {
  const PdfFile empty(depot::labels_pdf({}));
  EXPECT_EQ(empty.check().status, 0) << empty.check().out;
  EXPECT_EQ(depot::win_ansi("Œuvre « à » l’été… 5 €"),
            "\x8Cuvre \xAB \xE0 \xBB l\x92\xE9t\xE9\x85 5 \x80");
  EXPECT_EQ(depot::win_ansi("日本"), "??");
  const std::vector<depot::Label> one = {
      {"https://x.org/a", "Titre (avec) \\ barres", "ABCD-0123"}};
  const PdfFile pdf(depot::labels_pdf(one));
  EXPECT_EQ(pdf.check().status, 0) << pdf.check().out;
  EXPECT_NE(pdf.text().out.find("Titre (avec) \\ barres"), std::string::npos) << pdf.text().out;
  EXPECT_EQ(pdf.qr_texts(), std::multiset<std::string>{"https://x.org/a"});
}

}  // namespace
}  // namespace maillon::testing
