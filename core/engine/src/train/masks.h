#pragma once
// Random inpainting masks for training: boxes, edge bands (seamless continuation of a finished
// neighbour) and blobs. 1 = regenerate.
#include <torch/torch.h>

#include <random>

namespace terrasynth::engine {

torch::Tensor random_inpaint_mask(std::mt19937_64& rng, int height, int width);

}  // namespace terrasynth::engine
