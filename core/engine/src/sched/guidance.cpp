#include "sched/guidance.h"

#include <cmath>

#include "terrasynth/engine/error.h"

namespace terrasynth::engine::sched {

ModelFn classifier_free_guidance(ModelFn model, const GuidanceOptions& options) {
  if (!model)
    throw EngineError(EngineError::Kind::InvalidArgument, "guidance: no model callback to wrap");
  if (!std::isfinite(options.scale))
    throw EngineError(EngineError::Kind::InvalidArgument,
                      "guidance: the scale must be finite, got " + std::to_string(options.scale));
  const double scale = options.scale;
  if (scale == 1.0) {
    return [model](const torch::Tensor& input, const ModelCall& call) {
      ModelCall conditional = call;
      conditional.branches.assign(static_cast<size_t>(input.size(0)), Branch::Conditional);
      return model(input, conditional);
    };
  }
  if (!(options.interval_start >= 0.0 && options.interval_start <= options.interval_end &&
        options.interval_end <= 1.0))
    throw EngineError(EngineError::Kind::InvalidArgument,
                      "guidance: the interval must satisfy 0 <= start <= end <= 1, got [" +
                          std::to_string(options.interval_start) + ", " +
                          std::to_string(options.interval_end) + "]");
  if (options.coarse && !std::isfinite(options.coarse_scale))
    throw EngineError(EngineError::Kind::InvalidArgument,
                      "guidance: the coarse scale must be finite, got " + std::to_string(options.coarse_scale));
  const bool batched = options.batched;
  const double start = options.interval_start;
  const double end = options.interval_end;
  const auto coarse = options.coarse;
  const double coarse_scale = options.coarse_scale;
  return [model, scale, batched, start, end, coarse, coarse_scale](const torch::Tensor& input,
                                                                   const ModelCall& call) -> torch::Tensor {
    const int64_t b = input.size(0);
    ModelCall cond = call;
    cond.branches.assign(static_cast<size_t>(b), Branch::Conditional);
    if (start > 0.0 || end < 1.0) {
      const double position =
          call.total_steps > 0 ? static_cast<double>(call.step) / call.total_steps : 0.0;
      if (position < start || position >= end) return model(input, cond);
    }
    ModelCall uncond = call;
    uncond.branches.assign(static_cast<size_t>(b), Branch::Unconditional);
    torch::Tensor c;
    torch::Tensor u;
    if (batched) {
      ModelCall both = call;
      both.regions.insert(both.regions.end(), call.regions.begin(), call.regions.end());
      both.branches = cond.branches;
      both.branches.insert(both.branches.end(), uncond.branches.begin(), uncond.branches.end());
      const torch::Tensor out = model(torch::cat({input, input}, 0), both);
      if (!out.defined()) return {};
      c = out.slice(0, 0, b);
      u = out.slice(0, b, 2 * b);
    } else {
      c = model(input, cond);
      if (!c.defined()) return {};
      u = model(input, uncond);
      if (!u.defined()) return {};
    }
    const torch::Tensor d = c - u;
    if (coarse) return u + scale * d + (coarse_scale - scale) * coarse(d);
    return u + scale * d;
  };
}

}  // namespace terrasynth::engine::sched
