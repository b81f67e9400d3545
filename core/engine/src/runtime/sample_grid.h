#pragma once
// Sample grids during training: layout | real | generated rows for a fixed set of samples.
#include <vector>

#include "runtime/manifest.h"
#include "runtime/network.h"
#include "sched/schedule.h"
#include "terrasynth/engine/train.h"

namespace terrasynth::engine {

Image render_preview_grid(DenoiserNetwork& network, const Manifest& manifest,
                          const sched::NoiseSchedule& schedule, const std::vector<TrainSample>& samples,
                          uint64_t seed);

}  // namespace terrasynth::engine
