#pragma once
// The manifest of a texture bank (bank.json), parsed and checked without reading any image:
// only nlohmann::json, so the libFuzzer target can take it alone (fuzz/fuzz_texture_bank.cpp).
#include <string>
#include <vector>

namespace terrasynth::pipeline::detail {

struct BankManifestImage {
  std::string rgb;      // plain file names in the bank's folder
  std::string classes;
};

struct BankManifestStyle {
  std::string name;
  double gsd = 0;
  std::vector<BankManifestImage> images;
};

struct BankManifest {
  double class_weight = 0.05;
  std::vector<BankManifestStyle> styles;
};

// Parses `text`; throws std::runtime_error starting with `where` and naming the problem: not
// JSON, a missing or mistyped entry, a GSD outside 0.01 - 1000 m, more than 256 images per
// style, a file name that is empty or holds a path, class_weight outside 0 - 10.
BankManifest parse_bank_manifest(const std::string& text, const std::string& where);

}  // namespace terrasynth::pipeline::detail
