#include "runtime/conditioning.h"

#include <algorithm>
#include <cmath>

#include "terrasynth/engine/error.h"

namespace terrasynth::engine {

namespace {
void require_pixel_latent(const ConditioningSpec& spec) {
  if (spec.latent_type != "pixel_unshuffle")
    throw EngineError(EngineError::Kind::Unsupported,
                      "latent type '" + spec.latent_type + "' needs its autoencoder");
}
}  // namespace

torch::Tensor pixels_to_latent(const torch::Tensor& images, const ConditioningSpec& spec) {
  require_pixel_latent(spec);
  // Natural imagery mapped to [-1, 1] has a standard deviation around 0.2; the scaling factor
  // brings it nearer unit variance so the noise schedule destroys and forms structure evenly.
  return torch::pixel_unshuffle((images * 2.0 - 1.0) * spec.latent_scale, spec.latent_factor);
}

torch::Tensor latent_to_pixels(const torch::Tensor& latent, const ConditioningSpec& spec) {
  require_pixel_latent(spec);
  return ((torch::pixel_shuffle(latent, spec.latent_factor) / spec.latent_scale + 1.0) * 0.5)
      .clamp(0.0, 1.0);
}

torch::Tensor layout_fractions(const torch::Tensor& classes, int num_classes, int factor) {
  TORCH_CHECK(classes.dim() == 3, "class maps must be [B,H,W]");
  auto ids = classes.to(torch::kLong);
  // Unknown (>= num_classes) pixels go to an extra slot that is dropped.
  ids = torch::where(ids < num_classes, ids, torch::full_like(ids, num_classes));
  auto onehot = torch::one_hot(ids, num_classes + 1).permute({0, 3, 1, 2}).to(torch::kFloat);
  onehot = onehot.narrow(1, 0, num_classes);
  if (factor == 1) return onehot.contiguous();
  return torch::avg_pool2d(onehot, {factor, factor}, {factor, factor});
}

torch::Tensor inpaint_channels(const torch::Tensor& known, const torch::Tensor& mask,
                               const ConditioningSpec& spec) {
  const auto keep = 1.0 - mask;
  auto known_latent = pixels_to_latent(known, spec) * torch::pixel_unshuffle(keep.expand_as(known), spec.latent_factor);
  auto mask_small = torch::avg_pool2d(mask, {spec.latent_factor, spec.latent_factor},
                                      {spec.latent_factor, spec.latent_factor});
  return torch::cat({known_latent, mask_small}, 1);
}

torch::Tensor class_vectors(const Manifest& manifest, const std::vector<int>& styles,
                            const std::vector<int>& scenes, const std::vector<double>& gsds) {
  const int n_styles = static_cast<int>(manifest.info.styles.size());
  const int n_scenes = static_cast<int>(manifest.info.scenes.size());
  const int64_t batch = static_cast<int64_t>(styles.size());
  TORCH_CHECK(scenes.size() == styles.size() && gsds.size() == styles.size(),
              "class vector inputs must have one entry per sample");
  auto out = torch::zeros({batch, n_styles + n_scenes + 2});
  auto acc = out.accessor<float, 2>();
  const auto& spec = manifest.conditioning;
  for (int64_t b = 0; b < batch; ++b) {
    if (styles[b] >= 0 && styles[b] < n_styles) acc[b][styles[b]] = 1.f;
    if (scenes[b] >= 0 && scenes[b] < n_scenes) acc[b][n_styles + scenes[b]] = 1.f;
    if (gsds[b] > 0) {
      acc[b][n_styles + n_scenes] = 1.f;
      acc[b][n_styles + n_scenes + 1] =
          static_cast<float>(std::log2(gsds[b] / spec.gsd_reference) * spec.gsd_feature_scale);
    }
  }
  return out;
}

torch::Tensor denoiser_input(const torch::Tensor& x_t, const torch::Tensor& layout,
                             const torch::Tensor& inpaint, const ConditioningSpec& spec) {
  std::vector<torch::Tensor> parts{x_t};
  if (spec.layout) parts.push_back(layout.to(x_t.dtype()));
  if (spec.inpaint) parts.push_back(inpaint.to(x_t.dtype()));
  return parts.size() == 1 ? x_t : torch::cat(parts, 1);
}

torch::Tensor blur_pixels(const torch::Tensor& pixels, double sigma) {
  if (!(sigma > 0)) return pixels;
  const int64_t radius = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(3.0 * sigma)));
  auto taps = torch::arange(-radius, radius + 1, torch::TensorOptions().dtype(torch::kFloat));
  taps = torch::exp(-taps * taps / (2.0 * sigma * sigma));
  taps = (taps / taps.sum()).to(pixels.options());
  const int64_t channels = pixels.size(1);
  // Separable, one channel per group; edges replicated (a window's border is not a border of the
  // image, so zero padding would darken it).
  auto out = torch::replication_pad2d(pixels, {radius, radius, 0, 0});
  out = torch::conv2d(out, taps.view({1, 1, 1, -1}).expand({channels, 1, 1, 2 * radius + 1}), {},
                      std::vector<int64_t>{1, 1}, std::vector<int64_t>{0, 0}, std::vector<int64_t>{1, 1}, channels);
  out = torch::replication_pad2d(out, {0, 0, radius, radius});
  return torch::conv2d(out, taps.view({1, 1, -1, 1}).expand({channels, 1, 2 * radius + 1, 1}), {},
                       std::vector<int64_t>{1, 1}, std::vector<int64_t>{0, 0}, std::vector<int64_t>{1, 1}, channels);
}

torch::Tensor smooth_chroma(const torch::Tensor& latent, const ConditioningSpec& spec, double sigma) {
  if (!(sigma > 0)) return latent;
  require_pixel_latent(spec);
  auto pixels = torch::pixel_shuffle(latent, spec.latent_factor);
  const auto luma = pixels.mean(1, true);
  return torch::pixel_unshuffle(luma + blur_pixels(pixels - luma, sigma), spec.latent_factor);
}

torch::Tensor blur_latent(const torch::Tensor& latent, const ConditioningSpec& spec, double sigma) {
  require_pixel_latent(spec);
  const int64_t f = spec.latent_factor;
  return torch::pixel_unshuffle(blur_pixels(torch::pixel_shuffle(latent, f), sigma), f);
}

torch::Tensor merge_detail(const torch::Tensor& coarse, const torch::Tensor& fine, const ConditioningSpec& spec,
                           double sigma) {
  return blur_latent(coarse, spec, sigma) + fine - blur_latent(fine, spec, sigma);
}

int denoiser_input_channels(const Manifest& manifest) {
  const auto& spec = manifest.conditioning;
  return spec.latent_channels + spec.layout_channels(static_cast<int>(manifest.info.classes.size())) +
         spec.inpaint_channels();
}

}  // namespace terrasynth::engine
