#pragma once
// Classifier-free guidance (Ho & Salimans 2022) as a model-callback wrapper:
//   out = uncond + scale * (cond - uncond)
// evaluated on the raw network output (linear in it, so the same for every prediction type).
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
};

// Wraps `model` (which must honour ModelCall::branches: entries marked Unconditional get the
// null conditioning) into a callback that returns the guided output.
ModelFn classifier_free_guidance(ModelFn model, const GuidanceOptions& options);

}  // namespace terrasynth::engine::sched
