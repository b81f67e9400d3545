#include "tiling/geometry.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "terrasynth/engine/error.h"

namespace terrasynth::engine::tiling {
namespace {

constexpr double kPi = 3.14159265358979323846;

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
int64_t round_up(int64_t v, int64_t m) { return ceil_div(v, m) * m; }
int64_t round_down(int64_t v, int64_t m) { return (v / m) * m; }

// Raised-cosine weight of the right-hand window at offset i of an overlap of length n.
double ramp_up(int64_t i, int64_t n) {
  return 0.5 - 0.5 * std::cos(kPi * (static_cast<double>(i) + 0.5) / static_cast<double>(n));
}

// Weights of every span: ramps over the overlaps with the previous and the next span.
void add_weights(AxisLayout& a) {
  const size_t n = a.spans.size();
  a.weights.assign(n, {});
  for (size_t k = 0; k < n; ++k) {
    const Span& s = a.spans[k];
    std::vector<double> w(static_cast<size_t>(s.size), 1.0);
    if (k > 0) {
      const Span& prev = a.spans[k - 1];
      const int64_t len = prev.end() - s.start;
      for (int64_t i = 0; i < std::min(len, s.size); ++i) w[static_cast<size_t>(i)] *= ramp_up(i, len);
    }
    if (k + 1 < n) {
      const Span& next = a.spans[k + 1];
      const int64_t len = s.end() - next.start;
      for (int64_t i = 0; i < len; ++i) {
        const int64_t x = next.start - s.start + i;
        if (x >= 0 && x < s.size) w[static_cast<size_t>(x)] *= 1.0 - ramp_up(i, len);
      }
    }
    a.weights[k].assign(w.begin(), w.end());
  }
}

int64_t gcd64(int64_t a, int64_t b) { return b == 0 ? a : gcd64(b, a % b); }

// Step of an additive recurrence over `count` values: near count * fraction, coprime with
// count, so consecutive indices always differ and every value is visited.
int64_t recurrence_step(int64_t count, double fraction) {
  int64_t j = std::max<int64_t>(1, std::llround(fraction * static_cast<double>(count)));
  while (gcd64(j, count) != 1) ++j;
  return j;
}

}  // namespace

int64_t AxisLayout::computed() const {
  int64_t total = 0;
  for (const Span& s : spans) total += s.size;
  return total;
}

void validate(const Geometry& g) {
  if (g.window < 1)
    throw EngineError(EngineError::Kind::InvalidArgument,
                      "tiling: the window must be at least 1 pixel, got " + std::to_string(g.window));
  if (g.overlap < 0 || g.overlap >= g.window)
    throw EngineError(EngineError::Kind::InvalidArgument,
                      "tiling: the overlap must be in [0, window = " + std::to_string(g.window) +
                          "), got " + std::to_string(g.overlap));
  if (g.multiple < 1)
    throw EngineError(EngineError::Kind::InvalidArgument,
                      "tiling: the size multiple must be at least 1, got " + std::to_string(g.multiple));
}

AxisLayout fused_axis(int64_t length, const Geometry& g) {
  validate(g);
  if (length < 1)
    throw EngineError(EngineError::Kind::InvalidArgument,
                      "tiling: the canvas must be at least 1 pixel, got " + std::to_string(length));
  AxisLayout a;
  a.length = length;
  if (length <= g.window) {
    a.spans.push_back({0, length});
  } else {
    const int64_t stride = g.window - g.overlap;
    const int64_t n = ceil_div(length - g.window, stride) + 1;
    for (int64_t k = 0; k < n; ++k)
      a.spans.push_back({std::min(k * stride, length - g.window), g.window});
  }
  add_weights(a);
  return a;
}

AxisLayout shifted_axis(int64_t length, const Geometry& g, int64_t phase_index, uint64_t salt) {
  validate(g);
  if (length < 1)
    throw EngineError(EngineError::Kind::InvalidArgument,
                      "tiling: the canvas must be at least 1 pixel, got " + std::to_string(length));
  AxisLayout a;
  a.length = length;
  if (length <= g.window) {
    a.spans.push_back({0, length});
    add_weights(a);
    return a;
  }
  const int64_t W = g.window;
  const int64_t O = g.overlap;
  const int64_t S = W - O;
  const int64_t m = g.multiple;
  // Admissible first-cell widths f for n cells (f >= m, last cell in [O + m, W]) on multiples of m.
  struct Choice {
    int64_t cells = 0;
    int64_t lo = 0;
    int64_t count = 0;
  };
  auto choices = [&](int64_t n) {
    const int64_t rest = length - (n - 2) * S;  // f + last cell
    const int64_t lo = round_up(std::max(m, rest - W), m);
    const int64_t hi = round_down(std::min(S, rest - O - m), m);
    return Choice{n, lo, hi >= lo ? (hi - lo) / m + 1 : 0};
  };
  const int64_t n_min = std::max<int64_t>(2, ceil_div(length - O, S));
  Choice pick = choices(n_min);
  if (pick.count < 2) {
    const Choice more = choices(n_min + 1);
    if (more.count >= 2 || (pick.count == 0 && more.count > 0)) pick = more;
  }
  int64_t f;
  int64_t cells;
  if (pick.count == 0) {
    // No cell boundary on a multiple fits (windows too small for the multiple): unaligned cut.
    cells = n_min;
    f = std::clamp<int64_t>(length - (cells - 2) * S - W, 1, S);
  } else {
    cells = pick.cells;
    // Additive recurrence over the admissible values; the salt decorrelates the two axes.
    const double fraction = salt % 2 == 0 ? 0.6180339887498949 : 0.3819660112501051;
    const int64_t j = recurrence_step(pick.count, fraction);
    const int64_t base = static_cast<int64_t>((pick.count / 2 + salt * 7) % pick.count);
    const int64_t idx = static_cast<int64_t>(
        (static_cast<uint64_t>(base) + static_cast<uint64_t>(phase_index) * static_cast<uint64_t>(j)) %
        static_cast<uint64_t>(pick.count));
    f = pick.lo + idx * m;
  }
  // Cells: f, then S for the interior, then the rest; window k = cell k + the next O pixels.
  std::vector<int64_t> bounds = {0, f};
  for (int64_t k = 1; k < cells - 1; ++k) bounds.push_back(bounds.back() + S);
  bounds.push_back(length);
  for (size_t k = 0; k + 1 < bounds.size(); ++k) {
    const int64_t start = bounds[k];
    const int64_t end = k + 2 < bounds.size() ? bounds[k + 1] + O : length;
    a.spans.push_back({start, end - start});
  }
  add_weights(a);
  return a;
}

std::vector<Window> TileLayout::windows() const {
  std::vector<Window> out;
  out.reserve(count());
  for (size_t yi = 0; yi < y.spans.size(); ++yi)
    for (size_t xi = 0; xi < x.spans.size(); ++xi)
      out.push_back({x.spans[xi].start, y.spans[yi].start, x.spans[xi].size, y.spans[yi].size,
                     static_cast<int>(xi), static_cast<int>(yi)});
  return out;
}

float TileLayout::weight(const Window& w, int64_t px, int64_t py) const {
  if (px < w.x || px >= w.x + w.width || py < w.y || py >= w.y + w.height) return 0.f;
  return x.weights[static_cast<size_t>(w.xi)][static_cast<size_t>(px - w.x)] *
         y.weights[static_cast<size_t>(w.yi)][static_cast<size_t>(py - w.y)];
}

double TileLayout::compute_ratio() const {
  return static_cast<double>(x.computed()) * static_cast<double>(y.computed()) /
         (static_cast<double>(x.length) * static_cast<double>(y.length));
}

TileLayout fused_layout(int64_t width, int64_t height, const Geometry& geometry) {
  return {fused_axis(width, geometry), fused_axis(height, geometry)};
}

TileLayout shifted_layout(int64_t width, int64_t height, const Geometry& geometry, int64_t phase) {
  return {shifted_axis(width, geometry, phase, 0), shifted_axis(height, geometry, phase, 1)};
}

int64_t auto_shifted_overlap(int64_t window, int64_t multiple) {
  multiple = std::max<int64_t>(1, multiple);
  const auto limit = static_cast<int64_t>(std::floor(0.12 * static_cast<double>(window)));
  const int64_t overlap = std::max(multiple, round_down(limit, multiple));
  return std::min(overlap, std::max<int64_t>(window - 1, 0));
}

}  // namespace terrasynth::engine::tiling
