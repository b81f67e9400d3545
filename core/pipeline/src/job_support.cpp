#include "job_support.h"

#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <map>
#include <mutex>
#include <sstream>
#include <tuple>

#include "terrasynth/engine/error.h"
#include "terrasynth/geo/classes.h"
#include "terrasynth/geo/crs.h"
#include "terrasynth/geo/vector.h"
#include "terrasynth/pipeline/models.h"

namespace fs = std::filesystem;

namespace terrasynth::pipeline {

bool LayoutParams::is_osm() const {
  return geo::is_osm_path(path);
}

namespace detail {

namespace {

struct ModelKey {
  std::string dir;
  engine::DeviceKind device = engine::DeviceKind::Auto;
  int threads = 0;
  bool operator<(const ModelKey& o) const {
    return std::tie(dir, device, threads) < std::tie(o.dir, o.device, o.threads);
  }
};

std::mutex g_models_mutex;
// One model stays loaded: the plugin and the CLI run one model at a time, and a second copy of
// the weights would double the memory for nothing.
ModelKey g_model_key;
std::shared_ptr<engine::Model> g_model;
std::map<std::tuple<std::string, int, int, int, bool>, double> g_speeds;

[[noreturn]] void invalid(const std::string& message) {
  throw engine::EngineError(engine::EngineError::Kind::InvalidArgument, message);
}

// The manifest's measured speed: "speed": {"cpu": {"seconds_per_megapixel_step": S}, "cuda": ...},
// per megapixel of window area and denoising step with guidance (two network evaluations).
double manifest_speed(const std::string& dir, bool cuda) {
  std::ifstream file(fs::path(dir) / "model.json");
  if (!file) return 0;
  try {
    const nlohmann::json manifest = nlohmann::json::parse(file);
    const nlohmann::json* root = &manifest;
    if (!root->contains("speed") && root->contains("model")) root = &(*root)["model"];
    const auto speed = root->find("speed");
    if (speed == root->end() || !speed->is_object()) return 0;
    const auto entry = speed->find(cuda ? "cuda" : "cpu");
    if (entry == speed->end() || !entry->is_object()) return 0;
    const double value = entry->value("seconds_per_megapixel_step", 0.0);
    return value > 0 && std::isfinite(value) ? value : 0;
  } catch (const nlohmann::json::exception&) {
    return 0;  // the manifest reader reports malformed files; the estimate falls back to timing
  }
}

}  // namespace

std::string resolve_model_dir(const std::string& name_or_dir) {
  try {
    return resolve_model(name_or_dir);
  } catch (const engine::EngineError&) {
    throw;
  } catch (const std::exception& error) {
    throw JobError(JobError::Kind::ModelNotFound, error.what());
  }
}

engine::DeviceOptions device_options(const DeviceParams& params) {
  engine::DeviceOptions options;
  options.device = engine::parse_device_kind(params.device.empty() ? "auto" : params.device);
  if (params.threads < 0) invalid("threads must be 0 (all cores) or positive");
  options.threads = params.threads;
  return options;
}

std::shared_ptr<engine::Model> load_model(const std::string& dir, const DeviceParams& device) {
  const engine::DeviceOptions options = device_options(device);
  const ModelKey key{fs::weakly_canonical(dir).string(), options.device, options.threads};
  std::lock_guard<std::mutex> lock(g_models_mutex);
  if (g_model && !(key < g_model_key) && !(g_model_key < key)) return g_model;
  g_model.reset();  // free the previous weights before loading the next
  g_model = engine::Model::load(dir, options);
  g_model_key = key;
  return g_model;
}

double seconds_per_window_step(const std::string& dir, const DeviceParams& device,
                               const engine::ModelInfo& info, int window_px, double guidance) {
  const engine::DeviceOptions options = device_options(device);
  const bool cuda = options.device == engine::DeviceKind::Cuda ||
                    (options.device == engine::DeviceKind::Auto && engine::cuda_available());
  const bool guided = std::abs(guidance - 1.0) > 1e-9;
  const double window_mpx = static_cast<double>(window_px) * window_px / 1e6;
  if (const double per_mpx = manifest_speed(dir, cuda); per_mpx > 0)
    return per_mpx * window_mpx * (guided ? 1.0 : 0.5);

  const auto key = std::make_tuple(fs::weakly_canonical(dir).string(), static_cast<int>(cuda),
                                   options.threads, window_px, guided);
  {
    std::lock_guard<std::mutex> lock(g_models_mutex);
    if (auto it = g_speeds.find(key); it != g_speeds.end()) return it->second;
  }
  auto model = load_model(dir, device);
  engine::GenerateRequest request;
  request.width = request.height = window_px;
  request.gsd = info.native_gsd;
  request.sampler.steps = 1;
  request.sampler.guidance = guidance;
  request.tiling.tile = window_px;
  model->generate(request);  // warm-up: the first call sets up kernels and buffers
  const auto started = std::chrono::steady_clock::now();
  model->generate(request);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::lock_guard<std::mutex> lock(g_models_mutex);
  g_speeds[key] = seconds;
  return seconds;
}

void check_style_and_scene(const engine::ModelInfo& info, const std::string& style,
                           const std::string& scene) {
  auto known = [](const std::vector<std::string>& names, const std::string& name) {
    return std::find(names.begin(), names.end(), name) != names.end();
  };
  if (!style.empty() && !known(info.styles, style))
    invalid("unknown style '" + style + "' for model '" + info.name + "' (valid: " +
            (info.styles.empty() ? std::string("none") : join(info.styles)) + ")");
  if (!scene.empty() && !known(info.scenes, scene))
    invalid("unknown scene '" + scene + "' for model '" + info.name + "' (valid: " +
            (info.scenes.empty() ? std::string("none") : join(info.scenes)) + ")");
}

WorkGsd working_gsd(double requested, const engine::ModelInfo& info, const std::string& what) {
  WorkGsd result;
  const double low = info.min_gsd > 0 ? info.min_gsd : requested;
  const double high = info.max_gsd >= low ? info.max_gsd : low;
  result.gsd = std::clamp(requested, low, high);
  // Within 1 % of the range counts as inside: no resampling for a rounding difference.
  if (std::abs(result.gsd - requested) <= 0.01 * result.gsd) {
    result.gsd = requested;
    return result;
  }
  const double factor = requested < result.gsd ? result.gsd / requested : requested / result.gsd;
  std::ostringstream text;
  text << "the " << what << " GSD " << format_metres(requested) << " is "
       << (factor >= 4 ? "far " : "") << (requested < result.gsd ? "finer" : "coarser")
       << " than model '" << info.name << "' was trained for (" << format_metres(low) << " to "
       << format_metres(high) << " per pixel): generating at " << format_metres(result.gsd)
       << " per pixel and ";
  if (requested < result.gsd)
    text << "upsampling " << std::setprecision(3) << factor
         << "x; expect soft, blurry detail with no structure finer than "
         << format_metres(result.gsd);
  else
    text << "downsampling " << std::setprecision(3) << factor << "x; expect about "
         << std::setprecision(3) << factor * factor << "x the compute of a native-GSD run";
  result.warning = text.str();
  return result;
}

std::vector<uint8_t> class_id_table(const engine::ModelInfo& info,
                                    std::vector<std::string>* missing) {
  std::vector<uint8_t> table(256, engine::ClassMap::kUnknownClass);
  const auto& names = geo::class_names();
  for (size_t id = 0; id < names.size(); ++id) {
    auto it = std::find(info.classes.begin(), info.classes.end(), names[id]);
    if (it != info.classes.end())
      table[id] = static_cast<uint8_t>(it - info.classes.begin());
    else if (missing)
      missing->push_back(names[id]);
  }
  return table;
}

uint8_t osm_background_id(const LayoutParams& layout, const engine::ModelInfo& info) {
  if (layout.path.empty() || !layout.is_osm() || layout.osm_background.empty() ||
      layout.osm_background == "none")
    return engine::ClassMap::kUnknownClass;
  const auto it = std::find(info.classes.begin(), info.classes.end(), layout.osm_background);
  if (it == info.classes.end())
    invalid("unknown OSM background class '" + layout.osm_background + "' for model '" +
            info.name + "' (valid: " + join(info.classes) + ", none)");
  return static_cast<uint8_t>(it - info.classes.begin());
}

engine::SamplerOptions sampler_options(const SamplingParams& params) {
  engine::SamplerOptions options;
  options.name = params.sampler;
  if (params.steps < 0 || params.steps > 1000) invalid("steps must be in 1..1000 (0 = the model's)");
  options.steps = params.steps;
  options.guidance = params.guidance;
  options.seed = params.seed;
  options.refiner = params.refiner;
  options.detail = params.detail;
  if (params.chroma_smoothing > 16) invalid("chroma smoothing must be at most 16 pixels (0 = off)");
  options.chroma_smoothing = params.chroma_smoothing;
  if (params.eta > 1) invalid("eta must be between 0 (deterministic) and 1");
  options.eta = params.eta;
  if (params.coarse_guidance > 100) invalid("coarse guidance must be at most 100");
  if (params.coarse_guidance_sigma > 64) invalid("coarse guidance sigma must be at most 64 pixels (0 = off)");
  options.coarse_guidance = params.coarse_guidance;
  options.coarse_guidance_sigma = params.coarse_guidance_sigma;
  return options;
}

engine::TilingOptions tiling_options(const TileParams& params) {
  engine::TilingOptions options;
  if (params.tile < 0) invalid("tile size must be positive (0 = the model's)");
  options.tile = params.tile;
  options.overlap = params.overlap;
  options.mode = params.fast ? engine::TilingMode::Shifted : engine::TilingMode::Fused;
  return options;
}

namespace {
std::string short_number(double value) {
  std::ostringstream out;
  out << std::setprecision(3) << value;
  return out.str();
}
}  // namespace

ResolvedSampling resolve_sampling(const SamplingParams& params, const engine::ModelInfo& info) {
  ResolvedSampling resolved;
  resolved.sampler = params.sampler.empty() ? info.default_sampler : params.sampler;
  resolved.steps = params.steps > 0 ? params.steps : info.default_steps;
  resolved.guidance = params.guidance < 0 ? info.default_guidance : params.guidance;
  resolved.seed = params.seed;
  resolved.chroma_smoothing = params.chroma_smoothing >= 0 ? params.chroma_smoothing : info.chroma_smoothing;
  const double coarse_sigma =
      params.coarse_guidance_sigma >= 0 ? params.coarse_guidance_sigma : info.coarse_guidance_sigma;
  if (coarse_sigma > 0 && resolved.guidance != 1.0)  // scale 1 runs the conditional branch alone
    resolved.coarse_guidance =
        short_number(params.coarse_guidance >= 0 ? params.coarse_guidance : info.coarse_guidance) +
        " coarser than " + short_number(coarse_sigma) + " px";
  else
    resolved.coarse_guidance = "off";
  if (resolved.sampler != "ddim") {
    resolved.eta = "not used by " + resolved.sampler;
  } else {
    const double eta = params.eta >= 0 ? params.eta : info.default_eta;
    resolved.eta = short_number(eta);
    if (eta > 0 && info.eta_min_timestep > 0)
      resolved.eta += " from timestep " + std::to_string(info.eta_min_timestep);
  }
  if (info.refiner_below_timestep <= 0)
    resolved.refiner = "none";
  else if (!params.refiner)
    resolved.refiner = "off";
  else if (info.detail_decoder && params.detail && info.detail_skips_refiner)
    resolved.refiner = "off (the detail decoder redraws its detail)";
  else
    resolved.refiner = (info.refiner_detail_sigma > 0
                            ? "detail finer than " + short_number(info.refiner_detail_sigma) + " px, "
                            : std::string()) +
                       "below timestep " + std::to_string(info.refiner_below_timestep);
  if (!info.detail_decoder)
    resolved.detail_decoder = "none";
  else if (!params.detail)
    resolved.detail_decoder = "off";
  else
    resolved.detail_decoder = info.detail_factor > 0 ? "from 1/" + std::to_string(info.detail_factor) + " resolution"
                                                     : "on";
  return resolved;
}

void Warnings::add(const std::string& message) {
  if (message.empty()) return;
  if (std::find(messages_.begin(), messages_.end(), message) != messages_.end()) return;
  messages_.push_back(message);
  if (control_.warning) control_.warning(message);
}

bool cancelled(const JobControl& control) {
  return control.cancel != nullptr && control.cancel->load(std::memory_order_relaxed);
}

std::string utc_now_iso() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

std::string format_metres(double metres) {
  std::ostringstream text;
  if (metres < 1 && metres > 0)
    text << std::setprecision(3) << metres * 100 << " cm";
  else
    text << std::setprecision(4) << metres << " m";
  return text.str();
}

std::string format_duration(double seconds) {
  std::ostringstream text;
  if (seconds < 90)
    text << static_cast<long>(std::ceil(seconds)) << " s";
  else if (seconds < 5400)
    text << static_cast<long>(std::round(seconds / 60)) << " min";
  else
    text << std::setprecision(3) << seconds / 3600 << " h";
  return text.str();
}

std::string crs_label(const std::string& crs) {
  if (crs.empty()) return "no CRS";
  try {
    if (auto code = geo::crs_authority_code(crs)) return *code;
    return geo::crs_name(crs);
  } catch (const std::exception&) {
    return "custom CRS";
  }
}

std::string join(const std::vector<std::string>& items, const std::string& separator) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : separator) + item;
  return out;
}

std::string stac_path_for(const std::string& output) {
  fs::path path(output);
  path.replace_extension(".json");
  return path.string();
}

ScratchFile::~ScratchFile() {
  reset("");
}

void ScratchFile::reset(const std::string& path) {
  if (!path_.empty()) {
    std::error_code ignored;
    fs::remove(path_, ignored);
    for (const char* suffix : {".aux.xml", ".ovr", ".msk"}) fs::remove(path_ + suffix, ignored);
  }
  path_ = path;
}

std::string scratch_path_beside(const std::string& output, const std::string& tag) {
  static std::atomic<unsigned> counter{0};
  const fs::path path(output);
  const std::string name = "." + path.stem().string() + "." + tag + "-" +
                           std::to_string(static_cast<long>(getpid())) + "-" +
                           std::to_string(counter.fetch_add(1)) + ".tif";
  return (path.parent_path() / name).string();
}

}  // namespace detail
}  // namespace terrasynth::pipeline
