#include "weights/dtype.h"

#include <cstdio>

namespace terrasynth::engine::weights {

const std::vector<DtypeSpec>& known_dtypes() {
  static const std::vector<DtypeSpec> kDtypes = {
      {"BOOL", 1}, {"U8", 1},  {"I8", 1},  {"F8_E5M2", 1}, {"F8_E4M3", 1},
      {"I16", 2},  {"U16", 2}, {"F16", 2}, {"BF16", 2},    {"I32", 4},
      {"U32", 4},  {"F32", 4}, {"F64", 8}, {"I64", 8},     {"U64", 8},
  };
  return kDtypes;
}

const DtypeSpec* find_dtype(std::string_view name) {
  for (const auto& spec : known_dtypes())
    if (name == spec.name) return &spec;
  return nullptr;
}

std::string printable(std::string_view text, size_t max_length) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (out.size() >= max_length) {
      out += "...";
      break;
    }
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", c);
      out += escaped;
    }
  }
  return out;
}

size_t first_invalid_utf8(const uint8_t* text, size_t size) {
  size_t i = 0;
  while (i < size) {
    const uint8_t c = text[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t length = 0;
    uint8_t low = 0x80, high = 0xbf;  // allowed range of the second byte
    if (c >= 0xc2 && c <= 0xdf) {
      length = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
      length = 3;
      if (c == 0xe0) low = 0xa0;
      if (c == 0xed) high = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      length = 4;
      if (c == 0xf0) low = 0x90;
      if (c == 0xf4) high = 0x8f;
    } else {
      return i;
    }
    if (size - i < length) return i;
    if (text[i + 1] < low || text[i + 1] > high) return i;
    for (size_t k = 2; k < length; ++k)
      if (text[i + k] < 0x80 || text[i + k] > 0xbf) return i;
    i += length;
  }
  return size;
}

}  // namespace terrasynth::engine::weights
