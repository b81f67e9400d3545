#include <gtest/gtest.h>

#include <cmath>

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

}  // namespace
}  // namespace terrasynth::pipeline::detail
