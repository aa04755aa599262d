#include "apps/stackoverflow/codec.h"

#include <zlib.h>

#include <cstdint>
#include <cstdlib>

namespace wisp::stackoverflow {

std::string Gzip(std::string_view data) {
  z_stream zs{};
  // 15 + 16: a gzip header and trailer instead of zlib's.
  deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, data.size()) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);  // the buffer is deflateBound-sized, so one call finishes
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

namespace {

void AppendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// The code point of the reference between '&' and ';', or -1.
int64_t ReferenceCodePoint(std::string_view name) {
  if (name == "amp") return '&';
  if (name == "lt") return '<';
  if (name == "gt") return '>';
  if (name == "quot") return '"';
  if (name == "apos") return '\'';
  if (name == "nbsp") return 0xA0;
  if (name.size() < 2 || name[0] != '#') return -1;
  const bool hex = name[1] == 'x' || name[1] == 'X';
  std::string digits(name.substr(hex ? 2 : 1));
  if (digits.empty() || digits.size() > 8) return -1;
  char* end = nullptr;
  const long cp = std::strtol(digits.c_str(), &end, hex ? 16 : 10);
  if (*end != '\0' || cp <= 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return -1;
  return cp;
}

}  // namespace

std::string DecodeHtmlEntities(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '&') {
      const size_t semi = text.find(';', i + 1);
      if (semi != std::string_view::npos && semi - i <= 10) {
        const int64_t cp = ReferenceCodePoint(text.substr(i + 1, semi - i - 1));
        if (cp >= 0) {
          AppendUtf8(out, static_cast<uint32_t>(cp));
          i = semi;
          continue;
        }
      }
    }
    out += text[i];
  }
  return out;
}

std::string SlackEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string SlackLink(std::string_view url, std::string_view label) {
  std::string safe_label;
  for (char c : SlackEscape(label)) {
    if (c == '|') {
      safe_label += "\xE2\x88\xA3";  // U+2223 DIVIDES, looks like '|'
    } else {
      safe_label += c;
    }
  }
  return "<" + SlackEscape(url) + "|" + safe_label + ">";
}

}  // namespace wisp::stackoverflow
