#include "sampler_tuning.h"

namespace terrasynth::cli {

std::vector<OptionSpec> sampler_tuning_options() {
  return {
      {"no-refiner", "", "run the low-noise steps with the main network instead of the model's refiner"},
      {"chroma-smoothing", "PX", "colour smoothing of each step's estimate, in pixels (default: the model's; 0 = off)"},
      {"coarse-guidance", "G", "guidance scale of the coarse part (default: the model's)"},
      {"coarse-sigma", "PX", "what counts as coarse: a Gaussian of PX pixels (default: the model's; 0 = one scale everywhere)"},
      {"eta", "E", "DDIM's eta, 0 (deterministic) to 1 (fresh noise every step); the model's default may limit it to the high-noise steps"},
  };
}

void read_sampler_tuning(const Args& args, pipeline::SamplingParams& params) {
  params.refiner = !args.flag("no-refiner");
  if (args.has("chroma-smoothing")) {
    params.chroma_smoothing = args.get_double("chroma-smoothing", -1);
    if (!(params.chroma_smoothing >= 0 && params.chroma_smoothing <= 16))
      throw UsageError("--chroma-smoothing must be between 0 (off) and 16 pixels");
  }
  if (args.has("coarse-guidance")) {
    params.coarse_guidance = args.get_double("coarse-guidance", -1);
    if (!(params.coarse_guidance >= 0 && params.coarse_guidance <= 100))
      throw UsageError("--coarse-guidance must be between 0 and 100 (1 = none for the coarse part)");
  }
  if (args.has("coarse-sigma")) {
    params.coarse_guidance_sigma = args.get_double("coarse-sigma", -1);
    if (!(params.coarse_guidance_sigma >= 0 && params.coarse_guidance_sigma <= 64))
      throw UsageError("--coarse-sigma must be between 0 (off) and 64 pixels");
  }
  if (args.has("eta")) {
    params.eta = args.get_double("eta", -1);
    if (!(params.eta >= 0 && params.eta <= 1))
      throw UsageError("--eta must be between 0 (deterministic) and 1");
  }
}

}  // namespace terrasynth::cli
