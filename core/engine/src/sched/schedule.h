#pragma once
// Discrete-time noise schedules compatible with diffusers' scheduler_config.json: betas,
// alphas_cumprod, sigmas, the timesteps of an inference run, and the conversion of a raw network
// output (of any prediction type) into the clean-sample and noise estimates.
//
// Conventions (see docs/SAMPLING.md):
//   alpha_bar(t) = prod_{s<=t} (1 - beta_s)                  (alphas_cumprod, float32 like diffusers)
//   x_t = sqrt(alpha_bar) * x0 + sqrt(1 - alpha_bar) * eps    (variance preserving, "VP")
//   sigma(t) = sqrt((1 - alpha_bar) / alpha_bar),  x_t / sqrt(alpha_bar) = x0 + sigma * eps  ("VE")
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <string>
#include <vector>

namespace terrasynth::engine::sched {

enum class BetaSchedule { Linear, ScaledLinear, SquaredCosCapV2 };
enum class PredictionType { Epsilon, VPrediction, Sample };
enum class TimestepSpacing { Leading, Trailing, Linspace };
enum class FinalSigma { Zero, SigmaMin };

// The fields of a diffusers scheduler config that change the numbers. Defaults are diffusers'
// DDIMScheduler defaults except where noted; from_json() applies the defaults of the class named
// in "_class_name" for absent keys.
struct ScheduleConfig {
  std::string class_name = "DDIMScheduler";
  int num_train_timesteps = 1000;
  double beta_start = 0.0001;
  double beta_end = 0.02;
  BetaSchedule beta_schedule = BetaSchedule::Linear;
  std::vector<double> trained_betas;  // overrides beta_schedule when not empty
  PredictionType prediction_type = PredictionType::Epsilon;
  int steps_offset = 0;
  TimestepSpacing timestep_spacing = TimestepSpacing::Leading;
  bool set_alpha_to_one = true;         // DDIM: alpha_bar of the step after the last one
  bool clip_sample = false;             // DDIM: clamp the x0 estimate to +-clip_sample_range
  double clip_sample_range = 1.0;
  bool rescale_betas_zero_snr = false;  // Lin et al. 2023, zero terminal SNR
  bool use_karras_sigmas = false;       // Euler, Euler ancestral, DPM-Solver++
  FinalSigma final_sigmas_type = FinalSigma::Zero;  // Euler and DPM-Solver++
  // DPM-Solver++(2M) options (diffusers DPMSolverMultistepScheduler).
  bool dpm_heun = false;           // solver_type "heun" instead of "midpoint"
  bool lower_order_final = true;   // first-order last steps when fewer than 15 steps
  bool euler_at_final = false;

  // Parses a scheduler_config.json object; `label` names the file in errors
  // (EngineError::ModelFormat for malformed values, Unsupported for options not implemented).
  static ScheduleConfig from_json(const nlohmann::json& config, const std::string& label);
  // Reads a scheduler_config.json file, or the one inside a folder.
  static ScheduleConfig load(const std::string& path);
  nlohmann::json to_json() const;
};

std::string to_string(PredictionType type);
PredictionType parse_prediction_type(const std::string& name, const std::string& label);

// Per-sample noise level of a sample x = scale * x0 + sigma * eps. Variance-preserving samples
// have scale^2 + sigma^2 = 1; the sigma-parameterised ones (Euler) have scale = 1.
struct NoiseLevel {
  double scale = 1;
  double sigma = 0;
  // The network input for this level: x rescaled to variance-preserving form.
  double input_scale() const;
  // The equivalent variance-preserving (alpha, sigma) pair.
  double vp_alpha() const;
  double vp_sigma() const;
};

struct Denoised {
  torch::Tensor x0;   // estimate of the clean sample
  torch::Tensor eps;  // estimate of the noise
};

// Converts a raw network output for the variance-preserving input x_vp = alpha * x0 + sigma * eps
// (alpha^2 + sigma^2 = 1) into (x0, eps) estimates, for any prediction type:
//   epsilon: eps = out,                        x0 = (x_vp - sigma * out) / alpha
//   v:       x0 = alpha * x_vp - sigma * out,  eps = alpha * out + sigma * x_vp
//   sample:  x0 = out,                         eps = (x_vp - alpha * out) / sigma
Denoised split_prediction(PredictionType type, const torch::Tensor& output,
                          const torch::Tensor& x_vp, double alpha, double sigma);
// The training target of the given prediction type for x0 and the noise at level (alpha, sigma).
torch::Tensor prediction_target(PredictionType type, const torch::Tensor& x0,
                                const torch::Tensor& noise, double alpha, double sigma);

class NoiseSchedule {
 public:
  explicit NoiseSchedule(ScheduleConfig config = {});

  const ScheduleConfig& config() const { return config_; }
  int num_train_timesteps() const { return config_.num_train_timesteps; }
  PredictionType prediction_type() const { return config_.prediction_type; }

  // float32 [T] CPU tensors, computed exactly as diffusers computes them.
  const torch::Tensor& betas() const { return betas_; }
  const torch::Tensor& alphas_cumprod() const { return alphas_cumprod_; }
  double alpha_bar(int t) const;  // alphas_cumprod[t] (throws for t outside [0, T))
  // sigma(t) = sqrt((1 - alpha_bar) / alpha_bar) for every training timestep (float32 values).
  const std::vector<double>& train_sigmas() const { return sigmas_; }
  // sigma at a fractional timestep: linear interpolation of train_sigmas() (numpy.interp).
  double sigma_at(double t) const;
  // alpha_bar at a fractional timestep, 1 / (1 + sigma_at(t)^2).
  double alpha_bar_at(double t) const;
  // Fractional timestep of a sigma, interpolating log-sigma (diffusers' _sigma_to_t).
  double timestep_for_sigma(double sigma) const;

  // Training helpers. `timesteps` is an int64 [B] tensor; results broadcast over [B, ...].
  torch::Tensor add_noise(const torch::Tensor& x0, const torch::Tensor& noise,
                          const torch::Tensor& timesteps) const;
  torch::Tensor training_target(const torch::Tensor& x0, const torch::Tensor& noise,
                                const torch::Tensor& timesteps) const;
  torch::Tensor snr(const torch::Tensor& timesteps) const;  // alpha_bar / (1 - alpha_bar)

 private:
  ScheduleConfig config_;
  torch::Tensor betas_;
  torch::Tensor alphas_cumprod_;
  std::vector<double> alpha_bar_;  // float32 values widened
  std::vector<double> sigmas_;
  std::vector<double> log_sigmas_;
};

// x0 estimate for a sigma-parameterised sample x = x0 + sigma * eps (diffusers' Euler formulas):
//   epsilon: x - sigma * out;  v: out * (-sigma / sqrt(sigma^2 + 1)) + x / (sigma^2 + 1);  sample: out
torch::Tensor ve_denoised(PredictionType type, const torch::Tensor& output, const torch::Tensor& x,
                          double sigma);

// Timesteps and sigmas of an Euler-family run (diffusers' EulerDiscreteScheduler.set_timesteps):
// sigmas interpolated at the spaced timesteps, or Karras sigmas between the first and last of
// those with timesteps mapped back through timestep_for_sigma; then the final sigma appended.
struct SigmaSteps {
  std::vector<double> timesteps;  // steps values (float32)
  std::vector<double> sigmas;     // steps + 1 values (float32), the last one final
};
SigmaSteps euler_sigma_steps(const NoiseSchedule& schedule, int steps, bool karras,
                             FinalSigma final_sigma);

// Discrete timesteps of an n-step run for the given spacing (diffusers' DDIM/Euler rules):
//   linspace: round(linspace(0, T-1, n)) descending
//   leading:  (0..n-1) * (T // n) descending, + steps_offset
//   trailing: round(arange(T, 0, -T/n)) - 1
// Values are exact integers for DDIM; Euler keeps the unrounded linspace values (float32).
std::vector<double> spaced_timesteps(const ScheduleConfig& config, int steps, bool round_linspace);

// Karras et al. (2022) sigmas: (max^(1/rho) + i/(n-1) * (min^(1/rho) - max^(1/rho)))^rho.
std::vector<double> karras_sigmas(double sigma_min, double sigma_max, int steps, double rho = 7.0);

// Rounds to float32 and back, to keep values equal to diffusers' float32 tensors.
inline double as_float32(double value) { return static_cast<double>(static_cast<float>(value)); }

}  // namespace terrasynth::engine::sched
