// The evaluation metrics: mean IoU and the kernel (KID-style) distance.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "terrasynth/engine/segmenter.h"

using namespace terrasynth::engine;

TEST(Metrics, MeanIouOfKnownMaps) {
  ClassMap reference(2, 4), predicted(2, 4);
  // reference: row 0 class 0, row 1 class 1; prediction gets one class-1 pixel wrong.
  for (int x = 0; x < 4; ++x) {
    reference.at(0, x) = 0;
    reference.at(1, x) = 1;
    predicted.at(0, x) = 0;
    predicted.at(1, x) = 1;
  }
  predicted.at(1, 3) = 0;
  reference.at(0, 0) = ClassMap::kUnknownClass;  // ignored
  const IouReport report = mean_iou({predicted}, {reference}, 3);
  EXPECT_NEAR(report.per_class[0], 3.0 / 4.0, 1e-12);  // 3 correct, union 3 + 1 false positive
  EXPECT_NEAR(report.per_class[1], 3.0 / 4.0, 1e-12);
  EXPECT_TRUE(std::isnan(report.per_class[2]));
  EXPECT_NEAR(report.mean_iou, 0.75, 1e-12);
  EXPECT_NEAR(report.pixel_accuracy, 6.0 / 7.0, 1e-12);
}

TEST(Metrics, KernelDistanceSeparatesDistributions) {
  std::mt19937_64 rng(3);
  std::normal_distribution<float> normal;
  auto draw = [&](int n, float shift) {
    std::vector<std::vector<float>> set(n, std::vector<float>(16));
    for (auto& v : set)
      for (auto& x : v) x = normal(rng) + shift;
    return set;
  };
  const auto a = draw(200, 0), b = draw(200, 0), c = draw(200, 0.5f);
  const double same = kernel_distance(a, b, 20, 100, 1);
  const double different = kernel_distance(a, c, 20, 100, 1);
  EXPECT_LT(std::abs(same), 0.02) << "unbiased estimate is near 0 for one distribution";
  EXPECT_GT(different, 10 * std::abs(same) + 0.01);
  EXPECT_THROW(kernel_distance({{1.f}}, b), std::exception);
}
