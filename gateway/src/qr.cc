#include "qr.h"

#include <qrencode.h>
#include <zlib.h>

#include <memory>

#include "pavilion/events/schema.h"

namespace pavilion::gateway {
namespace {

constexpr int kQuiet = 4;

void Be32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}

void Chunk(std::string& png, const char type[4], const std::string& data) {
  Be32(png, static_cast<uint32_t>(data.size()));
  std::string body(type, 4);
  body += data;
  png += body;
  Be32(png, static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(body.data()),
                                        static_cast<uInt>(body.size()))));
}

}  // namespace

Result<QrMatrix> EncodeQr(std::string_view text) {
  std::string copy(text);
  std::unique_ptr<QRcode, decltype(&QRcode_free)> code(
      QRcode_encodeString(copy.c_str(), 0, QR_ECLEVEL_M, QR_MODE_8, 1), &QRcode_free);
  if (!code) {
    return {events::svc_errc::invalid_argument, "the text is too long for a QR code"};
  }
  QrMatrix m;
  m.width = code->width;
  m.dark.resize(static_cast<size_t>(m.width * m.width));
  for (size_t i = 0; i < m.dark.size(); ++i) m.dark[i] = code->data[i] & 1;
  return m;
}

std::string QrSvg(const QrMatrix& qr) {
  const int size = qr.width + 2 * kQuiet;
  std::string s = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " +
                  std::to_string(size) + " " + std::to_string(size) +
                  "\" shape-rendering=\"crispEdges\"><rect width=\"100%\" height=\"100%\" "
                  "fill=\"#fff\"/><path fill=\"#000\" d=\"";
  for (int y = 0; y < qr.width; ++y) {
    for (int x = 0; x < qr.width; ++x) {
      if (qr.at(x, y)) {
        s += "M" + std::to_string(x + kQuiet) + " " + std::to_string(y + kQuiet) + "h1v1h-1z";
      }
    }
  }
  s += "\"/></svg>";
  return s;
}

std::string QrPng(const QrMatrix& qr, int scale) {
  const int px = (qr.width + 2 * kQuiet) * scale;
  // Scanlines: a filter byte (0, none) then one gray byte per pixel.
  std::string raw;
  raw.reserve(static_cast<size_t>((px + 1) * px));
  for (int y = 0; y < px; ++y) {
    raw.push_back(0);
    int my = y / scale - kQuiet;
    for (int x = 0; x < px; ++x) {
      int mx = x / scale - kQuiet;
      bool dark = mx >= 0 && my >= 0 && mx < qr.width && my < qr.width && qr.at(mx, my);
      raw.push_back(dark ? 0 : static_cast<char>(0xff));
    }
  }
  uLongf len = compressBound(static_cast<uLong>(raw.size()));
  std::string deflated(len, '\0');
  compress2(reinterpret_cast<Bytef*>(deflated.data()), &len,
            reinterpret_cast<const Bytef*>(raw.data()), static_cast<uLong>(raw.size()), 9);
  deflated.resize(len);

  std::string png("\x89PNG\r\n\x1a\n", 8);
  std::string ihdr;
  Be32(ihdr, static_cast<uint32_t>(px));
  Be32(ihdr, static_cast<uint32_t>(px));
  ihdr += std::string("\x08\x00\x00\x00\x00", 5);  // 8-bit, grayscale, deflate, no filter/interlace
  Chunk(png, "IHDR", ihdr);
  Chunk(png, "IDAT", deflated);
  Chunk(png, "IEND", "");
  return png;
}

}  // namespace pavilion::gateway
