#include "sched/sampler.h"

#include <algorithm>
#include <cmath>

#include "terrasynth/engine/error.h"

namespace terrasynth::engine::sched {

torch::Tensor Sampler::scale_model_input(const torch::Tensor& sample, int step) const {
  check_step(step);
  const double s = level(step).input_scale();
  // Variance-preserving levels give 1 up to rounding: keep the sample untouched then.
  return std::abs(s - 1.0) < 1e-12 ? sample : sample * s;
}

void Sampler::check_step(int i) const {
  if (i < 0 || i >= steps())
    throw EngineError(EngineError::Kind::InvalidArgument,
                      name() + ": step " + std::to_string(i) + " is outside [0, " +
                          std::to_string(steps()) + ")");
}

std::vector<std::string> sampler_names() {
  return {"ddim", "euler", "euler_karras", "euler_ancestral", "dpmpp_2m", "dpmpp_2m_karras"};
}

std::unique_ptr<Sampler> make_sampler(const std::string& name, const NoiseSchedule& schedule,
                                      const SamplerOptions& options) {
  if (name == "ddim") return make_ddim(schedule, options);
  if (name == "euler") return make_euler(schedule, options);
  if (name == "euler_ancestral") return make_euler_ancestral(schedule, options);
  if (name == "dpmpp_2m") return make_dpmpp_2m(schedule, options);
  // "_karras" variants: the same solver on Karras et al. (2022) sigmas, which spend more steps
  // at low noise, where the fine texture of an image is decided.
  SamplerOptions karras = options;
  karras.karras = true;
  if (name == "euler_karras") return make_euler(schedule, karras);
  if (name == "dpmpp_2m_karras") return make_dpmpp_2m(schedule, karras);
  std::string valid;
  for (const auto& n : sampler_names()) valid += (valid.empty() ? "" : ", ") + n;
  throw EngineError(EngineError::Kind::InvalidArgument,
                    "unknown sampler '" + name + "' (valid: " + valid + ")");
}

torch::Tensor initial_sample(const Sampler& sampler, const NoiseFn& noise) {
  if (!noise)
    throw EngineError(EngineError::Kind::InvalidArgument, "initial_sample needs a noise callback");
  const torch::Tensor n = noise(NoiseUse::Initial, 0, 0);
  return sampler.init_noise_sigma() == 1.0 ? n : n * sampler.init_noise_sigma();
}

torch::Tensor model_step(Sampler& sampler, int i, const torch::Tensor& x,
                         const SampleCallbacks& callbacks, int pass, int passes) {
  if (!callbacks.model)
    throw EngineError(EngineError::Kind::InvalidArgument, sampler.name() + ": no model callback");
  ModelCall call;
  call.timestep = sampler.timesteps()[static_cast<size_t>(i)];
  call.step = i;
  call.total_steps = sampler.steps();
  call.pass = pass;
  call.passes = passes;
  const int64_t batch = x.size(0);
  call.regions.assign(static_cast<size_t>(batch), Region{0, 0, x.size(-1), x.size(-2)});
  const torch::Tensor output = callbacks.model(sampler.scale_model_input(x, i), call);
  if (!output.defined()) return {};
  if (output.sizes() != x.sizes())
    throw EngineError(EngineError::Kind::InvalidArgument,
                      sampler.name() + ": the model output " + c10::str(output.sizes()) +
                          " does not match the sample " + c10::str(x.sizes()));
  torch::Tensor noise;
  if (sampler.stochastic(i)) {
    if (!callbacks.noise)
      throw EngineError(EngineError::Kind::InvalidArgument,
                        sampler.name() + " needs a noise callback at step " + std::to_string(i));
    noise = callbacks.noise(NoiseUse::Step, i, pass);
  }
  return sampler.step(i, output.to(x.dtype()), x, noise);
}

SampleResult sample(Sampler& sampler, torch::Tensor x, const SampleCallbacks& callbacks) {
  torch::NoGradGuard no_grad;
  SampleResult result;
  const int n = sampler.steps();
  for (int i = 0; i < n; ++i) {
    if (callbacks.cancel && callbacks.cancel->cancelled()) break;
    torch::Tensor next = model_step(sampler, i, x, callbacks);
    if (!next.defined()) break;
    if (callbacks.on_step && !callbacks.on_step(i, next)) {
      x = next;
      result.steps_done = i + 1;
      break;
    }
    x = next;
    result.steps_done = i + 1;
    if (callbacks.progress) {
      ProgressEvent event;
      event.phase = "denoise";
      event.step = i + 1;
      event.total_steps = n;
      event.fraction = static_cast<double>(i + 1) / n;
      callbacks.progress(event);
    }
  }
  result.sample = x;
  result.status = result.steps_done == n ? Status::Ok : Status::Cancelled;
  return result;
}

}  // namespace terrasynth::engine::sched
