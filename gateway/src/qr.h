// QR codes for trace pages: libqrencode for the symbol, then SVG or PNG (8-bit grayscale, written
// here with zlib) for the gateway to serve. Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "pavilion/storage/status.h"

namespace pavilion::gateway {

struct QrMatrix {
  int width = 0;           // Modules per side, without the quiet zone.
  std::vector<bool> dark;  // width * width, row by row.
  bool at(int x, int y) const { return dark[static_cast<size_t>(y * width + x)]; }
};

Result<QrMatrix> EncodeQr(std::string_view text);
// A square SVG with a four-module quiet zone.
std::string QrSvg(const QrMatrix& qr);
// A PNG with `scale` pixels per module and a four-module quiet zone.
std::string QrPng(const QrMatrix& qr, int scale = 8);

}  // namespace pavilion::gateway
