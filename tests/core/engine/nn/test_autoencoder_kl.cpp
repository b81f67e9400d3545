// AutoencoderKL against diffusers 0.31, and its tiled decoding with shared GroupNorm statistics.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "nn/loading.h"
#include "nn/tiled_decode.h"
#include "nn_test_support.h"
#include "terrasynth/engine/error.h"

using namespace terrasynth::engine;
using namespace terrasynth::engine::nn;
using nn_test::fixture;
using nn_test::matches_reference;
using nn_test::tensor;

namespace {

std::vector<int64_t> borders(const std::vector<WindowSpan>& spans, int64_t scale) {
  std::vector<int64_t> out;
  for (const auto& s : spans) {
    out.push_back(s.start * scale);
    out.push_back((s.start + s.length) * scale);
    out.push_back(s.core_end * scale);
  }
  return out;
}

}  // namespace

TEST(AutoencoderKL, ReproducesDiffusersOutputs) {
  torch::NoGradGuard no_grad;
  auto vae = load_autoencoder_kl(fixture("vae_kl_tiny"));
  const auto io = nn_test::load_io("vae_kl_tiny");
  const auto image = tensor(io, "input.image");
  auto posterior = vae->encode(image);
  EXPECT_TRUE(matches_reference(posterior.parameters, tensor(io, "output.latent_dist.parameters")));
  EXPECT_TRUE(matches_reference(posterior.mean, tensor(io, "output.latent_dist.mean")));
  EXPECT_TRUE(matches_reference(posterior.logvar, tensor(io, "output.latent_dist.logvar")));
  EXPECT_TRUE(matches_reference(posterior.std, tensor(io, "output.latent_dist.std")));
  EXPECT_TRUE(matches_reference(vae->decode(posterior.mean), tensor(io, "output.decoded")));
  EXPECT_TRUE(matches_reference(vae->forward(image), tensor(io, "output.forward_sample")));
  // sample() = mean + std * noise
  auto noise = torch::randn_like(posterior.mean);
  EXPECT_TRUE(torch::allclose(posterior.sample(noise), posterior.mean + posterior.std * noise));
}

TEST(AutoencoderKL, LoadsThroughTheGenericAutoencoderFactory) {
  torch::NoGradGuard no_grad;
  auto vae = load_autoencoder(fixture("vae_kl_tiny"));
  ASSERT_TRUE(vae.kl);
  EXPECT_EQ(vae.latent_channels(), 4);
  EXPECT_EQ(vae.downscale(), 2);
  EXPECT_DOUBLE_EQ(vae.scaling_factor(), 0.18215);
  const auto io = nn_test::load_io("vae_kl_tiny");
  EXPECT_TRUE(matches_reference(vae.decode(vae.encode(tensor(io, "input.image"))),
                                tensor(io, "output.decoded")));
}

TEST(AutoencoderKL, TiledDecodeEqualsUntiledWhenOneWindowCoversTheLatent) {
  torch::NoGradGuard no_grad;
  auto vae = load_autoencoder_kl(fixture("vae_kl_tiny"));
  torch::manual_seed(5);
  auto latent = torch::randn({1, 4, 24, 20});
  auto untiled = vae->decode(latent);
  TiledDecodeOptions options;
  options.window = 24;
  options.overlap = 8;
  torch::Tensor tiled;
  ASSERT_EQ(decode_tiled(*vae, latent, options, tiled), Status::Ok);
  EXPECT_TRUE(matches_reference(tiled, untiled));
}

TEST(AutoencoderKL, TiledDecodeSharesGroupNormStatistics) {
  torch::NoGradGuard no_grad;
  auto vae = load_autoencoder_kl(fixture("vae_kl_tiny"));
  torch::manual_seed(6);
  // A smooth random latent, so statistics vary across the image as they do for real scenes.
  auto latent = torch::nn::functional::interpolate(torch::randn({1, 4, 6, 6}) * 2,
                                                   torch::nn::functional::InterpolateFuncOptions()
                                                       .size(std::vector<int64_t>{48, 48})
                                                       .mode(torch::kBilinear)
                                                       .align_corners(false));
  latent = latent + 0.3 * torch::randn({1, 4, 48, 48});
  auto untiled = vae->decode(latent);
  auto range = (untiled.max() - untiled.min()).item<double>();
  auto rel_psnr = [&](const torch::Tensor& x) {
    const double mse = (x - untiled).pow(2).mean().item<double>();
    return 10 * std::log10(range * range / mse);
  };

  TiledDecodeOptions options;
  options.window = 16;
  options.overlap = 6;
  torch::Tensor own, downsampled, two_pass;
  options.norm_stats = WindowNormStats::PerWindow;
  ASSERT_EQ(decode_tiled(*vae, latent, options, own), Status::Ok);
  options.norm_stats = WindowNormStats::Downsampled;
  ASSERT_EQ(decode_tiled(*vae, latent, options, downsampled), Status::Ok);
  options.norm_stats = WindowNormStats::TwoPass;
  int events = 0;
  ASSERT_EQ(decode_tiled(*vae, latent, options, two_pass, [&](const ProgressEvent&) { ++events; }),
            Status::Ok);

  const double p_own = rel_psnr(own), p_down = rel_psnr(downsampled), p_two = rel_psnr(two_pass);
  RecordProperty("psnr_per_window_stats", std::to_string(p_own));
  RecordProperty("psnr_downsampled_stats", std::to_string(p_down));
  RecordProperty("psnr_two_pass_stats", std::to_string(p_two));
  EXPECT_GT(p_down, p_own + 3);
  EXPECT_GT(p_two, p_own + 10);
  EXPECT_GT(p_two, 40.0);

  const auto spans = window_spans(48, 16, 6);
  ASSERT_EQ(spans.size(), 5u);
  EXPECT_EQ(events, 2 * 25);  // two passes over 5 x 5 windows
  const auto b = borders(spans, 2);
  const double seams = nn_test::seam_score(two_pass, b, b);
  const double seams_untiled = nn_test::seam_score(untiled, b, b);
  RecordProperty("seam_score", std::to_string(seams));
  EXPECT_LE(seams, 1.05);
  EXPECT_NEAR(seams, seams_untiled, 0.02);
}

TEST(AutoencoderKL, RejectsLatentsWithTheWrongChannelCount) {
  torch::NoGradGuard no_grad;
  auto vae = load_autoencoder_kl(fixture("vae_kl_tiny"));
  try {
    vae->decode(torch::randn({1, 3, 8, 8}));
    FAIL() << "expected an error";
  } catch (const EngineError& error) {
    EXPECT_EQ(error.kind(), EngineError::Kind::InvalidArgument);
    EXPECT_NE(std::string(error.what()).find("latents"), std::string::npos) << error.what();
  }
}
