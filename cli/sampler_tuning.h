// The sampler adjustments shared by generate, inpaint and evaluate: the model's refiner and detail decoder, the
// colour smoothing of each step's estimate, guidance by frequency and DDIM's eta
// (docs/SAMPLING.md).
#pragma once

#include <vector>

#include "cli_common.h"
#include "terrasynth/pipeline/jobs.h"

namespace terrasynth::cli {

// --no-refiner, --no-detail, --chroma-smoothing PX, --coarse-guidance G, --coarse-sigma PX and --eta E, for a
// command's option list.
std::vector<OptionSpec> sampler_tuning_options();

// Reads those options into `params`; a value out of range is a UsageError naming the option.
void read_sampler_tuning(const Args& args, pipeline::SamplingParams& params);

}  // namespace terrasynth::cli
