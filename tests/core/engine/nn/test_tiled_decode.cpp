// Window geometry, blend weights and shared GroupNorm statistics of tiled decoding.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "nn/group_norm.h"
#include "nn/tiled_decode.h"
#include "terrasynth/engine/error.h"

using namespace terrasynth::engine;
using namespace terrasynth::engine::nn;

TEST(WindowSpans, CoverTheAxisWithTheRequestedOverlap) {
  for (int64_t length : {1, 7, 16, 17, 31, 64, 65, 100, 257}) {
    for (auto [window, overlap] :
         std::vector<std::pair<int64_t, int64_t>>{{16, 0}, {16, 4}, {16, 15}, {24, 8}}) {
      const auto spans = window_spans(length, window, overlap);
      ASSERT_FALSE(spans.empty());
      EXPECT_EQ(spans.front().start, 0);
      EXPECT_EQ(spans.back().start + spans.back().length, length);
      EXPECT_EQ(spans.front().core_start, 0);
      EXPECT_EQ(spans.back().core_end, length);
      for (size_t i = 0; i < spans.size(); ++i) {
        const auto& s = spans[i];
        EXPECT_EQ(s.length, std::min(length, window));
        EXPECT_GE(s.core_start, s.start);
        EXPECT_LE(s.core_end, s.start + s.length);
        EXPECT_LT(s.core_start, s.core_end);
        if (i > 0) {
          EXPECT_EQ(s.core_start, spans[i - 1].core_end) << "cores must partition the axis";
          EXPECT_GE(spans[i - 1].start + spans[i - 1].length - s.start, overlap)
              << "length " << length << " window " << window << " overlap " << overlap;
          EXPECT_GT(s.start, spans[i - 1].start);
        }
      }
      if (length > window) {  // no needless window
        EXPECT_LT((static_cast<int64_t>(spans.size()) - 2) * (window - overlap) + window, length);
      }
    }
  }
}

TEST(WindowSpans, RejectsImpossibleRequests) {
  EXPECT_THROW(window_spans(0, 16, 4), EngineError);
  EXPECT_THROW(window_spans(32, 16, 16), EngineError);
  EXPECT_THROW(window_spans(32, 0, 0), EngineError);
}

TEST(WindowBlendWeights, NeighboursSumToOneAndRampSmoothly) {
  const int64_t length = 70, scale = 4;
  const auto spans = window_spans(length, 24, 8);
  auto total = torch::zeros({length * scale}, torch::kFloat32);
  for (size_t i = 0; i < spans.size(); ++i) {
    auto w = window_blend_weights(spans, i, scale);
    ASSERT_EQ(w.size(0), spans[i].length * scale);
    EXPECT_GT(w.min().item<float>(), 0.0f);
    EXPECT_LE(w.max().item<float>(), 1.0f);
    // Smooth: no step steeper than smoothstep's (slope 1.5 over the 8 * 4 pixel overlap).
    EXPECT_LT((w.slice(0, 1) - w.slice(0, 0, -1)).abs().max().item<float>(), 1.5f / 32 + 1e-4f);
    total.slice(0, spans[i].start * scale, (spans[i].start + spans[i].length) * scale) += w;
  }
  EXPECT_TRUE(torch::allclose(total, torch::ones_like(total), 0, 1e-5));
}

TEST(GroupNormStats, RecordAndReplayEqualGroupNorm) {
  torch::manual_seed(0);
  GroupNorm norm(4, 16, 1e-6);
  {
    torch::NoGradGuard no_grad;
    norm->weight.uniform_(0.5, 1.5);
    norm->bias.uniform_(-0.5, 0.5);
  }
  auto x = torch::randn({2, 16, 9, 7}) * 3 + 1;
  auto reference = norm(x);
  GroupNormStats stats(GroupNormStats::Mode::Record);
  ScopedGroupNormStats attach(*norm, &stats);
  stats.begin_pass();
  EXPECT_TRUE(torch::allclose(norm(x), reference, 1e-5, 1e-5));
  stats.set_mode(GroupNormStats::Mode::Replay);
  stats.begin_pass();
  // Replayed statistics of x applied to another input differ from that input's own.
  auto y = torch::randn({2, 16, 9, 7});
  auto replayed = norm(y);
  auto expected = (y.reshape({2, 4, -1}) - x.reshape({2, 4, -1}).mean(-1, true)) /
                  torch::sqrt(x.reshape({2, 4, -1}).var(-1, false, true) + 1e-6);
  expected =
      expected.reshape_as(y) * norm->weight.view({1, 16, 1, 1}) + norm->bias.view({1, 16, 1, 1});
  EXPECT_TRUE(torch::allclose(replayed, expected, 1e-4, 1e-5));
}

TEST(GroupNormStats, AccumulatingCoresGivesWholeImageStatistics) {
  torch::manual_seed(1);
  GroupNorm norm(2, 8, 1e-5);
  auto x = torch::randn({1, 8, 20, 12}) + torch::linspace(-2, 2, 20).view({1, 1, 20, 1});
  auto reference = norm(x);
  GroupNormStats stats(GroupNormStats::Mode::Record);
  ScopedGroupNormStats attach(*norm, &stats);
  stats.begin_pass();
  norm(x.slice(2, 0, 5));  // a poor first estimate
  stats.set_mode(GroupNormStats::Mode::Replay);
  stats.start_accumulation();
  const auto ys = window_spans(20, 8, 2);
  const auto xs = window_spans(12, 8, 2);
  for (const auto& wy : ys) {
    for (const auto& wx : xs) {
      stats.set_accumulation_region({wy.core_start - wy.start, wy.core_end - wy.start,
                                     wx.core_start - wx.start, wx.core_end - wx.start, wy.length,
                                     wx.length});
      stats.begin_pass();
      norm(x.slice(2, wy.start, wy.start + wy.length).slice(3, wx.start, wx.start + wx.length));
    }
  }
  stats.finish_accumulation();
  stats.begin_pass();
  EXPECT_TRUE(torch::allclose(norm(x), reference, 1e-5, 1e-5));
}

TEST(GroupNormStats, DetachesWhenTheGuardEnds) {
  GroupNorm norm(2, 4);
  auto x = torch::randn({1, 4, 3, 3});
  GroupNormStats stats(GroupNormStats::Mode::Replay);
  {
    ScopedGroupNormStats attach(*norm, &stats);
    stats.begin_pass();
    EXPECT_THROW(norm(x), EngineError);  // nothing recorded
  }
  EXPECT_TRUE(torch::allclose(norm(x), torch::group_norm(x, 2, norm->weight, norm->bias, 1e-5)));
}
