#include "image_ops.h"

#include <algorithm>
#include <array>
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

namespace {

// Over-relaxed Gauss-Seidel sweeps of the discrete Laplace equation over the unknown pixels.
void relax(Plane& plane, const std::vector<uint8_t>& unknown, int sweeps, double omega,
           double tolerance) {
  const int w = plane.width, h = plane.height;
  for (int sweep = 0; sweep < sweeps; ++sweep) {
    double change = 0;
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        const size_t i = static_cast<size_t>(y) * w + x;
        if (!unknown[i]) continue;
        double sum = 0;
        int n = 0;
        if (x > 0) sum += plane.data[i - 1], ++n;
        if (x + 1 < w) sum += plane.data[i + 1], ++n;
        if (y > 0) sum += plane.data[i - w], ++n;
        if (y + 1 < h) sum += plane.data[i + w], ++n;
        if (n == 0) continue;
        const double next = plane.data[i] + omega * (sum / n - plane.data[i]);
        change = std::max(change, std::abs(next - plane.data[i]));
        plane.data[i] = static_cast<float>(next);
      }
    if (change <= tolerance) break;
  }
}

void harmonic_level(Plane& plane, const std::vector<uint8_t>& unknown, double tolerance) {
  const int w = plane.width, h = plane.height;
  if (std::max(w, h) > 24) {
    const int cw = (w + 1) / 2, ch = (h + 1) / 2;
    Plane coarse(cw, ch);
    std::vector<uint8_t> coarse_unknown(static_cast<size_t>(cw) * ch, 1);
    for (int cy = 0; cy < ch; ++cy)
      for (int cx = 0; cx < cw; ++cx) {
        double sum = 0;
        int n = 0;
        for (int y = 2 * cy; y < std::min(h, 2 * cy + 2); ++y)
          for (int x = 2 * cx; x < std::min(w, 2 * cx + 2); ++x) {
            const size_t i = static_cast<size_t>(y) * w + x;
            if (!unknown[i]) sum += plane.data[i], ++n;
          }
        if (n > 0) {
          coarse.at(cx, cy) = static_cast<float>(sum / n);
          coarse_unknown[static_cast<size_t>(cy) * cw + cx] = 0;
        }
      }
    harmonic_level(coarse, coarse_unknown, tolerance);
    // Bilinear prolongation of the coarse solution as the starting point.
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        const size_t i = static_cast<size_t>(y) * w + x;
        if (!unknown[i]) continue;
        const double fx = std::clamp((x + 0.5) / 2 - 0.5, 0.0, cw - 1.0);
        const double fy = std::clamp((y + 0.5) / 2 - 0.5, 0.0, ch - 1.0);
        const int x0 = static_cast<int>(fx), y0 = static_cast<int>(fy);
        const int x1 = std::min(x0 + 1, cw - 1), y1 = std::min(y0 + 1, ch - 1);
        const double ax = fx - x0, ay = fy - y0;
        plane.data[i] = static_cast<float>(
            (1 - ay) * ((1 - ax) * coarse.at(x0, y0) + ax * coarse.at(x1, y0)) +
            ay * ((1 - ax) * coarse.at(x0, y1) + ax * coarse.at(x1, y1)));
      }
    relax(plane, unknown, 80, 1.7, tolerance);
  } else {
    double sum = 0;
    size_t n = 0;
    for (size_t i = 0; i < plane.data.size(); ++i)
      if (!unknown[i]) sum += plane.data[i], ++n;
    const float mean = n ? static_cast<float>(sum / n) : 0.f;
    for (size_t i = 0; i < plane.data.size(); ++i)
      if (unknown[i]) plane.data[i] = mean;
    relax(plane, unknown, 4000, 1.8, tolerance);
  }
}

// The plane minus its (2 radius + 1)^2 box mean (edges clamped to the plane).
Plane box_residual(const Plane& plane, int radius) {
  Plane out(plane.width, plane.height);
  const int w = plane.width, h = plane.height;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      double sum = 0;
      int n = 0;
      for (int yy = std::max(0, y - radius); yy <= std::min(h - 1, y + radius); ++yy)
        for (int xx = std::max(0, x - radius); xx <= std::min(w - 1, x + radius); ++xx)
          sum += plane.at(xx, yy), ++n;
      out.at(x, y) = static_cast<float>(plane.at(x, y) - sum / n);
    }
  return out;
}

}  // namespace

void harmonic_fill(Plane& plane, const std::vector<uint8_t>& unknown) {
  if (unknown.size() != plane.data.size())
    throw std::invalid_argument("harmonic_fill: the unknown mask must match the plane");
  bool any_known = false, any_unknown = false;
  float low = std::numeric_limits<float>::max(), high = std::numeric_limits<float>::lowest();
  for (size_t i = 0; i < unknown.size(); ++i) {
    if (unknown[i]) {
      any_unknown = true;
    } else {
      any_known = true;
      low = std::min(low, plane.data[i]);
      high = std::max(high, plane.data[i]);
    }
  }
  if (!any_known || !any_unknown) return;
  const double tolerance = std::max(1e-8, 1e-6 * (static_cast<double>(high) - low));
  harmonic_level(plane, unknown, tolerance);
}

std::vector<uint8_t> continue_classes(const std::vector<uint8_t>& classes,
                                      const std::vector<uint8_t>& unknown, int width, int height,
                                      int num_classes) {
  const size_t n = static_cast<size_t>(width) * height;
  if (classes.size() != n || unknown.size() != n)
    throw std::invalid_argument("continue_classes: class map and mask must be width x height");
  std::vector<uint8_t> hole(n);
  std::vector<uint8_t> present(static_cast<size_t>(std::max(num_classes, 0)), 0);
  bool any_known = false;
  for (size_t i = 0; i < n; ++i) {
    hole[i] = unknown[i] || classes[i] >= num_classes;
    if (!hole[i]) {
      any_known = true;
      present[classes[i]] = 1;
    }
  }
  if (!any_known) return std::vector<uint8_t>(n, 255);
  // How common each class is along the border of the holes (known pixels next to a hole).
  std::vector<double> border_share(static_cast<size_t>(num_classes), 0.0);
  double border_pixels = 0;
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) {
      const size_t i = static_cast<size_t>(y) * width + x;
      if (hole[i]) continue;
      const bool next_to_hole = (x > 0 && hole[i - 1]) || (x + 1 < width && hole[i + 1]) ||
                                (y > 0 && hole[i - width]) || (y + 1 < height && hole[i + width]);
      if (!next_to_hole) continue;
      border_share[classes[i]] += 1;
      border_pixels += 1;
    }
  if (border_pixels > 0)
    for (auto& share : border_share) share /= border_pixels;
  // A class's interpolated indicator is compared with its share of the border (plus a floor,
  // so a class with a few border pixels only claims their neighbourhood): a thin road that
  // crosses the hole is more likely along its line than its share of the border says, and
  // wins there although its indicator stays below one half.
  constexpr double kShareFloor = 0.1;
  std::vector<uint8_t> out = classes;
  std::vector<double> best(n, -1.0);
  for (int c = 0; c < num_classes; ++c) {
    if (!present[static_cast<size_t>(c)]) continue;
    Plane indicator(width, height);
    for (size_t i = 0; i < n; ++i) indicator.data[i] = !hole[i] && classes[i] == c ? 1.f : 0.f;
    harmonic_fill(indicator, hole);
    const double scale = 1.0 / (border_share[static_cast<size_t>(c)] + kShareFloor);
    for (size_t i = 0; i < n; ++i)
      if (hole[i] && indicator.data[i] * scale > best[i]) {
        best[i] = indicator.data[i] * scale;
        out[i] = static_cast<uint8_t>(c);
      }
  }
  return out;
}

Plane masked_box_mean(const Plane& plane, const Plane& weight, int radius,
                      std::vector<uint8_t>* valid) {
  const int w = plane.width, h = plane.height;
  if (weight.width != w || weight.height != h)
    throw std::invalid_argument("masked_box_mean: weight and plane must have the same size");
  // Integral images of the counted values and of the count.
  std::vector<double> sum(static_cast<size_t>(w + 1) * (h + 1), 0.0);
  std::vector<double> count(sum.size(), 0.0);
  auto at = [w](int x, int y) { return static_cast<size_t>(y) * (w + 1) + x; };
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const bool used = weight.at(x, y) > 0;
      sum[at(x + 1, y + 1)] = (used ? plane.at(x, y) : 0.0) + sum[at(x, y + 1)] + sum[at(x + 1, y)] - sum[at(x, y)];
      count[at(x + 1, y + 1)] = (used ? 1.0 : 0.0) + count[at(x, y + 1)] + count[at(x + 1, y)] - count[at(x, y)];
    }
  Plane out(w, h);
  if (valid) valid->assign(static_cast<size_t>(w) * h, 0);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const int x0 = std::max(0, x - radius), x1 = std::min(w, x + radius + 1);
      const int y0 = std::max(0, y - radius), y1 = std::min(h, y + radius + 1);
      const double c = count[at(x1, y1)] - count[at(x0, y1)] - count[at(x1, y0)] + count[at(x0, y0)];
      if (c <= 0) continue;
      const double s = sum[at(x1, y1)] - sum[at(x0, y1)] - sum[at(x1, y0)] + sum[at(x0, y0)];
      out.at(x, y) = static_cast<float>(s / c);
      if (valid) (*valid)[static_cast<size_t>(y) * w + x] = 1;
    }
  return out;
}

double harmonise(std::array<Plane, 3>& generated, const std::array<Plane, 3>& known,
                 const Plane& mask, int radius) {
  const int w = mask.width, h = mask.height;
  const size_t n = static_cast<size_t>(w) * h;
  for (int c = 0; c < 3; ++c)
    if (generated[c].width != w || generated[c].height != h || known[c].width != w || known[c].height != h)
      throw std::invalid_argument("harmonise: planes and mask must have the same size");
  radius = std::max(radius, 1);
  Plane outside(w, h), core(w, h), region(w, h);
  bool any_outside = false, any_core = false;
  for (size_t i = 0; i < n; ++i) {
    outside.data[i] = mask.data[i] <= 0 ? 1.f : 0.f;
    core.data[i] = mask.data[i] >= 0.999f ? 1.f : 0.f;
    region.data[i] = mask.data[i] > 0 ? 1.f : 0.f;
    any_outside = any_outside || outside.data[i] > 0;
    any_core = any_core || core.data[i] > 0;
  }
  if (!any_outside || !any_core) return 0;

  // Tone: the inner border of the fully regenerated area (core pixels next to a pixel that is
  // not core) carries the difference of the local means of the real and the generated pixels;
  // the correction is continued harmonically over the rest of the core. The feather, where the
  // engine already blended generated and real pixels, then joins two matching tones.
  std::vector<uint8_t> border(n, 0);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      if (core.at(x, y) <= 0) continue;
      const bool edge = (x > 0 && core.at(x - 1, y) <= 0) || (x + 1 < w && core.at(x + 1, y) <= 0) ||
                        (y > 0 && core.at(x, y - 1) <= 0) || (y + 1 < h && core.at(x, y + 1) <= 0);
      border[static_cast<size_t>(y) * w + x] = edge ? 1 : 0;
    }
  for (int c = 0; c < 3; ++c) {
    std::vector<uint8_t> real_valid, generated_valid;
    const Plane real_mean = masked_box_mean(known[c], outside, radius, &real_valid);
    const Plane generated_mean = masked_box_mean(generated[c], core, radius, &generated_valid);
    Plane correction(w, h);
    std::vector<uint8_t> unknown(n, 0);
    bool any = false;
    for (size_t i = 0; i < n; ++i) {
      if (core.data[i] <= 0) continue;  // outside the core: not part of the solve
      if (border[i] && real_valid[i] && generated_valid[i]) {
        correction.data[i] = real_mean.data[i] - generated_mean.data[i];
        any = true;
      } else {
        unknown[i] = 1;
      }
    }
    if (!any) continue;
    harmonic_fill(correction, unknown);
    for (size_t i = 0; i < n; ++i)
      if (core.data[i] > 0) generated[c].data[i] += correction.data[i];
  }

  const Plane ones(w, h, 1.f);
  const Plane near_region = masked_box_mean(region, ones, 2 * radius);

  // Variation: detail below a box of 2 radius, in luma and two colour-difference channels,
  // scaled down (never up) where the generated area varies more than the real pixels near it,
  // such as blotchy colour on calm water; in the feather in proportion to the mask.
  {
    auto to_luma_chroma = [&](const std::array<Plane, 3>& rgb) {
      std::array<Plane, 3> out{Plane(w, h), Plane(w, h), Plane(w, h)};
      for (size_t i = 0; i < n; ++i) {
        const float r = rgb[0].data[i], g = rgb[1].data[i], b = rgb[2].data[i];
        const float y = 0.299f * r + 0.587f * g + 0.114f * b;
        out[0].data[i] = y;
        out[1].data[i] = b - y;
        out[2].data[i] = r - y;
      }
      return out;
    };
    std::array<Plane, 3> g = to_luma_chroma(generated);
    const std::array<Plane, 3> k = to_luma_chroma(known);
    for (int c = 0; c < 3; ++c) {
      const Plane g_mean = masked_box_mean(g[c], ones, 2 * radius);
      const Plane k_mean = masked_box_mean(k[c], ones, 2 * radius);
      double g_energy = 0, k_energy = 0;
      size_t g_count = 0, k_count = 0;
      for (size_t i = 0; i < n; ++i) {
        if (core.data[i] > 0) {
          const double d = g[c].data[i] - g_mean.data[i];
          g_energy += d * d;
          ++g_count;
        } else if (outside.data[i] > 0 && near_region.data[i] > 0) {
          const double d = k[c].data[i] - k_mean.data[i];
          k_energy += d * d;
          ++k_count;
        }
      }
      if (g_count == 0 || k_count == 0 || g_energy <= 0) continue;
      const double factor =
          std::clamp(std::sqrt((k_energy / k_count) / (g_energy / g_count)), 0.2, 1.0);
      for (size_t i = 0; i < n; ++i)
        if (region.data[i] > 0) {
          const double keep = 1.0 - std::min(1.f, mask.data[i]) * (1.0 - factor);
          g[c].data[i] = static_cast<float>(g_mean.data[i] + keep * (g[c].data[i] - g_mean.data[i]));
        }
    }
    for (size_t i = 0; i < n; ++i) {
      if (region.data[i] <= 0) continue;
      const float y = g[0].data[i], b = g[1].data[i] + y, r = g[2].data[i] + y;
      generated[0].data[i] = r;
      generated[2].data[i] = b;
      generated[1].data[i] = (y - 0.299f * r - 0.114f * b) / 0.587f;
    }
  }

  // Grain: fine variation (below 5 x 5 pixels) of the generated area against the real pixels
  // near it.
  constexpr int kGrainRadius = 2;
  double generated_energy = 0, real_energy = 0;
  size_t generated_count = 0, real_count = 0;
  std::array<Plane, 3> residual;
  for (int c = 0; c < 3; ++c) {
    residual[c] = box_residual(generated[c], kGrainRadius);
    const Plane real_residual = box_residual(known[c], kGrainRadius);
    for (size_t i = 0; i < n; ++i) {
      if (core.data[i] > 0) generated_energy += double(residual[c].data[i]) * residual[c].data[i], ++generated_count;
      if (outside.data[i] > 0 && near_region.data[i] > 0)
        real_energy += double(real_residual.data[i]) * real_residual.data[i], ++real_count;
    }
  }
  double removed = 0;
  if (generated_count > 0 && real_count > 0 && generated_energy > 0) {
    const double g = std::sqrt(generated_energy / generated_count);
    const double r = std::sqrt(real_energy / real_count);
    if (g > r) removed = std::min(0.9, 1.0 - r / g);
  }
  for (int c = 0; c < 3; ++c)
    for (size_t i = 0; i < n; ++i)
      if (region.data[i] > 0)
        generated[c].data[i] = std::clamp(
            static_cast<float>(generated[c].data[i] - removed * residual[c].data[i]), 0.f, 1.f);
  return removed;
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
