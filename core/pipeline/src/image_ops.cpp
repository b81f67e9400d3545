#include "image_ops.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace terrasynth::pipeline::detail {

namespace {

struct Tap {
  int index;
  float weight;
};

// Per target index along one axis: the source pixels it reads and their weights.
std::vector<std::vector<Tap>> axis_taps(int source, int target, bool maximum) {
  std::vector<std::vector<Tap>> taps(target);
  const double scale = static_cast<double>(source) / target;
  for (int i = 0; i < target; ++i) {
    auto& list = taps[i];
    if (source == target) {
      list.push_back({i, 1.f});
    } else if (target < source) {
      const double begin = i * scale, end = (i + 1) * scale;
      for (int j = static_cast<int>(std::floor(begin)); j < std::min<double>(source, std::ceil(end)); ++j) {
        const double covered = std::min<double>(end, j + 1) - std::max<double>(begin, j);
        if (covered > 1e-9) list.push_back({j, static_cast<float>(covered / scale)});
      }
    } else {
      const double centre = (i + 0.5) * scale - 0.5;
      const int j = static_cast<int>(std::floor(centre));
      const double t = centre - j;
      const int a = std::clamp(j, 0, source - 1), b = std::clamp(j + 1, 0, source - 1);
      if (maximum) {
        list.push_back({a, 1.f});
        if (t > 1e-9) list.push_back({b, 1.f});
      } else {
        list.push_back({a, static_cast<float>(1 - t)});
        list.push_back({b, static_cast<float>(t)});
      }
    }
  }
  return taps;
}

Plane resample_impl(const Plane& source, int width, int height, bool maximum) {
  if (width <= 0 || height <= 0 || source.width <= 0 || source.height <= 0)
    throw std::invalid_argument("resample: empty plane");
  const auto xtaps = axis_taps(source.width, width, maximum);
  const auto ytaps = axis_taps(source.height, height, maximum);
  // Rows first (source height x target width), then columns.
  Plane rows(width, source.height);
  for (int y = 0; y < source.height; ++y)
    for (int x = 0; x < width; ++x) {
      float value = maximum ? -std::numeric_limits<float>::infinity() : 0.f;
      for (const Tap& tap : xtaps[x]) {
        const float v = source.at(tap.index, y);
        value = maximum ? std::max(value, v) : value + tap.weight * v;
      }
      rows.at(x, y) = value;
    }
  Plane out(width, height);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) {
      float value = maximum ? -std::numeric_limits<float>::infinity() : 0.f;
      for (const Tap& tap : ytaps[y]) {
        const float v = rows.at(x, tap.index);
        value = maximum ? std::max(value, v) : value + tap.weight * v;
      }
      out.at(x, y) = value;
    }
  return out;
}

}  // namespace

Plane resample(const Plane& source, int width, int height) {
  return resample_impl(source, width, height, false);
}

Plane resample_max(const Plane& source, int width, int height) {
  return resample_impl(source, width, height, true);
}

Plane distance_to(const std::vector<uint8_t>& inside, int width, int height) {
  constexpr float kFar = 1e9f;
  const float diagonal = std::sqrt(2.f);
  Plane d(width, height, kFar);
  for (size_t i = 0; i < d.data.size(); ++i)
    if (inside[i]) d.data[i] = 0;
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) {
      float v = d.at(x, y);
      if (x > 0) v = std::min(v, d.at(x - 1, y) + 1);
      if (y > 0) {
        v = std::min(v, d.at(x, y - 1) + 1);
        if (x > 0) v = std::min(v, d.at(x - 1, y - 1) + diagonal);
        if (x + 1 < width) v = std::min(v, d.at(x + 1, y - 1) + diagonal);
      }
      d.at(x, y) = v;
    }
  for (int y = height - 1; y >= 0; --y)
    for (int x = width - 1; x >= 0; --x) {
      float v = d.at(x, y);
      if (x + 1 < width) v = std::min(v, d.at(x + 1, y) + 1);
      if (y + 1 < height) {
        v = std::min(v, d.at(x, y + 1) + 1);
        if (x + 1 < width) v = std::min(v, d.at(x + 1, y + 1) + diagonal);
        if (x > 0) v = std::min(v, d.at(x - 1, y + 1) + diagonal);
      }
      d.at(x, y) = v;
    }
  return d;
}

Plane feathered(const Plane& distance, double feather) {
  Plane out(distance.width, distance.height);
  for (size_t i = 0; i < out.data.size(); ++i) {
    const double d = distance.data[i];
    out.data[i] = d <= 0 ? 1.f : d > feather ? 0.f : static_cast<float>(1 - d / (feather + 1));
  }
  return out;
}

double percentile(std::vector<float>& values, double p) {
  if (values.empty()) throw std::invalid_argument("percentile of no values");
  const double rank = std::clamp(p, 0.0, 100.0) / 100.0 * (values.size() - 1);
  const auto nth = values.begin() + static_cast<std::ptrdiff_t>(std::lround(rank));
  std::nth_element(values.begin(), nth, values.end());
  return *nth;
}

void LinearFit::add(double r, double g, double b, double y) {
  const double x[4] = {1, r, g, b};
  for (int i = 0; i < 4; ++i) {
    for (int j = 0; j < 4; ++j) xtx_[i][j] += x[i] * x[j];
    xty_[i] += x[i] * y;
  }
  ++samples_;
}

std::array<double, 4> LinearFit::solve() const {
  if (samples_ == 0) return {0, 0, 0, 0};
  const double mean = xty_[0] / xtx_[0][0];
  // Gaussian elimination with partial pivoting on the 4 x 5 augmented system.
  double a[4][5];
  for (int i = 0; i < 4; ++i) {
    for (int j = 0; j < 4; ++j) a[i][j] = xtx_[i][j];
    a[i][4] = xty_[i];
  }
  double scale = 0;
  for (int i = 0; i < 4; ++i) scale = std::max(scale, std::abs(a[i][i]));
  for (int column = 0; column < 4; ++column) {
    int pivot = column;
    for (int row = column + 1; row < 4; ++row)
      if (std::abs(a[row][column]) > std::abs(a[pivot][column])) pivot = row;
    if (std::abs(a[pivot][column]) <= 1e-12 * scale) return {mean, 0, 0, 0};
    std::swap(a[pivot], a[column]);
    for (int row = 0; row < 4; ++row) {
      if (row == column) continue;
      const double factor = a[row][column] / a[column][column];
      for (int j = column; j < 5; ++j) a[row][j] -= factor * a[column][j];
    }
  }
  std::array<double, 4> c{};
  for (int i = 0; i < 4; ++i) c[i] = a[i][4] / a[i][i];
  for (double v : c)
    if (!std::isfinite(v)) return {mean, 0, 0, 0};
  return c;
}

}  // namespace terrasynth::pipeline::detail
