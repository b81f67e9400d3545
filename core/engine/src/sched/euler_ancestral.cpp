// Euler ancestral (k-diffusion sample_euler_ancestral, eta = 1), as diffusers'
// EulerAncestralDiscreteScheduler:
//   sigma_up = sqrt(s_next^2 (s^2 - s_next^2) / s^2),  sigma_down = sqrt(s_next^2 - sigma_up^2)
//   x_next = x + (x - x0) / s * (sigma_down - s) + sigma_up * z
#include <algorithm>
#include <cmath>

#include "sched/sampler.h"
#include "terrasynth/engine/error.h"

namespace terrasynth::engine::sched {
namespace {

class EulerAncestralSampler final : public Sampler {
 public:
  EulerAncestralSampler(const NoiseSchedule& schedule, const SamplerOptions& options)
      : Sampler(schedule) {
    const ScheduleConfig& c = schedule_.config();
    // diffusers' ancestral scheduler always ends at sigma = 0.
    const SigmaSteps s = euler_sigma_steps(schedule_, options.steps,
                                           options.karras || c.use_karras_sigmas, FinalSigma::Zero);
    timesteps_ = s.timesteps;
    sigmas_ = s.sigmas;
    for (double sigma : sigmas_) levels_.push_back(NoiseLevel{1.0, sigma});
    const double max_sigma = *std::max_element(sigmas_.begin(), sigmas_.end());
    init_noise_sigma_ = c.timestep_spacing == TimestepSpacing::Leading
                            ? std::sqrt(max_sigma * max_sigma + 1)
                            : max_sigma;
  }

  std::string name() const override { return "euler_ancestral"; }
  bool stochastic(int i) const override { return sigma_up(i) > 0; }

  torch::Tensor step(int i, const torch::Tensor& model_output, const torch::Tensor& sample,
                     const torch::Tensor& noise) override {
    check_step(i);
    const double sigma = sigmas_[static_cast<size_t>(i)];
    const double sigma_next = sigmas_[static_cast<size_t>(i) + 1];
    const double up = sigma_up(i);
    const double down = std::sqrt(std::max(sigma_next * sigma_next - up * up, 0.0));
    predicted_x0_ = ve_denoised(schedule_.prediction_type(), model_output, sample, sigma);
    const torch::Tensor derivative = (sample - predicted_x0_) / sigma;
    torch::Tensor next = sample + derivative * (down - sigma);
    if (up > 0) {
      if (!noise.defined())
        throw EngineError(EngineError::Kind::InvalidArgument,
                          "euler_ancestral needs noise at step " + std::to_string(i));
      next = next + noise * up;
    }
    return next;
  }

 private:
  double sigma_up(int i) const {
    const double from = sigmas_[static_cast<size_t>(i)];
    const double to = sigmas_[static_cast<size_t>(i) + 1];
    return std::sqrt(std::max(to * to * (from * from - to * to) / (from * from), 0.0));
  }
  std::vector<double> sigmas_;
};

}  // namespace

std::unique_ptr<Sampler> make_euler_ancestral(const NoiseSchedule& schedule,
                                              const SamplerOptions& options) {
  return std::make_unique<EulerAncestralSampler>(schedule, options);
}

}  // namespace terrasynth::engine::sched
