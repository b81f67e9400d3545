#include "train/masks.h"

#include <algorithm>
#include <cmath>

namespace terrasynth::engine {

torch::Tensor random_inpaint_mask(std::mt19937_64& rng, int height, int width) {
  auto mask = torch::zeros({1, height, width});
  auto acc = mask.accessor<float, 3>();
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const double kind = unit(rng);
  if (kind < 0.4) {
    // One or two boxes of 15-70 % of each side.
    const int boxes = unit(rng) < 0.7 ? 1 : 2;
    for (int b = 0; b < boxes; ++b) {
      const int h = std::max(4, static_cast<int>(height * (0.15 + 0.55 * unit(rng))));
      const int w = std::max(4, static_cast<int>(width * (0.15 + 0.55 * unit(rng))));
      const int y0 = static_cast<int>((height - h) * unit(rng));
      const int x0 = static_cast<int>((width - w) * unit(rng));
      for (int y = y0; y < y0 + h; ++y)
        for (int x = x0; x < x0 + w; ++x) acc[0][y][x] = 1.f;
    }
  } else if (kind < 0.75) {
    // Known band(s) along one or two edges: the rest is generated as a continuation.
    const int sides = unit(rng) < 0.6 ? 1 : 2;
    mask.fill_(1.f);
    std::vector<int> order{0, 1, 2, 3};
    std::shuffle(order.begin(), order.end(), rng);
    for (int s = 0; s < sides; ++s) {
      const double fraction = 0.1 + 0.4 * unit(rng);
      const int band_h = static_cast<int>(height * fraction), band_w = static_cast<int>(width * fraction);
      for (int y = 0; y < height; ++y) {
        for (int x = 0; x < width; ++x) {
          const bool known = (order[s] == 0 && y < band_h) || (order[s] == 1 && y >= height - band_h) ||
                             (order[s] == 2 && x < band_w) || (order[s] == 3 && x >= width - band_w);
          if (known) acc[0][y][x] = 0.f;
        }
      }
    }
  } else {
    // A blob: union of a few ellipses.
    const int ellipses = 1 + static_cast<int>(4 * unit(rng));
    for (int e = 0; e < ellipses; ++e) {
      const double cy = height * (0.2 + 0.6 * unit(rng)), cx = width * (0.2 + 0.6 * unit(rng));
      const double ry = height * (0.08 + 0.25 * unit(rng)), rx = width * (0.08 + 0.25 * unit(rng));
      for (int y = 0; y < height; ++y)
        for (int x = 0; x < width; ++x) {
          const double dy = (y - cy) / ry, dx = (x - cx) / rx;
          if (dy * dy + dx * dx <= 1.0) acc[0][y][x] = 1.f;
        }
    }
  }
  return mask;
}

}  // namespace terrasynth::engine
