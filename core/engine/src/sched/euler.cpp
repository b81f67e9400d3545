// Euler (Karras et al. 2022, Algorithm 2 without churn), as diffusers' EulerDiscreteScheduler:
//   x0 = denoised(out, x, sigma_i),  d = (x - x0) / sigma_i,  x_next = x + d * (sigma_{i+1} - sigma_i)
// on samples x = x0 + sigma * eps; the network sees x / sqrt(sigma^2 + 1).
#include <algorithm>
#include <cmath>

#include "sched/sampler.h"

namespace terrasynth::engine::sched {
namespace {

class EulerSampler final : public Sampler {
 public:
  EulerSampler(const NoiseSchedule& schedule, const SamplerOptions& options) : Sampler(schedule) {
    const ScheduleConfig& c = schedule_.config();
    karras_ = options.karras || c.use_karras_sigmas;
    const SigmaSteps s = euler_sigma_steps(schedule_, options.steps,
                                           options.karras || c.use_karras_sigmas,
                                           c.final_sigmas_type);
    timesteps_ = s.timesteps;
    sigmas_ = s.sigmas;
    for (double sigma : sigmas_) levels_.push_back(NoiseLevel{1.0, sigma});
    const double max_sigma = *std::max_element(sigmas_.begin(), sigmas_.end());
    init_noise_sigma_ = c.timestep_spacing == TimestepSpacing::Leading
                            ? std::sqrt(max_sigma * max_sigma + 1)
                            : max_sigma;
  }

  std::string name() const override { return karras_ ? "euler_karras" : "euler"; }

  torch::Tensor step(int i, const torch::Tensor& model_output, const torch::Tensor& sample,
                     const torch::Tensor&) override {
    check_step(i);
    const double sigma = sigmas_[static_cast<size_t>(i)];
    const double sigma_next = sigmas_[static_cast<size_t>(i) + 1];
    predicted_x0_ = ve_denoised(schedule_.prediction_type(), model_output, sample, sigma);
    const torch::Tensor derivative = (sample - predicted_x0_) / sigma;
    return sample + derivative * (sigma_next - sigma);
  }

 private:
  std::vector<double> sigmas_;
  bool karras_ = false;
};

}  // namespace

std::unique_ptr<Sampler> make_euler(const NoiseSchedule& schedule, const SamplerOptions& options) {
  return std::make_unique<EulerSampler>(schedule, options);
}

}  // namespace terrasynth::engine::sched
