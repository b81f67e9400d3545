#pragma once
// The generation pipelines of Terrasynth: a request in, a georeferenced raster out.
// The CLI and the QGIS plugin are thin adapters over exactly these calls. No torch, no Qt and
// no GDAL types cross this header.
#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace terrasynth::pipeline {

// Errors of the pipelines themselves (geo::GeoError and engine::EngineError pass through
// unchanged). Messages name the option, file or model concerned and the problem.
class JobError : public std::runtime_error {
 public:
  enum class Kind {
    InvalidArgument,  // a request the caller got wrong (missing extent, bad GSD, bad band count)
    ModelNotFound,    // no model package of that name or folder
    TooLarge,         // a very large request without `force`
  };
  JobError(Kind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  Kind kind() const noexcept { return kind_; }

 private:
  Kind kind_;
};

// Progress, warnings and cancellation of a running job. Callbacks may be called from the
// thread that runs the job; `cancel` may be set from any thread.
struct JobControl {
  std::function<void(double fraction, const std::string& label)> progress;
  std::function<void(const std::string& message)> warning;
  // A small RGB preview of the image as it forms (8-bit interleaved, width*height*3).
  std::function<void(int width, int height, const std::vector<uint8_t>& rgb)> preview;
  const std::atomic<bool>* cancel = nullptr;
};

struct SamplingParams {
  std::string sampler;  // empty = model default; "ddim" | "euler" | "euler_ancestral" | "dpmpp_2m"
  int steps = 0;        // 0 = model default
  double guidance = -1; // < 0 = model default
  uint64_t seed = 0;
  bool refiner = true;  // the model's low-noise refiner, if it has one
  bool detail = true;   // the model's detail decoder, if it has one
  double chroma_smoothing = -1;  // pixels; < 0 = model default, 0 = off
  double eta = -1;               // DDIM's eta, 0..1; < 0 = model default
  double coarse_guidance = -1;        // scale of the guidance's coarse part; < 0 = model default
  double coarse_guidance_sigma = -1;  // pixels; < 0 = model default, 0 = off (one scale)
  // Generation: a texture bank folder (written by `terrasynth textures` from labelled photos);
  // the fine detail of the generated image is rebuilt from its photos of the style, matched by
  // class and guided by the generated image. Empty = off.
  std::string texture_bank;
};

struct TileParams {
  int tile = 0;        // pixels; 0 = model default
  int overlap = -1;    // pixels; < 0 = model default
  bool fast = false;   // shifted windows instead of fully fused MultiDiffusion
  int chunk = 0;       // working pixels per chunk side (large outputs); 0 = automatic
};

struct DeviceParams {
  std::string device = "auto";  // "auto" | "cpu" | "cuda"
  int threads = 0;              // 0 = all cores
};

// A layout: a vector file whose features carry a class (name like "building" or id), or an
// OpenStreetMap extract (.osm / .pbf) mapped to classes by a JSON tag mapping.
struct LayoutParams {
  std::string path;          // empty = no layout
  std::string layer;         // empty = every layer (OSM) or the first layer
  std::string class_field;   // attribute holding class names or ids (vector layouts)
  std::string osm_mapping;   // JSON tag mapping; empty = the default shipped in resources/
  // OSM layouts: the class of land that no mapping rule covers (unmapped fields, gardens,
  // lots): a class of the model, or "none" to leave it unknown (the model decides freely).
  std::string osm_background = "other";
  bool is_osm() const;       // decided by the file extension (.osm, .pbf)
};

struct GenerateJob {
  // Where: an extent in a CRS, or a region file (its polygons; outside them the alpha is 0).
  std::optional<std::array<double, 4>> extent;  // x1, y1, x2, y2 in `crs`
  std::string crs;                              // any GDAL/PROJ definition, e.g. "EPSG:4326"
  std::string region_path;
  std::string region_layer;
  // Output metres per pixel (in a geographic CRS: metres at the centre, see docs/PIPELINES.md);
  // 0 = the model's native GSD.
  double gsd = 0;

  LayoutParams layout;
  std::string scene;  // scene class for layout-free generation, e.g. "forest"
  std::string style;  // style/region token, e.g. "recife"
  std::string model;  // name or folder; empty = the default model

  SamplingParams sampling;
  TileParams tiles;
  DeviceParams device;

  std::string output;      // .tif path
  bool cog = false;        // Cloud Optimized GeoTIFF instead of a tiled GeoTIFF
  bool force = false;      // allow very large outputs
  bool write_stac = true;  // a STAC Item JSON beside the output
};

struct InpaintJob {
  std::string raster;       // input raster (never modified)
  std::string mask_path;    // vector layer (polygons) or a raster mask of the same size
  std::string mask_layer;
  LayoutParams layout;      // optional layout for the regenerated area
  // Without a layout: label the surroundings with the model's segmenter (its eval/ folder) and
  // continue their classes into the masked area, so roads, fields and tree lines go on across it.
  bool auto_layout = true;
  // Match the regenerated pixels' local tone and grain to the real pixels around them.
  bool harmonise = true;
  // Rebuild the regenerated pixels' fine detail from patches of the real pixels around them,
  // guided by the generated content (its structure stays; its texture becomes the photo's).
  bool texture = true;
  double grow_m = 0;        // grow the mask by this many metres
  double feather_m = -1;    // feather width in metres; < 0 = automatic
  double gsd = 0;           // ground resolution of a raster without georeferencing (metres)
  std::string scene;
  std::string style;
  std::string model;
  SamplingParams sampling;
  TileParams tiles;
  DeviceParams device;
  std::string output;
  bool cog = false;
  bool write_stac = true;
};

// What a job will do, computed before any pixel is generated.
struct JobPlan {
  int width = 0;             // output pixels
  int height = 0;
  std::string crs_wkt;
  std::array<double, 6> geotransform{};
  int work_width = 0;        // pixels generated at the working GSD
  int work_height = 0;
  double work_gsd = 0;
  std::string work_crs;      // metric CRS the generation runs in
  int tiles = 0;             // window evaluations per denoising step, all chunks together
  int chunks = 0;            // chunks the working grid is generated in
  double estimated_seconds = 0;
  bool needs_force = false;  // too large without --force
  std::vector<std::string> warnings;
};

struct JobResult {
  bool cancelled = false;
  std::string output;
  std::string stac;
  JobPlan plan;
  double seconds = 0;
  std::vector<std::string> warnings;
  std::vector<std::pair<std::string, std::string>> provenance;  // also in the GeoTIFF tags
  int peak_rows_in_memory = 0;  // working-grid rows held at once (bounded by chunk + margin)
};

JobPlan plan_generate(const GenerateJob& job);
JobResult run_generate(const GenerateJob& job, const JobControl& control = {});
JobPlan plan_inpaint(const InpaintJob& job);
JobResult run_inpaint(const InpaintJob& job, const JobControl& control = {});

}  // namespace terrasynth::pipeline
