#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "image_ops.h"

namespace terrasynth::pipeline::detail {
namespace {

Plane ramp_plane(int width, int height) {
  Plane plane(width, height);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) plane.at(x, y) = static_cast<float>(x + 10 * y);
  return plane;
}

TEST(ImageOps, ResampleKeepsConstantsAndSize) {
  const Plane constant(7, 5, 0.25f);
  for (auto [w, h] : std::vector<std::pair<int, int>>{{7, 5}, {3, 2}, {20, 13}, {1, 1}}) {
    const Plane out = resample(constant, w, h);
    ASSERT_EQ(out.width, w);
    ASSERT_EQ(out.height, h);
    for (float v : out.data) EXPECT_NEAR(v, 0.25f, 1e-6);
  }
}

TEST(ImageOps, HalvingAveragesPairs) {
  const Plane source = ramp_plane(8, 4);
  const Plane out = resample(source, 4, 2);
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 4; ++x) {
      const float expected = (source.at(2 * x, 2 * y) + source.at(2 * x + 1, 2 * y) +
                              source.at(2 * x, 2 * y + 1) + source.at(2 * x + 1, 2 * y + 1)) /
                             4;
      EXPECT_NEAR(out.at(x, y), expected, 1e-4) << x << "," << y;
    }
}

TEST(ImageOps, UpsamplingInterpolatesLinearlyBetweenCentres) {
  // A linear ramp stays linear inside (pixel centres aligned) and is clamped at the edges.
  const Plane source = ramp_plane(4, 1);
  const Plane out = resample(source, 8, 1);
  EXPECT_NEAR(out.at(0, 0), 0.f, 1e-6);       // centre -0.25 clamps to pixel 0
  EXPECT_NEAR(out.at(1, 0), 0.25f, 1e-6);     // centre 0.25
  EXPECT_NEAR(out.at(4, 0), 1.75f, 1e-6);     // centre 1.75
  EXPECT_NEAR(out.at(7, 0), 3.f, 1e-6);       // centre 3.25 clamps to pixel 3
}

TEST(ImageOps, ResampleMaxNeverLosesAMaskedPixel) {
  Plane mask(10, 10, 0.f);
  mask.at(7, 3) = 1.f;
  const Plane down = resample_max(mask, 3, 3);  // each target covers 3.33 source pixels
  EXPECT_EQ(down.at(2, 0), 1.f);
  EXPECT_EQ(down.at(0, 0), 0.f);
  const Plane up = resample_max(mask, 40, 40);
  float total = 0;
  for (float v : up.data) total += v;
  EXPECT_GE(total, 16.f);  // at least the 4 x 4 pixels over the source pixel
  EXPECT_EQ(up.at(30, 13), 1.f);
}

TEST(ImageOps, DistanceAndFeather) {
  std::vector<uint8_t> inside(9 * 5, 0);
  inside[2 * 9 + 4] = 1;  // centre pixel
  const Plane d = distance_to(inside, 9, 5);
  EXPECT_EQ(d.at(4, 2), 0.f);
  EXPECT_EQ(d.at(7, 2), 3.f);
  EXPECT_NEAR(d.at(5, 3), std::sqrt(2.f), 1e-6);
  const Plane soft = feathered(d, 2);
  EXPECT_EQ(soft.at(4, 2), 1.f);
  EXPECT_NEAR(soft.at(5, 2), 1 - 1 / 3.f, 1e-6);
  EXPECT_NEAR(soft.at(6, 2), 1 - 2 / 3.f, 1e-6);
  EXPECT_EQ(soft.at(7, 2), 0.f);
  const Plane none = distance_to(std::vector<uint8_t>(6, 0), 3, 2);
  EXPECT_GT(none.at(1, 1), 1e6f);
}

TEST(ImageOps, PercentileByNearestRank) {
  std::vector<float> values;
  for (int i = 100; i >= 0; --i) values.push_back(static_cast<float>(i));
  EXPECT_EQ(percentile(values, 0), 0.f);
  EXPECT_EQ(percentile(values, 1), 1.f);
  EXPECT_EQ(percentile(values, 99), 99.f);
  EXPECT_EQ(percentile(values, 100), 100.f);
  std::vector<float> empty;
  EXPECT_THROW(percentile(empty, 50), std::invalid_argument);
}

TEST(ImageOps, LinearFitRecoversAnExactRelation) {
  LinearFit fit;
  for (int r = 0; r < 6; ++r)
    for (int g = 0; g < 5; ++g)
      for (int b = 0; b < 4; ++b) fit.add(r * 40, g * 50 + r, b * 60 + g, 12 + 0.5 * r * 40 - 0.25 * (g * 50 + r) + 2 * (b * 60 + g));
  const auto c = fit.solve();
  EXPECT_NEAR(c[0], 12, 1e-6);
  EXPECT_NEAR(c[1], 0.5, 1e-9);
  EXPECT_NEAR(c[2], -0.25, 1e-9);
  EXPECT_NEAR(c[3], 2, 1e-9);
  EXPECT_NEAR(LinearFit::predict(c, 10, 20, 30), 12 + 5 - 5 + 60, 1e-6);
}

TEST(ImageOps, LinearFitFallsBackToTheMeanForGreyColours) {
  // r = g = b: the colours do not span RGB space, so the fit is the mean.
  LinearFit fit;
  for (int i = 0; i < 10; ++i) fit.add(i, i, i, i % 2 ? 30 : 10);
  const auto c = fit.solve();
  EXPECT_NEAR(c[0], 20, 1e-9);
  EXPECT_EQ(c[1], 0);
  EXPECT_EQ(LinearFit().solve()[0], 0);
}

TEST(ImageOps, HarmonicFillContinuesALinearRampExactly) {
  // A linear function is harmonic: filling a hole in it must give it back.
  Plane plane(60, 50);
  std::vector<uint8_t> unknown(60 * 50, 0);
  for (int y = 0; y < 50; ++y)
    for (int x = 0; x < 60; ++x) {
      const bool hole = x >= 15 && x < 45 && y >= 10 && y < 38;
      plane.at(x, y) = hole ? 100.f : 0.3f * x + 0.1f * y;
      unknown[y * 60 + x] = hole ? 1 : 0;
    }
  harmonic_fill(plane, unknown);
  for (int y = 0; y < 50; ++y)
    for (int x = 0; x < 60; ++x) EXPECT_NEAR(plane.at(x, y), 0.3f * x + 0.1f * y, 2e-3) << x << "," << y;
}

TEST(ImageOps, HarmonicFillStaysWithinTheKnownValuesAndKeepsThem) {
  Plane plane(40, 40);
  std::vector<uint8_t> unknown(40 * 40, 0);
  uint32_t state = 12345;
  for (int y = 0; y < 40; ++y)
    for (int x = 0; x < 40; ++x) {
      state = state * 1664525u + 1013904223u;
      const bool hole = (x - 20) * (x - 20) + (y - 20) * (y - 20) < 150;
      plane.at(x, y) = hole ? -50.f : static_cast<float>(state >> 8) / (1 << 24);
      unknown[y * 40 + x] = hole ? 1 : 0;
    }
  const Plane before = plane;
  harmonic_fill(plane, unknown);
  for (size_t i = 0; i < plane.data.size(); ++i) {
    if (!unknown[i]) {
      EXPECT_EQ(plane.data[i], before.data[i]);
    } else {
      EXPECT_GE(plane.data[i], 0.f);  // maximum principle
      EXPECT_LE(plane.data[i], 1.f);
    }
  }
  std::vector<uint8_t> all(40 * 40, 1);
  Plane untouched = before;
  harmonic_fill(untouched, all);  // nothing known: left as is
  EXPECT_EQ(untouched.data, before.data);
  EXPECT_THROW(harmonic_fill(untouched, std::vector<uint8_t>(3, 0)), std::invalid_argument);
}

TEST(ImageOps, ContinueClassesCarriesARoadAcrossAHole) {
  // A horizontal road (2) through vegetation (3), a forest block (3) below; a hole over the road.
  const int w = 64, h = 48;
  std::vector<uint8_t> classes(w * h, 3), unknown(w * h, 0);
  for (int y = 20; y < 28; ++y)
    for (int x = 0; x < w; ++x) classes[y * w + x] = 2;
  for (int y = 8; y < 40; ++y)
    for (int x = 20; x < 44; ++x) {
      unknown[y * w + x] = 1;
      classes[y * w + x] = 5;  // whatever is under the hole does not count
    }
  classes[0] = 200;  // an unknown class is filled too
  const auto out = continue_classes(classes, unknown, w, h, 7);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const size_t i = static_cast<size_t>(y) * w + x;
      if (i == 0) {
        EXPECT_EQ(out[i], 3);
      } else if (!unknown[i]) {
        EXPECT_EQ(out[i], classes[i]);
      } else if (y >= 21 && y < 27) {
        EXPECT_EQ(out[i], 2) << x << "," << y;  // the road goes on
      } else if (y < 17 || y >= 31) {
        EXPECT_EQ(out[i], 3) << x << "," << y;
      }
    }
  EXPECT_EQ(continue_classes(classes, std::vector<uint8_t>(w * h, 1), w, h, 7),
            std::vector<uint8_t>(w * h, 255));
}

TEST(ImageOps, MaskedBoxMeanCountsOnlyWeightedPixels) {
  Plane plane(5, 1), weight(5, 1);
  plane.data = {1, 2, 100, 4, 5};
  weight.data = {1, 1, 0, 1, 0};
  std::vector<uint8_t> valid;
  const Plane mean = masked_box_mean(plane, weight, 1, &valid);
  EXPECT_FLOAT_EQ(mean.data[0], 1.5f);
  EXPECT_FLOAT_EQ(mean.data[2], 3.f);
  EXPECT_FLOAT_EQ(mean.data[4], 4.f);
  Plane none(5, 1);
  masked_box_mean(plane, none, 1, &valid);
  EXPECT_EQ(valid, std::vector<uint8_t>(5, 0));
}

// Real pixels: a smooth gradient with faint texture; generated: darker and much grainier.
struct HarmoniseCase {
  std::array<Plane, 3> known, generated;
  Plane mask;
};

HarmoniseCase harmonise_case(double offset, double grain) {
  const int w = 96, h = 96;
  HarmoniseCase t;
  t.mask = Plane(w, h);
  uint32_t state = 99;
  auto noise = [&state] {
    state = state * 1664525u + 1013904223u;
    return static_cast<float>(state >> 8) / (1 << 24) - 0.5f;
  };
  for (int c = 0; c < 3; ++c) {
    t.known[c] = Plane(w, h);
    t.generated[c] = Plane(w, h);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        const float base = 0.4f + 0.1f * c + 0.002f * x;
        const float real = base + 0.02f * noise();
        t.known[c].at(x, y) = real;
        const int d = std::max({32 - x, x - 63, 32 - y, y - 63, 0});  // Chebyshev distance to the square
        const float m = d == 0 ? 1.f : std::max(0.f, 1.f - d / 3.f);
        if (c == 0) t.mask.at(x, y) = m;
        const float fresh = base + static_cast<float>(offset) + static_cast<float>(grain) * noise();
        t.generated[c].at(x, y) = m * fresh + (1 - m) * real;  // as the engine blends the feather
      }
  }
  return t;
}

double fine_grain(const Plane& plane, int x0, int x1, int y0, int y1) {
  double sum = 0;
  int n = 0;
  for (int y = y0; y < y1; ++y)
    for (int x = x0; x < x1; ++x) {
      const double laplace = 4 * plane.at(x, y) - plane.at(x - 1, y) - plane.at(x + 1, y) -
                             plane.at(x, y - 1) - plane.at(x, y + 1);
      sum += laplace * laplace;
      ++n;
    }
  return std::sqrt(sum / n);
}

TEST(ImageOps, HarmoniseMatchesToneAndGrainAndTouchesOnlyTheMask) {
  HarmoniseCase t = harmonise_case(-0.2, 0.3);
  const auto before = t.generated;
  const double grain_before = fine_grain(t.generated[1], 40, 56, 40, 56);
  const double real_grain = fine_grain(t.known[1], 40, 56, 40, 56);
  const double removed = harmonise(t.generated, t.known, t.mask, 8);
  EXPECT_GT(removed, 0.5);
  for (int c = 0; c < 3; ++c) {
    for (size_t i = 0; i < t.mask.data.size(); ++i) {
      if (t.mask.data[i] <= 0) {
        EXPECT_EQ(t.generated[c].data[i], before[c].data[i]);
      }
    }
    // Along the inside of the border and in the middle the tone is the real one's.
    for (int x : {35, 48, 60}) {
      for (int y : {35, 48, 60}) {
        double generated = 0, real = 0;
        for (int dy = -3; dy <= 3; ++dy)
          for (int dx = -3; dx <= 3; ++dx) {
            generated += t.generated[c].at(x + dx, y + dy);
            real += t.known[c].at(x + dx, y + dy);
          }
        EXPECT_NEAR(generated / 49, real / 49, 0.04) << c << " " << x << "," << y;
      }
    }
  }
  const double grain_after = fine_grain(t.generated[1], 40, 56, 40, 56);
  EXPECT_LT(grain_after, grain_before * 0.5);
  EXPECT_GT(grain_after, real_grain * 0.5);  // reduced to the surroundings' level, not erased
}

TEST(ImageOps, HarmoniseLeavesAMatchingAreaNearlyAlone) {
  HarmoniseCase t = harmonise_case(0.0, 0.02);  // the same tone and grain as the real pixels
  const auto before = t.generated;
  const double removed = harmonise(t.generated, t.known, t.mask, 8);
  EXPECT_LT(removed, 0.15);
  double largest = 0;
  for (int c = 0; c < 3; ++c)
    for (size_t i = 0; i < t.mask.data.size(); ++i)
      largest = std::max(largest, static_cast<double>(std::abs(t.generated[c].data[i] - before[c].data[i])));
  EXPECT_LT(largest, 0.03);
  // Nothing to match against: no change.
  HarmoniseCase all = harmonise_case(-0.2, 0.3);
  for (auto& v : all.mask.data) v = 1.f;
  const auto untouched = all.generated;
  EXPECT_EQ(harmonise(all.generated, all.known, all.mask, 8), 0.0);
  EXPECT_EQ(all.generated[0].data, untouched[0].data);
}

TEST(ImageOps, HarmoniseCalmsBlotchyColourOnACalmSurface) {
  // Calm real surface (dark water); generated area with colour blotches of about 12 px.
  HarmoniseCase t = harmonise_case(0.0, 0.0);
  for (int y = 0; y < 96; ++y)
    for (int x = 0; x < 96; ++x) {
      const float m = t.mask.at(x, y);
      const float blotch = 0.15f * std::sin(x * 0.5f) * std::cos(y * 0.5f);
      t.generated[0].at(x, y) += m * blotch;
      t.generated[2].at(x, y) -= m * blotch;
    }
  auto chroma_spread = [&](const std::array<Plane, 3>& rgb) {
    double sum = 0, sum2 = 0;
    int n = 0;
    for (int y = 36; y < 60; ++y)
      for (int x = 36; x < 60; ++x) {
        const double v = rgb[0].at(x, y) - rgb[2].at(x, y);
        sum += v;
        sum2 += v * v;
        ++n;
      }
    return std::sqrt(sum2 / n - (sum / n) * (sum / n));
  };
  const double before = chroma_spread(t.generated);
  harmonise(t.generated, t.known, t.mask, 8);
  const double after = chroma_spread(t.generated);
  EXPECT_LT(after, before * 0.5) << before << " -> " << after;
}

}  // namespace
}  // namespace terrasynth::pipeline::detail
