#pragma once
// Tiling geometry of a canvas (torch-free): windows and their blend weights, built per axis and
// combined as a product (every window is an x-span times a y-span, weights are wx(x) * wy(y)).
//
// Fused layout (MultiDiffusion): stride S = W - O, n = ceil((N - W) / S) + 1 windows at
//   p_k = min(k S, N - W), the last one aligned to the far edge; a canvas no larger than a window
//   is one window of the canvas' size.
// Shifted layout: cells c_0 = f, c_1 .. c_{n-2} = W - O, c_{n-1} = N - f - (n-2)(W - O); window k
//   covers its cell plus the first O pixels of the next cell, so interior windows are W wide and
//   consecutive windows overlap by exactly O. The first-cell width f moves with the step (an
//   additive-recurrence sequence over the admissible values), so every seam moves every step.
//   Cost per axis: (N + (n-1) O) / N < W / (W - O), so the 2-D compute is < (W / (W - O))^2
//   times the untiled area (<= 1.3 for O <= 0.12 W, see auto_shifted_overlap).
// Weights: inside an overlap of length L between windows a (left) and b (right), at offset i:
//   w_b = (1 - cos(pi (i + 0.5) / L)) / 2,  w_a = 1 - w_b  (a raised-cosine partition of unity);
//   1 elsewhere, including along the canvas border, so the weight sum is > 0 everywhere.
#include <cstdint>
#include <vector>

namespace terrasynth::engine::tiling {

struct Span {
  int64_t start = 0;
  int64_t size = 0;
  int64_t end() const { return start + size; }
  bool operator==(const Span& o) const { return start == o.start && size == o.size; }
};

// Windows along one axis with their 1-D weights (weights[k].size() == spans[k].size).
struct AxisLayout {
  int64_t length = 0;
  std::vector<Span> spans;
  std::vector<std::vector<float>> weights;
  int64_t computed() const;  // sum of the window sizes
};

struct Geometry {
  int64_t window = 64;   // largest window side
  int64_t overlap = 8;   // overlap between neighbouring windows
  int64_t multiple = 1;  // shifted layout: cell boundaries on multiples of this (the network's
                         // size multiple), so windows are multiples when the canvas is
};

// Throws EngineError(InvalidArgument) for window < 1, overlap outside [0, window), multiple < 1.
void validate(const Geometry& geometry);

AxisLayout fused_axis(int64_t length, const Geometry& geometry);
// `phase_index` selects the shift (consecutive indices give different seams whenever the canvas
// allows two positions); `salt` decorrelates the axes.
AxisLayout shifted_axis(int64_t length, const Geometry& geometry, int64_t phase_index,
                        uint64_t salt = 0);

struct Window {
  int64_t x = 0;
  int64_t y = 0;
  int64_t width = 0;
  int64_t height = 0;
  int xi = 0;  // index into the x axis layout
  int yi = 0;  // index into the y axis layout
};

struct TileLayout {
  AxisLayout x;
  AxisLayout y;
  std::vector<Window> windows() const;  // row-major: y outer, x inner
  size_t count() const { return x.spans.size() * y.spans.size(); }
  // Weight of window w at canvas position (px, py) (0 outside the window).
  float weight(const Window& w, int64_t px, int64_t py) const;
  // Computed area over canvas area.
  double compute_ratio() const;
};

TileLayout fused_layout(int64_t width, int64_t height, const Geometry& geometry);
// The shifted layout for phase index `phase` (the tiled sampler uses step * passes + pass, so
// every model call of a run gets the next index).
TileLayout shifted_layout(int64_t width, int64_t height, const Geometry& geometry, int64_t phase);

// The shifted-mode overlap for a window: the largest multiple of `multiple` not above 0.12 W
// (at least `multiple`), which keeps the compute ratio <= 1.3 whenever W >= 8.4 * multiple.
int64_t auto_shifted_overlap(int64_t window, int64_t multiple);

}  // namespace terrasynth::engine::tiling
