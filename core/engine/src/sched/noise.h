#pragma once
// Counter-based Gaussian noise: the value at a latent pixel depends only on
// (seed, stream, channel, global y, global x), never on the window it was computed for, the
// tiling, the device or the thread count. It is computed on the CPU in integer and IEEE float
// arithmetic without library calls (so bit-identical everywhere) and then moved to the device.
//
// Generator (docs/SAMPLING.md): a row key
//   k = mix(mix(mix(mix(seed + G) ^ mix(stream + C1)) ^ mix(channel + C2)) ^ mix(y + C3))
// and, for the pair p = floor(x / 2), the splitmix64 output h = mix(k + p * G). The top 31 bits
// give u1 in (0, 1], the low 32 bits an angle; Box-Muller gives (r cos, r sin) with
// r = sqrt(-2 ln u1): x even takes the cosine, x odd the sine.
#include <torch/torch.h>

#include <cstdint>

#include "sched/sampler.h"

namespace terrasynth::engine::sched {

// The noise stream of a use, a step and a pass (see NoiseUse).
uint64_t noise_stream(NoiseUse use, int step, int pass);

class CounterNoise {
 public:
  explicit CounterNoise(uint64_t seed) : seed_(seed) {}
  uint64_t seed() const { return seed_; }

  // Standard-normal values of window [x0, x0 + width) x [y0, y0 + height) for channels
  // [0, channels), written row-major [channel][row][column] to `out`.
  void fill(float* out, int64_t x0, int64_t y0, int64_t width, int64_t height, int channels,
            uint64_t stream) const;
  // The same as a float32 CPU tensor [1, channels, height, width].
  torch::Tensor window(int64_t x0, int64_t y0, int64_t width, int64_t height, int channels,
                       uint64_t stream) const;
  // One value (slow path, for tests and checks).
  float at(int64_t x, int64_t y, int channel, uint64_t stream) const;

 private:
  uint64_t seed_;
};

// A NoiseFn for a canvas window of the global latent grid: [1, channels, height, width] on
// `device` in `dtype`, stream noise_stream(use, step, pass).
NoiseFn canvas_noise(const CounterNoise& generator, int64_t x0, int64_t y0, int64_t width,
                     int64_t height, int channels, torch::Device device = torch::kCPU,
                     torch::ScalarType dtype = torch::kFloat32);

}  // namespace terrasynth::engine::sched
