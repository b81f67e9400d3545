// Inpainting by blending: unmasked values stay bit-identical, results are reproducible, cancel
// stops within one step, progress is monotonic, resampling jumps redo steps.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "sched/inpaint.h"
#include "sched/noise.h"
#include "sched/test_models.h"
#include "terrasynth/engine/error.h"

using namespace terrasynth::engine;
using namespace terrasynth::engine::sched;

namespace {

struct Scene {
  torch::Tensor known;
  torch::Tensor mask;  // 1 = regenerate
};

// A known latent with structure and a feathered rectangular hole.
Scene make_scene(int64_t h, int64_t w) {
  const torch::Tensor yy = torch::arange(h, torch::kFloat32).view({1, 1, h, 1});
  const torch::Tensor xx = torch::arange(w, torch::kFloat32).view({1, 1, 1, w});
  Scene s;
  s.known = torch::cat({torch::sin(xx * 0.3 + yy * 0.1).expand({1, 1, h, w}),
                        torch::cos(yy * 0.2).expand({1, 1, h, w}),
                        (xx / w - 0.5).expand({1, 1, h, w})},
                       1)
                .contiguous();
  torch::Tensor hole = torch::zeros({1, 1, h, w});
  hole.slice(2, h / 4, h / 2).slice(3, w / 3, 2 * w / 3).fill_(1);
  s.mask = feather_mask(hole, 3);
  return s;
}

SampleResult run(const std::string& name, const Scene& scene, int jumps, uint64_t seed,
                 const NoiseSchedule& schedule, const CancelToken* cancel = nullptr,
                 ModelFn model = {}, ProgressCallback progress = {}) {
  auto sampler = make_sampler(name, schedule, {10, 0.0, false});
  SampleCallbacks cb;
  cb.model = model ? model : test::gaussian_denoiser(schedule, 0.0, 0.7);
  cb.noise = canvas_noise(CounterNoise(seed), 0, 0, scene.known.size(3), scene.known.size(2), 3);
  cb.cancel = cancel;
  cb.progress = std::move(progress);
  InpaintOptions o;
  o.known = scene.known;
  o.mask = scene.mask;
  o.resample_jumps = jumps;
  return sample_inpaint(*sampler, initial_sample(*sampler, cb.noise), o, cb);
}

}  // namespace

TEST(Inpaint, KeepsUnmaskedValuesBitIdenticalAndRegeneratesTheHole) {
  test::SingleThreaded single;
  const NoiseSchedule schedule(test::sd_config(PredictionType::Epsilon));
  const Scene scene = make_scene(40, 52);
  for (const std::string& name : sampler_names()) {
    for (int jumps : {0, 2}) {
      const SampleResult r = run(name, scene, jumps, 9, schedule);
      ASSERT_EQ(r.status, Status::Ok) << name;
      const torch::Tensor keep = (scene.mask == 0).expand_as(scene.known);
      EXPECT_TRUE(torch::equal(r.sample.masked_select(keep), scene.known.masked_select(keep)))
          << name << " jumps " << jumps;
      // Inside the hole the result is a fresh sample, not the known content.
      const torch::Tensor hole = (scene.mask == 1).expand_as(scene.known);
      EXPECT_GT((r.sample - scene.known).masked_select(hole).abs().mean().item<double>(), 0.2) << name;
    }
  }
}

TEST(Inpaint, SameSeedSameResultDifferentSeedDifferentResult) {
  test::SingleThreaded single;
  const NoiseSchedule schedule(test::sd_config(PredictionType::VPrediction));
  const Scene scene = make_scene(24, 30);
  for (const std::string name : {"euler_ancestral", "dpmpp_2m"}) {
    const SampleResult a = run(name, scene, 1, 5, schedule);
    const SampleResult b = run(name, scene, 1, 5, schedule);
    const SampleResult c = run(name, scene, 1, 6, schedule);
    EXPECT_TRUE(torch::equal(a.sample, b.sample)) << name;
    EXPECT_FALSE(torch::equal(a.sample, c.sample)) << name;
  }
}

TEST(Inpaint, ResamplingJumpsRepeatEveryStep) {
  test::SingleThreaded single;
  const NoiseSchedule schedule(test::sd_config(PredictionType::Epsilon));
  const Scene scene = make_scene(16, 16);
  std::vector<std::pair<int, int>> seen;  // (step, pass) of every model call
  ModelFn base = test::gaussian_denoiser(schedule, 0.0, 0.7);
  const ModelFn counting = [&](const torch::Tensor& x, const ModelCall& call) {
    EXPECT_EQ(call.passes, 3);
    seen.emplace_back(call.step, call.pass);
    return base(x, call);
  };
  const SampleResult r = run("dpmpp_2m", scene, 2, 1, schedule, nullptr, counting);
  EXPECT_EQ(r.status, Status::Ok);
  ASSERT_EQ(seen.size(), 30u);
  for (size_t k = 0; k < seen.size(); ++k)
    EXPECT_EQ(seen[k], std::make_pair(static_cast<int>(k / 3), static_cast<int>(k % 3)));
  const SampleResult plain = run("dpmpp_2m", scene, 0, 1, schedule);
  EXPECT_FALSE(torch::equal(plain.sample, r.sample));
}

TEST(Inpaint, CancelStopsWithinOneStep) {
  test::SingleThreaded single;
  const NoiseSchedule schedule(test::sd_config(PredictionType::Epsilon));
  const Scene scene = make_scene(16, 16);
  for (int jumps : {0, 2}) {
    CancelToken token;
    int calls = 0;
    int calls_after_cancel = 0;
    ModelFn base = test::gaussian_denoiser(schedule, 0.0, 0.7);
    const ModelFn model = [&](const torch::Tensor& x, const ModelCall& call) {
      if (token.cancelled()) ++calls_after_cancel;
      if (++calls == 4) token.cancel();
      return base(x, call);
    };
    const SampleResult r = run("euler", scene, jumps, 1, schedule, &token, model);
    EXPECT_EQ(r.status, Status::Cancelled);
    EXPECT_EQ(calls_after_cancel, 0) << "jumps " << jumps;
    EXPECT_EQ(r.steps_done, jumps == 0 ? 4 : 1);
    // Even a cancelled result keeps the known values.
    const torch::Tensor keep = (scene.mask == 0).expand_as(scene.known);
    EXPECT_TRUE(torch::equal(r.sample.masked_select(keep), scene.known.masked_select(keep)));
  }
}

TEST(Inpaint, ProgressIsMonotonicAndReachesTheTotal) {
  test::SingleThreaded single;
  const NoiseSchedule schedule(test::sd_config(PredictionType::Epsilon));
  const Scene scene = make_scene(16, 16);
  std::vector<ProgressEvent> events;
  run("ddim", scene, 1, 1, schedule, nullptr, {}, [&](const ProgressEvent& e) { events.push_back(e); });
  ASSERT_EQ(events.size(), 10u);
  for (size_t k = 0; k < events.size(); ++k) {
    EXPECT_EQ(events[k].phase, "denoise");
    EXPECT_EQ(events[k].step, static_cast<int>(k) + 1);
    EXPECT_EQ(events[k].total_steps, 10);
    if (k > 0) {
      EXPECT_GT(events[k].fraction, events[k - 1].fraction);
    }
  }
  EXPECT_DOUBLE_EQ(events.back().fraction, 1.0);
}

TEST(Inpaint, RenoiseReachesTheTargetLevel) {
  test::SingleThreaded single;
  // x = s_a x0 + sigma_a e, renoised to b, must be s_b x0 + sigma_b e' in distribution.
  const NoiseLevel from{0.9, std::sqrt(1 - 0.81)};
  const NoiseLevel to{0.6, 0.8};
  const CounterNoise gen(4);
  const torch::Tensor e1 = gen.window(0, 0, 256, 256, 1, 1);
  const torch::Tensor e2 = gen.window(0, 0, 256, 256, 1, 2);
  const double x0 = 0.5;
  const torch::Tensor x = from.scale * x0 + from.sigma * e1;
  const torch::Tensor y = renoise(x, from, to, e2).to(torch::kFloat64);
  EXPECT_NEAR(y.mean().item<double>(), to.scale * x0, 0.01);
  EXPECT_NEAR(y.var(false).item<double>(), to.sigma * to.sigma, 0.02);
  // Sigma-parameterised levels (scale 1) add sqrt(sigma_b^2 - sigma_a^2) of noise.
  const torch::Tensor v = renoise(torch::zeros({1, 1, 256, 256}) + e1 * 2.0, {1, 2.0}, {1, 5.0}, e2);
  EXPECT_NEAR(v.to(torch::kFloat64).var(false).item<double>(), 25.0, 0.5);
}

TEST(Inpaint, CompositeKeepsKnownPixelsExactlyInPixelSpace) {
  test::SingleThreaded single;
  Image generated(3, 4, 5, 0.25f), known(3, 4, 5, 0.f);
  for (size_t i = 0; i < known.data.size(); ++i) known.data[i] = 0.1f + 0.013f * static_cast<float>(i);
  Mask mask(4, 5, 0.f);
  mask.at(1, 2) = 1.f;
  mask.at(2, 2) = 0.5f;
  const Image out = composite_known(generated, known, mask);
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 4; ++y)
      for (int x = 0; x < 5; ++x) {
        if (mask.at(y, x) == 0.f) {
          EXPECT_EQ(out.at(c, y, x), known.at(c, y, x));
        }
      }
  EXPECT_EQ(out.at(0, 1, 2), 0.25f);
  EXPECT_FLOAT_EQ(out.at(1, 2, 2), 0.5f * 0.25f + 0.5f * known.at(1, 2, 2));
  EXPECT_THROW(composite_known(generated, known, Mask(3, 5, 0.f)), EngineError);

  // The tensor version with a broadcast mask.
  const torch::Tensor g = torch::full({1, 3, 4, 5}, 0.25);
  const torch::Tensor k = torch::from_blob(known.data.data(), {1, 3, 4, 5}).clone();
  const torch::Tensor m = torch::from_blob(mask.data.data(), {1, 1, 4, 5}).clone();
  const torch::Tensor t = composite_known(g, k, m);
  EXPECT_TRUE(torch::equal(t.masked_select((m == 0).expand_as(k)), k.masked_select((m == 0).expand_as(k))));
}

TEST(Inpaint, LatentMaskCoversEveryRegeneratedPixelAndFeathersOutwards) {
  test::SingleThreaded single;
  torch::Tensor pixels = torch::zeros({1, 1, 16, 16});
  pixels[0][0][5][9] = 1;  // one pixel to regenerate
  const torch::Tensor latent = mask_to_latent(pixels, 4);
  EXPECT_EQ(latent.sizes(), (std::vector<int64_t>{1, 1, 4, 4}));
  EXPECT_EQ(latent[0][0][1][2].item<float>(), 1.f);
  EXPECT_EQ(latent.sum().item<float>(), 1.f);
  EXPECT_EQ(mask_to_latent(torch::ones({1, 1, 10, 10}), 4).sizes(), (std::vector<int64_t>{1, 1, 3, 3}));

  const torch::Tensor f = feather_mask(latent, 2);
  EXPECT_EQ(f[0][0][1][2].item<float>(), 1.f);                   // inside stays 1
  EXPECT_NEAR(f[0][0][1][3].item<float>(), 2.0 / 3.0, 1e-6);     // distance 1
  EXPECT_NEAR(f[0][0][3][0].item<float>(), 1.0 / 3.0, 1e-6);     // distance 2
  EXPECT_TRUE((f >= latent).all().item<bool>());
}

TEST(Inpaint, RejectsMismatchedInputs) {
  test::SingleThreaded single;
  const NoiseSchedule schedule(test::sd_config(PredictionType::Epsilon));
  auto sampler = make_sampler("ddim", schedule, {4, 0.0, false});
  SampleCallbacks cb;
  cb.model = test::gaussian_denoiser(schedule, 0, 1);
  cb.noise = canvas_noise(CounterNoise(1), 0, 0, 8, 8, 3);
  InpaintOptions o;
  o.known = torch::zeros({1, 3, 8, 8});
  o.mask = torch::zeros({1, 1, 8, 7});
  EXPECT_THROW(sample_inpaint(*sampler, initial_sample(*sampler, cb.noise), o, cb), EngineError);
  o.mask = torch::zeros({1, 1, 8, 8});
  o.known = torch::zeros({1, 4, 8, 8});
  EXPECT_THROW(sample_inpaint(*sampler, initial_sample(*sampler, cb.noise), o, cb), EngineError);
}
