// Every sampler, for every prediction type, against the ideal denoiser of Gaussian data
// x0 ~ N(mu, s^2): sampling many independent values must reproduce mu and s^2.
//
// Tolerances (also in docs/SAMPLING.md). The samplers are exact only in the limit of many steps:
// on this problem their discretisation error is a known under-dispersion, which for the SD
// schedule and s = 1 is, at 100 steps, 3 % (Euler, DDIM), 6 % (Euler ancestral, DDIM eta = 1) and
// 1 % (DPM-Solver++(2M)) of the variance, decaying like 1 / steps (a scalar recursion of each
// update rule gives these numbers). The mean of the deterministic samplers is biased by about
// -mu s / sqrt(s^2 + sigma_max^2) (0.07 mu here) because x_T ~ N(0, sigma_max^2) ignores the data
// mean, whose trace the probability-flow ODE keeps. 128 x 128 x 4 = 65536 values give standard
// errors of s / 256 = 0.004 on the mean and 0.55 % on the variance. Limits at 100 steps:
// |mean - mu| < 0.02 and 0.90 < var / s^2 < 1.04. A second test checks that the variance error
// shrinks from 25 to 100 steps, which a wrong update rule (converging elsewhere) would not do.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include "sched/noise.h"
#include "terrasynth/engine/error.h"
#include "sched/sampler.h"
#include "sched/test_models.h"

using namespace terrasynth::engine;
using namespace terrasynth::engine::sched;

namespace {

struct Case {
  std::string sampler;
  double eta;
  bool karras;
  double eta_min_timestep = 0;
};

const std::vector<Case> kCases = {{"ddim", 0.0, false},  {"ddim", 1.0, false},
                                  {"ddim", 1.0, false, 500},
                                  {"euler", 0.0, false}, {"euler", 0.0, true},
                                  {"euler_ancestral", 0.0, false}, {"dpmpp_2m", 0.0, false},
                                  {"dpmpp_2m", 0.0, true}};

struct Moments {
  double mean;
  double var;
};

Moments sample_moments(const NoiseSchedule& schedule, const Case& c, int steps, double mu,
                       double s, uint64_t seed) {
  auto sampler = make_sampler(c.sampler, schedule, {steps, c.eta, c.karras, c.eta_min_timestep});
  SampleCallbacks cb;
  cb.model = test::gaussian_denoiser(schedule, mu, s);
  cb.noise = canvas_noise(CounterNoise(seed), 0, 0, 128, 128, 4);
  const SampleResult r = sample(*sampler, initial_sample(*sampler, cb.noise), cb);
  EXPECT_EQ(r.status, Status::Ok);
  EXPECT_EQ(r.steps_done, steps);
  const torch::Tensor d = r.sample.to(torch::kFloat64);
  return {d.mean().item<double>(), d.var(/*unbiased=*/false).item<double>()};
}

std::string label(const Case& c, PredictionType type) {
  return c.sampler + (c.karras ? " karras" : "") + (c.eta > 0 ? " eta=1" : "") +
         (c.eta_min_timestep > 0 ? " from " + std::to_string(c.eta_min_timestep) : "") + " " +
         to_string(type);
}

}  // namespace

TEST(SamplersAnalytic, ReproduceTheDataDistributionForEveryPredictionType) {
  test::SingleThreaded single;
  const double mu = 0.1, s = 1.0;
  for (PredictionType type : {PredictionType::Epsilon, PredictionType::VPrediction, PredictionType::Sample}) {
    const NoiseSchedule schedule(test::sd_config(type));
    for (const Case& c : kCases) {
      const Moments m = sample_moments(schedule, c, 100, mu, s, 1234);
      EXPECT_NEAR(m.mean, mu, 0.02) << label(c, type);
      EXPECT_GT(m.var / (s * s), 0.90) << label(c, type);
      EXPECT_LT(m.var / (s * s), 1.04) << label(c, type);
    }
  }
}

TEST(SamplersAnalytic, VarianceErrorShrinksWithMoreSteps) {
  test::SingleThreaded single;
  const double mu = -0.2, s = 0.5;
  const NoiseSchedule schedule(test::sd_config(PredictionType::Epsilon));
  for (const Case& c : kCases) {
    const Moments coarse = sample_moments(schedule, c, 25, mu, s, 99);
    const Moments fine = sample_moments(schedule, c, 100, mu, s, 99);
    const double coarse_error = std::abs(coarse.var / (s * s) - 1);
    const double fine_error = std::abs(fine.var / (s * s) - 1);
    EXPECT_LT(fine_error, 0.6 * coarse_error) << label(c, PredictionType::Epsilon);
    EXPECT_NEAR(fine.mean, mu, 0.03) << label(c, PredictionType::Epsilon);
  }
}

TEST(SamplersAnalytic, LeadingSpacingAlsoConverges) {
  test::SingleThreaded single;
  const double mu = 0.1, s = 0.8;
  const NoiseSchedule schedule(test::sd_config(PredictionType::VPrediction, TimestepSpacing::Leading));
  for (const Case& c : kCases) {
    const Moments m = sample_moments(schedule, c, 100, mu, s, 7);
    EXPECT_NEAR(m.mean, mu, 0.02) << label(c, PredictionType::VPrediction);
    EXPECT_GT(m.var / (s * s), 0.90) << label(c, PredictionType::VPrediction);
    EXPECT_LT(m.var / (s * s), 1.04) << label(c, PredictionType::VPrediction);
  }
}

TEST(SamplersAnalytic, DeterministicSamplersFollowTheExactPosteriorMean) {
  // With data of zero variance every sample must land on mu whatever the noise: the ideal
  // denoiser returns mu at every step, so DDIM (eta = 0), Euler and DPM-Solver++ end exactly there
  // up to float rounding.
  const NoiseSchedule schedule(test::sd_config(PredictionType::Epsilon));
  for (const std::string name : {"ddim", "euler", "dpmpp_2m"}) {
    auto sampler = make_sampler(name, schedule, {12, 0.0, false});
    SampleCallbacks cb;
    const double mu = 0.7;
    cb.model = [&schedule, mu](const torch::Tensor& x, const ModelCall& call) {
      const double ab = schedule.alpha_bar_at(call.timestep);
      return (x - std::sqrt(ab) * mu) / std::sqrt(1 - ab);  // eps of x = a mu + sigma eps
    };
    cb.noise = canvas_noise(CounterNoise(5), 0, 0, 16, 16, 2);
    const SampleResult r = sample(*sampler, initial_sample(*sampler, cb.noise), cb);
    const double final_scale = sampler->level(sampler->steps()).scale;
    const double final_sigma = sampler->level(sampler->steps()).sigma;
    // The final sample is scale * mu + sigma * (remaining noise); sigma is 0 except for DDIM's
    // final alpha_bar[0] level, whose noise part is below 0.03 * |eps|.
    EXPECT_NEAR((r.sample - final_scale * mu).abs().max().item<double>(), 0.0,
                final_sigma * 5 + 1e-4)
        << name;
  }
}

TEST(SamplersAnalytic, DdimEtaAppliesFromItsMinimumTimestepOnly) {
  const NoiseSchedule schedule(test::sd_config(PredictionType::VPrediction));
  auto run = [&](double eta, double eta_min_timestep) {
    auto sampler = make_sampler("ddim", schedule, {10, eta, false, eta_min_timestep});
    SampleCallbacks cb;
    cb.model = test::gaussian_denoiser(schedule, 0.1, 0.6);
    cb.noise = canvas_noise(CounterNoise(31), 0, 0, 24, 24, 3);
    return sample(*sampler, initial_sample(*sampler, cb.noise), cb).sample;
  };
  // Fresh noise on the steps at or above timestep 500 and on no other.
  auto split = make_sampler("ddim", schedule, {10, 1.0, false, 500});
  int stochastic = 0;
  for (int i = 0; i < split->steps(); ++i) {
    EXPECT_EQ(split->stochastic(i), split->timesteps()[static_cast<size_t>(i)] >= 500) << "step " << i;
    stochastic += split->stochastic(i) ? 1 : 0;
  }
  EXPECT_GT(stochastic, 0);
  EXPECT_LT(stochastic, split->steps());
  // Above every timestep it is plain DDIM; in between it differs from both ends.
  const torch::Tensor deterministic = run(0.0, 0);
  EXPECT_TRUE(torch::equal(run(1.0, 1000), deterministic));
  const torch::Tensor partial = run(1.0, 500);
  EXPECT_GT((partial - deterministic).abs().max().item<double>(), 1e-3);
  EXPECT_GT((partial - run(1.0, 0)).abs().max().item<double>(), 1e-3);
  EXPECT_THROW(make_sampler("ddim", schedule, {10, 1.0, false, -1}), EngineError);
}

TEST(SamplersAnalytic, SamplerOutputDoesNotDependOnTheThreadCount) {
  const NoiseSchedule schedule(test::sd_config(PredictionType::VPrediction));
  auto run = [&](int threads) {
    at::set_num_threads(threads);
    auto sampler = make_sampler("euler_ancestral", schedule, {8, 0.0, false});
    SampleCallbacks cb;
    cb.model = test::gaussian_denoiser(schedule, 0.1, 0.6);
    cb.noise = canvas_noise(CounterNoise(77), 3, -5, 40, 24, 3);
    return sample(*sampler, initial_sample(*sampler, cb.noise), cb).sample;
  };
  const torch::Tensor a = run(1);
  const torch::Tensor b = run(2);
  EXPECT_TRUE(torch::equal(a, b));
}

TEST(SamplerRegistry, KarrasNamesUseKarrasSigmas) {
  const NoiseSchedule schedule(test::sd_config(PredictionType::VPrediction));
  for (const auto& [plain, karras_name] : {std::pair<std::string, std::string>{"dpmpp_2m", "dpmpp_2m_karras"},
                                           {"euler", "euler_karras"}}) {
    auto named = make_sampler(karras_name, schedule, {10, 0.0, false});
    auto flagged = make_sampler(plain, schedule, {10, 0.0, true});
    auto uniform = make_sampler(plain, schedule, {10, 0.0, false});
    ASSERT_EQ(named->timesteps().size(), flagged->timesteps().size()) << karras_name;
    for (size_t i = 0; i < named->timesteps().size(); ++i)
      EXPECT_DOUBLE_EQ(named->timesteps()[i], flagged->timesteps()[i]) << karras_name << " step " << i;
    // Karras sigmas put the late steps at lower noise than the uniform spacing does.
    EXPECT_LT(named->timesteps()[8], uniform->timesteps()[8]) << karras_name;
    const auto names = sampler_names();
    EXPECT_NE(std::find(names.begin(), names.end(), karras_name), names.end()) << karras_name;
  }
  EXPECT_THROW(make_sampler("ddim_karras", schedule, {10, 0.0, false}), EngineError);
}
