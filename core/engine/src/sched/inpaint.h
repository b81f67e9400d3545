#pragma once
// Inpainting and seamless continuation by blending (RePaint-style, Lugmayr et al. 2022): after
// every step the known region is brought to the step's noise level and blended in with a
// feathered mask; optional resampling jumps re-noise one level back and redo the step. The final
// composite keeps every unmasked value bit-identical.
#include <torch/torch.h>

#include "sched/sampler.h"
#include "terrasynth/engine/image.h"

namespace terrasynth::engine::sched {

struct InpaintOptions {
  torch::Tensor known;  // [B, C, H, W] clean latent of the known content
  torch::Tensor mask;   // [B or 1, 1, H, W] in [0, 1], 1 = regenerate (feathered at the border)
  int resample_jumps = 0;  // extra passes per step (0 = plain blending)
  // false: one noise tensor, noise(Initial, 0, 0) (the noise of x_T), for the known region at
  // every level, which keeps deterministic samplers on a consistent trajectory; true: fresh noise
  // noise(Known, step, pass) at every step, as in RePaint.
  bool fresh_known_noise = false;
};

// Samples like sample() with the known region blended in after every step:
//   x <- mask * x + (1 - mask) * (scale_i * known + sigma_i * z)
// and returns composite_known(final, known, mask), so result == known wherever mask == 0.
// Progress: one "denoise" event per step (after all its passes).
SampleResult sample_inpaint(Sampler& sampler, torch::Tensor x, const InpaintOptions& options,
                            const SampleCallbacks& callbacks);

// Forward-diffuses a sample from level `from` to the noisier level `to` with standard-normal z:
//   x_to = (s_to / s_from) x + sqrt(sigma_to^2 - (s_to / s_from)^2 sigma_from^2) z
torch::Tensor renoise(const torch::Tensor& x, const NoiseLevel& from, const NoiseLevel& to,
                      const torch::Tensor& z);

// mask * generated + (1 - mask) * known, and exactly `known` where mask == 0. Works in any space
// (latents, or pixels after decoding); the mask broadcasts over channels.
torch::Tensor composite_known(const torch::Tensor& generated, const torch::Tensor& known,
                              const torch::Tensor& mask);
// The same for caller images (3 x H x W) and a pixel mask of the same size.
Image composite_known(const Image& generated, const Image& known, const Mask& mask);

// Pixel mask [B, 1, H, W] -> latent mask [B, 1, ceil(H/f), ceil(W/f)]: a latent pixel is
// regenerated (its maximum) when any of its pixels is.
torch::Tensor mask_to_latent(const torch::Tensor& mask, int factor);
// Feathers a mask outwards: 1 inside, then a linear ramp to 0 over `radius` pixels (Chebyshev
// distance), so the blend never cuts into the region to regenerate.
torch::Tensor feather_mask(const torch::Tensor& mask, int radius);

}  // namespace terrasynth::engine::sched
