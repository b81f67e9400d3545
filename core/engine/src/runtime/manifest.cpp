#include "runtime/manifest.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <type_traits>

#include "terrasynth/engine/error.h"

namespace fs = std::filesystem;

namespace terrasynth::engine {

namespace {

[[noreturn]] void fail(const std::string& label, const std::string& problem) {
  throw EngineError(EngineError::Kind::ModelFormat, label + ": " + problem);
}

template <typename T>
T get_or(const nlohmann::json& object, const char* key, const T& fallback, const std::string& label) {
  if (!object.is_object() || !object.contains(key) || object.at(key).is_null()) return fallback;
  const nlohmann::json& item = object.at(key);
  // Only values that convert exactly: no float where an integer belongs (the JSON library's
  // cast of 1e300 to int is undefined), no integer beyond int's range, no number as a flag.
  bool ok = true;
  if constexpr (std::is_same_v<T, int>) {
    constexpr int64_t kLimit = int64_t{1} << 30;
    ok = item.is_number_integer() &&
         (item.is_number_unsigned() ? item.get<uint64_t>() <= static_cast<uint64_t>(kLimit)
                                    : item.get<int64_t>() >= -kLimit && item.get<int64_t>() <= kLimit);
  } else if constexpr (std::is_same_v<T, double>) {
    ok = item.is_number();
  } else if constexpr (std::is_same_v<T, bool>) {
    ok = item.is_boolean();
  } else if constexpr (std::is_same_v<T, std::string>) {
    ok = item.is_string();
  }
  if (!ok) fail(label, std::string("field '") + key + "' has the wrong type");
  try {
    return item.get<T>();
  } catch (const nlohmann::json::exception&) {
    fail(label, std::string("field '") + key + "' has the wrong type");
  }
}

// The object under `key`, or an empty one when it is absent; anything else is an error.
nlohmann::json section(const nlohmann::json& object, const char* key, const std::string& label) {
  if (!object.is_object() || !object.contains(key) || object.at(key).is_null()) return nlohmann::json::object();
  if (!object.at(key).is_object()) fail(label, std::string("'") + key + "' must be an object");
  return object.at(key);
}

std::vector<std::string> string_list(const nlohmann::json& object, const char* key,
                                     const std::string& label) {
  std::vector<std::string> out;
  if (!object.contains(key)) return out;
  const auto& list = object.at(key);
  if (!list.is_array()) fail(label, std::string("'") + key + "' must be a list of names");
  for (const auto& item : list) {
    if (!item.is_string() || item.get<std::string>().empty())
      fail(label, std::string("'") + key + "' must hold non-empty names");
    out.push_back(item.get<std::string>());
  }
  return out;
}

}  // namespace

Manifest parse_manifest(const std::string& json_text, const std::string& label,
                        const std::string& dir) {
  nlohmann::json root;
  try {
    root = nlohmann::json::parse(json_text);
  } catch (const nlohmann::json::exception& error) {
    fail(label, std::string("not valid JSON (") + error.what() + ")");
  }
  if (!root.is_object()) fail(label, "the manifest must be a JSON object");
  if (get_or<std::string>(root, "format", "", label) != "terrasynth-model")
    fail(label, "not a Terrasynth model manifest (\"format\" must be \"terrasynth-model\")");
  const int format_version = get_or<int>(root, "format_version", 1, label);
  if (format_version != 1)
    fail(label, "manifest format_version " + std::to_string(format_version) +
                    " is not supported by this version (1)");

  Manifest manifest;
  manifest.raw = root;
  ModelInfo& info = manifest.info;
  info.dir = dir;
  info.name = get_or<std::string>(root, "name", "", label);
  if (info.name.empty()) fail(label, "missing model \"name\"");
  info.description = get_or<std::string>(root, "description", "", label);
  info.version = get_or<std::string>(root, "version", "", label);
  info.licence = get_or<std::string>(root, "licence", "", label);
  info.licence_note = get_or<std::string>(root, "licence_note", "", label);

  if (!root.contains("classes") || !root["classes"].is_array() || root["classes"].empty())
    fail(label, "\"classes\" must be a non-empty list");
  for (const auto& entry : root["classes"]) {
    if (!entry.is_object() || !entry.contains("name") || !entry["name"].is_string())
      fail(label, "each class needs a \"name\"");
    info.classes.push_back(entry["name"].get<std::string>());
    std::array<uint8_t, 3> colour{128, 128, 128};
    if (entry.contains("colour")) {
      const auto& c = entry["colour"];
      if (!c.is_array() || c.size() != 3) fail(label, "class colour must be [r, g, b]");
      for (int k = 0; k < 3; ++k) {
        if (!c[k].is_number_integer() || c[k].get<int>() < 0 || c[k].get<int>() > 255)
          fail(label, "class colour components must be integers 0-255");
        colour[k] = static_cast<uint8_t>(c[k].get<int>());
      }
    }
    info.palette.push_back(colour);
  }
  if (info.classes.size() > 254) fail(label, "at most 254 classes are supported");
  info.styles = string_list(root, "styles", label);
  info.scenes = string_list(root, "scenes", label);
  info.default_style = get_or<std::string>(root, "default_style", "", label);
  if (!info.default_style.empty() &&
      std::find(info.styles.begin(), info.styles.end(), info.default_style) == info.styles.end())
    fail(label, "default_style '" + info.default_style + "' is not one of the styles");

  const nlohmann::json gsd = section(root, "gsd", label);
  info.native_gsd = get_or<double>(gsd, "native", 0.5, label);
  info.min_gsd = get_or<double>(gsd, "min", info.native_gsd, label);
  info.max_gsd = get_or<double>(gsd, "max", info.native_gsd, label);
  if (!(info.native_gsd > 0) || !(info.min_gsd > 0) || info.min_gsd > info.native_gsd ||
      info.native_gsd > info.max_gsd)
    fail(label, "gsd must satisfy 0 < min <= native <= max");

  const nlohmann::json tile = section(root, "tile", label);
  info.tile_size = get_or<int>(tile, "size", 512, label);
  info.tile_overlap = get_or<int>(tile, "overlap", 64, label);
  info.pixel_multiple = get_or<int>(root, "pixel_multiple", 32, label);
  if (info.pixel_multiple <= 0 || info.tile_size <= 0 || info.tile_size % info.pixel_multiple != 0)
    fail(label, "tile size must be a positive multiple of pixel_multiple");
  if (info.tile_overlap < 0 || info.tile_overlap >= info.tile_size)
    fail(label, "tile overlap must be in [0, tile size)");

  const nlohmann::json sampler = section(root, "sampler", label);
  info.default_sampler = get_or<std::string>(sampler, "name", "dpmpp_2m", label);
  info.default_steps = get_or<int>(sampler, "steps", 20, label);
  info.default_guidance = get_or<double>(sampler, "guidance", 1.0, label);
  if (sampler.contains("guidance_interval")) {
    const auto& interval = sampler.at("guidance_interval");
    if (!interval.is_array() || interval.size() != 2 || !interval[0].is_number() ||
        !interval[1].is_number())
      fail(label, "sampler guidance_interval must be [start, end] (fractions of the steps)");
    info.guidance_interval = {interval[0].get<double>(), interval[1].get<double>()};
    if (!(info.guidance_interval[0] >= 0 && info.guidance_interval[0] <= info.guidance_interval[1] &&
          info.guidance_interval[1] <= 1))
      fail(label, "sampler guidance_interval must satisfy 0 <= start <= end <= 1");
  }
  if (sampler.contains("coarse_guidance")) {
    const auto& coarse = sampler.at("coarse_guidance");
    if (!coarse.is_object())
      fail(label, "sampler coarse_guidance must be {\"scale\": G, \"sigma\": PX}");
    info.coarse_guidance = get_or<double>(coarse, "scale", 1.0, label);
    info.coarse_guidance_sigma = get_or<double>(coarse, "sigma", 0.0, label);
    if (!(info.coarse_guidance >= 0 && info.coarse_guidance <= 100))
      fail(label, "sampler coarse_guidance scale must be between 0 and 100");
    if (!(info.coarse_guidance_sigma >= 0 && info.coarse_guidance_sigma <= 64))
      fail(label, "sampler coarse_guidance sigma must be between 0 and 64 pixels");
  }
  info.default_eta = get_or<double>(sampler, "eta", 0.0, label);
  if (!(info.default_eta >= 0 && info.default_eta <= 1))
    fail(label, "sampler eta must be between 0 (deterministic) and 1");
  info.eta_min_timestep = get_or<int>(sampler, "eta_min_timestep", 0, label);
  if (info.eta_min_timestep < 0 || info.eta_min_timestep > 1000)
    fail(label, "sampler eta_min_timestep must be a timestep in 0..1000");
  info.chroma_smoothing = get_or<double>(sampler, "chroma_smoothing", 0.0, label);
  if (!(info.chroma_smoothing >= 0 && info.chroma_smoothing <= 16))
    fail(label, "sampler chroma_smoothing must be between 0 and 16 pixels");
  if (info.default_steps <= 0 || info.default_steps > 1000)
    fail(label, "sampler steps must be in 1..1000");

  const nlohmann::json training = section(root, "training", label);
  info.training_summary = get_or<std::string>(training, "summary", "", label);

  ConditioningSpec& cond = manifest.conditioning;
  const nlohmann::json c = section(root, "conditioning", label);
  const nlohmann::json latent = section(c, "latent", label);
  cond.latent_type = get_or<std::string>(latent, "type", "pixel_unshuffle", label);
  cond.latent_factor = get_or<int>(latent, "factor", 4, label);
  cond.latent_channels = get_or<int>(latent, "channels", 3 * cond.latent_factor * cond.latent_factor, label);
  cond.vae_folder = get_or<std::string>(latent, "folder", "", label);
  cond.latent_scale = get_or<double>(latent, "scaling_factor", 1.0, label);
  if (cond.latent_type != "pixel_unshuffle" && cond.latent_type != "autoencoder_tiny" &&
      cond.latent_type != "autoencoder_kl")
    fail(label, "unknown latent type '" + cond.latent_type +
                    "' (valid: pixel_unshuffle, autoencoder_tiny, autoencoder_kl)");
  if (!(cond.latent_scale > 0) || !std::isfinite(cond.latent_scale))
    fail(label, "latent scaling_factor must be a positive number");
  if (cond.latent_factor <= 0 || cond.latent_channels <= 0)
    fail(label, "latent factor and channels must be positive");
  if (cond.latent_type == "pixel_unshuffle" && cond.latent_channels != 3 * cond.latent_factor * cond.latent_factor)
    fail(label, "a pixel_unshuffle latent has 3 * factor^2 channels");
  if (cond.latent_type != "pixel_unshuffle" && cond.vae_folder.empty())
    fail(label, "an autoencoder latent needs its \"folder\"");
  cond.layout = get_or<bool>(c, "layout", true, label);
  cond.inpaint = get_or<bool>(c, "inpaint", true, label);
  cond.class_vector = get_or<bool>(c, "class_vector", true, label);
  const nlohmann::json g = section(c, "gsd", label);
  cond.gsd_reference = get_or<double>(g, "reference", info.native_gsd, label);
  cond.gsd_feature_scale = get_or<double>(g, "scale", 0.5, label);
  if (info.chroma_smoothing > 0 && cond.latent_type != "pixel_unshuffle")
    fail(label, "sampler chroma_smoothing needs a pixel_unshuffle latent");
  if (info.coarse_guidance_sigma > 0 && cond.latent_type != "pixel_unshuffle")
    fail(label, "sampler coarse_guidance needs a pixel_unshuffle latent");
  info.supports_layout = cond.layout;
  info.supports_inpaint = true;  // inpaint-conditioned models or blended sampling for the others

  const nlohmann::json components = section(root, "components", label);
  manifest.unet_folder = get_or<std::string>(components, "unet", "unet", label);
  manifest.scheduler_folder = get_or<std::string>(components, "scheduler", "scheduler", label);
  if (root.contains("refiner") && !root.at("refiner").is_null()) {
    const nlohmann::json& refiner = root.at("refiner");
    if (!refiner.is_object()) fail(label, "\"refiner\" must be an object {\"folder\", \"below_timestep\"}");
    manifest.refiner_folder = get_or<std::string>(refiner, "folder", "refiner", label);
    info.refiner_below_timestep = get_or<int>(refiner, "below_timestep", 0, label);
    manifest.refiner_detail_sigma = get_or<double>(refiner, "detail_sigma", 0.0, label);
    if (!(manifest.refiner_detail_sigma >= 0 && manifest.refiner_detail_sigma <= 16))
      fail(label, "refiner detail_sigma must be between 0 and 16 pixels");
    info.refiner_detail_sigma = manifest.refiner_detail_sigma;
    manifest.refiner_layout = get_or<bool>(refiner, "layout", false, label);
    if (manifest.refiner_layout && !cond.layout)
      fail(label, "a refiner that takes the layout needs a model conditioned on a layout");
    manifest.refiner_guidance = get_or<double>(refiner, "guidance", 1.0, label);
    if (!(manifest.refiner_guidance >= 0 && manifest.refiner_guidance <= 20))
      fail(label, "refiner guidance must be between 0 and 20");
    if (manifest.refiner_guidance != 1.0 && !manifest.refiner_layout)
      fail(label, "refiner guidance needs a refiner that takes the layout");
    if (manifest.refiner_folder.empty()) fail(label, "refiner folder must not be empty");
    if (info.refiner_below_timestep <= 0 || info.refiner_below_timestep > 100000)
      fail(label, "refiner below_timestep must be a positive timestep");
    if (cond.latent_type != "pixel_unshuffle")
      fail(label, "a refiner needs a pixel_unshuffle latent (it works on the same samples as pixels)");
  }
  if (root.contains("detail_decoder") && !root.at("detail_decoder").is_null()) {
    const nlohmann::json& detail = root.at("detail_decoder");
    if (!detail.is_object()) fail(label, "\"detail_decoder\" must be an object {\"folder\"}");
    manifest.detail_folder = get_or<std::string>(detail, "folder", "detail", label);
    if (manifest.detail_folder.empty()) fail(label, "detail_decoder folder must not be empty");
    info.detail_decoder = true;
    info.detail_skips_refiner = get_or<bool>(detail, "skip_refiner", false, label);
  }
  for (const std::string* folder : {&manifest.unet_folder, &manifest.scheduler_folder, &cond.vae_folder,
                                    &manifest.refiner_folder, &manifest.detail_folder}) {
    if (folder->find("..") != std::string::npos || (!folder->empty() && (*folder)[0] == '/'))
      fail(label, "component folder '" + *folder + "' must stay inside the model folder");
  }
  return manifest;
}

Manifest read_manifest(const std::string& dir) {
  const fs::path path = fs::path(dir) / "model.json";
  if (!fs::is_directory(dir))
    throw EngineError(EngineError::Kind::Io, dir + ": model folder not found");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw EngineError(EngineError::Kind::ModelFormat, path.string() + ": no model.json in the model folder");
  std::ostringstream text;
  text << in.rdbuf();
  if (text.str().size() > (16u << 20))
    throw EngineError(EngineError::Kind::ModelFormat, path.string() + ": manifest larger than 16 MiB");
  return parse_manifest(text.str(), path.string(), dir);
}

ModelInfo read_model_info(const std::string& dir) { return read_manifest(dir).info; }

nlohmann::json manifest_to_json(const Manifest& manifest) { return manifest.raw; }

int class_vector_size(const Manifest& manifest) {
  if (!manifest.conditioning.class_vector) return 0;
  return static_cast<int>(manifest.info.styles.size() + manifest.info.scenes.size()) + 2;
}

}  // namespace terrasynth::engine
