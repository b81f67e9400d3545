// CPU vs CUDA agreement of noise, samplers, tiling and inpainting. Skipped without a GPU.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "sched/inpaint.h"
#include "sched/noise.h"
#include "sched/test_models.h"
#include "tiling/tiled_sampler.h"

using namespace terrasynth::engine;
using namespace terrasynth::engine::sched;

namespace {

#define SKIP_WITHOUT_CUDA() \
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device"

torch::Tensor run(const std::string& name, const NoiseSchedule& schedule, torch::Device device,
                  bool tiled, TilingMode mode = TilingMode::Fused) {
  auto sampler = make_sampler(name, schedule, {12, name == "ddim" ? 0.5 : 0.0, false});
  SampleCallbacks cb;
  cb.model = test::gaussian_denoiser(schedule, 0.2, 0.6);
  if (tiled) {
    tiling::TiledOptions o;
    o.mode = mode;
    o.window = 32;
    o.overlap = 8;
    o.multiple = 4;
    o.batch = 3;
    cb.model = tiling::tiled_model(cb.model, o);
  }
  cb.noise = canvas_noise(CounterNoise(21), 100, -40, 72, 56, 4, device);
  return sample(*sampler, initial_sample(*sampler, cb.noise), cb).sample;
}

double rel_diff(const torch::Tensor& a, const torch::Tensor& b) {
  const torch::Tensor x = a.cpu().to(torch::kFloat64), y = b.cpu().to(torch::kFloat64);
  return ((x - y).abs().max() / y.abs().max()).item<double>();
}

}  // namespace

TEST(Cuda, NoiseIsIdenticalOnTheDevice) {
  SKIP_WITHOUT_CUDA();
  const CounterNoise gen(8);
  const NoiseFn gpu = canvas_noise(gen, -5, 7, 129, 65, 6, torch::kCUDA);
  const NoiseFn cpu = canvas_noise(gen, -5, 7, 129, 65, 6, torch::kCPU);
  const torch::Tensor g = gpu(NoiseUse::Step, 3, 1);
  EXPECT_TRUE(g.is_cuda());
  EXPECT_TRUE(torch::equal(g.cpu(), cpu(NoiseUse::Step, 3, 1)));
}

TEST(Cuda, SamplersAgreeWithTheCpu) {
  SKIP_WITHOUT_CUDA();
  for (PredictionType type : {PredictionType::Epsilon, PredictionType::VPrediction}) {
    const NoiseSchedule schedule(test::sd_config(type));
    for (const std::string& name : sampler_names()) {
      const torch::Tensor c = run(name, schedule, torch::kCPU, false);
      const torch::Tensor g = run(name, schedule, torch::kCUDA, false);
      EXPECT_TRUE(g.is_cuda());
      EXPECT_LT(rel_diff(g, c), 1e-5) << name;
    }
  }
}

TEST(Cuda, TiledSamplingAgreesWithTheCpu) {
  SKIP_WITHOUT_CUDA();
  const NoiseSchedule schedule(test::sd_config(PredictionType::Epsilon));
  for (TilingMode mode : {TilingMode::Fused, TilingMode::Shifted}) {
    const torch::Tensor c = run("dpmpp_2m", schedule, torch::kCPU, true, mode);
    const torch::Tensor g = run("dpmpp_2m", schedule, torch::kCUDA, true, mode);
    EXPECT_LT(rel_diff(g, c), 1e-5);
    EXPECT_LT(rel_diff(g, run("dpmpp_2m", schedule, torch::kCPU, false)), 1e-5);
  }
}

TEST(Cuda, InpaintingKeepsKnownValuesOnTheDevice) {
  SKIP_WITHOUT_CUDA();
  const NoiseSchedule schedule(test::sd_config(PredictionType::Epsilon));
  auto sampler = make_sampler("euler_ancestral", schedule, {8, 0.0, false});
  SampleCallbacks cb;
  cb.model = test::gaussian_denoiser(schedule, 0.0, 1.0);
  cb.noise = canvas_noise(CounterNoise(2), 0, 0, 20, 12, 3, torch::kCUDA);
  InpaintOptions o;
  o.known = torch::linspace(-1, 1, 720).view({1, 3, 12, 20}).to(torch::kCUDA);
  o.mask = torch::zeros({1, 1, 12, 20});
  o.mask.slice(3, 5, 11).fill_(1);
  o.mask = feather_mask(o.mask, 2).to(torch::kCUDA);
  o.resample_jumps = 1;
  const SampleResult r = sample_inpaint(*sampler, initial_sample(*sampler, cb.noise), o, cb);
  const torch::Tensor keep = (o.mask == 0).expand_as(o.known);
  EXPECT_TRUE(torch::equal(r.sample.masked_select(keep), o.known.masked_select(keep)));
}
