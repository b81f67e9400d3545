// Classifier-free guidance as a model-callback wrapper.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "sched/guidance.h"
#include "terrasynth/engine/error.h"

using namespace terrasynth::engine;
using namespace terrasynth::engine::sched;

namespace {

// A network whose two branches differ: conditional 2 x + 1, unconditional -x + t / 1000.
struct RecordingModel {
  std::vector<std::vector<Branch>> calls;
  std::vector<int64_t> batch_sizes;
  ModelFn fn() {
    return [this](const torch::Tensor& x, const ModelCall& call) {
      calls.push_back(call.branches);
      batch_sizes.push_back(x.size(0));
      EXPECT_EQ(call.regions.size(), static_cast<size_t>(x.size(0)));
      std::vector<torch::Tensor> out;
      for (int64_t b = 0; b < x.size(0); ++b) {
        const bool cond = call.branch(static_cast<size_t>(b)) == Branch::Conditional;
        out.push_back(cond ? 2 * x[b] + 1 : -x[b] + call.timestep / 1000);
      }
      return torch::stack(out);
    };
  }
};

ModelCall call_for(const torch::Tensor& x) {
  ModelCall call;
  call.timestep = 250;
  for (int64_t b = 0; b < x.size(0); ++b) call.regions.push_back({b * 8, 0, x.size(3), x.size(2)});
  return call;
}

}  // namespace

TEST(Guidance, ScaleOneIsExactlyTheConditionalBranchWithOneCall) {
  torch::manual_seed(1);
  const torch::Tensor x = torch::randn({3, 4, 6, 5});
  RecordingModel m;
  const torch::Tensor out = classifier_free_guidance(m.fn(), {1.0, true})(x, call_for(x));
  EXPECT_TRUE(torch::equal(out, 2 * x + 1));
  ASSERT_EQ(m.calls.size(), 1u);
  EXPECT_EQ(m.calls[0], std::vector<Branch>(3, Branch::Conditional));
}

TEST(Guidance, BatchedAndSequentialGiveTheGuidedOutput) {
  torch::manual_seed(2);
  const torch::Tensor x = torch::randn({2, 4, 6, 5});
  const double scale = 3.5;
  const torch::Tensor cond = 2 * x + 1;
  const torch::Tensor uncond = -x + 0.25;
  const torch::Tensor expected = uncond + scale * (cond - uncond);

  RecordingModel batched;
  const torch::Tensor a = classifier_free_guidance(batched.fn(), {scale, true})(x, call_for(x));
  EXPECT_TRUE(torch::allclose(a, expected, 1e-6, 1e-6));
  ASSERT_EQ(batched.calls.size(), 1u);
  EXPECT_EQ(batched.batch_sizes[0], 4);
  EXPECT_EQ(batched.calls[0], (std::vector<Branch>{Branch::Conditional, Branch::Conditional,
                                                   Branch::Unconditional, Branch::Unconditional}));

  RecordingModel sequential;
  const torch::Tensor b = classifier_free_guidance(sequential.fn(), {scale, false})(x, call_for(x));
  EXPECT_TRUE(torch::allclose(b, expected, 1e-6, 1e-6));
  ASSERT_EQ(sequential.calls.size(), 2u);
  EXPECT_EQ(sequential.batch_sizes, (std::vector<int64_t>{2, 2}));
  EXPECT_TRUE(torch::equal(a, b));
}

TEST(Guidance, ScaleZeroIsTheUnconditionalBranch) {
  const torch::Tensor x = torch::linspace(-1, 1, 40).view({1, 1, 5, 8});
  RecordingModel m;
  const torch::Tensor out = classifier_free_guidance(m.fn(), {0.0, true})(x, call_for(x));
  EXPECT_TRUE(torch::allclose(out, -x + 0.25, 1e-6, 1e-6));
}

TEST(Guidance, PropagatesCancellationAndRejectsBadInput) {
  const ModelFn cancelled = [](const torch::Tensor&, const ModelCall&) { return torch::Tensor(); };
  const torch::Tensor x = torch::zeros({1, 1, 2, 2});
  EXPECT_FALSE(classifier_free_guidance(cancelled, {2.0, true})(x, call_for(x)).defined());
  EXPECT_FALSE(classifier_free_guidance(cancelled, {2.0, false})(x, call_for(x)).defined());
  EXPECT_THROW(classifier_free_guidance(ModelFn(), {2.0, true}), EngineError);
  EXPECT_THROW(classifier_free_guidance(cancelled, {NAN, true}), EngineError);
}

// Outside the guidance interval a step is the conditional branch alone, in one call of B.
TEST(Guidance, IntervalGuidesOnlyTheStepsInside) {
  RecordingModel model;
  GuidanceOptions options;
  options.scale = 3.0;
  options.interval_start = 0.0;
  options.interval_end = 0.5;
  const ModelFn guided = classifier_free_guidance(model.fn(), options);
  const torch::Tensor x = torch::randn({2, 3, 4, 4});
  ModelCall call = call_for(x);
  call.total_steps = 10;
  for (int step = 0; step < 10; ++step) {
    call.step = step;
    const torch::Tensor out = guided(x, call);
    const torch::Tensor cond = 2 * x + 1;
    const torch::Tensor uncond = -x + call.timestep / 1000;
    if (step < 5)
      EXPECT_TRUE(torch::allclose(out, uncond + 3.0 * (cond - uncond), 1e-5, 1e-5)) << step;
    else
      EXPECT_TRUE(torch::allclose(out, cond)) << step;
  }
  ASSERT_EQ(model.batch_sizes.size(), 10u);
  for (int step = 0; step < 10; ++step)
    EXPECT_EQ(model.batch_sizes[static_cast<size_t>(step)], step < 5 ? 4 : 2) << step;

  GuidanceOptions bad = options;
  bad.interval_start = 0.8;
  bad.interval_end = 0.2;
  EXPECT_THROW(classifier_free_guidance(model.fn(), bad), EngineError);
}

// Guidance by frequency: the coarse part of the difference (what the filter returns) gets the
// coarse scale, the rest the scale; a filter keeping everything is plain guidance at the coarse
// scale, one keeping nothing plain guidance at the scale.
TEST(Guidance, CoarseScaleAppliesToTheFilteredPartOfTheDifference) {
  torch::manual_seed(3);
  const torch::Tensor x = torch::randn({2, 3, 8, 8});
  const torch::Tensor cond = 2 * x + 1, uncond = -x + 0.25, d = cond - uncond;
  auto guided = [&](std::function<torch::Tensor(const torch::Tensor&)> coarse) {
    GuidanceOptions options;
    options.scale = 5.0;
    options.coarse = std::move(coarse);
    options.coarse_scale = 2.0;
    RecordingModel m;
    const torch::Tensor out = classifier_free_guidance(m.fn(), options)(x, call_for(x));
    EXPECT_EQ(m.calls.size(), 1u);  // still one batched call
    return out;
  };
  const auto mean = [](const torch::Tensor& t) { return t.mean({2, 3}, /*keepdim=*/true).expand_as(t); };
  EXPECT_TRUE(torch::allclose(guided([](const torch::Tensor& t) { return t; }), uncond + 2.0 * d, 1e-5, 1e-5));
  EXPECT_TRUE(torch::allclose(guided([](const torch::Tensor& t) { return torch::zeros_like(t); }),
                              uncond + 5.0 * d, 1e-5, 1e-5));
  // The per-channel mean as the coarse part: means at scale 2, the rest at scale 5.
  const torch::Tensor split = guided(mean);
  EXPECT_TRUE(torch::allclose(split, uncond + 2.0 * mean(d) + 5.0 * (d - mean(d)), 1e-5, 1e-5));
  EXPECT_TRUE(torch::allclose(mean(split), mean(uncond + 2.0 * d), 1e-5, 1e-5));

  GuidanceOptions bad;
  bad.scale = 5.0;
  bad.coarse = mean;
  bad.coarse_scale = NAN;
  EXPECT_THROW(classifier_free_guidance(RecordingModel().fn(), bad), EngineError);
}
