#include "sampler_tuning.h"

#include <string>

namespace terrasynth::cli {

std::vector<OptionSpec> sampler_tuning_options() {
  return {
      {"no-refiner", "", "run the low-noise steps with the main network instead of the model's refiner"},
      {"no-detail", "", "keep the sampled image as it is instead of re-rendering its fine detail with the model's detail decoder"},
      {"chroma-smoothing", "PX", "colour smoothing of each step's estimate, in pixels (default: the model's; 0 = off)"},
      {"coarse-guidance", "G", "guidance scale of the coarse part (default: the model's)"},
      {"coarse-sigma", "PX", "what counts as coarse: a Gaussian of PX pixels (default: the model's; 0 = one scale everywhere)"},
      {"eta", "E", "DDIM's eta, 0 (deterministic) to 1 (fresh noise every step); the model's default may limit it to the high-noise steps"},
  };
}

namespace {

// The option's value if given and within [low, high]; a UsageError saying `range` otherwise.
void read_in_range(const Args& args, const std::string& name, double low, double high,
                   const std::string& range, double& value) {
  if (!args.has(name)) return;
  const double given = args.get_double(name, -1);
  if (!(given >= low && given <= high)) throw UsageError("--" + name + " must be " + range);
  value = given;
}

}  // namespace

void read_sampler_tuning(const Args& args, pipeline::SamplingParams& params) {
  params.refiner = !args.flag("no-refiner");
  params.detail = !args.flag("no-detail");
  read_in_range(args, "chroma-smoothing", 0, 16, "between 0 (off) and 16 pixels", params.chroma_smoothing);
  read_in_range(args, "coarse-guidance", 0, 100, "between 0 and 100 (1 = none for the coarse part)",
                params.coarse_guidance);
  read_in_range(args, "coarse-sigma", 0, 64, "between 0 (off) and 64 pixels", params.coarse_guidance_sigma);
  read_in_range(args, "eta", 0, 1, "between 0 (deterministic) and 1", params.eta);
}

}  // namespace terrasynth::cli
