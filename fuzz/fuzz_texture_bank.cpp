// libFuzzer target: the texture bank manifest reader (bank.json) must refuse any malformed input
// with std::runtime_error naming the file, and what it accepts must hold only plain file names,
// GSDs and a class weight within their ranges and at most 256 images per style.
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "texture_manifest.h"

namespace {

void check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const auto manifest = terrasynth::pipeline::detail::parse_bank_manifest(text, "bank.json");
    check(manifest.class_weight >= 0 && manifest.class_weight <= 10);
    for (const auto& style : manifest.styles) {
      check(style.gsd > 0.01 && style.gsd < 1000);
      check(style.images.size() <= 256);
      for (const auto& image : style.images)
        for (const std::string* name : {&image.rgb, &image.classes}) {
          check(!name->empty() && *name != "." && *name != "..");
          check(name->find('/') == std::string::npos && name->find('\\') == std::string::npos);
          check(name->find('\0') == std::string::npos);
        }
    }
  } catch (const std::runtime_error& error) {
    check(std::string(error.what()).rfind("bank.json", 0) == 0);
  }
  return 0;
}
