#pragma once
// Classifier-free guidance (Ho & Salimans 2022) as a model-callback wrapper:
//   out = uncond + scale * (cond - uncond)
// evaluated on the raw network output (linear in it, so the same for every prediction type).
#include <functional>

#include "sched/sampler.h"

namespace terrasynth::engine::sched {

struct GuidanceOptions {
  double scale = 1.0;   // 1 = no guidance: exactly the conditional branch, no unconditional call
  bool batched = true;  // run both branches as one batch of 2B (false: two calls of B)
  // Guidance interval (Kynkaanniemi et al. 2024): guidance applies to the sampling steps whose
  // position step / total_steps lies in [interval_start, interval_end); the other steps use the
  // conditional branch alone (one network evaluation instead of two).
  double interval_start = 0.0;
  double interval_end = 1.0;
  // Scale by frequency: with `coarse` (a low-pass filter of a raw output, e.g. a Gaussian blur of
  // its pixels) the guidance difference's coarse part is scaled by `coarse_scale` and the rest by
  // `scale`: out = uncond + scale d + (coarse_scale - scale) coarse(d), d = cond - uncond.
  // Large-area colour (what high scales over-saturate) then gets a low scale while small
  // structures keep the high one. Unset: one scale for everything.
  std::function<torch::Tensor(const torch::Tensor&)> coarse = nullptr;
  double coarse_scale = 1.0;
};

// Wraps `model` (which must honour ModelCall::branches: entries marked Unconditional get the
// null conditioning) into a callback that returns the guided output.
ModelFn classifier_free_guidance(ModelFn model, const GuidanceOptions& options);

}  // namespace terrasynth::engine::sched
