#pragma once
// One generation on a canvas: conditions cropped per window, classifier-free guidance, seamless
// tiled sampling, optional inpainting/continuation, decoding and the exact composite of known
// pixels. Shared by Model::generate and the trainer's sample grids.
#include <torch/torch.h>

#include "runtime/detail_decoder.h"
#include "runtime/manifest.h"
#include "runtime/network.h"
#include "sched/schedule.h"
#include "terrasynth/engine/model.h"

namespace terrasynth::engine {

struct GenerationContext {
  DenoiserNetwork* network = nullptr;
  DenoiserNetwork* refiner = nullptr;  // optional, see Manifest::refiner_folder
  DetailDecoder* detail = nullptr;     // optional, see Manifest::detail_folder
  const Manifest* manifest = nullptr;
  const sched::NoiseSchedule* schedule = nullptr;
  torch::Device device{torch::kCPU};
  torch::ScalarType dtype = torch::kFloat32;
};

// Validates `request` against the manifest (sizes, styles, scenes, sampler), throwing
// EngineError(InvalidArgument) with the valid values listed.
void validate_request(const Manifest& manifest, const GenerateRequest& request);

GenerateResult run_generation(const GenerationContext& context, const GenerateRequest& request,
                              const ProgressCallback& progress, const CancelToken* cancel);

}  // namespace terrasynth::engine
