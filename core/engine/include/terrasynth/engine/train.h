#pragma once
// Training a Terrasynth model with the same networks the generator runs (no second definition of
// the architecture). The data come from the caller through TrainDataSource (the pipeline reads the
// image files); no torch types cross this header.
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "terrasynth/engine/device.h"
#include "terrasynth/engine/image.h"
#include "terrasynth/engine/progress.h"

namespace terrasynth::engine {

struct TrainSample {
  Image image;      // 3 x H x W, values in [0, 1]
  ClassMap layout;  // H x W class ids (255 = unknown); empty = no layout known
  int style = -1;   // index into the model's styles; -1 = unknown
  int scene = -1;   // index into the model's scenes; -1 = none
  double gsd = 0;   // metres per pixel; 0 = unknown
};

class TrainDataSource {
 public:
  virtual ~TrainDataSource() = default;
  // One random training sample of `size` x `size` pixels (crop and augmentation included).
  virtual TrainSample sample(std::mt19937_64& rng, int size) = 0;
  virtual size_t size() const = 0;
};

// The parsed training configuration (a JSON file: see docs/TRAINING.md). `model` is the
// model.json manifest of the package being trained (classes, styles, scenes, conditioning) and
// `unet` the diffusers UNet2DConditionModel config.
struct TrainConfig {
  std::string json_text;   // the whole configuration, for provenance
  std::string output_dir;  // checkpoints, loss log, sample grids, exported model
  std::string resume;      // checkpoint to resume from ("" = none, "auto" = latest in output_dir)
  uint64_t seed = 0;
  int steps = 1000;
  int batch_size = 16;
  int crop = 128;
  double learning_rate = 2e-4;
  double weight_decay = 0.0;
  int warmup_steps = 200;
  double ema_decay = 0.999;
  int checkpoint_every = 500;
  int sample_every = 500;
  int log_every = 10;
  double layout_dropout = 0.15;   // whole-layout dropout (learns "no layout", for guidance)
  double style_dropout = 0.1;
  double scene_dropout = 0.15;
  double gsd_dropout = 0.2;
  double inpaint_probability = 0.5;  // samples that get a known region and a mask
  double min_snr_gamma = 5.0;        // min-SNR loss weighting; 0 = off
  // Train on timesteps below this one only (0 = all): a refiner for the low-noise steps.
  // Runs restricted this way write no sample grids (they cannot sample from pure noise).
  int max_timestep = 0;
  DeviceOptions device;
  std::string model_manifest;  // JSON text of model.json for the package
  std::string unet_config;     // JSON text of the UNet config.json
  std::string scheduler_config;  // JSON text of scheduler_config.json
};

TrainConfig parse_train_config(const std::string& json_text, const std::string& label);

struct TrainReport {
  Status status = Status::Ok;
  int first_step = 0;  // > 0 when resumed
  int steps_done = 0;
  double first_loss = 0;  // mean loss of the first logging window
  double last_loss = 0;   // mean loss of the last logging window
  // Loss of the current weights on one fixed batch (fixed samples, noise and timesteps), before
  // and after this run: comparable across runs, unlike the training loss.
  double fixed_loss_before = 0;
  double fixed_loss_after = 0;
  std::string checkpoint;  // last checkpoint written
  std::string model_dir;   // exported model package
  double seconds = 0;
};

// Called with a grid of samples (3 x H x W) every `sample_every` steps; the caller saves it.
using SampleGridCallback = std::function<void(int step, const Image& grid)>;

TrainReport train(const TrainConfig& config, TrainDataSource& data,
                  const ProgressCallback& progress = {}, const CancelToken* cancel = nullptr,
                  const SampleGridCallback& samples = {});

}  // namespace terrasynth::engine
