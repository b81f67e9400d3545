// Tiling geometry, exhaustively over canvas sizes: coverage, positive weight sums, the last
// window at the edge, odd sizes, overlaps, size multiples, moving seams and the compute ratio.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cmath>
#include <set>
#include <string>

#include "terrasynth/engine/error.h"
#include "tiling/geometry.h"

using namespace terrasynth::engine;
using namespace terrasynth::engine::tiling;

namespace {

std::string describe(int64_t n, const Geometry& g) {
  return "N=" + std::to_string(n) + " W=" + std::to_string(g.window) +
         " O=" + std::to_string(g.overlap) + " m=" + std::to_string(g.multiple);
}

// Checks every property an axis layout must have; returns the per-position weight sums.
std::vector<double> check_axis(const AxisLayout& a, int64_t n, const Geometry& g,
                               const std::string& label) {
  EXPECT_EQ(a.length, n) << label;
  EXPECT_FALSE(a.spans.empty()) << label;
  EXPECT_EQ(a.weights.size(), a.spans.size()) << label;
  std::vector<double> sum(static_cast<size_t>(n), 0.0);
  std::vector<int> cover(static_cast<size_t>(n), 0);
  for (size_t k = 0; k < a.spans.size(); ++k) {
    const Span& s = a.spans[k];
    EXPECT_GE(s.start, 0) << label;
    EXPECT_LE(s.end(), n) << label;
    EXPECT_GE(s.size, 1) << label;
    EXPECT_LE(s.size, g.window) << label;
    if (k > 0) {
      EXPECT_GT(s.start, a.spans[k - 1].start) << label << " windows in order";
    }
    EXPECT_EQ(a.weights[k].size(), static_cast<size_t>(s.size)) << label;
    for (int64_t i = 0; i < s.size; ++i) {
      const float w = a.weights[k][static_cast<size_t>(i)];
      EXPECT_GT(w, 0.f) << label << " window " << k << " offset " << i;
      EXPECT_LE(w, 1.f) << label;
      sum[static_cast<size_t>(s.start + i)] += w;
      ++cover[static_cast<size_t>(s.start + i)];
    }
  }
  EXPECT_EQ(a.spans.front().start, 0) << label;
  EXPECT_EQ(a.spans.back().end(), n) << label << " last window at the edge";
  for (int64_t x = 0; x < n; ++x) {
    EXPECT_GE(cover[static_cast<size_t>(x)], 1) << label << " uncovered " << x;
    EXPECT_GT(sum[static_cast<size_t>(x)], 1e-3) << label << " weight sum at " << x;
  }
  return sum;
}

const std::vector<Geometry> kGeometries = {
    {64, 16, 1}, {64, 8, 8}, {32, 8, 4}, {17, 5, 1}, {128, 8, 8}, {16, 0, 1}, {40, 30, 2}, {1, 0, 1}};

}  // namespace

TEST(FusedGeometry, CoversEveryCanvasWithPositiveWeights) {
  for (const Geometry& g : kGeometries) {
    for (int64_t n = 1; n <= 420; ++n) {
      const std::string label = "fused " + describe(n, g);
      const AxisLayout a = fused_axis(n, g);
      const std::vector<double> sum = check_axis(a, n, g, label);
      if (n <= g.window) {
        ASSERT_EQ(a.spans.size(), 1u) << label;  // a small canvas is one window of its size
        EXPECT_EQ(a.spans[0].size, n) << label;
        continue;
      }
      const int64_t stride = g.window - g.overlap;
      for (size_t k = 0; k < a.spans.size(); ++k) {
        EXPECT_EQ(a.spans[k].size, g.window) << label;
        if (k + 1 < a.spans.size()) {
          EXPECT_EQ(a.spans[k].start, static_cast<int64_t>(k) * stride) << label;
        }
        if (k > 0) {
          EXPECT_GE(a.spans[k - 1].end() - a.spans[k].start, g.overlap) << label << " overlap";
        }
      }
      // The minimal number of windows: one fewer would not cover the canvas.
      EXPECT_LT(static_cast<int64_t>(a.spans.size() - 1) * stride + g.window - stride, n) << label;
      // Where only neighbouring windows overlap, the ramps are a partition of unity. (A canvas
      // just longer than the coverage of n - 1 windows makes the last window reach back over
      // two; the blend divides by the weight sum, so only positivity matters there.)
      bool adjacent_only = true;
      for (size_t k = 2; k < a.spans.size(); ++k)
        adjacent_only = adjacent_only && a.spans[k].start >= a.spans[k - 2].end();
      if (adjacent_only) {
        for (double s : sum) {
          EXPECT_NEAR(s, 1.0, 1e-6) << label;
        }
      }
    }
  }
}

TEST(ShiftedGeometry, CoversEveryCanvasAndKeepsOverlapsExact) {
  for (const Geometry& g : kGeometries) {
    if (g.window - g.overlap < 2 * g.multiple) continue;
    for (int64_t n = 1; n <= 420; ++n) {
      for (int64_t phase = 0; phase < 5; ++phase) {
        const std::string label = "shifted " + describe(n, g) + " phase " + std::to_string(phase);
        const AxisLayout a = shifted_axis(n, g, phase);
        const std::vector<double> sum = check_axis(a, n, g, label);
        if (n <= g.window) {
          ASSERT_EQ(a.spans.size(), 1u) << label;
          continue;
        }
        for (size_t k = 0; k + 1 < a.spans.size(); ++k) {
          EXPECT_EQ(a.spans[k].end() - a.spans[k + 1].start, g.overlap) << label;
          if (k > 0) {
            EXPECT_EQ(a.spans[k].size, g.window) << label << " interior window";
          }
          EXPECT_EQ(a.spans[k + 1].start % g.multiple, 0) << label << " cell boundary";
        }
        // Window sizes are multiples of m when the canvas is (the network can run them).
        if (n % g.multiple == 0 && g.overlap % g.multiple == 0 && g.window % g.multiple == 0) {
          for (const Span& s : a.spans) {
            EXPECT_EQ(s.size % g.multiple, 0) << label;
          }
        }
        if (2 * g.overlap <= g.window) {
          for (double s : sum) {
            EXPECT_NEAR(s, 1.0, 1e-6) << label;
          }
        }
        // Cost per axis below W / (W - O).
        EXPECT_LT(static_cast<double>(a.computed()) / n,
                  static_cast<double>(g.window) / (g.window - g.overlap) + 1e-12)
            << label;
      }
    }
  }
}

TEST(ShiftedGeometry, SeamsMoveAtEveryStep) {
  for (const Geometry& g : {Geometry{64, 8, 8}, Geometry{32, 4, 4}, Geometry{128, 8, 8}, Geometry{24, 3, 1}}) {
    for (int64_t n = g.window + 1; n <= 6 * g.window; ++n) {
      if (n % g.multiple != 0) continue;
      std::set<int64_t> visited;
      for (int64_t phase = 0; phase < 30; ++phase) {
        const AxisLayout a = shifted_axis(n, g, phase);
        const AxisLayout b = shifted_axis(n, g, phase + 1);
        ASSERT_GE(a.spans.size(), 2u);
        // No seam (start of an overlap) stays where it was.
        for (size_t k = 1; k < a.spans.size(); ++k)
          for (size_t j = 1; j < b.spans.size(); ++j)
            EXPECT_NE(a.spans[k].start, b.spans[j].start)
                << describe(n, g) << " phase " << phase << " seam " << a.spans[k].start;
        visited.insert(a.spans[1].start);
      }
      EXPECT_GE(visited.size(), 2u) << describe(n, g);
    }
  }
}

TEST(ShiftedGeometry, ComputeStaysWithin1_3OfTheUntiledArea) {
  double worst = 0;
  // The bound (W / (W - O))^2 <= 1.3 needs O <= 0.12 W, which auto_shifted_overlap gives for
  // W >= 8.4 m (so not for W = 64 with m = 8, where O = m = 8 costs at most 1.31).
  for (int64_t window : {64, 96, 128, 160}) {
    for (int64_t multiple : {1, 4, 8}) {
      if (window < 8.4 * multiple) continue;
      const Geometry g{window, auto_shifted_overlap(window, multiple), multiple};
      EXPECT_LE(g.overlap, 0.12 * window + 1e-9);
      EXPECT_EQ(g.overlap % multiple, 0);
      for (int64_t w = multiple; w <= 700; w += multiple) {
        for (int64_t h : {multiple, window, window + multiple, 2 * window + 3 * multiple,
                          (333 / multiple) * multiple}) {
          for (int64_t phase : {0, 1, 7}) {
            const double ratio = shifted_layout(w, h, g, phase).compute_ratio();
            worst = std::max(worst, ratio);
            EXPECT_LE(ratio, 1.3) << "canvas " << w << "x" << h << " " << describe(w, g);
          }
        }
      }
    }
  }
  std::printf("worst shifted compute ratio: %.3f\n", worst);
  // The fused layout with its larger overlap costs more; the shifted one is the fast mode.
  const Geometry fused{128, 32, 8};
  EXPECT_GT(fused_layout(520, 520, fused).compute_ratio(),
            shifted_layout(520, 520, {128, auto_shifted_overlap(128, 8), 8}, 0).compute_ratio());
}

TEST(TileLayout, WindowsAreTheProductOfTheAxesWithSeparableWeights) {
  const Geometry g{32, 8, 4};
  const TileLayout layout = fused_layout(75, 50, g);
  const auto windows = layout.windows();
  EXPECT_EQ(windows.size(), layout.x.spans.size() * layout.y.spans.size());
  EXPECT_EQ(windows.size(), layout.count());
  std::vector<double> sum(75 * 50, 0.0);
  for (const Window& w : windows) {
    EXPECT_EQ(w.width, layout.x.spans[w.xi].size);
    EXPECT_EQ(w.height, layout.y.spans[w.yi].size);
    for (int64_t y = 0; y < 50; ++y)
      for (int64_t x = 0; x < 75; ++x) sum[y * 75 + x] += layout.weight(w, x, y);
    EXPECT_EQ(layout.weight(w, w.x + w.width, w.y), 0.f);
  }
  for (double s : sum) EXPECT_NEAR(s, 1.0, 1e-5);
  EXPECT_NEAR(layout.compute_ratio(),
              static_cast<double>(layout.x.computed() * layout.y.computed()) / (75.0 * 50.0), 1e-12);
}

TEST(Geometry, RejectsInvalidParameters) {
  EXPECT_THROW(fused_axis(10, {0, 0, 1}), EngineError);
  EXPECT_THROW(fused_axis(10, {16, 16, 1}), EngineError);
  EXPECT_THROW(fused_axis(10, {16, -1, 1}), EngineError);
  EXPECT_THROW(shifted_axis(10, {16, 2, 0}, 0), EngineError);
  EXPECT_THROW(fused_axis(0, {16, 2, 1}), EngineError);
  try {
    fused_axis(10, {16, 20, 1});
    FAIL();
  } catch (const EngineError& e) {
    EXPECT_EQ(e.kind(), EngineError::Kind::InvalidArgument);
    EXPECT_NE(std::string(e.what()).find("overlap"), std::string::npos);
  }
}
