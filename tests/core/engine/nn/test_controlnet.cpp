// ControlNetModel against diffusers 0.31: residuals and the UNet output with residuals fed back.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "nn/loading.h"
#include "nn_test_support.h"
#include "terrasynth/engine/error.h"

using namespace terrasynth::engine;
using namespace terrasynth::engine::nn;
using nn_test::fixture;
using nn_test::matches_reference;
using nn_test::tensor;

TEST(ControlNet, ReproducesDiffusersResidualsAndGuidedUNet) {
  torch::NoGradGuard no_grad;
  auto controlnet = load_controlnet(fixture("controlnet_tiny"));
  auto unet = load_unet(fixture("unet_tiny"));
  const auto io = nn_test::load_io("controlnet_tiny");
  const auto sample = tensor(io, "input.sample");
  const auto t = tensor(io, "input.timestep");
  const auto context = tensor(io, "input.encoder_hidden_states");

  auto out = controlnet->forward(sample, t, context, tensor(io, "input.controlnet_cond"));
  ASSERT_EQ(out.down_block_res_samples.size(), 4u);
  ASSERT_EQ(unet->down_state_count(), 4u);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_TRUE(matches_reference(out.down_block_res_samples[i],
                                  tensor(io, "output.down_block_res_samples." + std::to_string(i))))
        << "residual " << i;
  }
  EXPECT_TRUE(
      matches_reference(out.mid_block_res_sample, tensor(io, "output.mid_block_res_sample")));

  auto guided =
      unet->forward(sample, t, context, {}, out.down_block_res_samples, out.mid_block_res_sample);
  EXPECT_TRUE(matches_reference(guided, tensor(io, "output.unet_sample")));
  // The residuals matter: without them the output is the plain UNet's.
  EXPECT_FALSE(
      matches_reference(unet->forward(sample, t, context), tensor(io, "output.unet_sample")));

  // conditioning_scale scales every residual.
  auto half = controlnet->forward(sample, t, context, tensor(io, "input.controlnet_cond"), 0.5);
  EXPECT_TRUE(
      matches_reference(half.mid_block_res_sample * 2, tensor(io, "output.mid_block_res_sample")));
}

TEST(ControlNet, FromUNetCopiesSharedWeightsAndStartsAtZero) {
  torch::NoGradGuard no_grad;
  auto unet = load_unet(fixture("unet_tiny"));
  auto controlnet = controlnet_from_unet(*unet, {16, 32});
  const auto unet_params = unet->named_parameters(true);
  size_t shared = 0;
  for (const auto& item : controlnet->named_parameters(true)) {
    if (const auto* p = unet_params.find(item.key())) {
      EXPECT_TRUE(torch::equal(*p, item.value())) << item.key();
      ++shared;
    }
  }
  // Everything but the conditioning embedding and the zero convs comes from the UNet.
  const auto reference =
      load_safetensors(fixture("controlnet_tiny") + "/diffusion_pytorch_model.safetensors");
  size_t expected = 0;
  for (const auto& item : reference) {
    if (item.key().rfind("controlnet_", 0) != 0) ++expected;
  }
  EXPECT_EQ(shared, expected);
  EXPECT_EQ(controlnet->named_parameters(true).size(), reference.size());

  const auto io = nn_test::load_io("controlnet_tiny");
  auto out = controlnet->forward(tensor(io, "input.sample"), tensor(io, "input.timestep"),
                                 tensor(io, "input.encoder_hidden_states"),
                                 tensor(io, "input.controlnet_cond"));
  for (const auto& r : out.down_block_res_samples) EXPECT_EQ(r.abs().max().item<float>(), 0.0f);
  EXPECT_EQ(out.mid_block_res_sample.abs().max().item<float>(), 0.0f);
}

TEST(ControlNet, GradientsReachTheConditioningPath) {
  auto residual_loss = [](const ControlNetOutput& out) {
    auto loss = (out.mid_block_res_sample - 1).square().mean();
    for (const auto& r : out.down_block_res_samples) loss = loss + (r - 1).square().mean();
    return loss;
  };
  auto sample = torch::randn({1, 4, 16, 16});
  auto context = torch::randn({1, 7, 32});
  auto cond = torch::rand({1, 3, 32, 32});
  auto t = torch::tensor({50});

  // Fresh from a UNet the output convs are zero: as in diffusers, only they learn at first.
  auto fresh = controlnet_from_unet(*load_unet(fixture("unet_tiny")), {16, 32});
  fresh->train();
  residual_loss(fresh->forward(sample, t, context, cond)).backward();
  auto params = fresh->named_parameters(true);
  for (const char* key : {"controlnet_mid_block.weight", "controlnet_down_blocks.0.weight",
                          "controlnet_down_blocks.3.weight"}) {
    ASSERT_TRUE(params.find(key)->grad().defined()) << key;
    EXPECT_GT(params.find(key)->grad().abs().sum().item<double>(), 0.0) << key;
  }

  // Trained (non-zero) output convs pass gradient back to the conditioning embedding.
  auto trained = load_controlnet(fixture("controlnet_tiny"));
  trained->train();
  residual_loss(trained->forward(sample, t, context, cond)).backward();
  params = trained->named_parameters(true);
  for (const auto& item : params) {
    ASSERT_TRUE(item.value().grad().defined()) << item.key();
    EXPECT_GT(item.value().grad().abs().sum().item<double>(), 0.0) << item.key();
  }
}

TEST(ControlNet, RejectsAConditioningImageOfTheWrongSize) {
  torch::NoGradGuard no_grad;
  auto controlnet = load_controlnet(fixture("controlnet_tiny"));
  try {
    controlnet->forward(torch::randn({1, 4, 16, 16}), torch::tensor({1}), torch::randn({1, 7, 32}),
                        torch::rand({1, 3, 16, 16}));
    FAIL() << "expected an error";
  } catch (const EngineError& error) {
    EXPECT_EQ(error.kind(), EngineError::Kind::InvalidArgument);
    EXPECT_NE(std::string(error.what()).find("controlnet_cond"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("32, 32"), std::string::npos) << error.what();
  }
}
