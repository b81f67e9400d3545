// Tiled sampling: with a pointwise denoiser, fused and shifted tiling equal untiled sampling;
// windows see their own crop and region; results are reproducible and independent of the window
// batch; cancel stops within one window; progress is monotonic.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <optional>
#include <set>

#include "sched/guidance.h"
#include "sched/noise.h"
#include "sched/test_models.h"
#include "terrasynth/engine/error.h"
#include "tiling/tiled_sampler.h"

using namespace terrasynth::engine;
using namespace terrasynth::engine::sched;
using namespace terrasynth::engine::tiling;

namespace {

constexpr int64_t kWidth = 75;   // odd canvas sizes on purpose
constexpr int64_t kHeight = 50;

TiledOptions options(TilingMode mode, int batch = 2) {
  TiledOptions o;
  o.mode = mode;
  o.window = 32;
  o.overlap = 8;
  o.multiple = 4;
  o.batch = batch;
  return o;
}

struct RunResult {
  SampleResult result;
  int window_calls = 0;
};

RunResult run(const std::string& sampler_name, const NoiseSchedule& schedule, ModelFn model,
        std::optional<TiledOptions> tiling, int64_t x0 = 0, int64_t width = kWidth,
        uint64_t seed = 17, const CancelToken* cancel = nullptr) {
  RunResult r;
  auto sampler = make_sampler(sampler_name, schedule, {10, sampler_name == "ddim" ? 0.3 : 0.0, false});
  SampleCallbacks cb;
  ModelFn counted = [&r, model](const torch::Tensor& x, const ModelCall& call) {
    ++r.window_calls;
    return model(x, call);
  };
  cb.model = tiling ? tiled_model(counted, *tiling) : counted;
  cb.noise = canvas_noise(CounterNoise(seed), x0, 0, width, kHeight, 4);
  cb.cancel = cancel;
  r.result = sample(*sampler, initial_sample(*sampler, cb.noise), cb);
  return r;
}

double max_rel_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return ((a - b).abs().max() / b.abs().max()).item<double>();
}

}  // namespace

TEST(TiledSampler, PointwiseDenoiserGivesTheUntiledResult) {
  test::SingleThreaded single;
  const NoiseSchedule schedule(test::sd_config(PredictionType::VPrediction));
  const ModelFn model = test::gaussian_denoiser(schedule, 0.25, 0.6);
  for (const std::string name : {"ddim", "euler", "euler_ancestral", "dpmpp_2m"}) {
    const torch::Tensor untiled = run(name, schedule, model, std::nullopt).result.sample;
    for (TilingMode mode : {TilingMode::Fused, TilingMode::Shifted}) {
      const RunResult tiled = run(name, schedule, model, options(mode));
      ASSERT_EQ(tiled.result.status, Status::Ok);
      EXPECT_GT(tiled.window_calls, 10) << "the canvas must really be tiled";
      EXPECT_LT(max_rel_diff(tiled.result.sample, untiled), 1e-5)
          << name << (mode == TilingMode::Fused ? " fused" : " shifted");
    }
  }
}

TEST(TiledSampler, WindowsReceiveTheirCropAndRegion) {
  test::SingleThreaded single;
  // The window model adds a conditioning canvas looked up through ModelCall::regions; tiled and
  // untiled agree only if every window got the crop of its region.
  const NoiseSchedule schedule(test::sd_config(PredictionType::Epsilon));
  const ModelFn base = test::gaussian_denoiser(schedule, 0.0, 0.8);
  const torch::Tensor condition =
      torch::sin(torch::arange(kWidth * kHeight, torch::kFloat32) * 0.37).view({1, 1, kHeight, kWidth});
  std::set<int64_t> widths;
  const ModelFn conditioned = [&](const torch::Tensor& x, const ModelCall& call) {
    EXPECT_EQ(call.regions.size(), static_cast<size_t>(x.size(0)));
    std::vector<torch::Tensor> cond;
    for (const Region& r : call.regions) {
      EXPECT_EQ(r.width, x.size(3));
      EXPECT_EQ(r.height, x.size(2));
      EXPECT_GE(r.x, 0);
      EXPECT_LE(r.x + r.width, kWidth);
      widths.insert(r.width);
      cond.push_back(condition.slice(2, r.y, r.y + r.height).slice(3, r.x, r.x + r.width));
    }
    return base(x, call) + 0.05 * torch::cat(cond, 0);
  };
  const torch::Tensor untiled = run("dpmpp_2m", schedule, conditioned, std::nullopt).result.sample;
  for (TilingMode mode : {TilingMode::Fused, TilingMode::Shifted}) {
    widths.clear();
    const torch::Tensor tiled = run("dpmpp_2m", schedule, conditioned, options(mode, 3)).result.sample;
    EXPECT_LT(max_rel_diff(tiled, untiled), 1e-5);
    for (int64_t w : widths) EXPECT_LE(w, 32);
  }
}

TEST(TiledSampler, ReproducibleAndIndependentOfTheWindowBatch) {
  test::SingleThreaded single;
  const NoiseSchedule schedule(test::sd_config(PredictionType::Epsilon));
  const ModelFn model = test::gaussian_denoiser(schedule, 0.1, 0.5);
  for (TilingMode mode : {TilingMode::Fused, TilingMode::Shifted}) {
    const RunResult a = run("euler_ancestral", schedule, model, options(mode, 1));
    const RunResult b = run("euler_ancestral", schedule, model, options(mode, 1));
    const RunResult c = run("euler_ancestral", schedule, model, options(mode, 4));
    EXPECT_TRUE(torch::equal(a.result.sample, b.result.sample));
    EXPECT_TRUE(torch::equal(a.result.sample, c.result.sample));
    EXPECT_LT(c.window_calls, a.window_calls);
  }
}

TEST(TiledSampler, SameSeedGivesTheSamePixelsWhateverTheChunking) {
  test::SingleThreaded single;
  // Noise depends on global positions only, so sampling the canvas in two chunks of the global
  // grid gives the untiled result bit for bit (a pointwise denoiser makes chunks independent).
  const NoiseSchedule schedule(test::sd_config(PredictionType::Epsilon));
  const ModelFn model = test::gaussian_denoiser(schedule, -0.1, 0.9);
  for (const std::string name : {"ddim", "euler_ancestral", "dpmpp_2m"}) {
    const torch::Tensor whole = run(name, schedule, model, std::nullopt, 0, kWidth).result.sample;
    const torch::Tensor left = run(name, schedule, model, std::nullopt, 0, 40).result.sample;
    const torch::Tensor right = run(name, schedule, model, std::nullopt, 40, kWidth - 40).result.sample;
    EXPECT_TRUE(torch::equal(torch::cat({left, right}, 3), whole)) << name;
    const torch::Tensor other_seed =
        run(name, schedule, model, std::nullopt, 0, kWidth, 18).result.sample;
    EXPECT_FALSE(torch::equal(other_seed, whole));
  }
}

TEST(TiledSampler, CancelStopsWithinOneWindow) {
  test::SingleThreaded single;
  const NoiseSchedule schedule(test::sd_config(PredictionType::Epsilon));
  const ModelFn base = test::gaussian_denoiser(schedule, 0.0, 1.0);
  for (TilingMode mode : {TilingMode::Fused, TilingMode::Shifted}) {
    CancelToken token;
    int calls = 0, after = 0, step_of_cancel = -1;
    const ModelFn model = [&](const torch::Tensor& x, const ModelCall& call) {
      if (token.cancelled()) ++after;
      if (++calls == 9) {
        token.cancel();
        step_of_cancel = call.step;
      }
      return base(x, call);
    };
    TiledOptions o = options(mode, 1);
    o.cancel = &token;
    auto sampler = make_sampler("ddim", schedule, {10, 0.0, false});
    SampleCallbacks cb;
    cb.model = tiled_model(model, o);
    cb.noise = canvas_noise(CounterNoise(1), 0, 0, kWidth, kHeight, 4);
    cb.cancel = &token;
    const SampleResult r = sample(*sampler, initial_sample(*sampler, cb.noise), cb);
    EXPECT_EQ(r.status, Status::Cancelled);
    EXPECT_EQ(after, 0);
    EXPECT_EQ(calls, 9);
    EXPECT_EQ(r.steps_done, step_of_cancel);  // the interrupted step is not applied
  }
}

TEST(TiledSampler, ProgressReportsEveryWindowMonotonically) {
  test::SingleThreaded single;
  const NoiseSchedule schedule(test::sd_config(PredictionType::Epsilon));
  std::vector<ProgressEvent> events;
  TiledOptions o = options(TilingMode::Shifted, 2);
  o.progress = [&](const ProgressEvent& e) { events.push_back(e); };
  run("dpmpp_2m", schedule, test::gaussian_denoiser(schedule, 0, 1), o);
  ASSERT_FALSE(events.empty());
  for (size_t k = 0; k < events.size(); ++k) {
    const ProgressEvent& e = events[k];
    EXPECT_EQ(e.phase, "denoise");
    EXPECT_EQ(e.total_steps, 10);
    EXPECT_GE(e.tile, 1);
    EXPECT_LE(e.tile, e.total_tiles);
    if (k > 0) {
      EXPECT_GT(e.fraction, events[k - 1].fraction);
      EXPECT_GE(e.step, events[k - 1].step);
    }
  }
  EXPECT_EQ(events.back().step, 10);
  EXPECT_EQ(events.back().tile, events.back().total_tiles);
  EXPECT_DOUBLE_EQ(events.back().fraction, 1.0);
}

TEST(TiledSampler, GuidanceRunsPerWindowBatchWithBothBranches) {
  test::SingleThreaded single;
  const NoiseSchedule schedule(test::sd_config(PredictionType::Epsilon));
  const ModelFn base = test::gaussian_denoiser(schedule, 0.0, 1.0);
  std::vector<int64_t> batch_sizes;
  const ModelFn network = [&](const torch::Tensor& x, const ModelCall& call) {
    batch_sizes.push_back(x.size(0));
    EXPECT_EQ(call.branches.size(), static_cast<size_t>(x.size(0)));
    EXPECT_EQ(call.regions.size(), static_cast<size_t>(x.size(0)));
    torch::Tensor out = base(x, call);
    for (size_t b = 0; b < call.branches.size(); ++b)
      if (call.branches[b] == Branch::Unconditional) out[static_cast<int64_t>(b)] *= 0.5;
    return out;
  };
  auto guided = [&](double scale) {
    batch_sizes.clear();
    return run("ddim", schedule, classifier_free_guidance(network, {scale, true}),
               options(TilingMode::Fused, 3))
        .result.sample;
  };
  const torch::Tensor plain = run("ddim", schedule, base, options(TilingMode::Fused, 3)).result.sample;
  EXPECT_TRUE(torch::equal(guided(1.0), plain));
  for (int64_t b : batch_sizes) EXPECT_LE(b, 3);
  const torch::Tensor strong = guided(4.0);
  for (int64_t b : batch_sizes) EXPECT_EQ(b % 2, 0);
  EXPECT_FALSE(torch::equal(strong, plain));
}

TEST(TiledSampler, SmallCanvasIsOneWindowAndShiftedWindowsKeepTheMultiple) {
  test::SingleThreaded single;
  TiledOptions o = options(TilingMode::Shifted);
  ModelCall call;
  call.total_steps = 10;
  const TileLayout small = layout_for_call(o, 20, 28, call);
  ASSERT_EQ(small.count(), 1u);
  EXPECT_EQ(small.windows()[0].width, 20);
  for (int step = 0; step < 10; ++step) {
    call.step = step;
    for (const Window& w : layout_for_call(o, 96, 60, call).windows()) {
      EXPECT_EQ(w.width % 4, 0);
      EXPECT_EQ(w.height % 4, 0);
    }
  }
  EXPECT_THROW(tiled_model(ModelFn(), o), EngineError);
  o.batch = 0;
  const ModelFn identity = [](const torch::Tensor& x, const ModelCall&) { return x; };
  EXPECT_THROW(tiled_model(identity, o), EngineError);
}
