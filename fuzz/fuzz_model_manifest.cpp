// libFuzzer target: a model package's model.json (runtime/manifest.cpp) and its detail decoder's
// config.json (runtime/detail_config.cpp), both from whoever published the package. The first
// input byte picks the parser. Malformed input must end in EngineError(ModelFormat) naming the
// file; what is accepted must hold the invariants the loader relies on.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "runtime/detail_config.h"
#include "runtime/manifest.h"
#include "terrasynth/engine/error.h"

namespace {

using terrasynth::engine::EngineError;

void check(bool condition) {
  if (!condition) std::abort();
}

void check_manifest(const std::string& text) {
  const auto manifest = terrasynth::engine::parse_manifest(text, "model.json");
  const auto& info = manifest.info;
  check(!info.name.empty());
  check(!info.classes.empty() && info.classes.size() <= 254 && info.palette.size() == info.classes.size());
  check(info.min_gsd > 0 && info.min_gsd <= info.native_gsd && info.native_gsd <= info.max_gsd);
  check(info.pixel_multiple > 0 && info.tile_size > 0 && info.tile_size % info.pixel_multiple == 0);
  check(info.tile_overlap >= 0 && info.tile_overlap < info.tile_size);
  check(info.default_steps >= 1 && info.default_steps <= 1000);
  check(info.guidance_interval[0] >= 0 && info.guidance_interval[0] <= info.guidance_interval[1] &&
        info.guidance_interval[1] <= 1);
  const auto& cond = manifest.conditioning;
  check(cond.latent_factor > 0 && cond.latent_channels > 0 && cond.latent_scale > 0);
  for (const std::string* folder : {&manifest.unet_folder, &manifest.scheduler_folder, &cond.vae_folder,
                                    &manifest.refiner_folder, &manifest.detail_folder}) {
    check(folder->find("..") == std::string::npos);
    check(folder->empty() || (*folder)[0] != '/');
  }
  check(info.detail_decoder == !manifest.detail_folder.empty());
  check(terrasynth::engine::class_vector_size(manifest) >= 0);
}

void check_detail_config(const std::string& text) {
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception&) {
    return;  // the loader reports unparsable JSON itself
  }
  const auto config = terrasynth::engine::DetailDecoderConfig::from_json(json, "config.json");
  check(config.factor == 2 || config.factor == 4 || config.factor == 8);
  check(config.levels() >= 2 && config.levels() <= 4);
  for (int c : config.channels) check(c >= 1 && c <= 1024);
  check(config.num_classes >= 1 && config.num_classes <= 254);
  const int halo = config.halo_pixels();
  check(halo > 0 && halo % config.factor == 0);
  // What is accepted writes back to the same configuration.
  const auto again = terrasynth::engine::DetailDecoderConfig::from_json(config.to_json(), "config.json");
  check(again.to_json() == config.to_json());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  const bool manifest = (data[0] & 1) == 0;
  try {
    if (manifest) check_manifest(text);
    else check_detail_config(text);
  } catch (const EngineError& error) {
    check(error.kind() == EngineError::Kind::ModelFormat);
    check(std::string(error.what()).rfind(manifest ? "model.json" : "config.json", 0) == 0);
  }
  return 0;
}
