#pragma once
// A Terrasynth model package (a folder with model.json and diffusers-style components) and
// the one call that turns a request into pixels. No torch types cross this header.
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "terrasynth/engine/device.h"
#include "terrasynth/engine/image.h"
#include "terrasynth/engine/progress.h"

namespace terrasynth::engine {

struct ModelInfo {
  std::string name;
  std::string dir;  // folder the manifest was read from
  std::string description;
  std::string version;
  std::string licence;       // short SPDX-like id or name
  std::string licence_note;  // what the training data licences mean for the weights
  std::vector<std::string> classes;               // index = class id of a layout ClassMap
  std::vector<std::array<uint8_t, 3>> palette;    // one RGB colour per class
  std::vector<std::string> styles;                // style/region tokens, e.g. "recife"
  std::vector<std::string> scenes;                // scene classes, e.g. "dense_residential"
  std::string default_style;
  double native_gsd = 0.5;  // metres per pixel the model was mostly trained at
  double min_gsd = 0.25;    // range over which GSD conditioning was trained
  double max_gsd = 2.0;
  int tile_size = 512;      // default window in pixels
  int tile_overlap = 64;    // default window overlap in pixels
  int pixel_multiple = 8;   // canvas sizes are rounded up to this many pixels
  std::string default_sampler = "dpmpp_2m";
  int default_steps = 20;
  double default_guidance = 2.0;
  // DDIM's eta (0 = deterministic, 1 = fresh noise as in DDPM) and the lowest timestep it
  // applies to (0 = every step); the other samplers ignore both. See docs/SAMPLING.md.
  double default_eta = 0.0;
  int eta_min_timestep = 0;
  // Sampling steps (as fractions of the run) where guidance applies; the others need one
  // network evaluation instead of two.
  std::array<double, 2> guidance_interval{0.0, 1.0};
  // Guidance by frequency: the part of the guidance coarser than a Gaussian of
  // `coarse_guidance_sigma` pixels gets `coarse_guidance` instead of the scale (0 = off).
  // See docs/SAMPLING.md.
  double coarse_guidance = 1.0;
  double coarse_guidance_sigma = 0.0;
  // Gaussian radius (sigma, pixels) by which the colour (chroma) of every step's clean-image
  // estimate is smoothed, keeping its brightness; 0 = off. See docs/SAMPLING.md.
  double chroma_smoothing = 0.0;
  bool supports_layout = true;
  bool supports_inpaint = true;
  // A full-resolution refiner network takes over the steps below this timestep (0 = none).
  int refiner_below_timestep = 0;
  double refiner_detail_sigma = 0;  // > 0: the refiner gives only the detail finer than this (px)
  // A detail decoder re-renders the fine detail of every generated image from its
  // 1/detail_factor version and the layout (set when the model is loaded).
  bool detail_decoder = false;
  int detail_factor = 0;
  // The decoder redraws all the detail a refiner adds, so a generation that runs the decoder
  // skips the refiner (model.json "detail_decoder": {"skip_refiner": true}).
  bool detail_skips_refiner = false;
  std::string training_summary;  // human-readable data and budget
};

struct SamplerOptions {
  std::string name;       // "ddim" | "euler" | "euler_ancestral" | "dpmpp_2m"; empty = model default
  int steps = 0;          // 0 = model default
  double guidance = -1;   // classifier-free guidance scale; < 0 = model default; 1 = no guidance
  double guidance_start = -1;  // guidance interval as fractions of the steps; < 0 = model default
  double guidance_end = -1;
  uint64_t seed = 0;
  double eta = -1;        // DDIM eta (0 = deterministic); < 0 = model default
  int eta_min_timestep = -1;  // DDIM: eta applies from this timestep up; < 0 = model default
  double coarse_guidance = -1;        // scale of the coarse part of the guidance; < 0 = model default
  double coarse_guidance_sigma = -1;  // pixels; < 0 = model default, 0 = off (one scale)
  bool karras = false;    // Karras sigmas (DPM-Solver++ and Euler)
  bool refiner = true;    // use the model's refiner (if it has one) for the low-noise steps
  bool detail = true;     // use the model's detail decoder (if it has one) on the result
  double chroma_smoothing = -1;  // pixels; < 0 = model default, 0 = off
};

enum class TilingMode {
  Fused,    // MultiDiffusion: overlapping windows fused every step
  Shifted,  // faster: small overlaps, window grid shifted every step (<= 1.3x untiled compute)
};

struct TilingOptions {
  int tile = 0;       // window size in pixels; 0 = model default
  int overlap = -1;   // window overlap in pixels; < 0 = model default
  TilingMode mode = TilingMode::Fused;
  int batch = 0;      // windows per network call; 0 = automatic (1 on CPU, more on GPU)
};

struct GenerateRequest {
  // Canvas in a global pixel frame: noise depends only on (seed, global position, step), so the
  // same seed gives the same pixels whatever the tiling or the chunking of a large output.
  int64_t origin_x = 0;
  int64_t origin_y = 0;
  int width = 0;
  int height = 0;

  ClassMap layout;         // empty = no layout; same size as the canvas otherwise
  std::string style;       // empty = model default
  std::string scene;       // empty = none
  double gsd = 0;          // metres per pixel; 0 = unknown

  SamplerOptions sampler;
  TilingOptions tiling;

  // Inpainting / seamless continuation: known pixels (3 x height x width) and a mask of the
  // same size, 1 = regenerate. Pixels where mask == 0 come back bit-identical.
  Image known;
  Mask mask;
  int resample_jumps = 0;  // RePaint-style resampling jumps per step (0 = off)
};

struct GenerateResult {
  Status status = Status::Ok;
  Image image;  // 3 x height x width, values in [0, 1]
  double seconds = 0;
};

// Reads and validates a model folder's manifest without loading weights.
ModelInfo read_model_info(const std::string& dir);

class Model {
 public:
  static std::shared_ptr<Model> load(const std::string& dir, const DeviceOptions& device = {});
  ~Model();
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  const ModelInfo& info() const;
  std::string device_description() const;
  GenerateResult generate(const GenerateRequest& request, const ProgressCallback& progress = {},
                          const CancelToken* cancel = nullptr) const;

  struct Impl;

 private:
  explicit Model(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace terrasynth::engine
