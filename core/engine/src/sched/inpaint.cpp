#include "sched/inpaint.h"

#include <cmath>

#include "terrasynth/engine/error.h"

namespace terrasynth::engine::sched {
namespace {

void check_inpaint(const torch::Tensor& x, const InpaintOptions& o) {
  if (!o.known.defined() || !o.mask.defined())
    throw EngineError(EngineError::Kind::InvalidArgument, "inpainting needs a known latent and a mask");
  if (o.known.sizes() != x.sizes())
    throw EngineError(EngineError::Kind::InvalidArgument,
                      "inpainting: the known latent " + c10::str(o.known.sizes()) +
                          " does not match the sample " + c10::str(x.sizes()));
  if (o.mask.dim() != 4 || o.mask.size(1) != 1 || o.mask.size(2) != x.size(2) ||
      o.mask.size(3) != x.size(3) || (o.mask.size(0) != 1 && o.mask.size(0) != x.size(0)))
    throw EngineError(EngineError::Kind::InvalidArgument,
                      "inpainting: the mask " + c10::str(o.mask.sizes()) +
                          " must be [1 or B, 1, H, W] for the sample " + c10::str(x.sizes()));
  if (o.resample_jumps < 0)
    throw EngineError(EngineError::Kind::InvalidArgument,
                      "inpainting: resample_jumps must be >= 0, got " +
                          std::to_string(o.resample_jumps));
}

}  // namespace

torch::Tensor renoise(const torch::Tensor& x, const NoiseLevel& from, const NoiseLevel& to,
                      const torch::Tensor& z) {
  const double ratio = to.scale / from.scale;
  const double extra = to.sigma * to.sigma - ratio * ratio * from.sigma * from.sigma;
  return ratio * x + std::sqrt(std::max(extra, 0.0)) * z;
}

torch::Tensor composite_known(const torch::Tensor& generated, const torch::Tensor& known,
                              const torch::Tensor& mask) {
  const torch::Tensor m = mask.to(generated.dtype());
  const torch::Tensor blend = m * generated + (1 - m) * known.to(generated.dtype());
  return torch::where(mask == 0, known.to(generated.dtype()), blend);
}

Image composite_known(const Image& generated, const Image& known, const Mask& mask) {
  if (generated.channels != known.channels || generated.height != known.height ||
      generated.width != known.width || mask.height != known.height || mask.width != known.width)
    throw EngineError(EngineError::Kind::InvalidArgument,
                      "composite: generated " + std::to_string(generated.width) + "x" +
                          std::to_string(generated.height) + ", known " +
                          std::to_string(known.width) + "x" + std::to_string(known.height) +
                          " and mask " + std::to_string(mask.width) + "x" +
                          std::to_string(mask.height) + " must have the same size");
  Image out = generated;
  const size_t plane = static_cast<size_t>(known.height) * known.width;
  for (int c = 0; c < known.channels; ++c) {
    for (size_t i = 0; i < plane; ++i) {
      const float m = mask.data[i];
      const size_t k = static_cast<size_t>(c) * plane + i;
      out.data[k] = m == 0.f ? known.data[k] : m * generated.data[k] + (1 - m) * known.data[k];
    }
  }
  return out;
}

torch::Tensor mask_to_latent(const torch::Tensor& mask, int factor) {
  if (factor < 1)
    throw EngineError(EngineError::Kind::InvalidArgument,
                      "mask_to_latent: factor must be >= 1, got " + std::to_string(factor));
  if (factor == 1) return mask;
  return torch::max_pool2d(mask, {factor, factor}, {factor, factor}, {0, 0}, {1, 1},
                           /*ceil_mode=*/true);
}

torch::Tensor feather_mask(const torch::Tensor& mask, int radius) {
  if (radius <= 0) return mask;
  torch::Tensor grown = mask;
  torch::Tensor sum = mask.clone();
  for (int k = 0; k < radius; ++k) {
    grown = torch::max_pool2d(grown, {3, 3}, {1, 1}, {1, 1});
    sum = sum + grown;
  }
  return sum / static_cast<double>(radius + 1);
}

SampleResult sample_inpaint(Sampler& sampler, torch::Tensor x, const InpaintOptions& options,
                            const SampleCallbacks& callbacks) {
  torch::NoGradGuard no_grad;
  check_inpaint(x, options);
  if (!callbacks.noise)
    throw EngineError(EngineError::Kind::InvalidArgument, "inpainting needs a noise callback");
  const torch::Tensor known = options.known.to(x.device(), x.dtype());
  const torch::Tensor mask = options.mask.to(x.device(), x.dtype());
  const torch::Tensor keep = 1 - mask;
  const torch::Tensor shared_noise =
      options.fresh_known_noise ? torch::Tensor() : callbacks.noise(NoiseUse::Initial, 0, 0);
  auto known_at = [&](int level_index, int pass) {
    const NoiseLevel& level = sampler.level(level_index);
    if (level.sigma == 0) return level.scale * known;
    const torch::Tensor z = options.fresh_known_noise
                                ? callbacks.noise(NoiseUse::Known, level_index, pass)
                                : shared_noise;
    return level.scale * known + level.sigma * z;
  };
  auto blend = [&](const torch::Tensor& sample, int level_index, int pass) {
    return mask * sample + keep * known_at(level_index, pass);
  };

  SampleResult result;
  const int n = sampler.steps();
  const int passes = options.resample_jumps + 1;
  x = blend(x, 0, 0);
  bool stopped = false;
  for (int i = 0; i < n && !stopped; ++i) {
    torch::Tensor next;
    for (int pass = 0; pass < passes; ++pass) {
      if (callbacks.cancel && callbacks.cancel->cancelled()) {
        stopped = true;
        break;
      }
      next = model_step(sampler, i, x, callbacks, pass, passes);
      if (!next.defined()) {
        stopped = true;
        break;
      }
      next = blend(next, i + 1, pass);
      if (pass + 1 < passes)
        x = renoise(next, sampler.level(i + 1), sampler.level(i),
                    callbacks.noise(NoiseUse::Jump, i, pass));
    }
    if (stopped) break;
    x = next;
    result.steps_done = i + 1;
    if (callbacks.on_step && !callbacks.on_step(i, x)) stopped = true;
    if (callbacks.progress) {
      ProgressEvent event;
      event.phase = "denoise";
      event.step = i + 1;
      event.total_steps = n;
      event.fraction = static_cast<double>(i + 1) / n;
      callbacks.progress(event);
    }
  }
  result.status = result.steps_done == n ? Status::Ok : Status::Cancelled;
  result.sample = composite_known(x, known, mask);
  return result;
}

}  // namespace terrasynth::engine::sched
