#pragma once
// Training the detail decoder of a model package: a feed-forward network that re-renders the
// fine detail of an image from its 1/factor-resolution version, the land-cover layout and the
// ground resolution (see docs/TRAINING.md, "The detail decoder"). It is trained adversarially on
// real photos against multi-scale patch discriminators that see the layout, with discriminator
// feature matching, a low-pass consistency and a pixel loss. No torch types cross this header.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "terrasynth/engine/device.h"
#include "terrasynth/engine/progress.h"
#include "terrasynth/engine/train.h"

namespace terrasynth::engine {

struct DetailTrainConfig {
  std::string output_dir;  // checkpoints, loss log, sample grids, the exported decoder (detail/)
  std::string resume;      // checkpoint to resume from ("" = none, "auto" = latest in output_dir)
  uint64_t seed = 0;
  int steps = 3000;
  int batch_size = 8;
  int crop = 128;  // a multiple of 4 x factor
  double learning_rate = 2e-4;                // decoder (generator)
  double discriminator_learning_rate = 2e-4;  // discriminators
  double ema_decay = 0.999;
  int checkpoint_every = 100;
  int sample_every = 500;
  int log_every = 20;
  double layout_dropout = 0.3;  // samples trained without a layout ("no layout" works too)
  double style_dropout = 0.2;
  double gsd_dropout = 0.2;
  // Degradation of the low-resolution input, so the decoder also sharpens softer inputs than
  // area averages of photos (a diffusion model's output is softer): a Gaussian blur of sigma in
  // [blur_sigma[0], blur_sigma[1]] low-resolution pixels with blur_probability, and Gaussian
  // noise of up to noise_sigma with noise_probability.
  double blur_probability = 0.5;
  std::array<double, 2> blur_sigma{0.3, 1.0};
  double noise_probability = 0.3;
  double noise_sigma = 0.02;
  // Blotches: Gaussian noise blurred by blotch_scale low-resolution pixels, of a standard
  // deviation up to blotch_sigma, with blotch_probability. A small diffusion network's output
  // is blotchy at that scale where photos are smooth; a decoder that has seen blotches on
  // smooth photos does not draw them as structure.
  double blotch_probability = 0.0;
  double blotch_sigma = 0.05;
  double blotch_scale = 1.5;
  // Loss weights: least-squares adversarial, discriminator feature matching (L1), the L1 of the
  // low-pass difference to the real image (through the decoder's own input operator: area
  // average and input_blur), and the plain pixel L1.
  double adversarial_weight = 1.0;
  double feature_matching_weight = 10.0;
  double low_pass_weight = 20.0;
  double pixel_weight = 1.0;
  std::string decoder_config;  // JSON text of the decoder's config.json (format added if missing)
  DeviceOptions device;
};

DetailTrainConfig parse_detail_train_config(const std::string& json_text, const std::string& label);

struct DetailTrainReport {
  Status status = Status::Ok;
  int first_step = 0;
  int steps_done = 0;
  double first_loss = 0;  // mean decoder loss of the first logging window
  double last_loss = 0;   // and of the last
  // On one fixed batch, with the averaged (EMA) weights before and after this run: the mean
  // absolute low-pass error (through the input operator, 0..1) and the ratio of the output's fine detail
  // (standard deviation of the image minus its 1.5 px Gaussian blur) to the real photos'.
  double low_pass_error_before = 0;
  double low_pass_error_after = 0;
  double detail_ratio_before = 0;
  double detail_ratio_after = 0;
  std::string checkpoint;
  std::string model_dir;  // the exported decoder folder (config.json, detail.safetensors)
  double seconds = 0;
};

DetailTrainReport train_detail_decoder(const DetailTrainConfig& config, TrainDataSource& data,
                                       const ProgressCallback& progress = {},
                                       const CancelToken* cancel = nullptr,
                                       const SampleGridCallback& samples = {});

}  // namespace terrasynth::engine
