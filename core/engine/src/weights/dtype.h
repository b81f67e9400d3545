#pragma once
// The element types of safetensors files and PyTorch storages, by their safetensors names.
// Torch-free so the file parsers can be fuzzed and sanitised without libtorch.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace terrasynth::engine::weights {

struct DtypeSpec {
  const char* name;  // safetensors name: "F32", "BF16", "BOOL", ...
  size_t bytes;      // size of one element
};

// Every dtype the safetensors format names with a whole-byte element size.
const std::vector<DtypeSpec>& known_dtypes();
// nullptr for an unknown name.
const DtypeSpec* find_dtype(std::string_view name);

// Makes arbitrary bytes (a tensor name, a dtype string) safe to show on one line of a message:
// control and non-ASCII bytes become \xNN and long text is cut.
std::string printable(std::string_view text, size_t max_length = 160);

// Offset of the first byte that is not part of well-formed UTF-8 (no overlong forms, no
// surrogates, nothing above U+10FFFF), or `size` when all is well.
size_t first_invalid_utf8(const uint8_t* text, size_t size);

}  // namespace terrasynth::engine::weights
