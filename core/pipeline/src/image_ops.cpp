#include "image_ops.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>

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

namespace {

// The pixels outside `region` (zero there) with a 4-neighbour inside it (non-zero there).
std::vector<uint8_t> outer_border(const std::vector<uint8_t>& region, int w, int h) {
  std::vector<uint8_t> border(region.size(), 0);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const size_t i = static_cast<size_t>(y) * w + x;
      if (region[i]) continue;
      border[i] = (x > 0 && region[i - 1]) || (x + 1 < w && region[i + 1]) ||
                  (y > 0 && region[i - w]) || (y + 1 < h && region[i + w]);
    }
  return border;
}

// The checks shared by the RGB operations on planes with a mask and a usable-pixel map.
void require_planes(const char* operation, const std::array<Plane, 3>& image, const Plane& mask,
                    const std::vector<uint8_t>& usable) {
  for (int c = 0; c < 3; ++c)
    if (image[c].width != mask.width || image[c].height != mask.height)
      throw std::invalid_argument(std::string(operation) + ": planes and mask must have the same size");
  if (usable.size() != mask.data.size())
    throw std::invalid_argument(std::string(operation) + ": usable must be width x height");
}

// Where a thin, elongated region of one class (a road, path, river or pier) meets a hole on two
// sides and the two ends point at each other, the class is drawn across the hole as a band
// along a cubic curve with the ends' directions as tangents and the ends' width. Harmonic
// interpolation alone loses such a region in the middle of a large hole.
void bridge_thin_classes(std::vector<uint8_t>& out, const std::vector<uint8_t>& classes,
                         const std::vector<uint8_t>& hole, int w, int h) {
  const size_t n = static_cast<size_t>(w) * h;
  const std::vector<uint8_t> border = outer_border(hole, w, h);
  const size_t border_pixels = static_cast<size_t>(std::count(border.begin(), border.end(), 1));
  if (border_pixels == 0) return;

  struct End {
    int cls;
    double x, y;  // centre of the border run
    int count;    // border pixels in the run
    double ax, ay;  // direction of the structure, pointing into the hole
    double width;
    bool used = false;
  };
  std::vector<End> ends;
  std::vector<uint8_t> seen(n, 0);
  std::vector<int> stack;
  for (size_t start = 0; start < n; ++start) {
    if (!border[start] || seen[start]) continue;
    const int cls = classes[start];
    if (cls == 255) continue;  // not a class (unknown)
    // The run: border pixels of the same class, 8-connected.
    std::vector<int> run;
    stack.assign(1, static_cast<int>(start));
    seen[start] = 1;
    while (!stack.empty()) {
      const int i = stack.back();
      stack.pop_back();
      run.push_back(i);
      const int x = i % w, y = i / w;
      for (int dy = -1; dy <= 1; ++dy)
        for (int dx = -1; dx <= 1; ++dx) {
          const int nx = x + dx, ny = y + dy;
          if (nx < 0 || ny < 0 || nx >= w || ny >= h) continue;
          const size_t j = static_cast<size_t>(ny) * w + nx;
          if (border[j] && !seen[j] && classes[j] == cls) {
            seen[j] = 1;
            stack.push_back(static_cast<int>(j));
          }
        }
    }
    const int count = static_cast<int>(run.size());
    if (count > 12 || 4 * static_cast<size_t>(count) > border_pixels) continue;  // not thin
    End e{};
    e.cls = cls;
    e.count = count;
    for (int i : run) e.x += i % w, e.y += i / w;
    e.x /= count;
    e.y /= count;
    // The shape of the class's known pixels near the end: elongated (a band) or not.
    const int radius = 2 * count + 4;
    double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0, m = 0;
    double hx = 0, hy = 0, hm = 0;
    for (int y = std::max(0, static_cast<int>(e.y) - radius); y <= std::min(h - 1, static_cast<int>(e.y) + radius); ++y)
      for (int x = std::max(0, static_cast<int>(e.x) - radius); x <= std::min(w - 1, static_cast<int>(e.x) + radius); ++x) {
        const size_t i = static_cast<size_t>(y) * w + x;
        const double dx = x - e.x, dy = y - e.y;
        if (dx * dx + dy * dy > radius * radius) continue;
        if (hole[i]) {
          if (dx * dx + dy * dy <= 9) hx += dx, hy += dy, hm += 1;
        } else if (classes[i] == cls) {
          sx += dx, sy += dy, sxx += dx * dx, syy += dy * dy, sxy += dx * dy, m += 1;
        }
      }
    if (m < 3 || hm == 0) continue;
    const double mx = sx / m, my = sy / m;
    const double cxx = sxx / m - mx * mx, cyy = syy / m - my * my, cxy = sxy / m - mx * my;
    const double mean = (cxx + cyy) / 2, spread = std::sqrt(std::max(0.0, (cxx - cyy) * (cxx - cyy) / 4 + cxy * cxy));
    const double major = mean + spread, minor = std::max(0.0, mean - spread);
    if (major < 4 * minor + 1e-9 || major <= 0) continue;  // a blob, not a band
    double ax = cxx - cyy >= 0 ? major - cyy : cxy, ay = cxx - cyy >= 0 ? cxy : major - cxx;
    if (std::abs(ax) + std::abs(ay) < 1e-12) ax = 1, ay = 0;
    const double norm = std::hypot(ax, ay);
    ax /= norm;
    ay /= norm;
    if (ax * hx + ay * hy < 0) ax = -ax, ay = -ay;  // into the hole
    e.ax = ax;
    e.ay = ay;
    e.width = std::clamp(std::sqrt(12 * minor), 1.0, static_cast<double>(count));
    ends.push_back(e);
  }

  struct Pair {
    double score;
    size_t a, b;
  };
  std::vector<Pair> pairs;
  constexpr double kMinCos = 0.766;  // ends within 40 degrees of the line joining them
  for (size_t a = 0; a < ends.size(); ++a)
    for (size_t b = a + 1; b < ends.size(); ++b) {
      const End &p = ends[a], &q = ends[b];
      if (p.cls != q.cls) continue;
      const double vx = q.x - p.x, vy = q.y - p.y, d = std::hypot(vx, vy);
      if (d < 2) continue;
      const double cp = (p.ax * vx + p.ay * vy) / d, cq = -(q.ax * vx + q.ay * vy) / d;
      if (cp < kMinCos || cq < kMinCos) continue;
      // The straight line between them must run mostly through the hole.
      int inside = 0, samples = 0;
      for (double t = 0; t <= 1; t += 0.5 / d, ++samples) {
        const int x = static_cast<int>(std::lround(p.x + t * vx)), y = static_cast<int>(std::lround(p.y + t * vy));
        inside += hole[static_cast<size_t>(y) * w + x] ? 1 : 0;
      }
      if (inside * 2 < samples) continue;
      pairs.push_back({cp + cq, a, b});
    }
  std::sort(pairs.begin(), pairs.end(), [](const Pair& l, const Pair& r) { return l.score > r.score; });
  // A disc of class `cls` and radius `half` at (cx, cy), on hole pixels only.
  auto stamp = [&](double cx, double cy, double half, int cls) {
    const int reach = static_cast<int>(std::ceil(half));
    for (int y = static_cast<int>(std::floor(cy)) - reach; y <= static_cast<int>(std::ceil(cy)) + reach; ++y)
      for (int x = static_cast<int>(std::floor(cx)) - reach; x <= static_cast<int>(std::ceil(cx)) + reach; ++x) {
        if (x < 0 || y < 0 || x >= w || y >= h) continue;
        const size_t i = static_cast<size_t>(y) * w + x;
        if (hole[i] && (x - cx) * (x - cx) + (y - cy) * (y - cy) <= half * half + 0.25)
          out[i] = static_cast<uint8_t>(cls);
      }
  };
  for (const Pair& pair : pairs) {
    End &p = ends[pair.a], &q = ends[pair.b];
    if (p.used || q.used) continue;
    p.used = q.used = true;
    const double d = std::hypot(q.x - p.x, q.y - p.y);
    const double x1 = p.x + p.ax * d / 3, y1 = p.y + p.ay * d / 3;
    const double x2 = q.x + q.ax * d / 3, y2 = q.y + q.ay * d / 3;
    const double half = (p.width + q.width) / 4;  // half the mean width
    const int steps = static_cast<int>(std::ceil(3 * d)) + 1;
    for (int k = 0; k <= steps; ++k) {
      const double t = static_cast<double>(k) / steps, u = 1 - t;
      stamp(u * u * u * p.x + 3 * u * u * t * x1 + 3 * u * t * t * x2 + t * t * t * q.x,
            u * u * u * p.y + 3 * u * u * t * y1 + 3 * u * t * t * y2 + t * t * t * q.y, half, p.cls);
    }
  }
  // An end without a partner whose straight continuation runs through the hole to the edge of
  // the grid (a road leaving the image through a masked strip) goes on to the edge.
  for (const End& e : ends) {
    if (e.used) continue;
    double x = e.x, y = e.y;
    bool reaches_edge = false;
    for (int k = 0; k < 4 * (w + h); ++k) {
      x += 0.5 * e.ax;
      y += 0.5 * e.ay;
      const int ix = static_cast<int>(std::lround(x)), iy = static_cast<int>(std::lround(y));
      if (ix < 0 || iy < 0 || ix >= w || iy >= h) {
        reaches_edge = true;
        break;
      }
      if (!hole[static_cast<size_t>(iy) * w + ix] && k > 2 * e.count + 2) break;  // ran into known pixels
    }
    if (!reaches_edge) continue;
    for (double t = 0; ; t += 0.5) {
      const double cx = e.x + t * e.ax, cy = e.y + t * e.ay;
      if (cx < -1 || cy < -1 || cx > w || cy > h) break;
      stamp(cx, cy, e.width / 2, e.cls);
    }
  }
}

}  // namespace

int bridge_structures(std::array<Plane, 3>& image, const Plane& mask, const std::vector<uint8_t>& usable,
                      int block, int clusters) {
  require_planes("bridge_structures", image, mask, usable);
  const int w = mask.width, h = mask.height;
  block = std::max(1, block);
  clusters = std::clamp(clusters, 2, 16);
  const int bw = (w + block - 1) / block, bh = (h + block - 1) / block;
  const size_t bn = static_cast<size_t>(bw) * bh;
  // Blocks: a hole when any pixel is masked; known when at least half its pixels are usable.
  std::vector<uint8_t> hole(bn, 0), known(bn, 0);
  std::vector<std::array<double, 3>> colour(bn, {0, 0, 0});
  std::vector<int> count(bn, 0), total(bn, 0);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const size_t i = static_cast<size_t>(y) * w + x;
      const size_t b = static_cast<size_t>(y / block) * bw + x / block;
      ++total[b];
      if (mask.data[i] > 0) {
        hole[b] = 1;
      } else if (usable[i]) {
        for (int c = 0; c < 3; ++c) colour[b][c] += image[c].data[i];
        ++count[b];
      }
    }
  std::vector<size_t> samples;
  for (size_t b = 0; b < bn; ++b) {
    if (hole[b] || 2 * count[b] < total[b]) continue;
    known[b] = 1;
    for (int c = 0; c < 3; ++c) colour[b][c] /= count[b];
    samples.push_back(b);
  }
  if (samples.size() < static_cast<size_t>(4 * clusters)) return 0;
  bool any_hole = false;
  for (size_t b = 0; b < bn; ++b) any_hole = any_hole || hole[b];
  if (!any_hole) return 0;

  // k-means on the known blocks' colours, started at luma quantiles (deterministic).
  auto luma = [](const std::array<double, 3>& v) { return 0.299 * v[0] + 0.587 * v[1] + 0.114 * v[2]; };
  std::vector<size_t> order = samples;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return luma(colour[a]) < luma(colour[b]); });
  std::vector<std::array<double, 3>> centre(static_cast<size_t>(clusters));
  for (int k = 0; k < clusters; ++k) centre[k] = colour[order[(order.size() - 1) * (2 * k + 1) / (2 * clusters)]];
  std::vector<uint8_t> label(bn, 255);
  for (int iteration = 0; iteration < 12; ++iteration) {
    std::vector<std::array<double, 3>> sum(static_cast<size_t>(clusters), {0, 0, 0});
    std::vector<int> members(static_cast<size_t>(clusters), 0);
    for (size_t b : samples) {
      double best = std::numeric_limits<double>::max();
      for (int k = 0; k < clusters; ++k) {
        double d = 0;
        for (int c = 0; c < 3; ++c) d += (colour[b][c] - centre[k][c]) * (colour[b][c] - centre[k][c]);
        if (d < best) best = d, label[b] = static_cast<uint8_t>(k);
      }
      for (int c = 0; c < 3; ++c) sum[label[b]][c] += colour[b][c];
      ++members[label[b]];
    }
    for (int k = 0; k < clusters; ++k)
      if (members[k] > 0)
        for (int c = 0; c < 3; ++c) centre[k][c] = sum[k][c] / members[k];
  }
  // Groups whose colours are close (less than kMerge apart) are one: noise and gentle shading
  // must not make structures.
  constexpr double kMerge = 0.08;
  std::vector<int> group(static_cast<size_t>(clusters));
  for (int k = 0; k < clusters; ++k) {
    group[k] = k;
    for (int j = 0; j < k; ++j) {
      double d = 0;
      for (int c = 0; c < 3; ++c) d += (centre[k][c] - centre[j][c]) * (centre[k][c] - centre[j][c]);
      if (std::sqrt(d) < kMerge) {
        group[k] = group[j];
        break;
      }
    }
  }
  // Blocks that are neither known nor holes (nodata, the edge of the usable area) are no class.
  // The bridges are drawn on hole blocks only, in the colour of the group's first cluster.
  std::vector<uint8_t> classes(bn, 255), bridged(bn, 255), gaps(bn, 0);
  for (size_t b = 0; b < bn; ++b) {
    if (known[b]) classes[b] = static_cast<uint8_t>(group[label[b]]);
    gaps[b] = hole[b];
  }
  bridge_thin_classes(bridged, classes, gaps, bw, bh);
  int painted = 0;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const size_t i = static_cast<size_t>(y) * w + x;
      const size_t b = static_cast<size_t>(y / block) * bw + x / block;
      if (mask.data[i] <= 0 || bridged[b] == 255) continue;
      const float m = std::min(1.f, mask.data[i]);
      for (int c = 0; c < 3; ++c)
        image[c].data[i] = static_cast<float>((1 - m) * image[c].data[i] + m * centre[bridged[b]][c]);
      ++painted;
    }
  return painted;
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
  const std::vector<uint8_t> border = outer_border(hole, width, height);
  for (size_t i = 0; i < n; ++i)
    if (border[i]) {
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
  bridge_thin_classes(out, classes, hole, width, height);
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

  // Grain: fine variation of the generated area against the real pixels near it, at two
  // scales: the finest (the residual of a 3 x 3 box: pixel-to-pixel sharpness) first, then
  // everything below 5 x 5 pixels. One scale alone leaves the other free: a fill can match the
  // photo's 5 x 5 variation and still be crisper than a soft photo pixel to pixel.
  auto grain_energy = [&](const std::array<Plane, 3>& planes, const Plane& where, int radius,
                          std::array<Plane, 3>* residual) {
    double energy = 0;
    size_t count = 0;
    for (int c = 0; c < 3; ++c) {
      Plane r = box_residual(planes[c], radius);
      for (size_t i = 0; i < n; ++i)
        if (where.data[i] > 0) energy += double(r.data[i]) * r.data[i], ++count;
      if (residual) (*residual)[c] = std::move(r);
    }
    return count > 0 ? std::sqrt(energy / count) : -1.0;  // -1: no pixels to measure
  };
  Plane real_near(w, h);
  for (size_t i = 0; i < n; ++i) real_near.data[i] = outside.data[i] > 0 && near_region.data[i] > 0 ? 1.f : 0.f;
  constexpr int kGrainRadius = 2;
  const double before = grain_energy(generated, core, kGrainRadius, nullptr);
  for (const int radius : {1, kGrainRadius}) {
    std::array<Plane, 3> residual;
    const double g = grain_energy(generated, core, radius, &residual);
    const double r = grain_energy(known, real_near, radius, nullptr);
    if (g <= 0 || r < 0 || g <= r) continue;
    const double cut = std::min(0.9, 1.0 - r / g);
    for (int c = 0; c < 3; ++c)
      for (size_t i = 0; i < n; ++i)
        if (region.data[i] > 0)
          generated[c].data[i] =
              std::clamp(static_cast<float>(generated[c].data[i] - cut * residual[c].data[i]), 0.f, 1.f);
  }
  if (before <= 0) return 0;
  const double after = grain_energy(generated, core, kGrainRadius, nullptr);
  return std::clamp(1.0 - after / before, 0.0, 1.0);
}

namespace {

// The pixels patches are copied from: colour planes, where whole patches may be taken from, the
// class of every pixel (255 = any) and the weight of each pixel in the low pass (gaps between
// examples count for nothing).
struct SourceCanvas {
  std::array<Plane, 3> rgb;
  std::vector<uint8_t> usable;
  std::vector<uint8_t> classes;  // empty = no classes
  Plane low_weight;
};

// What is rebuilt: the image (guide inside the mask, fixed pixels outside), the mask and the
// class each pixel must get (empty = no classes; 255 = any).
struct TargetCanvas {
  std::array<Plane, 3>* image = nullptr;
  const Plane* mask = nullptr;
  const std::vector<uint8_t>* classes = nullptr;
};

// Every other pixel of a class map (the one at twice the coordinates).
std::vector<uint8_t> halve_classes(const std::vector<uint8_t>& classes, int w, int h, int w2, int h2) {
  std::vector<uint8_t> out(static_cast<size_t>(w2) * h2, 255);
  for (int y = 0; y < h2; ++y)
    for (int x = 0; x < w2; ++x)
      out[static_cast<size_t>(y) * w2 + x] = classes[static_cast<size_t>(std::min(2 * y, h - 1)) * w + std::min(2 * x, w - 1)];
  return out;
}

// One level of the texture synthesis, started from the next coarser level's matches when the
// area is large enough for one (coarse to fine, as in Wexler et al.: the coarse level lays out
// whole waves, rows or crowns coherently, the finer ones refine them). `matches` receives the
// nearest-patch field (source index per target pixel, -1 elsewhere).
double synthesise(const TargetCanvas& target, const SourceCanvas& source, const TextureOptions& options,
                  const std::function<bool()>& cancelled, int depth, std::vector<int>* matches) {
  std::array<Plane, 3>& image = *target.image;
  const Plane& mask = *target.mask;
  const bool by_class = target.classes && !target.classes->empty() && !source.classes.empty();
  const int w = mask.width, h = mask.height;
  const int sw = source.rgb[0].width, sh = source.rgb[0].height;
  const size_t n = static_cast<size_t>(w) * h, sn = static_cast<size_t>(sw) * sh;
  const int r = std::max(1, options.patch_radius);
  const int side = 2 * r + 1;
  if (w < side || h < side || sw < side || sh < side) return -1;
  if (std::max(n, sn) >= static_cast<size_t>(std::numeric_limits<int>::max() / 2)) return -1;  // int indices

  // Sources: centres whose whole patch is usable (an integral image of `usable`).
  std::vector<int> sum(static_cast<size_t>(sw + 1) * (sh + 1), 0);
  auto at = [sw](int x, int y) { return static_cast<size_t>(y) * (sw + 1) + x; };
  for (int y = 0; y < sh; ++y)
    for (int x = 0; x < sw; ++x)
      sum[at(x + 1, y + 1)] = (source.usable[static_cast<size_t>(y) * sw + x] ? 1 : 0) +
                              sum[at(x, y + 1)] + sum[at(x + 1, y)] - sum[at(x, y)];
  std::vector<uint8_t> source_ok(sn, 0);
  std::vector<int> sources;
  std::array<std::vector<int>, 256> sources_of_class;
  for (int y = r; y < sh - r; ++y)
    for (int x = r; x < sw - r; ++x) {
      const int count = sum[at(x + r + 1, y + r + 1)] - sum[at(x - r, y + r + 1)] -
                        sum[at(x + r + 1, y - r)] + sum[at(x - r, y - r)];
      if (count == side * side) {
        const size_t i = static_cast<size_t>(y) * sw + x;
        source_ok[i] = 1;
        sources.push_back(static_cast<int>(i));
        if (by_class) sources_of_class[source.classes[i]].push_back(static_cast<int>(i));
      }
    }
  std::vector<int> targets;
  for (size_t i = 0; i < n; ++i)
    if (mask.data[i] > 0) targets.push_back(static_cast<int>(i));
  if (targets.empty() || sources.size() < 16) return -1;

  // The low pass (a box of guide_radius): of the guide (the generated pixels) inside the mask,
  // of the fixed pixels outside; and of the sources.
  const Plane ones(w, h, 1.f);
  std::array<Plane, 3> low, low_source;
  const int low_radius = std::max(1, options.guide_radius);
  for (int c = 0; c < 3; ++c) {
    low[c] = masked_box_mean(image[c], ones, low_radius);
    low_source[c] = masked_box_mean(source.rgb[c], source.low_weight, low_radius);
  }
  std::array<Plane, 3> current = image;  // the estimate: fixed pixels outside the mask
  const std::array<Plane, 3>& real = source.rgb;
  static const std::vector<uint8_t> no_classes;
  const std::vector<uint8_t>& target_classes = by_class ? *target.classes : no_classes;

  std::vector<int> match(n, -1);
  constexpr int kMinCoarseTargets = 256;
  if (std::min(w, h) >= 8 * side && std::min(sw, sh) >= 4 * side && targets.size() >= 4 * kMinCoarseTargets) {
    const int w2 = w / 2, h2 = h / 2, sw2 = sw / 2, sh2 = sh / 2;
    std::array<Plane, 3> small;
    for (int c = 0; c < 3; ++c) small[c] = resample(image[c], w2, h2);
    const Plane small_mask = resample_max(mask, w2, h2);
    SourceCanvas small_source;
    for (int c = 0; c < 3; ++c) small_source.rgb[c] = resample(source.rgb[c], sw2, sh2);
    Plane usable_plane(sw, sh);
    for (size_t i = 0; i < sn; ++i) usable_plane.data[i] = source.usable[i] ? 1.f : 0.f;
    const Plane small_usable_plane = resample(usable_plane, sw2, sh2);
    small_source.usable.resize(small_usable_plane.data.size());
    for (size_t i = 0; i < small_source.usable.size(); ++i)
      small_source.usable[i] = small_usable_plane.data[i] >= 0.999f ? 1 : 0;
    small_source.low_weight = resample(source.low_weight, sw2, sh2);
    std::vector<uint8_t> small_classes;
    if (by_class) {
      small_source.classes = halve_classes(source.classes, sw, sh, sw2, sh2);
      small_classes = halve_classes(target_classes, w, h, w2, h2);
    }
    TargetCanvas small_target{&small, &small_mask, by_class ? &small_classes : nullptr};
    std::vector<int> small_match;
    if (synthesise(small_target, small_source, options, cancelled, depth + 1, &small_match) >= 0) {
      for (int t : targets) {
        const int x = t % w, y = t / w;
        const int m = small_match[static_cast<size_t>(std::min(y / 2, h2 - 1)) * w2 + std::min(x / 2, w2 - 1)];
        if (m < 0) continue;
        const int sx = std::clamp(2 * (m % sw2) + x % 2, r, sw - 1 - r);
        const int sy = std::clamp(2 * (m / sw2) + y % 2, r, sh - 1 - r);
        if (source_ok[static_cast<size_t>(sy) * sw + sx]) match[t] = sy * sw + sx;
      }
    }
    if (cancelled && cancelled()) return -1;
  }
  std::mt19937_64 rng((options.seed + static_cast<uint64_t>(depth)) ^ 0x7465787475726531ULL);
  for (int t : targets) {
    if (match[t] >= 0) continue;
    const std::vector<int>* pool = &sources;
    if (by_class && target_classes[t] != 255 && !sources_of_class[target_classes[t]].empty())
      pool = &sources_of_class[target_classes[t]];
    match[t] = (*pool)[rng() % pool->size()];
  }

  const double guide = options.guide_weight;
  const double coherent = 1.0 - std::clamp(options.coherence, 0.0, 0.9);
  const double tolerance = std::max(0.0, options.guide_tolerance);
  const double class_cost = std::max(0.0, options.class_weight);
  // Squared distance between the target patch at q (clamped at the image edge) and the source
  // patch at s; in the first round the estimate inside the mask is not used yet (it is the
  // guide itself, smoother than any real patch and so biased towards flat sources). Each pixel
  // whose class differs from the one asked for costs class_weight.
  auto distance = [&](int q, int s, bool first, double best) {
    const int qx = q % w, qy = q / w, sx = s % sw, sy = s / sw;
    double d = 0;
    for (int dy = -r; dy <= r; ++dy) {
      const int yq = std::clamp(qy + dy, 0, h - 1);
      const size_t row_q = static_cast<size_t>(yq) * w;
      const size_t row_s = static_cast<size_t>(sy + dy) * sw;
      for (int dx = -r; dx <= r; ++dx) {
        const size_t iq = row_q + std::clamp(qx + dx, 0, w - 1);
        const size_t is = row_s + sx + dx;
        for (int c = 0; c < 3; ++c) {
          const double e = std::max(0.0, std::abs(low[c].data[iq] - low_source[c].data[is]) - tolerance);
          d += guide * e * e;
        }
        if (!first || mask.data[iq] <= 0)
          for (int c = 0; c < 3; ++c) {
            const double e = current[c].data[iq] - real[c].data[is];
            d += e * e;
          }
        if (by_class) {
          const uint8_t want = target_classes[iq];
          if (want != 255 && want != source.classes[is]) d += class_cost;
        }
      }
      if (d >= best) return d;
    }
    return d;
  };

  std::vector<double> cost(n, 0.0);
  std::array<std::vector<double>, 3> total;
  std::vector<double> weight(n, 0.0);
  const int rounds = std::max(1, options.iterations);
  for (int round = 0; round < rounds; ++round) {
    if (cancelled && cancelled()) return -1;
    const bool first = round == 0 && !options.match_guide_detail;
    for (int t : targets) cost[t] = distance(t, match[t], first, std::numeric_limits<double>::max());
    // Nearest-patch search: two scans in opposite orders, each propagating good matches from
    // the neighbours already visited, then a random search at halving radii.
    for (int scan = 0; scan < 2; ++scan) {
      const bool forward = scan == 0;
      const int step = forward ? 1 : -1;
      for (size_t k = 0; k < targets.size(); ++k) {
        const int q = targets[forward ? k : targets.size() - 1 - k];
        const int qx = q % w, qy = q / w;
        int best = match[q];
        double best_cost = cost[q];
        auto attempt = [&](int s, double scale) {
          if (s < 0 || s == best || !source_ok[static_cast<size_t>(s)]) return;
          const double d = scale * distance(q, s, first, best_cost / scale);
          if (d < best_cost) best_cost = d, best = s;
        };
        const int nx = qx - step, ny = qy - step;
        if (nx >= 0 && nx < w) {
          const int m = match[static_cast<size_t>(qy) * w + nx];
          if (m >= 0 && (m % sw) + step >= 0 && (m % sw) + step < sw) attempt(m + step, coherent);
        }
        if (ny >= 0 && ny < h) {
          const int m = match[static_cast<size_t>(ny) * w + qx];
          if (m >= 0 && (m / sw) + step >= 0 && (m / sw) + step < sh) attempt(m + step * sw, coherent);
        }
        for (int radius = std::max(sw, sh); radius >= 1; radius /= 2) {
          const int bx = best % sw, by = best / sw;
          const int cx = std::clamp(bx + static_cast<int>(rng() % (2 * radius + 1)) - radius, r, sw - 1 - r);
          const int cy = std::clamp(by + static_cast<int>(rng() % (2 * radius + 1)) - radius, r, sh - 1 - r);
          attempt(cy * sw + cx, 1.0);
        }
        match[q] = best;
        cost[q] = best_cost;
      }
    }
    // Copy: every masked pixel becomes the average of what the patches covering it propose,
    // each weighted by how well it matched; the last round takes only the patch centred on
    // the pixel, which keeps the copied detail sharp.
    const bool last = round + 1 == rounds;
    const int vote = last ? std::clamp(options.final_vote_radius, 0, r) : (options.centre_copy ? 0 : r);
    if (vote == 0) {
      for (int t : targets) {
        const int s = match[t];
        for (int c = 0; c < 3; ++c) current[c].data[t] = real[c].data[s];
      }
      continue;
    }
    double mean_cost = 0;
    for (int t : targets) mean_cost += cost[t];
    mean_cost = std::max(1e-12, mean_cost / targets.size());
    for (int c = 0; c < 3; ++c) total[c].assign(n, 0.0);
    std::fill(weight.begin(), weight.end(), 0.0);
    for (int t : targets) {
      const int tx = t % w, ty = t / w, s = match[t];
      const int sx = s % sw, sy = s / sw;
      const double wt = std::exp(-cost[t] / (2 * mean_cost));
      for (int dy = -vote; dy <= vote; ++dy) {
        const int y = ty + dy;
        if (y < 0 || y >= h) continue;
        for (int dx = -vote; dx <= vote; ++dx) {
          const int x = tx + dx;
          if (x < 0 || x >= w) continue;
          const size_t i = static_cast<size_t>(y) * w + x;
          if (mask.data[i] <= 0) continue;
          const size_t j = static_cast<size_t>(sy + dy) * sw + sx + dx;
          for (int c = 0; c < 3; ++c) total[c][i] += wt * real[c].data[j];
          weight[i] += wt;
        }
      }
    }
    for (int t : targets)
      if (weight[t] > 0)
        for (int c = 0; c < 3; ++c) current[c].data[t] = static_cast<float>(total[c][t] / weight[t]);
  }
  if (cancelled && cancelled()) return -1;

  double difference = 0;
  for (int t : targets)
    for (int c = 0; c < 3; ++c) {
      const double e = current[c].data[t] - low[c].data[t];
      difference += e * e;
    }
  for (int c = 0; c < 3; ++c)
    for (int t : targets) image[c].data[t] = current[c].data[t];
  if (matches) *matches = std::move(match);
  return difference / (3.0 * targets.size());
}

}  // namespace

double transfer_texture(std::array<Plane, 3>& image, const Plane& mask,
                        const std::vector<uint8_t>& usable, const TextureOptions& options,
                        const std::function<bool()>& cancelled) {
  require_planes("transfer_texture", image, mask, usable);
  std::array<Plane, 3> work = image;
  // The sources are the image's own fixed pixels.
  SourceCanvas source;
  source.rgb = image;
  source.usable.resize(usable.size());
  for (size_t i = 0; i < usable.size(); ++i) source.usable[i] = usable[i] && mask.data[i] <= 0 ? 1 : 0;
  source.low_weight = Plane(mask.width, mask.height, 1.f);
  const TargetCanvas target{&work, &mask, nullptr};
  const double difference = synthesise(target, source, options, cancelled, 0, nullptr);
  if (difference < 0 || (cancelled && cancelled())) return -1;
  image = std::move(work);
  return difference;
}

double texture_by_example(std::array<Plane, 3>& image, const Plane& mask,
                          const std::vector<uint8_t>& classes, const std::vector<Example>& examples,
                          const TextureOptions& options, const std::function<bool()>& cancelled) {
  const std::vector<uint8_t> all(mask.data.size(), 1);
  require_planes("texture_by_example", image, mask, all);
  if (!classes.empty() && classes.size() != mask.data.size())
    throw std::invalid_argument("texture_by_example: the class map and the image differ in size");
  // The examples side by side in rows (shelves) of at most max(image width, widest example)
  // pixels, one unusable pixel between them; the image's own fixed pixels (mask 0) come first.
  int width = mask.width;
  for (const Example& e : examples) {
    if (e.rgb[0].width <= 0 || e.rgb[0].height <= 0 || e.classes.size() != e.rgb[0].data.size() ||
        e.rgb[1].data.size() != e.rgb[0].data.size() || e.rgb[2].data.size() != e.rgb[0].data.size())
      throw std::invalid_argument("texture_by_example: an example's planes and classes differ in size");
    width = std::max(width, e.rgb[0].width);
  }
  struct Place { int x, y; const std::array<Plane, 3>* rgb; const std::vector<uint8_t>* classes; const std::vector<uint8_t>* usable; };
  std::vector<Place> places;
  std::vector<uint8_t> own_usable(mask.data.size());
  for (size_t i = 0; i < own_usable.size(); ++i) own_usable[i] = mask.data[i] <= 0 ? 1 : 0;
  std::vector<uint8_t> own_classes = classes.empty() ? std::vector<uint8_t>(mask.data.size(), 255) : classes;
  int x = 0, y = 0, shelf = 0;
  auto place = [&](int pw, int ph) {
    if (x > 0 && x + pw > width) x = 0, y += shelf + 1, shelf = 0;
    const Place p{x, y, nullptr, nullptr, nullptr};
    x += pw + 1;
    shelf = std::max(shelf, ph);
    return p;
  };
  const bool any_fixed = std::find(own_usable.begin(), own_usable.end(), 1) != own_usable.end();
  if (any_fixed) {
    Place p = place(mask.width, mask.height);
    p.rgb = &image, p.classes = &own_classes, p.usable = &own_usable;
    places.push_back(p);
  }
  for (const Example& e : examples) {
    Place p = place(e.rgb[0].width, e.rgb[0].height);
    p.rgb = &e.rgb, p.classes = &e.classes;
    places.push_back(p);
  }
  const int height = y + shelf;
  if (places.empty() || height <= 0) return -1;
  SourceCanvas source;
  for (int c = 0; c < 3; ++c) source.rgb[c] = Plane(width, height);
  source.usable.assign(static_cast<size_t>(width) * height, 0);
  source.classes.assign(source.usable.size(), 255);
  source.low_weight = Plane(width, height, 0.f);
  for (const Place& p : places) {
    const int pw = (*p.rgb)[0].width, ph = (*p.rgb)[0].height;
    for (int py = 0; py < ph; ++py)
      for (int px = 0; px < pw; ++px) {
        const size_t from = static_cast<size_t>(py) * pw + px;
        const size_t to = static_cast<size_t>(p.y + py) * width + p.x + px;
        for (int c = 0; c < 3; ++c) source.rgb[c].data[to] = (*p.rgb)[c].data[from];
        source.usable[to] = p.usable ? (*p.usable)[from] : 1;
        source.classes[to] = (*p.classes)[from];
        source.low_weight.data[to] = 1.f;
      }
  }
  std::array<Plane, 3> work = image;
  const TargetCanvas target{&work, &mask, classes.empty() ? nullptr : &classes};
  const double difference = synthesise(target, source, options, cancelled, 0, nullptr);
  if (difference < 0 || (cancelled && cancelled())) return -1;
  image = std::move(work);
  return difference;
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
