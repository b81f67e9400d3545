#include "runtime/detail_config.h"

#include <algorithm>
#include <cmath>

#include "terrasynth/engine/error.h"

namespace terrasynth::engine {

namespace {

[[noreturn]] void bad_config(const std::string& label, const std::string& problem) {
  throw EngineError(EngineError::Kind::ModelFormat, label + ": " + problem);
}

// Typed reads that refuse what would not convert exactly (a float where an integer belongs, an
// integer beyond int's range) instead of letting the JSON library cast it.
void read_int(const nlohmann::json& json, const char* key, int& value, const std::string& label) {
  if (!json.contains(key)) return;
  const auto& item = json.at(key);
  constexpr int64_t kLimit = int64_t{1} << 30;
  bool ok = item.is_number_integer();
  if (ok && item.is_number_unsigned()) ok = item.get<uint64_t>() <= static_cast<uint64_t>(kLimit);
  else if (ok) ok = item.get<int64_t>() >= -kLimit && item.get<int64_t>() <= kLimit;
  if (!ok) bad_config(label, std::string("'") + key + "' must be an integer");
  value = static_cast<int>(item.get<int64_t>());
}

void read_double(const nlohmann::json& json, const char* key, double& value, const std::string& label) {
  if (!json.contains(key)) return;
  if (!json.at(key).is_number()) bad_config(label, std::string("'") + key + "' must be a number");
  value = json.at(key).get<double>();
}

int log2_exact(int value) {
  int n = 0;
  while (n < 30 && (1 << n) < value) ++n;
  return (1 << n) == value ? n : -1;
}

}  // namespace

DetailDecoderConfig DetailDecoderConfig::from_json(const nlohmann::json& json, const std::string& label) {
  if (!json.is_object()) bad_config(label, "the detail decoder config must be a JSON object");
  const auto format = json.find("format");
  if (format == json.end() || !format->is_string() || format->get<std::string>() != "terrasynth-detail-decoder")
    bad_config(label, "not a detail decoder config (\"format\" must be \"terrasynth-detail-decoder\")");
  DetailDecoderConfig config;
  read_int(json, "factor", config.factor, label);
  read_int(json, "num_classes", config.num_classes, label);
  read_int(json, "num_styles", config.num_styles, label);
  read_int(json, "blocks", config.blocks, label);
  read_int(json, "stage_blocks", config.stage_blocks, label);
  read_double(json, "gsd_reference", config.gsd_reference, label);
  read_double(json, "gsd_scale", config.gsd_scale, label);
  read_double(json, "input_blur", config.input_blur, label);
  if (json.contains("noise")) {
    if (!json.at("noise").is_boolean()) bad_config(label, "'noise' must be true or false");
    config.noise = json.at("noise").get<bool>();
  }
  if (json.contains("channels")) {
    const auto& list = json.at("channels");
    if (!list.is_array() || list.size() > 4) bad_config(label, "'channels' must be a list of up to 4 widths");
    config.channels.clear();
    for (size_t i = 0; i < list.size(); ++i) {
      int width = 0;
      read_int(nlohmann::json{{"channels", list[i]}}, "channels", width, label);
      config.channels.push_back(width);
    }
  }
  const int stages = log2_exact(config.factor);
  if (stages < 1 || stages > 3) bad_config(label, "factor must be 2, 4 or 8");
  if (config.levels() != stages + 1)
    bad_config(label, "channels must list log2(factor) + 1 = " + std::to_string(stages + 1) + " widths");
  for (int c : config.channels)
    if (c < 1 || c > 1024) bad_config(label, "channel widths must be in 1..1024");
  if (config.blocks < 0 || config.blocks > 64) bad_config(label, "blocks must be in 0..64");
  if (config.stage_blocks < 0 || config.stage_blocks > 16) bad_config(label, "stage_blocks must be in 0..16");
  if (config.num_classes < 1 || config.num_classes > 254) bad_config(label, "num_classes must be in 1..254");
  if (config.num_styles < 0 || config.num_styles > 256) bad_config(label, "num_styles must be in 0..256");
  if (!(config.gsd_reference > 0) || !std::isfinite(config.gsd_reference) || !std::isfinite(config.gsd_scale))
    bad_config(label, "gsd_reference must be positive and gsd_scale finite");
  if (!(config.input_blur >= 0 && config.input_blur <= 8)) bad_config(label, "input_blur must be in 0..8");
  return config;
}

nlohmann::json DetailDecoderConfig::to_json() const {
  return {{"format", "terrasynth-detail-decoder"},
          {"format_version", 1},
          {"factor", factor},
          {"num_classes", num_classes},
          {"num_styles", num_styles},
          {"channels", channels},
          {"blocks", blocks},
          {"stage_blocks", stage_blocks},
          {"noise", noise},
          {"gsd_reference", gsd_reference},
          {"gsd_scale", gsd_scale},
          {"input_blur", input_blur}};
}

int DetailDecoderConfig::halo_pixels() const {
  // conv_in and the residual blocks at 1/factor (1 + 2 * blocks pixels there, which also covers
  // the bilinear base's one), the input blur's 3 sigma there, per upsampling stage the up and
  // mix convolutions and two per residual block, conv_out; rounded up to whole low-resolution
  // pixels so windows stay aligned to the factor.
  int radius = (1 + 2 * blocks) * factor + 1;
  if (input_blur > 0) radius += std::max(1, static_cast<int>(std::ceil(3.0 * input_blur))) * factor;
  for (int scale = factor / 2; scale >= 1; scale /= 2) radius += (2 + 2 * stage_blocks) * scale;
  radius = std::max(radius, factor);
  return (radius + factor - 1) / factor * factor;
}

}  // namespace terrasynth::engine
