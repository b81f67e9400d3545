#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "runtime/conditioning.h"
#include "terrasynth/test_paths.h"

using namespace terrasynth::engine;

namespace {
Manifest base() {
  std::ifstream in(std::string(TERRASYNTH_TEST_SOURCE_DIR) + "/configs/terrasynth-base.json");
  nlohmann::json config;
  in >> config;
  return parse_manifest(config["model"].dump(), "model.json");
}
}  // namespace

TEST(Conditioning, PixelLatentRoundTripsExactlyEnough) {
  const Manifest m = base();
  auto images = torch::rand({2, 3, 64, 96});
  auto latent = pixels_to_latent(images, m.conditioning);
  EXPECT_EQ(latent.sizes(), (std::vector<int64_t>{2, 48, 16, 24}));
  // Pixels in [0, 1] map to [-1, 1], times the manifest's latent scaling factor.
  EXPECT_LE(latent.abs().max().item<float>(), static_cast<float>(m.conditioning.latent_scale) + 1e-6f);
  EXPECT_GT(latent.abs().max().item<float>(), 0.9f * static_cast<float>(m.conditioning.latent_scale));
  EXPECT_TRUE(torch::allclose(latent_to_pixels(latent, m.conditioning), images, 1e-6, 1e-6));
}

TEST(Conditioning, LayoutFractionsSumToKnownShare) {
  auto classes = torch::full({1, 8, 8}, 255, torch::kUInt8);
  classes.narrow(1, 0, 4).narrow(2, 0, 4).fill_(1);  // top-left block: building
  classes[0][0][4] = 2;                               // one road pixel in the top-right block
  auto f = layout_fractions(classes, 7, 4);
  EXPECT_EQ(f.sizes(), (std::vector<int64_t>{1, 7, 2, 2}));
  EXPECT_FLOAT_EQ(f[0][1][0][0].item<float>(), 1.f);
  EXPECT_FLOAT_EQ(f[0][2][0][1].item<float>(), 1.f / 16.f);
  EXPECT_FLOAT_EQ(f[0].sum(0)[1][1].item<float>(), 0.f) << "unknown pixels are no class";
}

TEST(Conditioning, ClassVectorsEncodeStyleSceneAndGsd) {
  const Manifest m = base();
  auto v = class_vectors(m, {1, -1}, {-1, 8}, {0.5, 0.0});
  ASSERT_EQ(v.sizes(), (std::vector<int64_t>{2, 36}));
  EXPECT_FLOAT_EQ(v[0][1].item<float>(), 1.f);
  EXPECT_FLOAT_EQ(v[0].narrow(0, 0, 34).sum().item<float>(), 1.f) << "style only";
  EXPECT_FLOAT_EQ(v[0][34].item<float>(), 1.f) << "gsd known";
  EXPECT_FLOAT_EQ(v[0][35].item<float>(), 0.f) << "log2(0.5 / 0.5)";
  EXPECT_FLOAT_EQ(v[1][4 + 8].item<float>(), 1.f) << "scene 8";
  EXPECT_FLOAT_EQ(v[1][34].item<float>(), 0.f) << "gsd unknown";
  EXPECT_FLOAT_EQ(class_vectors(m, {-1}, {-1}, {2.0})[0][35].item<float>(), 1.f) << "log2(4) * 0.5";
}

TEST(Conditioning, InpaintChannelsHideTheRegionToRegenerate) {
  const Manifest m = base();
  auto known = torch::rand({1, 3, 16, 16});
  auto mask = torch::zeros({1, 1, 16, 16});
  mask.narrow(2, 0, 8).fill_(1.f);  // regenerate the top half
  auto c = inpaint_channels(known, mask, m.conditioning);
  EXPECT_EQ(c.sizes(), (std::vector<int64_t>{1, 49, 4, 4}));
  EXPECT_FLOAT_EQ(c.narrow(1, 0, 48).narrow(2, 0, 2).abs().sum().item<float>(), 0.f);
  EXPECT_TRUE(torch::allclose(c.narrow(1, 0, 48).narrow(2, 2, 2),
                              pixels_to_latent(known, m.conditioning).narrow(2, 2, 2)));
  EXPECT_FLOAT_EQ(c[0][48][0][0].item<float>(), 1.f);
  EXPECT_FLOAT_EQ(c[0][48][3][3].item<float>(), 0.f);
  EXPECT_EQ(denoiser_input_channels(m), 48 + 7 + 49);
}


namespace {
// RMS of x minus its 3 x 3 box mean (replicated edges): the pixel-scale detail of an image.
double fine_detail(const torch::Tensor& x) {
  auto blurred = torch::avg_pool2d(torch::replication_pad2d(x, {1, 1, 1, 1}), {3, 3}, {1, 1});
  return (x - blurred).pow(2).mean().sqrt().item<double>();
}
}  // namespace

TEST(Conditioning, SmoothChromaKeepsBrightnessAndRemovesColourSpeckle) {
  const Manifest m = base();
  torch::manual_seed(4);
  // A smooth colour ramp with strong pixel-scale colour and brightness noise.
  auto ramp = torch::linspace(0.2, 0.8, 64).view({1, 1, 1, 64}).expand({1, 3, 64, 64}).clone();
  ramp[0][0] *= 0.8;
  auto images = (ramp + 0.1 * torch::randn({1, 3, 64, 64})).clamp(0.0, 1.0);
  const auto latent = pixels_to_latent(images, m.conditioning);
  const auto smoothed = smooth_chroma(latent, m.conditioning, 1.0);
  ASSERT_EQ(smoothed.sizes(), latent.sizes());
  const auto before = torch::pixel_shuffle(latent, 4), after = torch::pixel_shuffle(smoothed, 4);
  // Brightness (mean of R, G, B) untouched, pixel by pixel.
  EXPECT_TRUE(torch::allclose(after.mean(1), before.mean(1), 1e-5, 1e-5));
  // Colour detail at the pixel scale mostly gone; the ramp's colour kept.
  const double chroma_before = fine_detail(before - before.mean(1, true));
  const double chroma_after = fine_detail(after - after.mean(1, true));
  EXPECT_LT(chroma_after, 0.2 * chroma_before) << chroma_before << " -> " << chroma_after;
  const auto red_minus_green = [](const torch::Tensor& x) { return (x[0][0] - x[0][1]).mean().item<double>(); };
  EXPECT_NEAR(red_minus_green(after), red_minus_green(before), 2e-3);  // edges replicated: not exact
  // A flat colour, and sigma 0, come back unchanged.
  const auto flat = pixels_to_latent(torch::tensor({0.7f, 0.4f, 0.2f}).view({1, 3, 1, 1}).expand({1, 3, 32, 32}), m.conditioning);
  EXPECT_TRUE(torch::allclose(smooth_chroma(flat, m.conditioning, 2.0), flat, 1e-5, 1e-5));
  EXPECT_TRUE(torch::equal(smooth_chroma(latent, m.conditioning, 0.0), latent));
}

// A latent's blur is the blur of its pixels: a flat image stays flat, a noisy one loses its
// pixel-scale detail.
TEST(Conditioning, BlurLatentBlursThePixels) {
  const Manifest m = base();
  const auto ramp = torch::linspace(0.1, 0.9, 64).view({1, 1, 1, 64}).expand({1, 3, 64, 64});
  const auto flat = pixels_to_latent(torch::full({1, 3, 32, 32}, 0.3), m.conditioning);
  EXPECT_TRUE(torch::allclose(blur_latent(flat, m.conditioning, 4.0), flat, 1e-5, 1e-5));
  torch::manual_seed(7);
  const auto noisy = pixels_to_latent((ramp + 0.1 * torch::randn({1, 3, 64, 64})).clamp(0.0, 1.0), m.conditioning);
  const auto blurred = blur_latent(noisy, m.conditioning, 2.0);
  const auto expected = torch::pixel_unshuffle(blur_pixels(torch::pixel_shuffle(noisy, 4), 2.0), 4);
  EXPECT_TRUE(torch::allclose(blurred, expected, 1e-6, 1e-6));
  EXPECT_LT(fine_detail(torch::pixel_shuffle(blurred, 4)), 0.5 * fine_detail(torch::pixel_shuffle(noisy, 4)));
}

TEST(Conditioning, MergeDetailTakesStructureFromOneAndDetailFromTheOther) {
  const Manifest m = base();
  torch::manual_seed(5);
  const auto smooth = pixels_to_latent(torch::linspace(0.1, 0.9, 64).view({1, 1, 1, 64}).expand({1, 3, 64, 64}), m.conditioning);
  const auto noisy = pixels_to_latent((0.5 + 0.2 * torch::randn({1, 3, 64, 64})).clamp(0.0, 1.0), m.conditioning);
  // Same input twice: unchanged.
  EXPECT_TRUE(torch::allclose(merge_detail(noisy, noisy, m.conditioning, 2.0), noisy, 1e-5, 1e-5));
  const auto merged = torch::pixel_shuffle(merge_detail(smooth, noisy, m.conditioning, 2.0), 4);
  const auto s = torch::pixel_shuffle(smooth, 4), n = torch::pixel_shuffle(noisy, 4);
  // At coarse scale it is the smooth ramp; what it adds is the noisy input's fine detail.
  const auto coarse = [](const torch::Tensor& x) { return torch::avg_pool2d(x, {16, 16}); };
  EXPECT_LT((coarse(merged) - coarse(s)).abs().max().item<double>(), 0.05);
  EXPECT_NEAR(fine_detail(merged), fine_detail(n), 0.2 * fine_detail(n));
  EXPECT_GT(fine_detail(merged), 10 * fine_detail(s));
}
