#pragma once
// `terrasynth train --config FILE`: reads the data section of a training configuration, builds
// the data sources from folders in the ../shared format, and runs the engine's trainer (the
// diffusion model, its detail decoder or the evaluation segmenter).
#include <string>

#include "terrasynth/engine/image.h"
#include "terrasynth/pipeline/jobs.h"

namespace terrasynth::pipeline {

struct TrainingResult {
  bool cancelled = false;
  std::string kind;        // "diffusion" | "detail" | "segmenter"
  int first_step = 0;
  int steps_done = 0;
  double first_loss = 0;
  double last_loss = 0;
  double fixed_loss_before = 0;  // diffusion: loss on a fixed batch before and after the run
  double fixed_loss_after = 0;
  // detail: on a fixed batch before and after the run, the low-pass error (0..1) and the ratio
  // of the decoded images' fine detail to the photos' (see terrasynth/engine/detail.h).
  double low_pass_error_before = 0;
  double low_pass_error_after = 0;
  double detail_ratio_before = 0;
  double detail_ratio_after = 0;
  std::string checkpoint;
  std::string model_dir;
  size_t training_items = 0;
  double seconds = 0;
};

// `overrides` is a JSON object merged over the configuration (e.g. {"steps": 10}).
TrainingResult run_training(const std::string& config_path, const std::string& overrides_json,
                            const JobControl& control = {});

// Writes an RGB image ([0,1] floats) as an 8-bit PNG, atomically.
void write_png(const std::string& path, const engine::Image& image);
// Reads any 8-bit RGB image GDAL can read into [0,1] floats.
engine::Image read_image(const std::string& path);

}  // namespace terrasynth::pipeline
