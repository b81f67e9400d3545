// DPM-Solver++(2M) (Lu et al. 2022), as diffusers' DPMSolverMultistepScheduler with
// algorithm_type "dpmsolver++" and solver_order 2, on variance-preserving samples:
//   alpha = 1 / sqrt(sigma^2 + 1), s = sigma * alpha, lambda = log(alpha) - log(s)
//   h = lambda_{i+1} - lambda_i,  D0 = x0_i,  D1 = (x0_i - x0_{i-1}) * h / (lambda_i - lambda_{i-1})
//   x_{i+1} = (s_{i+1} / s_i) x_i - alpha_{i+1} (e^-h - 1) (D0 + D1 / 2)          (midpoint)
// First order (D1 = 0) on the first step and on the last one when it ends at sigma = 0.
#include <cmath>
#include <map>

#include "sched/sampler.h"
#include "terrasynth/engine/error.h"

namespace terrasynth::engine::sched {
namespace {

struct VpPoint {
  double alpha;
  double sigma;
  double lambda;
};

VpPoint vp_point(double sigma) {
  const double alpha = 1.0 / std::sqrt(sigma * sigma + 1);
  const double s = sigma * alpha;
  return {alpha, s, std::log(alpha) - std::log(s)};
}

class DpmPlusPlus2mSampler final : public Sampler {
 public:
  DpmPlusPlus2mSampler(const NoiseSchedule& schedule, const SamplerOptions& options)
      : Sampler(schedule) {
    const ScheduleConfig& c = schedule_.config();
    karras_ = options.karras || c.use_karras_sigmas;
    const int n = options.steps;
    const int T = c.num_train_timesteps;
    if (n < 1 || n > T)
      throw EngineError(EngineError::Kind::InvalidArgument,
                        "dpmpp_2m: the number of steps must be in [1, " + std::to_string(T) +
                            "], got " + std::to_string(n));
    // diffusers spaces n + 1 points and drops the last one.
    std::vector<double> t(static_cast<size_t>(n));
    switch (c.timestep_spacing) {
      case TimestepSpacing::Linspace: {
        const double step = static_cast<double>(T - 1) / n;  // linspace(0, T - 1, n + 1)
        for (int i = 0; i < n; ++i) t[static_cast<size_t>(i)] = std::nearbyint((n - i) * step);
        t[0] = T - 1;
        break;
      }
      case TimestepSpacing::Leading: {
        const int ratio = T / (n + 1);
        for (int i = 0; i < n; ++i) t[static_cast<size_t>(i)] = (n - i) * ratio + c.steps_offset;
        break;
      }
      case TimestepSpacing::Trailing: {
        const double ratio = static_cast<double>(T) / n;
        for (int i = 0; i < n; ++i) t[static_cast<size_t>(i)] = std::nearbyint(T - i * ratio) - 1;
        break;
      }
    }
    std::vector<double> sigmas;
    if (options.karras || c.use_karras_sigmas) {
      const auto& train = schedule_.train_sigmas();
      sigmas = karras_sigmas(train.front(), train.back(), n);
      for (int i = 0; i < n; ++i)
        t[static_cast<size_t>(i)] =
            std::nearbyint(schedule_.timestep_for_sigma(sigmas[static_cast<size_t>(i)]));
    } else {
      for (double ti : t) sigmas.push_back(schedule_.sigma_at(ti));
    }
    sigmas.push_back(c.final_sigmas_type == FinalSigma::Zero ? 0.0
                                                             : schedule_.train_sigmas().front());
    for (double& s : sigmas) s = as_float32(s);
    timesteps_ = t;
    sigmas_ = sigmas;
    for (double s : sigmas_) {
      const double alpha = 1.0 / std::sqrt(s * s + 1);
      levels_.push_back(NoiseLevel{alpha, s * alpha});
    }
    init_noise_sigma_ = 1.0;
  }

  std::string name() const override { return karras_ ? "dpmpp_2m_karras" : "dpmpp_2m"; }

  torch::Tensor step(int i, const torch::Tensor& model_output, const torch::Tensor& sample,
                     const torch::Tensor&) override {
    check_step(i);
    const ScheduleConfig& c = schedule_.config();
    const int n = steps();
    const size_t k = static_cast<size_t>(i);
    const VpPoint s0 = vp_point(sigmas_[k]);
    const torch::Tensor x0 =
        split_prediction(c.prediction_type, model_output, sample, s0.alpha, s0.sigma).x0;
    predicted_x0_ = x0;
    // Keep only what a later (or repeated) step can need: the estimates of steps i - 1 and i.
    history_.erase(history_.begin(), history_.lower_bound(i - 1));
    history_[i] = x0;

    const bool lower_order_final =
        i == n - 1 && (c.euler_at_final || (c.lower_order_final && n < 15) ||
                       c.final_sigmas_type == FinalSigma::Zero);
    const double sigma_next = sigmas_[k + 1];
    if (sigma_next == 0) return x0;  // alpha = 1, s = 0: the update is exactly D0
    const VpPoint t = vp_point(sigma_next);
    const double h = t.lambda - s0.lambda;
    const double phi = std::exp(-h) - 1.0;
    torch::Tensor x = (t.sigma / s0.sigma) * sample - (t.alpha * phi) * x0;
    const auto previous = history_.find(i - 1);
    if (i == 0 || lower_order_final || previous == history_.end()) return x;

    const VpPoint s1 = vp_point(sigmas_[k - 1]);
    const double r0 = (s0.lambda - s1.lambda) / h;
    const torch::Tensor d1 = (1.0 / r0) * (x0 - previous->second);
    if (c.dpm_heun) return x + (t.alpha * (phi / h + 1.0)) * d1;
    return x - 0.5 * (t.alpha * phi) * d1;
  }

 private:
  std::vector<double> sigmas_;
  std::map<int, torch::Tensor> history_;  // x0 estimates by step index
  bool karras_ = false;
};

}  // namespace

std::unique_ptr<Sampler> make_dpmpp_2m(const NoiseSchedule& schedule,
                                       const SamplerOptions& options) {
  return std::make_unique<DpmPlusPlus2mSampler>(schedule, options);
}

}  // namespace terrasynth::engine::sched
