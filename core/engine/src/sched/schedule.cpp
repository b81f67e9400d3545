#include "sched/schedule.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>

#include "terrasynth/engine/error.h"

namespace terrasynth::engine::sched {
namespace {

[[noreturn]] void fail(EngineError::Kind kind, const std::string& label, const std::string& what) {
  throw EngineError(kind, label + ": " + what);
}

// Python's json module writes NaN, Infinity and -Infinity as bare tokens (diffusers configs have
// "lambda_min_clipped": -Infinity); strict JSON parsers reject them, so they become strings.
std::string quote_non_finite_tokens(const std::string& text) {
  std::string out;
  out.reserve(text.size() + 16);
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      out += c;
      if (c == '\\' && i + 1 < text.size()) {
        out += text[++i];
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
      out += c;
      continue;
    }
    bool replaced = false;
    for (const char* token : {"-Infinity", "Infinity", "NaN"}) {
      const size_t n = std::char_traits<char>::length(token);
      if (text.compare(i, n, token) == 0) {
        out += '"';
        out += token;
        out += '"';
        i += n - 1;
        replaced = true;
        break;
      }
    }
    if (!replaced) out += c;
  }
  return out;
}

double number_or(const nlohmann::json& config, const char* key, double fallback,
                 const std::string& label) {
  auto it = config.find(key);
  if (it == config.end() || it->is_null()) return fallback;
  if (it->is_number()) return it->get<double>();
  if (it->is_string()) {
    const std::string& s = it->get_ref<const std::string&>();
    if (s == "Infinity") return std::numeric_limits<double>::infinity();
    if (s == "-Infinity") return -std::numeric_limits<double>::infinity();
    if (s == "NaN") return std::numeric_limits<double>::quiet_NaN();
  }
  fail(EngineError::Kind::ModelFormat, label,
       std::string("'") + key + "' must be a number, got " + it->dump());
}

int int_or(const nlohmann::json& config, const char* key, int fallback, const std::string& label) {
  const double value = number_or(config, key, fallback, label);
  if (!std::isfinite(value) || value != std::floor(value) || std::fabs(value) > 1e9)
    fail(EngineError::Kind::ModelFormat, label,
         std::string("'") + key + "' must be an integer, got " + config.at(key).dump());
  return static_cast<int>(value);
}

bool bool_or(const nlohmann::json& config, const char* key, bool fallback,
             const std::string& label) {
  auto it = config.find(key);
  if (it == config.end() || it->is_null()) return fallback;
  if (!it->is_boolean())
    fail(EngineError::Kind::ModelFormat, label,
         std::string("'") + key + "' must be true or false, got " + it->dump());
  return it->get<bool>();
}

std::string string_or(const nlohmann::json& config, const char* key, const std::string& fallback,
                      const std::string& label) {
  auto it = config.find(key);
  if (it == config.end() || it->is_null()) return fallback;
  if (!it->is_string())
    fail(EngineError::Kind::ModelFormat, label,
         std::string("'") + key + "' must be a string, got " + it->dump());
  return it->get<std::string>();
}

// numpy.interp over x = 0, 1, ..., n-1.
double interp_index(double t, const std::vector<double>& values) {
  const double last = static_cast<double>(values.size() - 1);
  if (t <= 0) return values.front();
  if (t >= last) return values.back();
  const auto lo = static_cast<size_t>(std::floor(t));
  const double w = t - static_cast<double>(lo);
  return values[lo] + w * (values[lo + 1] - values[lo]);
}

torch::Tensor make_betas(const ScheduleConfig& c) {
  const auto f32 = torch::TensorOptions().dtype(torch::kFloat32);
  const int T = c.num_train_timesteps;
  if (!c.trained_betas.empty()) {
    std::vector<float> values(c.trained_betas.begin(), c.trained_betas.end());
    return torch::tensor(values, f32);
  }
  switch (c.beta_schedule) {
    case BetaSchedule::Linear:
      return torch::linspace(c.beta_start, c.beta_end, T, f32);
    case BetaSchedule::ScaledLinear:
      return torch::linspace(std::sqrt(c.beta_start), std::sqrt(c.beta_end), T, f32).pow(2);
    case BetaSchedule::SquaredCosCapV2: {
      // diffusers' betas_for_alpha_bar with the cosine transform, computed in double.
      const double pi = 3.14159265358979323846;
      auto alpha_bar = [pi](double t) {
        const double c0 = std::cos((t + 0.008) / 1.008 * pi / 2);
        return c0 * c0;
      };
      std::vector<float> values(static_cast<size_t>(T));
      for (int i = 0; i < T; ++i) {
        const double t1 = static_cast<double>(i) / T;
        const double t2 = static_cast<double>(i + 1) / T;
        values[static_cast<size_t>(i)] =
            static_cast<float>(std::min(1 - alpha_bar(t2) / alpha_bar(t1), 0.999));
      }
      return torch::tensor(values, f32);
    }
  }
  throw EngineError(EngineError::Kind::Internal, "unknown beta schedule");
}

// Lin et al. (2023), "Common Diffusion Noise Schedules and Sample Steps are Flawed", Algorithm 1.
torch::Tensor rescale_zero_terminal_snr(const torch::Tensor& betas) {
  torch::Tensor alphas_bar_sqrt = (1.0 - betas).cumprod(0).sqrt();
  const torch::Tensor a0 = alphas_bar_sqrt[0].clone();
  const torch::Tensor aT = alphas_bar_sqrt[-1].clone();
  alphas_bar_sqrt = (alphas_bar_sqrt - aT) * (a0 / (a0 - aT));
  const torch::Tensor alphas_bar = alphas_bar_sqrt.pow(2);
  torch::Tensor alphas = alphas_bar.slice(0, 1) / alphas_bar.slice(0, 0, -1);
  alphas = torch::cat({alphas_bar.slice(0, 0, 1), alphas});
  return 1.0 - alphas;
}

}  // namespace

std::string to_string(PredictionType type) {
  switch (type) {
    case PredictionType::Epsilon:
      return "epsilon";
    case PredictionType::VPrediction:
      return "v_prediction";
    case PredictionType::Sample:
      return "sample";
  }
  return "?";
}

PredictionType parse_prediction_type(const std::string& name, const std::string& label) {
  if (name == "epsilon") return PredictionType::Epsilon;
  if (name == "v_prediction") return PredictionType::VPrediction;
  if (name == "sample" || name == "original_sample") return PredictionType::Sample;
  fail(EngineError::Kind::ModelFormat, label,
       "unknown prediction_type '" + name + "' (valid: epsilon, v_prediction, sample)");
}

ScheduleConfig ScheduleConfig::from_json(const nlohmann::json& j, const std::string& label) {
  if (!j.is_object()) fail(EngineError::Kind::ModelFormat, label, "a scheduler config must be a JSON object");
  ScheduleConfig c;
  c.class_name = string_or(j, "_class_name", "DDIMScheduler", label);
  const bool ddim_like = c.class_name == "DDIMScheduler" || c.class_name == "DDPMScheduler";
  const bool sigma_based = c.class_name == "EulerDiscreteScheduler" ||
                           c.class_name == "EulerAncestralDiscreteScheduler" ||
                           c.class_name == "DPMSolverMultistepScheduler";

  c.num_train_timesteps = int_or(j, "num_train_timesteps", 1000, label);
  if (c.num_train_timesteps < 2)
    fail(EngineError::Kind::ModelFormat, label, "num_train_timesteps must be at least 2");
  c.beta_start = number_or(j, "beta_start", 0.0001, label);
  c.beta_end = number_or(j, "beta_end", 0.02, label);
  const std::string schedule = string_or(j, "beta_schedule", "linear", label);
  if (schedule == "linear") {
    c.beta_schedule = BetaSchedule::Linear;
  } else if (schedule == "scaled_linear") {
    c.beta_schedule = BetaSchedule::ScaledLinear;
  } else if (schedule == "squaredcos_cap_v2") {
    c.beta_schedule = BetaSchedule::SquaredCosCapV2;
  } else {
    fail(EngineError::Kind::Unsupported, label,
         "beta_schedule '" + schedule + "' is not supported (linear, scaled_linear, squaredcos_cap_v2)");
  }
  if (auto it = j.find("trained_betas"); it != j.end() && !it->is_null()) {
    if (!it->is_array()) fail(EngineError::Kind::ModelFormat, label, "'trained_betas' must be an array");
    for (const auto& b : *it) {
      if (!b.is_number()) fail(EngineError::Kind::ModelFormat, label, "'trained_betas' must hold numbers");
      c.trained_betas.push_back(b.get<double>());
    }
    c.num_train_timesteps = static_cast<int>(c.trained_betas.size());
  }
  if (c.trained_betas.empty() && (!(c.beta_start > 0) || !(c.beta_end >= c.beta_start) || c.beta_end >= 1))
    fail(EngineError::Kind::ModelFormat, label, "betas must satisfy 0 < beta_start <= beta_end < 1");
  c.prediction_type = parse_prediction_type(string_or(j, "prediction_type", "epsilon", label), label);
  c.steps_offset = int_or(j, "steps_offset", 0, label);
  const std::string spacing =
      string_or(j, "timestep_spacing", sigma_based ? "linspace" : "leading", label);
  if (spacing == "leading") {
    c.timestep_spacing = TimestepSpacing::Leading;
  } else if (spacing == "trailing") {
    c.timestep_spacing = TimestepSpacing::Trailing;
  } else if (spacing == "linspace") {
    c.timestep_spacing = TimestepSpacing::Linspace;
  } else {
    fail(EngineError::Kind::ModelFormat, label,
         "unknown timestep_spacing '" + spacing + "' (valid: leading, trailing, linspace)");
  }
  c.set_alpha_to_one = bool_or(j, "set_alpha_to_one", true, label);
  c.clip_sample = bool_or(j, "clip_sample", ddim_like, label);
  c.clip_sample_range = number_or(j, "clip_sample_range", 1.0, label);
  c.rescale_betas_zero_snr = bool_or(j, "rescale_betas_zero_snr", false, label);
  c.use_karras_sigmas = bool_or(j, "use_karras_sigmas", false, label);
  const std::string final_sigma = string_or(j, "final_sigmas_type", "zero", label);
  if (final_sigma == "zero") {
    c.final_sigmas_type = FinalSigma::Zero;
  } else if (final_sigma == "sigma_min") {
    c.final_sigmas_type = FinalSigma::SigmaMin;
  } else {
    fail(EngineError::Kind::ModelFormat, label,
         "unknown final_sigmas_type '" + final_sigma + "' (valid: zero, sigma_min)");
  }
  c.dpm_heun = string_or(j, "solver_type", "midpoint", label) == "heun";
  c.lower_order_final = bool_or(j, "lower_order_final", true, label);
  c.euler_at_final = bool_or(j, "euler_at_final", false, label);

  // Options that would change the numbers in ways this engine does not implement.
  if (bool_or(j, "thresholding", false, label))
    fail(EngineError::Kind::Unsupported, label, "dynamic thresholding is not supported");
  for (const char* key : {"use_exponential_sigmas", "use_beta_sigmas", "use_lu_lambdas"})
    if (bool_or(j, key, false, label))
      fail(EngineError::Kind::Unsupported, label, std::string("'") + key + "' is not supported");
  if (string_or(j, "timestep_type", "discrete", label) != "discrete")
    fail(EngineError::Kind::Unsupported, label, "only timestep_type 'discrete' is supported");
  if (string_or(j, "interpolation_type", "linear", label) != "linear")
    fail(EngineError::Kind::Unsupported, label, "only interpolation_type 'linear' is supported");
  const std::string variance = string_or(j, "variance_type", "", label);
  if (variance == "learned" || variance == "learned_range")
    fail(EngineError::Kind::Unsupported, label, "learned variances are not supported");
  if (c.class_name == "DPMSolverMultistepScheduler") {
    const std::string algorithm = string_or(j, "algorithm_type", "dpmsolver++", label);
    if (algorithm != "dpmsolver++")
      fail(EngineError::Kind::Unsupported, label,
           "algorithm_type '" + algorithm + "' is not supported (dpmsolver++ only)");
  }
  if (std::isfinite(number_or(j, "lambda_min_clipped", -std::numeric_limits<double>::infinity(), label)))
    fail(EngineError::Kind::Unsupported, label, "a finite lambda_min_clipped is not supported");
  return c;
}

ScheduleConfig ScheduleConfig::load(const std::string& path) {
  std::string file = path;
  {
    std::ifstream probe(file + "/scheduler_config.json");
    if (probe) file += "/scheduler_config.json";
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) throw EngineError(EngineError::Kind::Io, file + ": cannot open the scheduler config");
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(quote_non_finite_tokens(text.str()));
  } catch (const nlohmann::json::exception& e) {
    fail(EngineError::Kind::ModelFormat, file, std::string("invalid JSON: ") + e.what());
  }
  return from_json(j, file);
}

nlohmann::json ScheduleConfig::to_json() const {
  nlohmann::json j;
  j["_class_name"] = class_name;
  j["num_train_timesteps"] = num_train_timesteps;
  j["beta_start"] = beta_start;
  j["beta_end"] = beta_end;
  const char* schedules[] = {"linear", "scaled_linear", "squaredcos_cap_v2"};
  j["beta_schedule"] = schedules[static_cast<int>(beta_schedule)];
  j["trained_betas"] = trained_betas.empty() ? nlohmann::json(nullptr) : nlohmann::json(trained_betas);
  j["prediction_type"] = to_string(prediction_type);
  j["steps_offset"] = steps_offset;
  const char* spacings[] = {"leading", "trailing", "linspace"};
  j["timestep_spacing"] = spacings[static_cast<int>(timestep_spacing)];
  j["set_alpha_to_one"] = set_alpha_to_one;
  j["clip_sample"] = clip_sample;
  j["clip_sample_range"] = clip_sample_range;
  j["rescale_betas_zero_snr"] = rescale_betas_zero_snr;
  j["use_karras_sigmas"] = use_karras_sigmas;
  j["final_sigmas_type"] = final_sigmas_type == FinalSigma::Zero ? "zero" : "sigma_min";
  j["solver_type"] = dpm_heun ? "heun" : "midpoint";
  j["lower_order_final"] = lower_order_final;
  j["euler_at_final"] = euler_at_final;
  return j;
}

double NoiseLevel::input_scale() const { return 1.0 / std::sqrt(scale * scale + sigma * sigma); }
double NoiseLevel::vp_alpha() const { return scale * input_scale(); }
double NoiseLevel::vp_sigma() const { return sigma * input_scale(); }

Denoised split_prediction(PredictionType type, const torch::Tensor& output,
                          const torch::Tensor& x_vp, double alpha, double sigma) {
  Denoised d;
  switch (type) {
    case PredictionType::Epsilon:
      d.eps = output;
      d.x0 = (x_vp - sigma * output) / alpha;
      break;
    case PredictionType::VPrediction:
      d.x0 = alpha * x_vp - sigma * output;
      d.eps = alpha * output + sigma * x_vp;
      break;
    case PredictionType::Sample:
      d.x0 = output;
      // At sigma = 0 the noise is irrelevant (it is multiplied by 0 downstream).
      d.eps = sigma > 0 ? (x_vp - alpha * output) / sigma : torch::zeros_like(output);
      break;
  }
  return d;
}

torch::Tensor prediction_target(PredictionType type, const torch::Tensor& x0,
                                const torch::Tensor& noise, double alpha, double sigma) {
  switch (type) {
    case PredictionType::Epsilon:
      return noise;
    case PredictionType::VPrediction:
      return alpha * noise - sigma * x0;
    case PredictionType::Sample:
      return x0;
  }
  return noise;
}

NoiseSchedule::NoiseSchedule(ScheduleConfig config) : config_(std::move(config)) {
  torch::NoGradGuard no_grad;
  betas_ = make_betas(config_);
  if (config_.rescale_betas_zero_snr) betas_ = rescale_zero_terminal_snr(betas_);
  alphas_cumprod_ = (1.0 - betas_).cumprod(0);
  const int T = static_cast<int>(alphas_cumprod_.size(0));
  config_.num_train_timesteps = T;
  const torch::Tensor ac = alphas_cumprod_.contiguous();
  const float* a = ac.data_ptr<float>();
  alpha_bar_.assign(a, a + T);
  // Sigmas in float32 like diffusers; a zero terminal alpha_bar is clamped as diffusers' Euler does.
  torch::Tensor ac_sig = ac.clone();
  if (ac_sig[-1].item<float>() <= 0.f) ac_sig[-1] = std::pow(2.0f, -24.0f);
  const torch::Tensor sig = ((1.0 - ac_sig) / ac_sig).sqrt().contiguous();
  const torch::Tensor log_sig = sig.log().contiguous();
  sigmas_.assign(sig.data_ptr<float>(), sig.data_ptr<float>() + T);
  log_sigmas_.assign(log_sig.data_ptr<float>(), log_sig.data_ptr<float>() + T);
}

double NoiseSchedule::alpha_bar(int t) const {
  if (t < 0 || t >= static_cast<int>(alpha_bar_.size()))
    throw EngineError(EngineError::Kind::InvalidArgument,
                      "timestep " + std::to_string(t) + " is outside the schedule's [0, " +
                          std::to_string(alpha_bar_.size()) + ")");
  return alpha_bar_[static_cast<size_t>(t)];
}

double NoiseSchedule::sigma_at(double t) const { return interp_index(t, sigmas_); }

double NoiseSchedule::alpha_bar_at(double t) const {
  const double s = sigma_at(t);
  return 1.0 / (1.0 + s * s);
}

double NoiseSchedule::timestep_for_sigma(double sigma) const {
  const double log_sigma = std::log(std::max(sigma, 1e-10));
  const int n = static_cast<int>(log_sigmas_.size());
  // Last index whose log-sigma does not exceed log_sigma (0 when none), at most n - 2.
  int low = 0;
  for (int i = 0; i < n; ++i)
    if (log_sigma - log_sigmas_[static_cast<size_t>(i)] >= 0) low = i;
  low = std::min(low, n - 2);
  const double lo = log_sigmas_[static_cast<size_t>(low)];
  const double hi = log_sigmas_[static_cast<size_t>(low + 1)];
  const double w = std::clamp((lo - log_sigma) / (lo - hi), 0.0, 1.0);
  return (1 - w) * low + w * (low + 1);
}

torch::Tensor NoiseSchedule::add_noise(const torch::Tensor& x0, const torch::Tensor& noise,
                                       const torch::Tensor& timesteps) const {
  const torch::Tensor ac = alphas_cumprod_.to(x0.device()).index_select(0, timesteps.to(x0.device()));
  std::vector<int64_t> shape(static_cast<size_t>(x0.dim()), 1);
  shape[0] = -1;
  const torch::Tensor a = ac.sqrt().view(shape).to(x0.dtype());
  const torch::Tensor s = (1.0 - ac).sqrt().view(shape).to(x0.dtype());
  return a * x0 + s * noise;
}

torch::Tensor NoiseSchedule::training_target(const torch::Tensor& x0, const torch::Tensor& noise,
                                             const torch::Tensor& timesteps) const {
  switch (config_.prediction_type) {
    case PredictionType::Epsilon:
      return noise;
    case PredictionType::Sample:
      return x0;
    case PredictionType::VPrediction: {
      const torch::Tensor ac =
          alphas_cumprod_.to(x0.device()).index_select(0, timesteps.to(x0.device()));
      std::vector<int64_t> shape(static_cast<size_t>(x0.dim()), 1);
      shape[0] = -1;
      const torch::Tensor a = ac.sqrt().view(shape).to(x0.dtype());
      const torch::Tensor s = (1.0 - ac).sqrt().view(shape).to(x0.dtype());
      return a * noise - s * x0;
    }
  }
  return noise;
}

torch::Tensor NoiseSchedule::snr(const torch::Tensor& timesteps) const {
  const torch::Tensor ac = alphas_cumprod_.to(timesteps.device()).index_select(0, timesteps);
  return ac / (1.0 - ac);
}

std::vector<double> spaced_timesteps(const ScheduleConfig& c, int steps, bool round_linspace) {
  if (steps < 1)
    throw EngineError(EngineError::Kind::InvalidArgument,
                      "the number of sampling steps must be at least 1, got " + std::to_string(steps));
  const int T = c.num_train_timesteps;
  if (steps > T)
    throw EngineError(EngineError::Kind::InvalidArgument,
                      std::to_string(steps) + " sampling steps exceed the schedule's " +
                          std::to_string(T) + " training timesteps");
  std::vector<double> t(static_cast<size_t>(steps));
  switch (c.timestep_spacing) {
    case TimestepSpacing::Linspace: {
      // numpy.linspace(0, T - 1, steps): i * step, with the last value exactly T - 1.
      const double step = steps > 1 ? static_cast<double>(T - 1) / (steps - 1) : 0.0;
      for (int i = 0; i < steps; ++i) {
        double v = (i == steps - 1 && steps > 1) ? T - 1.0 : i * step;
        v = round_linspace ? std::nearbyint(v) : as_float32(v);
        t[static_cast<size_t>(steps - 1 - i)] = v;
      }
      break;
    }
    case TimestepSpacing::Leading: {
      const int ratio = T / steps;
      for (int i = 0; i < steps; ++i)
        t[static_cast<size_t>(steps - 1 - i)] = static_cast<double>(i) * ratio + c.steps_offset;
      break;
    }
    case TimestepSpacing::Trailing: {
      const double ratio = static_cast<double>(T) / steps;
      for (int i = 0; i < steps; ++i) t[static_cast<size_t>(i)] = std::nearbyint(T - i * ratio) - 1;
      break;
    }
  }
  return t;
}

torch::Tensor ve_denoised(PredictionType type, const torch::Tensor& output, const torch::Tensor& x,
                          double sigma) {
  switch (type) {
    case PredictionType::Epsilon:
      return x - sigma * output;
    case PredictionType::VPrediction:
      return output * (-sigma / std::sqrt(sigma * sigma + 1)) + x / (sigma * sigma + 1);
    case PredictionType::Sample:
      return output;
  }
  return output;
}

SigmaSteps euler_sigma_steps(const NoiseSchedule& schedule, int steps, bool karras,
                             FinalSigma final_sigma) {
  SigmaSteps s;
  s.timesteps = spaced_timesteps(schedule.config(), steps, /*round_linspace=*/false);
  for (double t : s.timesteps) s.sigmas.push_back(schedule.sigma_at(t));
  if (karras) {
    s.sigmas = karras_sigmas(s.sigmas.back(), s.sigmas.front(), steps);
    for (size_t i = 0; i < s.sigmas.size(); ++i)
      s.timesteps[i] = as_float32(schedule.timestep_for_sigma(s.sigmas[i]));
  }
  s.sigmas.push_back(final_sigma == FinalSigma::Zero ? 0.0 : schedule.train_sigmas().front());
  for (double& v : s.sigmas) v = as_float32(v);
  return s;
}

std::vector<double> karras_sigmas(double sigma_min, double sigma_max, int steps, double rho) {
  std::vector<double> s(static_cast<size_t>(steps));
  const double min_inv = std::pow(sigma_min, 1.0 / rho);
  const double max_inv = std::pow(sigma_max, 1.0 / rho);
  for (int i = 0; i < steps; ++i) {
    // numpy.linspace(0, 1, steps)
    const double ramp = steps > 1 ? (i == steps - 1 ? 1.0 : i * (1.0 / (steps - 1))) : 0.0;
    s[static_cast<size_t>(i)] = std::pow(max_inv + ramp * (min_inv - max_inv), rho);
  }
  return s;
}

}  // namespace terrasynth::engine::sched
