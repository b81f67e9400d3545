#include "texture_manifest.h"

#include <nlohmann/json.hpp>

#include <stdexcept>

namespace terrasynth::pipeline::detail {

BankManifest parse_bank_manifest(const std::string& text, const std::string& where) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(where + ": not valid JSON (" + e.what() + ")");
  }
  if (!doc.is_object() || !doc.contains("styles") || !doc["styles"].is_object())
    throw std::runtime_error(where + ": needs an object 'styles'");
  BankManifest manifest;
  if (doc.contains("class_weight")) {
    const auto& weight = doc["class_weight"];
    if (!weight.is_number() || !(weight.get<double>() >= 0 && weight.get<double>() <= 10))
      throw std::runtime_error(where + ": 'class_weight' must be a number 0 - 10");
    manifest.class_weight = weight.get<double>();
  }
  auto file_name = [&](const nlohmann::json& image, const char* key, const std::string& style) {
    if (!image.contains(key) || !image[key].is_string())
      throw std::runtime_error(where + ": style '" + style + "': each image needs file names 'rgb' and 'classes'");
    const std::string name = image[key].get<std::string>();
    if (name.empty() || name.find('/') != std::string::npos || name.find('\\') != std::string::npos ||
        name == "." || name == ".." || name.find('\0') != std::string::npos)
      throw std::runtime_error(where + ": '" + name + "' must be a plain file name in the bank's folder");
    return name;
  };
  for (const auto& [style, entry] : doc["styles"].items()) {
    if (!entry.is_object() || !entry.contains("gsd") || !entry["gsd"].is_number() || !entry.contains("images") ||
        !entry["images"].is_array())
      throw std::runtime_error(where + ": style '" + style + "' needs a number 'gsd' and an array 'images'");
    BankManifestStyle styled;
    styled.name = style;
    styled.gsd = entry["gsd"].get<double>();
    if (!(styled.gsd > 0.01 && styled.gsd < 1000))
      throw std::runtime_error(where + ": style '" + style + "': 'gsd' must be 0.01 - 1000 metres");
    if (entry["images"].size() > 256) throw std::runtime_error(where + ": style '" + style + "': at most 256 images");
    for (const auto& image : entry["images"]) {
      if (!image.is_object())
        throw std::runtime_error(where + ": style '" + style + "': each image needs file names 'rgb' and 'classes'");
      styled.images.push_back({file_name(image, "rgb", style), file_name(image, "classes", style)});
    }
    manifest.styles.push_back(std::move(styled));
  }
  return manifest;
}

}  // namespace terrasynth::pipeline::detail
