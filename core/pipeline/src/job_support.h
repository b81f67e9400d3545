#pragma once
// What the generation and inpainting pipelines share: the model (resolved, loaded once per
// process and device), request options mapped to the engine's, the working GSD, class ids of the
// geo class set mapped to the model's, warnings and progress, provenance.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "terrasynth/engine/model.h"
#include "terrasynth/geo/grid.h"
#include "terrasynth/pipeline/jobs.h"

namespace terrasynth::pipeline::detail {

// The model folder of a name or folder (empty = the default model); JobError::ModelNotFound
// when nothing matches.
std::string resolve_model_dir(const std::string& name_or_dir);
engine::DeviceOptions device_options(const DeviceParams& params);

// The model class id that unmapped land of an OSM layout becomes (255 = stay unknown); throws
// JobError for a class the model lacks, listing the valid ones. 255 for other layouts.
uint8_t osm_background_id(const LayoutParams& layout, const engine::ModelInfo& info);
// A loaded model, shared with later calls that ask for the same folder, device and threads
// (the plan's speed calibration and the run load the weights once).
std::shared_ptr<engine::Model> load_model(const std::string& dir, const DeviceParams& device);

// Seconds one window of `window_px` x `window_px` pixels takes per denoising step (both guidance
// branches included). From the manifest's "speed" entry when the model package has one, else
// measured once per process with a one-step generation of one window.
double seconds_per_window_step(const std::string& dir, const DeviceParams& device,
                               const engine::ModelInfo& info, int window_px, double guidance);

// Throws engine::EngineError(InvalidArgument) listing the valid values.
void check_style_and_scene(const engine::ModelInfo& info, const std::string& style,
                           const std::string& scene);

// The requested GSD clamped into the model's trained range, and a warning saying what to
// expect when it is clamped (empty otherwise). `what` names the GSD ("requested", "raster").
struct WorkGsd {
  double gsd = 0;
  std::string warning;
};
WorkGsd working_gsd(double requested, const engine::ModelInfo& info, const std::string& what);

// geo class id (0..6, 255) -> the model's class id (255 where the model lacks the class).
// Classes the model does not know are listed in `missing`.
std::vector<uint8_t> class_id_table(const engine::ModelInfo& info,
                                    std::vector<std::string>* missing = nullptr);

engine::SamplerOptions sampler_options(const SamplingParams& params);
engine::TilingOptions tiling_options(const TileParams& params);
// Resolved sampler settings (model defaults applied) for provenance and estimates.
struct ResolvedSampling {
  std::string sampler;
  int steps = 0;
  double guidance = 0;
  uint64_t seed = 0;
  std::string refiner;  // "none" (the model has none), "off", or "below timestep N"
  std::string detail_decoder;  // "none" (the model has none), "off", or "from 1/F resolution"
  double chroma_smoothing = 0;
  std::string eta;  // DDIM's eta and the timestep it applies from, or "not used by SAMPLER"
  std::string coarse_guidance;  // "G coarser than S px" or "off"
};
ResolvedSampling resolve_sampling(const SamplingParams& params, const engine::ModelInfo& info);

// Warnings go to the caller's callback at once and are kept for the result.
class Warnings {
 public:
  explicit Warnings(const JobControl& control) : control_(control) {}
  void add(const std::string& message);
  const std::vector<std::string>& all() const { return messages_; }

 private:
  const JobControl& control_;
  std::vector<std::string> messages_;
};

bool cancelled(const JobControl& control);

// "2024-05-01T12:00:00Z" (UTC, now).
std::string utc_now_iso();
// "1.23 m" / "2 cm" for messages.
std::string format_metres(double metres);
std::string format_duration(double seconds);
// A short label for a CRS: "EPSG:32632" or its name.
std::string crs_label(const std::string& crs);
std::string join(const std::vector<std::string>& items, const std::string& separator = ", ");

// Where a generated raster's STAC Item goes: OUT.tif -> OUT.json.
std::string stac_path_for(const std::string& output);

// Removes a file (and GDAL side files) when it goes out of scope unless released.
class ScratchFile {
 public:
  explicit ScratchFile(std::string path = "") : path_(std::move(path)) {}
  ~ScratchFile();
  ScratchFile(const ScratchFile&) = delete;
  ScratchFile& operator=(const ScratchFile&) = delete;
  const std::string& path() const { return path_; }
  void reset(const std::string& path);

 private:
  std::string path_;
};
// A hidden scratch path beside `output`: ".NAME.TAG-PID-N.tif".
std::string scratch_path_beside(const std::string& output, const std::string& tag);

}  // namespace terrasynth::pipeline::detail
