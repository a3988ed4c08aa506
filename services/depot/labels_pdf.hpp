// The printable sheet of QR labels (GET /v1/sites/{id}/labels.pdf): an A4 PDF written here, with
// no PDF library. Each QR code is drawn as filled rectangles (one per run of dark modules), so any
// reader and printer render it sharp at any size; the texts use the standard Helvetica and
// Courier fonts every PDF reader has, so nothing is embedded.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace maillon::depot {

// One label: the QR holds `url`; `name` (UTF-8) and `code` are printed under it.
struct Label {
  std::string url;
  std::string name;
  std::string code;
};

// 3 columns × 7 rows of 70 × 42 mm-ish cells per A4 page; at most kLabelPagesMax pages.
inline constexpr std::size_t kLabelsPerPage = 21;
inline constexpr std::size_t kLabelPagesMax = 4;
inline constexpr std::size_t kLabelsMax = kLabelsPerPage * kLabelPagesMax;

// Where the label of a page's `slot` (0 to kLabelsPerPage - 1, row by row) lies, in points from
// the page's top left corner (what a test crops to read one label as a scanner would).
struct LabelBox {
  double left = 0;
  double top = 0;
  double width = 0;
  double height = 0;
};
LabelBox label_box(std::size_t slot);
inline constexpr double kA4WidthPt = 595.28;  // 210 × 297 mm
inline constexpr double kA4HeightPt = 841.89;

// A QR code's modules, row by row from the top (true: dark), without the quiet zone.
struct QrModules {
  int width = 0;
  std::vector<bool> dark;
  bool at(int row, int column) const {
    return dark[(static_cast<std::size_t>(row) * static_cast<std::size_t>(width)) +
                static_cast<std::size_t>(column)];
  }
};
// libqrencode, error correction M (15 %: a scuffed label still reads); nothing when the text
// cannot be encoded (too long).
std::optional<QrModules> qr_modules(std::string_view text);

// The short code printed under a QR and typed at the kiosk when a scan fails: the first 8 hex
// digits of the id, "3FA2-91BC".
std::string short_code(std::string_view uuid);

// The PDF 1.4 document (at most kLabelsMax labels; at least one page, blank when none).
std::string labels_pdf(std::span<const Label> labels);

// UTF-8 as the WinAnsi bytes of the standard fonts: Latin-1 and the typographic signs French
// uses (’ « » … œ €); anything else becomes '?'.
std::string win_ansi(std::string_view utf8);

}  // namespace maillon::depot
