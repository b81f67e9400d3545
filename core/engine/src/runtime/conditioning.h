#pragma once
// Turning images and conditions into the denoiser's inputs, shared by the trainer and the
// generator so both feed the network identically.
#include <torch/torch.h>

#include <vector>

#include "runtime/manifest.h"

namespace terrasynth::engine {

// Images [B,3,H,W] in [0,1] -> latents [B,C,H/f,W/f] (pixel_unshuffle latents are in [-1,1]).
torch::Tensor pixels_to_latent(const torch::Tensor& images, const ConditioningSpec& spec);
// Latents -> images [B,3,H,W] in [0,1] (clamped).
torch::Tensor latent_to_pixels(const torch::Tensor& latent, const ConditioningSpec& spec);

// Class maps [B,H,W] (uint8, 255 = unknown) -> per-class area fractions [B,K,H/f,W/f].
// Unknown pixels contribute to no class, so an all-unknown map is the "no layout" condition.
torch::Tensor layout_fractions(const torch::Tensor& classes, int num_classes, int factor);

// Known images [B,3,H,W] in [0,1] and masks [B,1,H,W] (1 = regenerate) -> the masked known
// latent and the mask at latent resolution, [B,C+1,H/f,W/f]. Plain generation is mask = 1.
torch::Tensor inpaint_channels(const torch::Tensor& known, const torch::Tensor& mask,
                               const ConditioningSpec& spec);

// One class vector per sample: one-hot style, one-hot scene, then [gsd known, log2 gsd feature].
// Indices < 0 mean unknown/none (all zeros); gsd <= 0 means unknown.
torch::Tensor class_vectors(const Manifest& manifest, const std::vector<int>& styles,
                            const std::vector<int>& scenes, const std::vector<double>& gsds);

// The whole denoiser input: [x_t, layout fractions, inpaint channels] along channels, with the
// parts the manifest does not use left out.
torch::Tensor denoiser_input(const torch::Tensor& x_t, const torch::Tensor& layout,
                             const torch::Tensor& inpaint, const ConditioningSpec& spec);

int denoiser_input_channels(const Manifest& manifest);

// Smooths the colour of pixel_unshuffle latents [B,C,h,w] with a Gaussian of `sigma` pixels
// (replicated edges) and keeps their brightness: with Y the mean of R, G and B at each pixel,
// the result is Y + blur(RGB - Y). The imagery the models learn from carries little colour
// detail at the pixel scale (JPEG keeps colour at half resolution); sigma <= 0 returns the input.
torch::Tensor smooth_chroma(const torch::Tensor& latent, const ConditioningSpec& spec, double sigma);

// Images [B,C,H,W] blurred by a Gaussian of `sigma` pixels, edges replicated (sigma <= 0: input).
torch::Tensor blur_pixels(const torch::Tensor& pixels, double sigma);

// pixel_unshuffle latents [B,C,h,w] whose pixels are blurred by a Gaussian of `sigma` pixels.
torch::Tensor blur_latent(const torch::Tensor& latent, const ConditioningSpec& spec, double sigma);

// pixel_unshuffle latents: the structure of `coarse` (its Gaussian blur of `sigma` pixels) plus
// the detail of `fine` (fine minus its blur).
torch::Tensor merge_detail(const torch::Tensor& coarse, const torch::Tensor& fine, const ConditioningSpec& spec,
                           double sigma);

}  // namespace terrasynth::engine
