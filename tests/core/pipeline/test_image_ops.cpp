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

// Reproducible uniform noise in [-0.5, 0.5): a linear congruential generator.
struct Noise {
  uint32_t state;
  float operator()() {
    state = state * 1664525u + 1013904223u;
    return static_cast<float>(state >> 8) / (1 << 24) - 0.5f;
  }
};

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
  Noise noise{12345u};
  for (int y = 0; y < 40; ++y)
    for (int x = 0; x < 40; ++x) {
      const float value = noise() + 0.5f;
      const bool hole = (x - 20) * (x - 20) + (y - 20) * (y - 20) < 150;
      plane.at(x, y) = hole ? -50.f : value;
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

TEST(ImageOps, ContinueClassesBridgesAThinDiagonalPathAcrossALargeHole) {
  // A 3 px wide path (5) crossing vegetation (3) diagonally, a large bare area (5) in one corner
  // that must not be bridged to anything, and a hole much wider than the path.
  const int w = 72, h = 72;
  std::vector<uint8_t> classes(w * h, 3), unknown(w * h, 0);
  auto off_path = [](double x, double y) { return std::abs(y - (8 + 0.75 * x)) / std::hypot(1.0, 0.75); };
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      if (off_path(x, y) <= 1.5) classes[y * w + x] = 5;
      if (x >= 56 && y < 12) classes[y * w + x] = 5;  // the bare corner
    }
  for (int y = 18; y < 54; ++y)
    for (int x = 16; x < 52; ++x) unknown[y * w + x] = 1;
  const auto out = continue_classes(classes, unknown, w, h, 7);
  int on_path = 0, path_kept = 0, far_wrong = 0, far = 0;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const size_t i = static_cast<size_t>(y) * w + x;
      if (!unknown[i]) {
        EXPECT_EQ(out[i], classes[i]);
        continue;
      }
      const double d = off_path(x, y);
      if (d <= 0.8) {
        ++on_path;
        path_kept += out[i] == 5;
      } else if (d >= 6) {
        ++far;
        far_wrong += out[i] != 3;
      }
    }
  EXPECT_GT(on_path, 30);
  EXPECT_EQ(path_kept, on_path) << "the path goes on across the hole";
  EXPECT_EQ(far_wrong, 0) << "of " << far << " pixels away from the path";
}

TEST(ImageOps, ContinueClassesTakesARoadOnToTheEdgeThroughAMaskedStrip) {
  // A road (2) running down through vegetation (3) into a masked strip along the bottom edge.
  const int w = 48, h = 48;
  std::vector<uint8_t> classes(w * h, 3), unknown(w * h, 0);
  for (int y = 0; y < h; ++y)
    for (int x = 22; x < 26; ++x) classes[y * w + x] = 2;
  for (int y = 20; y < h; ++y)
    for (int x = 0; x < w; ++x) unknown[y * w + x] = 1;
  const auto out = continue_classes(classes, unknown, w, h, 7);
  for (int y = 20; y < h; ++y) {
    for (int x = 23; x < 25; ++x) EXPECT_EQ(out[y * w + x], 2) << x << "," << y;
    for (int x : {0, 10, 16, 32, 38, 47}) EXPECT_EQ(out[y * w + x], 3) << x << "," << y;
  }
}

// A noisy green field, optionally crossed diagonally by an 8 px grey road; a square mask whose
// guide (what the model drew) is plain field.
struct StructureCase {
  std::array<Plane, 3> image;
  Plane mask;
  std::vector<uint8_t> usable;
};

double road_distance(int x, int y) { return std::abs(y - (6 + 0.8 * x)) / std::hypot(1.0, 0.8); }

StructureCase structure_case(bool road) {
  const int w = 96, h = 96;
  StructureCase t;
  t.mask = Plane(w, h);
  t.usable.assign(static_cast<size_t>(w) * h, 1);
  Noise noise{11u};
  const std::array<float, 3> field{0.3f, 0.5f, 0.25f}, grey{0.62f, 0.6f, 0.58f};
  for (int c = 0; c < 3; ++c) t.image[c] = Plane(w, h);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const bool masked = x >= 28 && x < 68 && y >= 28 && y < 68;
      const bool on_road = road && !masked && road_distance(x, y) <= 4;
      if (masked) t.mask.at(x, y) = 1.f;
      const float n = 0.04f * noise();
      for (int c = 0; c < 3; ++c) t.image[c].at(x, y) = (on_road ? grey : field)[c] + n;
    }
  return t;
}

TEST(ImageOps, BridgeStructuresDrawsARoadAcrossTheMaskInItsColour) {
  StructureCase t = structure_case(true);
  const std::array<Plane, 3> before = t.image;
  const int painted = bridge_structures(t.image, t.mask, t.usable, 4, 6);
  EXPECT_GT(painted, 200);
  int on_road = 0, grey = 0, far = 0, changed_far = 0;
  for (int y = 0; y < 96; ++y)
    for (int x = 0; x < 96; ++x) {
      if (t.mask.at(x, y) <= 0) {
        for (int c = 0; c < 3; ++c) ASSERT_EQ(t.image[c].at(x, y), before[c].at(x, y));
        continue;
      }
      const double d = road_distance(x, y);
      if (d <= 2) {
        ++on_road;
        grey += t.image[0].at(x, y) > 0.5f && t.image[2].at(x, y) > 0.45f;
      } else if (d >= 12) {
        ++far;
        changed_far += t.image[0].at(x, y) != before[0].at(x, y);
      }
    }
  EXPECT_GT(on_road, 100);
  EXPECT_GE(grey, on_road * 9 / 10) << "of " << on_road << " pixels on the road's line";
  EXPECT_EQ(changed_far, 0) << "of " << far << " pixels away from it";
}

TEST(ImageOps, BridgeStructuresLeavesAPlainFieldAlone) {
  StructureCase t = structure_case(false);
  const std::array<Plane, 3> before = t.image;
  EXPECT_EQ(bridge_structures(t.image, t.mask, t.usable, 4, 6), 0);
  for (int c = 0; c < 3; ++c) EXPECT_EQ(t.image[c].data, before[c].data);
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
  Noise noise{99u};
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

TEST(ImageOps, HarmoniseMatchesTheSharpnessOfASoftPhoto) {
  // Real pixels: soft texture (noise smoothed over 3 x 3 pixels, as a slightly blurred photo);
  // generated: crisp pixel noise with about the same variation below 5 x 5 pixels. Matching
  // that scale alone would leave the fill crisper than the photo pixel to pixel.
  HarmoniseCase t = harmonise_case(0.0, 0.0);
  const int w = 96, h = 96;
  Noise noise{7u};
  Plane raw(w, h);
  for (auto& v : raw.data) v = noise();
  Plane soft = masked_box_mean(raw, Plane(w, h, 1.f), 1);
  for (auto& v : soft.data) v *= 0.3f;
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        const float m = t.mask.at(x, y);
        t.known[c].at(x, y) += soft.at(x, y);
        t.generated[c].at(x, y) = m * (t.known[c].at(x, y) - soft.at(x, y) + 0.12f * raw.at((x * 7) % w, (y * 5) % h)) +
                                  (1 - m) * t.known[c].at(x, y);
      }
  const double real = fine_grain(t.known[1], 8, 88, 8, 24);
  const double before = fine_grain(t.generated[1], 40, 56, 40, 56);
  ASSERT_GT(before, 2.0 * real) << "the case needs a fill crisper than the photo";
  harmonise(t.generated, t.known, t.mask, 8);
  const double after = fine_grain(t.generated[1], 40, 56, 40, 56);
  EXPECT_LT(after, 1.35 * real) << real << ": " << before << " -> " << after;
  EXPECT_GT(after, 0.5 * real) << real << ": " << before << " -> " << after;
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

// Real pixels: a reddish texture of diagonal stripes left of x = 64, a bluish texture of spots
// right of it, both with pixel noise. The masked square straddles the edge and holds the guide:
// each side's flat mean colour, as a blurry generation would.
struct TextureCase {
  std::array<Plane, 3> image;
  Plane mask;
  std::vector<uint8_t> usable;
  std::array<double, 3> left_mean{}, right_mean{};
};

TextureCase texture_case() {
  const int w = 128, h = 128;
  TextureCase t;
  t.mask = Plane(w, h);
  t.usable.assign(static_cast<size_t>(w) * h, 1);
  Noise noise{7u};
  for (int c = 0; c < 3; ++c) t.image[c] = Plane(w, h);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const bool left = x < 64;
      const float detail = left ? 0.12f * std::sin(1.3f * x + 0.7f * y)
                                : 0.12f * std::sin(0.9f * x) * std::sin(0.9f * y);
      const std::array<float, 3> base = left ? std::array<float, 3>{0.6f, 0.35f, 0.25f}
                                             : std::array<float, 3>{0.25f, 0.35f, 0.6f};
      for (int c = 0; c < 3; ++c) {
        const float v = base[c] + detail + 0.03f * noise();
        t.image[c].at(x, y) = v;
        if (x >= 40 && x < 88 && y >= 40 && y < 88) continue;
        (left ? t.left_mean : t.right_mean)[c] += v;
      }
    }
  for (int c = 0; c < 3; ++c) {
    t.left_mean[c] /= 64.0 * 128 - 24.0 * 48;
    t.right_mean[c] /= 64.0 * 128 - 24.0 * 48;
  }
  for (int y = 40; y < 88; ++y)
    for (int x = 40; x < 88; ++x) {
      t.mask.at(x, y) = 1.f;
      for (int c = 0; c < 3; ++c)
        t.image[c].at(x, y) = static_cast<float>(x < 64 ? t.left_mean[c] : t.right_mean[c]);
    }
  return t;
}

double mean_of(const Plane& plane, int x0, int x1, int y0, int y1) {
  double sum = 0;
  for (int y = y0; y < y1; ++y)
    for (int x = x0; x < x1; ++x) sum += plane.at(x, y);
  return sum / ((x1 - x0) * (y1 - y0));
}

TEST(ImageOps, TransferTextureRebuildsTheSurroundingsDetailAlongTheGuide) {
  TextureCase t = texture_case();
  const std::array<Plane, 3> before = t.image;
  TextureOptions options;
  options.seed = 3;
  const double difference = transfer_texture(t.image, t.mask, t.usable, options);
  ASSERT_GE(difference, 0.0);

  // Only the masked square changed.
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 128; ++y)
      for (int x = 0; x < 128; ++x)
        if (t.mask.at(x, y) <= 0) {
          ASSERT_EQ(t.image[c].at(x, y), before[c].at(x, y)) << x << "," << y;
        }

  // The flat guide now carries detail like the real texture on each side...
  for (int c = 0; c < 3; ++c) {
    const double real_left = fine_grain(before[c], 8, 32, 8, 120);
    const double real_right = fine_grain(before[c], 96, 120, 8, 120);
    const double filled_left = fine_grain(t.image[c], 44, 60, 44, 84);
    const double filled_right = fine_grain(t.image[c], 68, 84, 44, 84);
    EXPECT_NEAR(fine_grain(before[c], 44, 60, 44, 84), 0.0, 1e-6);
    EXPECT_GT(filled_left, 0.6 * real_left) << "band " << c;
    EXPECT_GT(filled_right, 0.6 * real_right) << "band " << c;
    EXPECT_LT(filled_left, 1.5 * real_left) << "band " << c;
    EXPECT_LT(filled_right, 1.5 * real_right) << "band " << c;
  }
  // ... and follows the guide's structure: reddish texture left of the edge, bluish right of it.
  EXPECT_GT(mean_of(t.image[0], 42, 60, 42, 86), mean_of(t.image[2], 42, 60, 42, 86) + 0.2);
  EXPECT_GT(mean_of(t.image[2], 68, 86, 42, 86), mean_of(t.image[0], 68, 86, 42, 86) + 0.2);
  for (int c = 0; c < 3; ++c) {
    EXPECT_NEAR(mean_of(t.image[c], 42, 60, 42, 86), t.left_mean[c], 0.05);
    EXPECT_NEAR(mean_of(t.image[c], 68, 86, 42, 86), t.right_mean[c], 0.05);
  }

  // Same seed, same pixels.
  TextureCase again = texture_case();
  transfer_texture(again.image, again.mask, again.usable, options);
  for (int c = 0; c < 3; ++c) EXPECT_EQ(again.image[c].data, t.image[c].data);
}

TEST(ImageOps, TransferTextureNeedsWholeRealPatchesAndStopsWhenCancelled) {
  // Only pixels outside the square are usable; unusable everywhere but a 5 px frame leaves no
  // whole 7 x 7 patch.
  TextureCase t = texture_case();
  const std::array<Plane, 3> before = t.image;
  std::vector<uint8_t> frame(t.usable.size(), 0);
  for (int y = 0; y < 128; ++y)
    for (int x = 0; x < 128; ++x)
      frame[static_cast<size_t>(y) * 128 + x] = x < 5 || y < 5 || x >= 123 || y >= 123;
  EXPECT_EQ(transfer_texture(t.image, t.mask, frame, TextureOptions{}), -1.0);
  for (int c = 0; c < 3; ++c) EXPECT_EQ(t.image[c].data, before[c].data);

  EXPECT_EQ(transfer_texture(t.image, t.mask, t.usable, TextureOptions{}, [] { return true; }), -1.0);
  for (int c = 0; c < 3; ++c) EXPECT_EQ(t.image[c].data, before[c].data);

  EXPECT_THROW(transfer_texture(t.image, t.mask, std::vector<uint8_t>(10, 1), TextureOptions{}),
               std::invalid_argument);
}

// Two labelled examples: class 0 a reddish texture of diagonal stripes, class 1 a bluish texture
// of spots (64 x 64 each, pixel noise on both).
std::vector<Example> texture_examples() {
  std::vector<Example> examples(2);
  Noise noise{11u};
  for (int k = 0; k < 2; ++k) {
    Example& e = examples[k];
    for (int c = 0; c < 3; ++c) e.rgb[c] = Plane(64, 64);
    e.classes.assign(64 * 64, static_cast<uint8_t>(k));
    const std::array<float, 3> base = k == 0 ? std::array<float, 3>{0.6f, 0.35f, 0.25f}
                                             : std::array<float, 3>{0.25f, 0.35f, 0.6f};
    for (int y = 0; y < 64; ++y)
      for (int x = 0; x < 64; ++x) {
        const float detail = k == 0 ? 0.12f * std::sin(1.3f * x + 0.7f * y)
                                    : 0.12f * std::sin(0.9f * x) * std::sin(0.9f * y);
        for (int c = 0; c < 3; ++c) e.rgb[c].at(x, y) = base[c] + detail + 0.03f * noise();
      }
  }
  return examples;
}

TEST(ImageOps, TextureByExampleBuildsEachClassFromItsOwnExamples) {
  const std::vector<Example> examples = texture_examples();
  // A flat grey guide, equally far from both examples' colours: only the classes can decide.
  const int w = 96, h = 64;
  std::array<Plane, 3> image;
  for (int c = 0; c < 3; ++c) image[c] = Plane(w, h, 0.4f);
  const Plane mask(w, h, 1.f);
  std::vector<uint8_t> classes(static_cast<size_t>(w) * h);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) classes[static_cast<size_t>(y) * w + x] = x < 48 ? 0 : 1;
  TextureOptions options;
  options.seed = 5;
  std::array<Plane, 3> result = image;
  ASSERT_GE(texture_by_example(result, mask, classes, examples, options), 0.0);
  // Reddish where class 0 is asked for, bluish where class 1 is (away from the boundary).
  EXPECT_GT(mean_of(result[0], 4, 40, 4, 60), mean_of(result[2], 4, 40, 4, 60) + 0.2);
  EXPECT_GT(mean_of(result[2], 56, 92, 4, 60), mean_of(result[0], 56, 92, 4, 60) + 0.2);
  // With the examples' detail, not the guide's flatness.
  for (int c = 0; c < 3; ++c) {
    const double real_red = fine_grain(examples[0].rgb[c], 4, 60, 4, 60);
    const double real_blue = fine_grain(examples[1].rgb[c], 4, 60, 4, 60);
    EXPECT_GT(fine_grain(result[c], 4, 40, 4, 60), 0.6 * real_red) << "band " << c;
    EXPECT_LT(fine_grain(result[c], 4, 40, 4, 60), 1.5 * real_red) << "band " << c;
    EXPECT_GT(fine_grain(result[c], 56, 92, 4, 60), 0.6 * real_blue) << "band " << c;
    EXPECT_LT(fine_grain(result[c], 56, 92, 4, 60), 1.5 * real_blue) << "band " << c;
  }
  // Same seed, same pixels.
  std::array<Plane, 3> again = image;
  texture_by_example(again, mask, classes, examples, options);
  for (int c = 0; c < 3; ++c) EXPECT_EQ(again[c].data, result[c].data);

  // Without classes the guide's colours decide: a reddish left half and a bluish right half.
  std::array<Plane, 3> guided;
  for (int c = 0; c < 3; ++c) {
    guided[c] = Plane(w, h);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) guided[c].at(x, y) = x < 48 ? (c == 0 ? 0.6f : c == 1 ? 0.35f : 0.25f)
                                                             : (c == 0 ? 0.25f : c == 1 ? 0.35f : 0.6f);
  }
  ASSERT_GE(texture_by_example(guided, mask, {}, examples, options), 0.0);
  EXPECT_GT(mean_of(guided[0], 4, 40, 4, 60), mean_of(guided[2], 4, 40, 4, 60) + 0.2);
  EXPECT_GT(mean_of(guided[2], 56, 92, 4, 60), mean_of(guided[0], 56, 92, 4, 60) + 0.2);
}

TEST(ImageOps, TextureByExampleKeepsFixedPixelsAndStopsWhenCancelled) {
  const std::vector<Example> examples = texture_examples();
  const int w = 64, h = 64;
  std::array<Plane, 3> image;
  for (int c = 0; c < 3; ++c) image[c] = Plane(w, h, 0.4f);
  Plane mask(w, h, 0.f);
  for (int y = 16; y < 48; ++y)
    for (int x = 16; x < 48; ++x) mask.at(x, y) = 1.f;
  // The fixed grey surroundings are class 0; the square asks for class 1, so it cannot simply
  // continue them.
  std::vector<uint8_t> classes(static_cast<size_t>(w) * h, 0);
  for (int y = 16; y < 48; ++y)
    for (int x = 16; x < 48; ++x) classes[static_cast<size_t>(y) * w + x] = 1;
  std::array<Plane, 3> result = image;
  ASSERT_GE(texture_by_example(result, mask, classes, examples, TextureOptions{}), 0.0);
  bool changed = false;
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        if (mask.at(x, y) <= 0) {
          ASSERT_EQ(result[c].at(x, y), image[c].at(x, y)) << x << "," << y;
        } else {
          changed = changed || result[c].at(x, y) != image[c].at(x, y);
        }
      }
  EXPECT_TRUE(changed);
  EXPECT_GT(mean_of(result[2], 20, 44, 20, 44), mean_of(result[0], 20, 44, 20, 44) + 0.2);

  std::array<Plane, 3> cancelled = image;
  EXPECT_EQ(texture_by_example(cancelled, mask, classes, examples, TextureOptions{}, [] { return true; }), -1.0);
  for (int c = 0; c < 3; ++c) EXPECT_EQ(cancelled[c].data, image[c].data);

  std::vector<Example> broken = examples;
  broken[1].classes.resize(10);
  EXPECT_THROW(texture_by_example(result, mask, classes, broken, TextureOptions{}), std::invalid_argument);
  EXPECT_THROW(texture_by_example(result, mask, std::vector<uint8_t>(7, 0), examples, TextureOptions{}),
               std::invalid_argument);
}

}  // namespace
}  // namespace terrasynth::pipeline::detail
