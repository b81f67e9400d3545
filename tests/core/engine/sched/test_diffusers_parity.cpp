// Parity with diffusers 0.31 scheduler runs (../shared/fixtures/diffusers/sched_*): the config is
// read with the project's own reader, and timesteps, sigmas, alphas_cumprod, every model input,
// every prev_sample and the final sample are reproduced within rtol 1e-5, atol 1e-5 * max|ref|,
// both running the whole loop with the fixtures' fake model and step by step from the stored
// model outputs.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>

#include "sched/sampler.h"
#include "sched/schedule.h"
#include "terrasynth/test_paths.h"
#include "weights/state_dict.h"

using namespace terrasynth::engine;
using namespace terrasynth::engine::sched;

namespace {

std::string fixture_dir(const std::string& name) {
  return std::string(TERRASYNTH_TEST_SHARED_DIR) + "/fixtures/diffusers/" + name;
}

torch::Tensor get(const StateDict& d, const std::string& key) {
  const torch::Tensor* t = d.find(key);
  if (!t) throw std::runtime_error("io.safetensors has no tensor '" + key + "'");
  return *t;
}

::testing::AssertionResult close(const torch::Tensor& actual, const torch::Tensor& reference,
                                 const std::string& what) {
  const torch::Tensor a = actual.to(torch::kFloat64).reshape(reference.sizes());
  const torch::Tensor r = reference.to(torch::kFloat64);
  const double atol = 1e-5 * r.abs().max().item<double>();
  const torch::Tensor excess = (a - r).abs() - (atol + 1e-5 * r.abs());
  const double worst = excess.max().item<double>();
  if (worst <= 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << what << ": max |actual - ref| = " << (a - r).abs().max().item<double>()
         << " exceeds the tolerance (atol " << atol << " + rtol 1e-5) by " << worst;
}

std::string sampler_for(const std::string& class_name) {
  if (class_name == "DDIMScheduler") return "ddim";
  if (class_name == "EulerDiscreteScheduler") return "euler";
  if (class_name == "EulerAncestralDiscreteScheduler") return "euler_ancestral";
  if (class_name == "DPMSolverMultistepScheduler") return "dpmpp_2m";
  return "";
}

// The fixtures' fake network: eps = 0.1 * model_input + 0.01 * t / 1000.
torch::Tensor fake_model(const torch::Tensor& input, double t) {
  return 0.1 * input + 0.01 * static_cast<float>(t) / 1000;
}

class DiffusersParity : public ::testing::TestWithParam<std::string> {};

}  // namespace

TEST_P(DiffusersParity, ReproducesTheRecordedRun) {
  const std::string dir = fixture_dir(GetParam());
  const ScheduleConfig config = ScheduleConfig::load(dir);
  const StateDict io = load_safetensors(dir + "/io.safetensors");
  const NoiseSchedule schedule(config);
  const std::string name = sampler_for(config.class_name);
  ASSERT_FALSE(name.empty()) << config.class_name;

  EXPECT_TRUE(close(schedule.alphas_cumprod(), get(io, "alphas_cumprod"), "alphas_cumprod"));
  EXPECT_TRUE(close(schedule.betas(), get(io, "betas"), "betas"));

  auto sampler = make_sampler(name, schedule, {20, 0.0, false});
  const torch::Tensor ref_t = get(io, "timesteps").to(torch::kFloat64);
  ASSERT_EQ(sampler->steps(), ref_t.size(0));
  for (int i = 0; i < sampler->steps(); ++i)
    EXPECT_NEAR(sampler->timesteps()[i], ref_t[i].item<double>(), 1e-5 * ref_t[i].item<double>())
        << "timestep " << i;
  if (const torch::Tensor* sigmas = io.find("sigmas")) {
    std::vector<double> mine;
    for (int i = 0; i <= sampler->steps(); ++i) {
      const NoiseLevel& l = sampler->level(i);
      mine.push_back(l.sigma / l.scale);  // sigma of the sigma-parameterised form
    }
    EXPECT_TRUE(close(torch::tensor(mine), *sigmas, "sigmas"));
  }
  EXPECT_NEAR(sampler->init_noise_sigma(), get(io, "init_noise_sigma").item<double>(),
              1e-5 * get(io, "init_noise_sigma").item<double>());

  const torch::Tensor noise = get(io, "noise");
  const torch::Tensor x_T = get(io, "x_T");
  const torch::Tensor model_inputs = get(io, "model_inputs");
  const torch::Tensor model_outputs = get(io, "model_outputs");
  const torch::Tensor prev_samples = get(io, "prev_samples");
  const torch::Tensor* pred_x0 = io.find("pred_original_samples");
  const torch::Tensor* step_noise = io.find("step_noise");

  SampleCallbacks cb;
  cb.noise = [&](NoiseUse use, int step, int) {
    if (use == NoiseUse::Initial) return noise.clone();
    if (!step_noise) throw std::runtime_error("this run has no recorded step noise");
    return (*step_noise)[step].clone();
  };
  EXPECT_TRUE(close(initial_sample(*sampler, cb.noise), x_T, "x_T"));

  // 1. The whole loop with the fake model.
  std::vector<torch::Tensor> inputs, samples, x0s;
  cb.model = [&](const torch::Tensor& input, const ModelCall& call) {
    inputs.push_back(input.clone());
    return fake_model(input, call.timestep);
  };
  cb.on_step = [&](int, torch::Tensor& x) {
    samples.push_back(x.clone());
    x0s.push_back(sampler->predicted_x0().clone());
    return true;
  };
  const SampleResult r = sample(*sampler, x_T.clone(), cb);
  ASSERT_EQ(r.status, Status::Ok);
  ASSERT_EQ(samples.size(), static_cast<size_t>(sampler->steps()));
  for (int i = 0; i < sampler->steps(); ++i) {
    EXPECT_TRUE(close(inputs[i], model_inputs[i], "loop model_input " + std::to_string(i)));
    EXPECT_TRUE(close(samples[i], prev_samples[i], "loop prev_sample " + std::to_string(i)));
    if (pred_x0) {
      EXPECT_TRUE(close(x0s[i], (*pred_x0)[i], "loop pred_original_sample " + std::to_string(i)));
    }
  }
  EXPECT_TRUE(close(r.sample, get(io, "final_sample"), "loop final_sample"));

  // 2. Step by step from the stored model outputs and previous samples.
  auto stepper = make_sampler(name, schedule, {20, 0.0, false});
  for (int i = 0; i < stepper->steps(); ++i) {
    const torch::Tensor x = i == 0 ? x_T : prev_samples[i - 1];
    EXPECT_TRUE(close(stepper->scale_model_input(x, i), model_inputs[i],
                      "scale_model_input " + std::to_string(i)));
    const torch::Tensor z = stepper->stochastic(i) ? (*step_noise)[i] : torch::Tensor();
    const torch::Tensor next = stepper->step(i, model_outputs[i], x, z);
    EXPECT_TRUE(close(next, prev_samples[i], "step prev_sample " + std::to_string(i)));
    if (pred_x0) {
      EXPECT_TRUE(close(stepper->predicted_x0(), (*pred_x0)[i],
                        "step pred_original_sample " + std::to_string(i)));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Schedulers, DiffusersParity,
                         ::testing::Values("sched_ddim_eps", "sched_ddim_v", "sched_euler_eps",
                                           "sched_euler_ancestral_eps", "sched_dpmpp2m_eps",
                                           "sched_dpmpp2m_v", "sched_dpmpp2m_karras_eps"));
