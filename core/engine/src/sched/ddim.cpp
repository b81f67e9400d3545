// DDIM (Song et al. 2021), as diffusers' DDIMScheduler:
//   x0, eps from the model output at alpha_bar_t
//   sigma_t = eta * sqrt((1 - a_prev) / (1 - a_t) * (1 - a_t / a_prev))
//   x_prev = sqrt(a_prev) x0 + sqrt(1 - a_prev - sigma_t^2) eps + sigma_t z
// where a_prev is alpha_bar of the next timestep of the run, and 1 (set_alpha_to_one) or
// alpha_bar[0] after the last one. diffusers uses prev = t - T // steps, which is the same for
// "leading" spacing but not the next timestep for "linspace"/"trailing" ones; following the run's
// own timesteps keeps every step consistent with the level the model is told.
// eta_min_timestep (not in diffusers, where it is 0) limits eta to the steps whose timestep is at
// least that: fresh noise while the picture is laid out, a deterministic path through the detail.
#include <cmath>

#include "sched/sampler.h"
#include "terrasynth/engine/error.h"

namespace terrasynth::engine::sched {
namespace {

class DdimSampler final : public Sampler {
 public:
  DdimSampler(const NoiseSchedule& schedule, const SamplerOptions& options)
      : Sampler(schedule), eta_(options.eta), eta_min_timestep_(options.eta_min_timestep) {
    if (!(eta_ >= 0))
      throw EngineError(EngineError::Kind::InvalidArgument,
                        "ddim: eta must be >= 0, got " + std::to_string(eta_));
    if (!(eta_min_timestep_ >= 0))
      throw EngineError(EngineError::Kind::InvalidArgument,
                        "ddim: eta_min_timestep must be >= 0, got " + std::to_string(eta_min_timestep_));
    const ScheduleConfig& c = schedule_.config();
    timesteps_ = spaced_timesteps(c, options.steps, /*round_linspace=*/true);
    const int n = steps();
    const double final_alpha = c.set_alpha_to_one ? 1.0 : schedule_.alpha_bar(0);
    alpha_t_.resize(static_cast<size_t>(n));
    alpha_prev_.resize(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) {
      const size_t k = static_cast<size_t>(i);
      alpha_t_[k] = schedule_.alpha_bar(static_cast<int>(timesteps_[k]));
      alpha_prev_[k] =
          i + 1 < n ? schedule_.alpha_bar(static_cast<int>(timesteps_[k + 1])) : final_alpha;
    }
    auto vp = [](double a) { return NoiseLevel{std::sqrt(a), std::sqrt(1 - a)}; };
    levels_.push_back(vp(alpha_t_[0]));
    for (int i = 0; i < n; ++i) levels_.push_back(vp(alpha_prev_[static_cast<size_t>(i)]));
  }

  std::string name() const override { return "ddim"; }
  bool stochastic(int i) const override { return eta_at(i) > 0; }

  torch::Tensor step(int i, const torch::Tensor& model_output, const torch::Tensor& sample,
                     const torch::Tensor& noise) override {
    check_step(i);
    const double a_t = alpha_t_[static_cast<size_t>(i)];
    const double a_prev = alpha_prev_[static_cast<size_t>(i)];
    const ScheduleConfig& c = schedule_.config();
    Denoised d = split_prediction(c.prediction_type, model_output, sample, std::sqrt(a_t),
                                  std::sqrt(1 - a_t));
    // As diffusers (use_clipped_model_output = False): only x0 is clipped, eps is kept.
    if (c.clip_sample) d.x0 = d.x0.clamp(-c.clip_sample_range, c.clip_sample_range);
    predicted_x0_ = d.x0;
    const double variance = (1 - a_prev) / (1 - a_t) * (1 - a_t / a_prev);
    const double eta = eta_at(i);
    const double std_dev = eta * std::sqrt(std::max(variance, 0.0));
    const double direction = std::sqrt(std::max(1 - a_prev - std_dev * std_dev, 0.0));
    torch::Tensor prev = std::sqrt(a_prev) * d.x0 + direction * d.eps;
    if (eta > 0) {
      if (!noise.defined())
        throw EngineError(EngineError::Kind::InvalidArgument,
                          "ddim: eta > 0 needs noise at step " + std::to_string(i));
      prev = prev + std_dev * noise;
    }
    return prev;
  }

 private:
  double eta_at(int i) const {
    return timesteps_.at(static_cast<size_t>(i)) >= eta_min_timestep_ ? eta_ : 0.0;
  }

  double eta_;
  double eta_min_timestep_;
  std::vector<double> alpha_t_;
  std::vector<double> alpha_prev_;
};

}  // namespace

std::unique_ptr<Sampler> make_ddim(const NoiseSchedule& schedule, const SamplerOptions& options) {
  return std::make_unique<DdimSampler>(schedule, options);
}

}  // namespace terrasynth::engine::sched
