// Noise schedules against their closed forms, timestep spacings, config parsing and the
// conversions between prediction types.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "sched/sampler.h"
#include "sched/schedule.h"
#include "terrasynth/engine/error.h"
#include "terrasynth/test_paths.h"

using namespace terrasynth::engine;
using namespace terrasynth::engine::sched;

namespace {

std::vector<double> to_vector(const torch::Tensor& t) {
  const torch::Tensor c = t.to(torch::kFloat64).contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

ScheduleConfig config_with(BetaSchedule schedule, double b0 = 0.00085, double b1 = 0.012) {
  ScheduleConfig c;
  c.beta_schedule = schedule;
  c.beta_start = b0;
  c.beta_end = b1;
  return c;
}

}  // namespace

TEST(Schedule, LinearAlphasCumprodMatchClosedForm) {
  const NoiseSchedule s(config_with(BetaSchedule::Linear, 0.0001, 0.02));
  const auto ac = to_vector(s.alphas_cumprod());
  ASSERT_EQ(ac.size(), 1000u);
  double prod = 1;
  for (int t = 0; t < 1000; ++t) {
    prod *= 1 - (0.0001 + (0.02 - 0.0001) * t / 999.0);
    // float32 cumulative product over up to 1000 factors: relative error well below 1e-4.
    EXPECT_NEAR(ac[t], prod, 1e-4 * prod + 1e-7) << "t = " << t;
  }
}

TEST(Schedule, ScaledLinearAlphasCumprodMatchClosedForm) {
  const NoiseSchedule s(config_with(BetaSchedule::ScaledLinear));
  const auto betas = to_vector(s.betas());
  const auto ac = to_vector(s.alphas_cumprod());
  double prod = 1;
  for (int t = 0; t < 1000; ++t) {
    const double r = std::sqrt(0.00085) + (std::sqrt(0.012) - std::sqrt(0.00085)) * t / 999.0;
    EXPECT_NEAR(betas[t], r * r, 1e-6 * r * r) << "t = " << t;
    prod *= 1 - r * r;
    EXPECT_NEAR(ac[t], prod, 1e-4 * prod) << "t = " << t;
  }
}

TEST(Schedule, CosineAlphasCumprodTelescopeToTheCosineFormula) {
  const NoiseSchedule s(config_with(BetaSchedule::SquaredCosCapV2));
  const auto ac = to_vector(s.alphas_cumprod());
  const double pi = 3.14159265358979323846;
  auto f = [pi](double t) {
    const double c = std::cos((t / 1000.0 + 0.008) / 1.008 * pi / 2);
    return c * c;
  };
  // The product of f(t+1)/f(t) telescopes to f(t+1)/f(0) while no beta is clipped at 0.999.
  for (int t = 0; t < 990; ++t) EXPECT_NEAR(ac[t], f(t + 1) / f(0), 2e-4 * ac[t] + 1e-7) << t;
  EXPECT_LE(to_vector(s.betas()).back(), 0.999 + 1e-6);
}

TEST(Schedule, ZeroTerminalSnrRescalingEndsAtZero) {
  ScheduleConfig c = config_with(BetaSchedule::ScaledLinear);
  c.rescale_betas_zero_snr = true;
  const NoiseSchedule s(c);
  const auto ac = to_vector(s.alphas_cumprod());
  EXPECT_NEAR(ac.back(), 0.0, 1e-9);
  const NoiseSchedule plain(config_with(BetaSchedule::ScaledLinear));
  EXPECT_NEAR(ac.front(), to_vector(plain.alphas_cumprod()).front(), 1e-6);
  EXPECT_TRUE(std::isfinite(s.train_sigmas().back()));  // clamped like diffusers' Euler
}

TEST(Schedule, KarrasSigmasFollowTheRhoFormula) {
  const double lo = 0.0292, hi = 14.6146;
  const auto k = karras_sigmas(lo, hi, 12);
  ASSERT_EQ(k.size(), 12u);
  EXPECT_NEAR(k.front(), hi, 1e-9 * hi);
  EXPECT_NEAR(k.back(), lo, 1e-9);
  const double a = std::pow(hi, 1 / 7.0), b = std::pow(lo, 1 / 7.0);
  for (int i = 0; i < 12; ++i) EXPECT_NEAR(std::pow(k[i], 1 / 7.0), a + i / 11.0 * (b - a), 1e-12);
}

TEST(Schedule, SigmaAndTimestepInterpolationInvertEachOther) {
  const NoiseSchedule s(config_with(BetaSchedule::ScaledLinear));
  const auto ac = to_vector(s.alphas_cumprod());
  for (int t : {0, 1, 17, 500, 998, 999}) {
    const double expected = std::sqrt((1 - ac[t]) / ac[t]);
    EXPECT_NEAR(s.sigma_at(t), expected, 1e-6 * expected);
    EXPECT_NEAR(s.timestep_for_sigma(s.sigma_at(t)), t, 1e-4);
  }
  // Between timesteps sigma is interpolated linearly, the inverse log-linearly: close, not equal.
  EXPECT_NEAR(s.sigma_at(10.5), 0.5 * (s.sigma_at(10) + s.sigma_at(11)), 1e-12);
  EXPECT_NEAR(s.timestep_for_sigma(s.sigma_at(400.25)), 400.25, 0.01);
  EXPECT_NEAR(s.timestep_for_sigma(1e-6), 0.0, 1e-12);     // below the table: clamped
  EXPECT_NEAR(s.timestep_for_sigma(1e6), 999.0, 1e-12);    // above the table: clamped
}

TEST(Schedule, TimestepSpacings) {
  ScheduleConfig c = config_with(BetaSchedule::ScaledLinear);
  c.steps_offset = 1;
  c.timestep_spacing = TimestepSpacing::Leading;
  auto t = spaced_timesteps(c, 20, true);
  ASSERT_EQ(t.size(), 20u);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(t[i], 951 - 50 * i);
  c.timestep_spacing = TimestepSpacing::Trailing;
  t = spaced_timesteps(c, 10, true);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(t[i], 999 - 100 * i);
  c.timestep_spacing = TimestepSpacing::Linspace;
  t = spaced_timesteps(c, 4, true);
  EXPECT_EQ(t, (std::vector<double>{999, 666, 333, 0}));
  t = spaced_timesteps(c, 4, false);
  EXPECT_EQ(t[1], 666.0);
  EXPECT_THROW(spaced_timesteps(c, 0, true), EngineError);
  EXPECT_THROW(spaced_timesteps(c, 1001, true), EngineError);
}

TEST(Schedule, PredictionTypesRoundTrip) {
  torch::manual_seed(3);
  const torch::Tensor x0 = torch::randn({2, 4, 5, 5});
  const torch::Tensor eps = torch::randn({2, 4, 5, 5});
  const double ab = 0.37, a = std::sqrt(ab), sigma = std::sqrt(1 - ab);
  const torch::Tensor x = a * x0 + sigma * eps;
  for (PredictionType type : {PredictionType::Epsilon, PredictionType::VPrediction, PredictionType::Sample}) {
    const torch::Tensor out = prediction_target(type, x0, eps, a, sigma);
    const Denoised d = split_prediction(type, out, x, a, sigma);
    EXPECT_TRUE(torch::allclose(d.x0, x0, 1e-5, 1e-5)) << to_string(type);
    EXPECT_TRUE(torch::allclose(d.eps, eps, 1e-5, 1e-5)) << to_string(type);
    // The sigma-parameterised form x / a = x0 + (sigma / a) eps gives the same x0.
    EXPECT_TRUE(torch::allclose(ve_denoised(type, out, x / a, sigma / a), x0, 1e-5, 1e-5))
        << to_string(type);
  }
}

TEST(Schedule, TrainingHelpersAgreeWithTheConversions) {
  ScheduleConfig c = config_with(BetaSchedule::ScaledLinear);
  c.prediction_type = PredictionType::VPrediction;
  const NoiseSchedule s(c);
  torch::manual_seed(5);
  const torch::Tensor x0 = torch::randn({3, 2, 4, 4});
  const torch::Tensor noise = torch::randn({3, 2, 4, 4});
  const torch::Tensor t = torch::tensor({0, 500, 999}, torch::kInt64);
  const torch::Tensor xt = s.add_noise(x0, noise, t);
  const torch::Tensor target = s.training_target(x0, noise, t);
  for (int b = 0; b < 3; ++b) {
    const double ab = s.alpha_bar(t[b].item<int>());
    const Denoised d = split_prediction(PredictionType::VPrediction, target[b], xt[b], std::sqrt(ab),
                                        std::sqrt(1 - ab));
    EXPECT_TRUE(torch::allclose(d.x0, x0[b], 1e-4, 1e-4));
    EXPECT_NEAR(s.snr(t)[b].item<double>(), ab / (1 - ab), 1e-6 * ab / (1 - ab));
  }
}

TEST(ScheduleConfig, ReadsDiffusersConfigsWithNonFiniteTokens) {
  const std::string dir =
      std::string(TERRASYNTH_TEST_SHARED_DIR) + "/fixtures/diffusers/sched_dpmpp2m_karras_eps";
  const ScheduleConfig c = ScheduleConfig::load(dir);  // has "lambda_min_clipped": -Infinity
  EXPECT_EQ(c.class_name, "DPMSolverMultistepScheduler");
  EXPECT_EQ(c.beta_schedule, BetaSchedule::ScaledLinear);
  EXPECT_TRUE(c.use_karras_sigmas);
  EXPECT_EQ(c.timestep_spacing, TimestepSpacing::Linspace);
  EXPECT_EQ(c.steps_offset, 1);
  const ScheduleConfig ddim = ScheduleConfig::load(
      std::string(TERRASYNTH_TEST_SHARED_DIR) + "/fixtures/diffusers/sched_ddim_v/scheduler_config.json");
  EXPECT_EQ(ddim.prediction_type, PredictionType::VPrediction);
  EXPECT_FALSE(ddim.set_alpha_to_one);
  EXPECT_EQ(ddim.timestep_spacing, TimestepSpacing::Leading);
  // The config survives a round trip through to_json().
  const ScheduleConfig again = ScheduleConfig::from_json(ddim.to_json(), "round trip");
  EXPECT_EQ(again.prediction_type, ddim.prediction_type);
  EXPECT_EQ(again.set_alpha_to_one, ddim.set_alpha_to_one);
  EXPECT_EQ(again.beta_end, ddim.beta_end);
}

TEST(ScheduleConfig, ClassDefaultsApplyToAbsentKeys) {
  const ScheduleConfig euler =
      ScheduleConfig::from_json({{"_class_name", "EulerDiscreteScheduler"}}, "euler");
  EXPECT_EQ(euler.timestep_spacing, TimestepSpacing::Linspace);
  EXPECT_EQ(euler.beta_schedule, BetaSchedule::Linear);
  const ScheduleConfig ddim = ScheduleConfig::from_json({{"_class_name", "DDIMScheduler"}}, "ddim");
  EXPECT_EQ(ddim.timestep_spacing, TimestepSpacing::Leading);
  EXPECT_TRUE(ddim.clip_sample);
  EXPECT_TRUE(ddim.set_alpha_to_one);
}

TEST(ScheduleConfig, ErrorsNameTheFileAndTheProblem) {
  auto expect_error = [](const nlohmann::json& j, EngineError::Kind kind, const std::string& word) {
    try {
      ScheduleConfig::from_json(j, "model/scheduler/scheduler_config.json");
      FAIL() << "expected an error for " << j.dump();
    } catch (const EngineError& e) {
      EXPECT_EQ(e.kind(), kind) << e.what();
      const std::string what = e.what();
      EXPECT_NE(what.find("model/scheduler/scheduler_config.json"), std::string::npos) << what;
      EXPECT_NE(what.find(word), std::string::npos) << what;
    }
  };
  expect_error({{"prediction_type", "flow"}}, EngineError::Kind::ModelFormat, "flow");
  expect_error({{"beta_schedule", "sigmoid"}}, EngineError::Kind::Unsupported, "sigmoid");
  expect_error({{"thresholding", true}}, EngineError::Kind::Unsupported, "thresholding");
  expect_error({{"timestep_spacing", "random"}}, EngineError::Kind::ModelFormat, "random");
  expect_error({{"num_train_timesteps", "many"}}, EngineError::Kind::ModelFormat, "num_train_timesteps");
  expect_error({{"beta_start", 0.5}, {"beta_end", 0.1}}, EngineError::Kind::ModelFormat, "beta");
  expect_error({{"_class_name", "DPMSolverMultistepScheduler"}, {"algorithm_type", "sde-dpmsolver++"}},
               EngineError::Kind::Unsupported, "sde-dpmsolver++");

  const auto missing = std::filesystem::temp_directory_path() / "terrasynth-no-such-scheduler";
  try {
    ScheduleConfig::load(missing.string());
    FAIL() << "expected an I/O error";
  } catch (const EngineError& e) {
    EXPECT_EQ(e.kind(), EngineError::Kind::Io);
    EXPECT_NE(std::string(e.what()).find("terrasynth-no-such-scheduler"), std::string::npos);
  }
  const auto broken = std::filesystem::temp_directory_path() / "terrasynth-broken-scheduler.json";
  {
    std::ofstream(broken) << "{\"beta_start\": 0.001,";
  }
  try {
    ScheduleConfig::load(broken.string());
    FAIL() << "expected a format error";
  } catch (const EngineError& e) {
    EXPECT_EQ(e.kind(), EngineError::Kind::ModelFormat);
    EXPECT_NE(std::string(e.what()).find("invalid JSON"), std::string::npos);
  }
  std::filesystem::remove(broken);
}

TEST(SamplerRegistry, BuildsEveryNamedSamplerAndListsValidNames) {
  const NoiseSchedule s(config_with(BetaSchedule::ScaledLinear));
  for (const std::string& name : sampler_names()) {
    auto sampler = make_sampler(name, s, {10, 0.0, false});
    EXPECT_EQ(sampler->name(), name);
    EXPECT_EQ(sampler->steps(), 10);
    EXPECT_EQ(sampler->timesteps().size(), 10u);
  }
  try {
    make_sampler("heun", s, {10, 0.0, false});
    FAIL() << "expected an error";
  } catch (const EngineError& e) {
    EXPECT_EQ(e.kind(), EngineError::Kind::InvalidArgument);
    const std::string what = e.what();
    for (const char* n : {"heun", "ddim", "euler", "euler_ancestral", "dpmpp_2m"})
      EXPECT_NE(what.find(n), std::string::npos) << what;
  }
}

TEST(SamplerLevels, DescendMonotonicallyToTheFinalLevel) {
  const NoiseSchedule s(config_with(BetaSchedule::ScaledLinear));
  for (const std::string& name : sampler_names()) {
    for (bool karras : {false, true}) {
      auto sampler = make_sampler(name, s, {15, 0.0, karras});
      for (int i = 0; i < sampler->steps(); ++i) {
        const double snr_now = std::pow(sampler->level(i).scale / sampler->level(i).sigma, 2);
        const double next_sigma = sampler->level(i + 1).sigma;
        if (next_sigma == 0) continue;
        const double snr_next = std::pow(sampler->level(i + 1).scale / next_sigma, 2);
        EXPECT_GT(snr_next, snr_now) << name << " step " << i;
      }
    }
  }
}
