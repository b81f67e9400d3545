// The counter-based noise: window independence, statistics, independence of neighbours, seeds
// and streams, thread-count independence and speed.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <vector>

#include "sched/noise.h"

using namespace terrasynth::engine::sched;

namespace {

double corr(const torch::Tensor& a, const torch::Tensor& b) {
  const torch::Tensor x = a.flatten().to(torch::kFloat64);
  const torch::Tensor y = b.flatten().to(torch::kFloat64);
  const torch::Tensor xc = x - x.mean();
  const torch::Tensor yc = y - y.mean();
  return ((xc * yc).sum() / (xc.norm() * yc.norm())).item<double>();
}

// Standard normal CDF.
double phi(double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); }

}  // namespace

TEST(CounterNoise, ValuesDependOnlyOnTheGlobalPosition) {
  const CounterNoise gen(42);
  const uint64_t stream = noise_stream(NoiseUse::Step, 3, 0);
  const torch::Tensor big = gen.window(-37, -21, 161, 93, 5, stream);
  // Sub-windows at odd and even, negative and positive offsets are bit-identical crops.
  for (auto [x0, y0, w, h] : std::vector<std::array<int64_t, 4>>{
           {-37, -21, 161, 93}, {-36, -20, 1, 1}, {0, 0, 64, 64}, {1, 3, 63, 17}, {-1, -1, 2, 2},
           {60, 40, 61, 31}, {122, 70, 1, 2}}) {
    const torch::Tensor part = gen.window(x0, y0, w, h, 5, stream);
    const torch::Tensor crop = big.slice(2, y0 + 21, y0 + 21 + h).slice(3, x0 + 37, x0 + 37 + w);
    EXPECT_TRUE(torch::equal(part, crop)) << x0 << "," << y0 << " " << w << "x" << h;
  }
  // Channels are independent of the channel count requested.
  EXPECT_TRUE(torch::equal(gen.window(5, 6, 30, 20, 2, stream), gen.window(5, 6, 30, 20, 5, stream).slice(1, 0, 2)));
  // The single-value path agrees.
  for (int c = 0; c < 5; ++c)
    EXPECT_EQ(gen.at(-37 + 10, -21 + 7, c, stream), big[0][c][7][10].item<float>());
  // Very large coordinates work the same way.
  const int64_t far = int64_t(1) << 40;
  const torch::Tensor a = gen.window(far - 3, -far, 8, 2, 1, stream);
  EXPECT_TRUE(torch::equal(a.slice(3, 3, 8), gen.window(far, -far, 5, 2, 1, stream)));
  EXPECT_TRUE(std::isfinite(a.abs().max().item<float>()));
}

TEST(CounterNoise, IsStandardNormal) {
  const torch::Tensor z = CounterNoise(7).window(0, 0, 512, 512, 4, noise_stream(NoiseUse::Initial, 0, 0))
                              .to(torch::kFloat64).flatten();
  const double n = static_cast<double>(z.numel());
  const double mean = z.mean().item<double>();
  const double var = z.var(false).item<double>();
  const torch::Tensor c = z - mean;
  const double skew = (c.pow(3).mean() / std::pow(var, 1.5)).item<double>();
  const double kurt = (c.pow(4).mean() / (var * var)).item<double>();
  // Standard errors: mean 1/sqrt(n), var sqrt(2/n), skewness sqrt(6/n), kurtosis sqrt(24/n);
  // the limits are 5 of them.
  EXPECT_NEAR(mean, 0.0, 5 / std::sqrt(n));
  EXPECT_NEAR(var, 1.0, 5 * std::sqrt(2 / n));
  EXPECT_NEAR(skew, 0.0, 5 * std::sqrt(6 / n));
  EXPECT_NEAR(kurt, 3.0, 5 * std::sqrt(24 / n));
  // The empirical CDF at several points, tails included (binomial standard error, 5 of them).
  for (double q : {-3.5, -2.5, -1.5, -0.5, 0.0, 0.7, 1.9, 3.0, 4.0}) {
    const double p = phi(q);
    const double f = (z <= q).to(torch::kFloat64).mean().item<double>();
    EXPECT_NEAR(f, p, 5 * std::sqrt(p * (1 - p) / n) + 1e-7) << "at " << q;
  }
}

TEST(CounterNoise, NeighboursSeedsStepsAndStreamsAreUncorrelated) {
  const CounterNoise gen(2024);
  const uint64_t s0 = noise_stream(NoiseUse::Step, 0, 0);
  const torch::Tensor z = gen.window(0, 0, 256, 256, 4, s0);
  const double limit = 5.0 / std::sqrt(256.0 * 255 * 4);  // 5 standard errors of a correlation
  // x neighbours inside a Box-Muller pair (even, odd) and across pairs (odd, even).
  const torch::Tensor even = z.slice(3, 0, 256, 2), odd = z.slice(3, 1, 256, 2);
  EXPECT_NEAR(corr(even, odd), 0.0, 2 * limit);
  EXPECT_NEAR(corr(odd.slice(3, 0, 127), even.slice(3, 1, 128)), 0.0, 2 * limit);
  // Radius and angle of one pair are independent: the squares of a pair are uncorrelated too.
  EXPECT_NEAR(corr(even.pow(2), odd.pow(2)), 0.0, 2 * limit);
  EXPECT_NEAR(corr(z.slice(2, 0, 255), z.slice(2, 1, 256)), 0.0, limit);  // y neighbours
  EXPECT_NEAR(corr(z.slice(1, 0, 3), z.slice(1, 1, 4)), 0.0, limit);      // channels
  const double whole = 5.0 / std::sqrt(256.0 * 256 * 4);
  EXPECT_NEAR(corr(z, CounterNoise(2025).window(0, 0, 256, 256, 4, s0)), 0.0, whole);  // seeds
  EXPECT_NEAR(corr(z, gen.window(0, 0, 256, 256, 4, noise_stream(NoiseUse::Step, 1, 0))), 0.0, whole);
  EXPECT_NEAR(corr(z, gen.window(0, 0, 256, 256, 4, noise_stream(NoiseUse::Step, 0, 1))), 0.0, whole);
  EXPECT_NEAR(corr(z, gen.window(0, 0, 256, 256, 4, noise_stream(NoiseUse::Jump, 0, 0))), 0.0, whole);
  EXPECT_NEAR(corr(z, gen.window(1, 0, 256, 256, 4, s0)), 0.0, whole);  // shifted by one pixel
  // Distinct streams for every (use, step, pass) combination used by the samplers.
  EXPECT_NE(noise_stream(NoiseUse::Step, 1, 0), noise_stream(NoiseUse::Step, 0, 1));
  EXPECT_NE(noise_stream(NoiseUse::Known, 0, 0), noise_stream(NoiseUse::Initial, 0, 0));
}

TEST(CounterNoise, DoesNotDependOnTheThreadCount) {
  const CounterNoise gen(11);
  at::set_num_threads(1);
  const torch::Tensor a = gen.window(-3, 9, 301, 77, 6, 5);
  at::set_num_threads(2);
  const torch::Tensor b = gen.window(-3, 9, 301, 77, 6, 5);
  EXPECT_TRUE(torch::equal(a, b));
}

TEST(CounterNoise, CanvasNoiseCallbackGivesTheWindowOnTheRequestedDtype) {
  const CounterNoise gen(3);
  const NoiseFn fn = canvas_noise(gen, 10, 20, 33, 17, 4, torch::kCPU, torch::kFloat64);
  const torch::Tensor n = fn(NoiseUse::Jump, 4, 2);
  EXPECT_EQ(n.scalar_type(), torch::kFloat64);
  EXPECT_EQ(n.sizes(), (std::vector<int64_t>{1, 4, 17, 33}));
  EXPECT_TRUE(torch::equal(n.to(torch::kFloat32),
                           gen.window(10, 20, 33, 17, 4, noise_stream(NoiseUse::Jump, 4, 2))));
}

TEST(CounterNoise, FillsALargeBlockQuickly) {
  // Design target: well under 50 ms of wall time for 512 x 512 x 48 values on two idle cores.
  // The machines running the tests are shared, so this measures processor time (all threads)
  // and asserts loosely; the measured times are printed.
  at::set_num_threads(2);
  const CounterNoise gen(1);
  std::vector<float> buffer(static_cast<size_t>(512) * 512 * 48);
  gen.fill(buffer.data(), 0, 0, 512, 512, 48, 0);  // warm-up (thread pool)
  double best_cpu = 1e9, best_wall = 1e9;
  for (int rep = 0; rep < 3; ++rep) {
    const std::clock_t c0 = std::clock();
    const auto t0 = std::chrono::steady_clock::now();
    gen.fill(buffer.data(), 0, 0, 512, 512, 48, static_cast<uint64_t>(rep));
    const auto t1 = std::chrono::steady_clock::now();
    const std::clock_t c1 = std::clock();
    best_cpu = std::min(best_cpu, 1000.0 * static_cast<double>(c1 - c0) / CLOCKS_PER_SEC);
    best_wall = std::min(best_wall, std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  std::printf("counter noise 512x512x48: %.1f ms processor time, %.1f ms wall time\n", best_cpu,
              best_wall);
  EXPECT_LT(best_cpu, 200.0);
}
