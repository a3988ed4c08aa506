// The label sheet's PDF (see labels_pdf.hpp). Coordinates are PostScript points (1/72 inch),
// from the bottom left corner of the page, as PDF has them.
#include "services/depot/labels_pdf.hpp"

#include <qrencode.h>

#include <algorithm>
#include <cassert>
#include <cctype>
#include <cstdio>
#include <memory>

namespace maillon::depot {
namespace {

constexpr double kA4Width = kA4WidthPt;
constexpr double kA4Height = kA4HeightPt;
constexpr int kLabelColumns = 3;
constexpr int kLabelRows = 7;
constexpr double kLabelMarginX = 22.0;
constexpr double kLabelMarginY = 28.0;
constexpr double kLabelWidth = (kA4Width - 2 * kLabelMarginX) / kLabelColumns;
constexpr double kLabelHeight = (kA4Height - 2 * kLabelMarginY) / kLabelRows;
constexpr double kQrSide = 78.0;  // with its quiet zone: about 27 mm, read from 30 cm away
constexpr int kQuietModules = 4;  // the white border the QR standard asks for
constexpr std::size_t kNameCharsMax = 40;
constexpr double kNameSize = 7.5;
constexpr double kCodeSize = 11.0;
static_assert(kLabelRows * kLabelColumns == kLabelsPerPage);

std::string number(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.2f", v);
  return buffer;
}

// A PDF literal string: the three characters with a meaning escaped, bytes above 127 in octal.
std::string pdf_string(std::string_view bytes) {
  std::string out = "(";
  for (unsigned char c : bytes) {
    if (c == '(' || c == ')' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 32 || c > 126) {
      char octal[8];
      std::snprintf(octal, sizeof octal, "\\%03o", c);
      out += octal;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + ")";
}

// The QR's dark modules as rectangles, one per horizontal run: a few hundred per code.
void draw_qr(std::string& out, const QrModules& qr, double left, double top, double side) {
  const double module = side / (qr.width + 2 * kQuietModules);
  const double x0 = left + kQuietModules * module;
  const double y0 = top - kQuietModules * module;
  for (int row = 0; row < qr.width; ++row) {
    for (int column = 0; column < qr.width;) {
      if (!qr.at(row, column)) {
        ++column;
        continue;
      }
      int end = column;
      while (end < qr.width && qr.at(row, end)) ++end;
      out += number(x0 + column * module) + ' ' + number(y0 - (row + 1) * module) + ' ' +
             number((end - column) * module) + ' ' + number(module) + " re\n";
      column = end;
    }
  }
  out += "f\n";
}

std::string shortened(const std::string& name) {
  std::string bytes = win_ansi(name);
  if (bytes.size() <= kNameCharsMax) return bytes;
  return bytes.substr(0, kNameCharsMax - 1) + '\x85';  // … in WinAnsi
}

void draw_label(std::string& out, const Label& label, std::size_t slot) {
  const LabelBox box = label_box(slot);
  const double left = box.left;
  const double top = kA4Height - box.top;
  // A light frame to cut along.
  out += "0.8 G 0.4 w " + number(left) + ' ' + number(top - kLabelHeight) + ' ' +
         number(kLabelWidth) + ' ' + number(kLabelHeight) + " re S\n0 g\n";
  const double qr_left = left + (kLabelWidth - kQrSide) / 2;
  if (auto qr = qr_modules(label.url)) draw_qr(out, *qr, qr_left, top - 2, kQrSide);
  const double text_left = left + 8;
  out += "BT /F1 " + number(kNameSize) + " Tf " + number(text_left) + ' ' +
         number(top - kQrSide - 10) + " Td " + pdf_string(shortened(label.name)) + " Tj ET\n";
  // Courier is 0.6 em wide a character: the code is centred exactly.
  const std::string code = win_ansi(label.code);
  const double code_width = 0.6 * kCodeSize * static_cast<double>(code.size());
  out += "BT /F2 " + number(kCodeSize) + " Tf " + number(left + (kLabelWidth - code_width) / 2) +
         ' ' + number(top - kQrSide - 24) + " Td " + pdf_string(code) + " Tj ET\n";
}

// Objects 1 (catalog), 2 (pages), 3 and 4 (fonts), then a page and its content per page.
class PdfWriter {
 public:
  void object(const std::string& body) {
    offsets_.push_back(out_.size());
    out_ += std::to_string(offsets_.size()) + " 0 obj\n" + body + "\nendobj\n";
  }
  std::string finish() {
    const std::size_t xref = out_.size();
    out_ += "xref\n0 " + std::to_string(offsets_.size() + 1) + "\n0000000000 65535 f \n";
    for (std::size_t offset : offsets_) {
      char entry[24];
      std::snprintf(entry, sizeof entry, "%010zu 00000 n \n", offset);
      out_ += entry;
    }
    out_ += "trailer\n<< /Size " + std::to_string(offsets_.size() + 1) +
            " /Root 1 0 R >>\nstartxref\n" + std::to_string(xref) + "\n%%EOF\n";
    return std::move(out_);
  }

 private:
  // The second line's high bytes tell transfer programs the file is binary.
  std::string out_ = "%PDF-1.4\n%\xE2\xE3\xCF\xD3\n";
  std::vector<std::size_t> offsets_;
};

}  // namespace

LabelBox label_box(std::size_t slot) {
  const std::size_t column = slot % kLabelColumns;
  const std::size_t row = slot / kLabelColumns;  // whole rows above this label
  return {kLabelMarginX + (static_cast<double>(column) * kLabelWidth),
          kLabelMarginY + (static_cast<double>(row) * kLabelHeight), kLabelWidth, kLabelHeight};
}

std::optional<QrModules> qr_modules(std::string_view text) {
  const std::string z(text);
  std::unique_ptr<QRcode, decltype(&QRcode_free)> code(
      QRcode_encodeString8bit(z.c_str(), 0, QR_ECLEVEL_M), &QRcode_free);
  if (!code) return std::nullopt;
  QrModules out;
  out.width = code->width;
  const auto side = static_cast<std::size_t>(code->width);
  out.dark.resize(side * side);
  for (std::size_t i = 0; i < out.dark.size(); ++i) out.dark[i] = (code->data[i] & 1) != 0;
  return out;
}

std::string short_code(std::string_view uuid) {
  std::string code;
  for (char c : uuid.substr(0, 8))
    code += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return code.size() == 8 ? code.substr(0, 4) + '-' + code.substr(4) : code;
}

std::string win_ansi(std::string_view utf8) {
  static constexpr std::pair<char32_t, unsigned char> kBeyondLatin1[] = {
      {U'€', 0x80}, {U'‚', 0x82}, {U'„', 0x84}, {U'…', 0x85}, {U'‘', 0x91}, {U'’', 0x92},
      {U'“', 0x93}, {U'”', 0x94}, {U'•', 0x95}, {U'–', 0x96}, {U'—', 0x97}, {U'Œ', 0x8C},
      {U'œ', 0x9C}, {U'Ÿ', 0x9F}, {U'Š', 0x8A}, {U'š', 0x9A}, {U'Ž', 0x8E}, {U'ž', 0x9E}};
  std::string out;
  for (std::size_t i = 0; i < utf8.size();) {
    const auto lead = static_cast<unsigned char>(utf8[i]);
    const int length = lead < 0x80       ? 1
                       : lead >> 5 == 6  ? 2
                       : lead >> 4 == 14 ? 3
                       : lead >> 3 == 30 ? 4
                                         : 0;
    if (length == 0 || i + length > utf8.size()) {
      out += '?';
      ++i;
      continue;
    }
    char32_t point = length == 1 ? lead : lead & (0x7F >> length);
    for (int k = 1; k < length; ++k) point = (point << 6) | (utf8[i + k] & 0x3F);
    i += static_cast<std::size_t>(length);
    if (point < 0x20 || point == 0x7F) {
      out += ' ';
    } else if (point < 0x7F || (point >= 0xA0 && point <= 0xFF)) {
      out += static_cast<char>(point);
    } else {
      const auto* it = std::find_if(std::begin(kBeyondLatin1), std::end(kBeyondLatin1),
                                    [&](const auto& p) { return p.first == point; });
      out += it == std::end(kBeyondLatin1) ? '?' : static_cast<char>(it->second);
    }
  }
  return out;
}

std::string labels_pdf(std::span<const Label> labels) {
  assert(labels.size() <= kLabelsMax);
  const std::size_t pages =
      std::max<std::size_t>(1, (labels.size() + kLabelsPerPage - 1) / kLabelsPerPage);
  PdfWriter pdf;
  pdf.object("<< /Type /Catalog /Pages 2 0 R >>");
  std::string kids;
  for (std::size_t p = 0; p < pages; ++p) kids += std::to_string(5 + 2 * p) + " 0 R ";
  pdf.object("<< /Type /Pages /Kids [ " + kids + "] /Count " + std::to_string(pages) + " >>");
  pdf.object("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>");
  pdf.object(
      "<< /Type /Font /Subtype /Type1 /BaseFont /Courier-Bold /Encoding /WinAnsiEncoding >>");
  for (std::size_t p = 0; p < pages; ++p) {
    pdf.object("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 " + number(kA4Width) + ' ' +
               number(kA4Height) + "] /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> " +
               "/Contents " + std::to_string(6 + 2 * p) + " 0 R >>");
    std::string content;
    const std::size_t first = p * kLabelsPerPage;
    const std::size_t last = std::min(labels.size(), first + kLabelsPerPage);
    for (std::size_t i = first; i < last; ++i) draw_label(content, labels[i], i - first);
    pdf.object("<< /Length " + std::to_string(content.size()) + " >>\nstream\n" + content +
               "endstream");
  }
  return pdf.finish();
}

}  // namespace maillon::depot
