// AutoencoderTiny against diffusers 0.31, and the original TAEF2 checkpoints on real imagery.
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

std::string taef2(const std::string& part) {
  return nn_test::shared_path("fixtures/weights/taef2/taef2_" + part + ".pth");
}

const char* kDubai = "data/pairs/dubai/tile1_image_part_001.jpg";

}  // namespace

TEST(AutoencoderTiny, ReproducesDiffusersOutputs) {
  torch::NoGradGuard no_grad;
  auto vae = load_autoencoder_tiny(fixture("vae_tiny"));
  const auto io = nn_test::load_io("vae_tiny");
  const auto image = tensor(io, "input.image");
  auto latents = vae->encode(image);
  EXPECT_TRUE(matches_reference(latents, tensor(io, "output.latents")));
  EXPECT_TRUE(
      matches_reference(vae->decode(tensor(io, "output.latents")), tensor(io, "output.decoded")));
  EXPECT_TRUE(matches_reference(vae->forward(image), tensor(io, "output.forward_sample")));
}

TEST(AutoencoderTiny, TaesdCheckpointKeysMapOntoDiffusersNames) {
  const auto encoder = load_weights(taef2("encoder"));
  const auto decoder = load_weights(taef2("decoder"));
  const auto config = taesd_config(encoder, decoder);
  EXPECT_EQ(config.latent_channels, 32);
  EXPECT_TRUE(config.use_midblock_gn);
  EXPECT_EQ(config.downscale(), 8);
  const auto mapped = taesd_to_diffusers(encoder, decoder);
  EXPECT_EQ(mapped.size(), encoder.size() + decoder.size());
  ASSERT_NE(mapped.find("decoder.layers.0.weight"), nullptr);  // taesd.py "1.weight" after Clamp
  EXPECT_EQ(mapped.find("decoder.layers.0.weight")->size(1), 32);
  ASSERT_NE(mapped.find("encoder.layers.11.pool.1.weight"), nullptr);  // GroupNorm of the pool
  ASSERT_NE(mapped.find("decoder.layers.2.pool.0.weight"), nullptr);
  AutoencoderTiny vae(config);
  const auto params = vae->named_parameters(true);
  EXPECT_EQ(params.size(), mapped.size());
  for (const auto& item : mapped) {
    const auto* p = params.find(item.key());
    ASSERT_NE(p, nullptr) << item.key();
    EXPECT_TRUE(p->sizes().equals(item.value().sizes())) << item.key();
  }
}

TEST(AutoencoderTiny, DecoderOnlyTaesdLoads) {
  auto vae = load_taesd("", taef2("decoder"));
  EXPECT_EQ(vae->config().latent_channels, 32);
  EXPECT_EQ(vae->decode(torch::zeros({1, 32, 4, 4})).sizes(), (std::vector<int64_t>{1, 3, 32, 32}));
  try {
    load_taesd(taef2("encoder"), fixture("vae_tiny") + "/diffusion_pytorch_model.safetensors");
    FAIL() << "expected an error";
  } catch (const EngineError& error) {
    EXPECT_EQ(error.kind(), EngineError::Kind::ModelFormat) << error.what();
  }
}

#if TERRASYNTH_TESTS_HAVE_GDAL

TEST(AutoencoderTiny, Taef2RoundTripsARealImage) {
  torch::NoGradGuard no_grad;
  auto vae = load_taesd(taef2("encoder"), taef2("decoder"));
  for (const auto& p : vae->parameters()) ASSERT_EQ(p.scalar_type(), torch::kFloat32);
  const auto crop = nn_test::read_rgb_crop(nn_test::shared_path(kDubai), 270, 194, 256);
  auto latents = vae->encode(crop * 2 - 1);
  EXPECT_EQ(latents.sizes(), (std::vector<int64_t>{1, 32, 32, 32}));
  auto decoded = ((vae->decode(latents) + 1) / 2).clamp(0, 1);
  const double quality = nn_test::psnr(decoded, crop);
  RecordProperty("psnr_db", std::to_string(quality));
  EXPECT_GE(quality, 25.0);
}

TEST(AutoencoderTiny, Taef2TiledDecodeMatchesUntiled) {
  torch::NoGradGuard no_grad;
  auto vae = load_taesd(taef2("encoder"), taef2("decoder"));
  const auto crop = nn_test::read_rgb_crop(nn_test::shared_path(kDubai), 200, 130, 384);
  auto latents = vae->encode(crop * 2 - 1);
  ASSERT_EQ(latents.size(2), 48);
  auto untiled = ((vae->decode(latents) + 1) / 2).clamp(0, 1);

  TiledDecodeOptions options;
  options.window = 24;
  options.overlap = 8;
  torch::Tensor tiled;
  std::vector<ProgressEvent> events;
  ASSERT_EQ(decode_tiled(*vae, latents, options, tiled,
                         [&](const ProgressEvent& e) { events.push_back(e); }),
            Status::Ok);
  tiled = ((tiled + 1) / 2).clamp(0, 1);
  const auto spans = window_spans(48, 24, 8);
  ASSERT_EQ(spans.size(), 3u);
  // The GroupNorm layers sit in the latent-resolution head, which sees the whole latent: no
  // statistics pass is needed, one pass over 9 windows.
  ASSERT_EQ(events.size(), 9u);
  EXPECT_EQ(events.back().tile, 9);
  EXPECT_DOUBLE_EQ(events.back().fraction, 1.0);

  const double p_untiled = nn_test::psnr(untiled, crop);
  const double p_tiled = nn_test::psnr(tiled, crop);
  RecordProperty("psnr_untiled_db", std::to_string(p_untiled));
  RecordProperty("psnr_tiled_db", std::to_string(p_tiled));
  EXPECT_LE(std::abs(p_tiled - p_untiled), 0.5);

  std::vector<int64_t> b;
  for (const auto& s : spans) {
    b.push_back(s.start * 8);
    b.push_back((s.start + s.length) * 8);
    b.push_back(s.core_end * 8);
  }
  const double seams = nn_test::seam_score(tiled, b, b);
  RecordProperty("seam_score", std::to_string(seams));
  EXPECT_LE(seams, 1.05);
}

#endif

TEST(AutoencoderTiny, TiledDecodeCanBeCancelled) {
  torch::NoGradGuard no_grad;
  auto vae = load_taesd("", taef2("decoder"));
  CancelToken cancel;
  int calls = 0;
  TiledDecodeOptions options;
  options.window = 8;
  options.overlap = 2;
  torch::Tensor image;
  const auto status = decode_tiled(
      *vae, torch::zeros({1, 32, 20, 20}), options, image,
      [&](const ProgressEvent&) {
        if (++calls == 2) cancel.cancel();
      },
      &cancel);
  EXPECT_EQ(status, Status::Cancelled);
  EXPECT_EQ(calls, 2);
  EXPECT_FALSE(image.defined());
}
