// UNet2DConditionModel against diffusers 0.31 reference outputs, plus gradients, precision and
// configuration checks.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>

#include "nn/loading.h"
#include "nn_test_support.h"
#include "terrasynth/engine/error.h"

using namespace terrasynth::engine;
using namespace terrasynth::engine::nn;
using nn_test::fixture;
using nn_test::matches_reference;
using nn_test::tensor;

namespace {

struct UNetCase {
  const char* folder;
  bool has_context;
  bool has_class_labels;
};

class UNetParity : public ::testing::TestWithParam<UNetCase> {};

torch::Tensor optional_tensor(const StateDict& io, const std::string& key) {
  const auto* found = io.find(key);
  return found ? *found : torch::Tensor();
}

nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

}  // namespace

TEST_P(UNetParity, ReproducesDiffusersOutputs) {
  torch::NoGradGuard no_grad;
  const auto& c = GetParam();
  auto unet = load_unet(fixture(c.folder));
  const auto io = nn_test::load_io(c.folder);
  const auto sample = tensor(io, "input.sample");
  const auto timestep = tensor(io, "input.timestep");
  const auto context = optional_tensor(io, "input.encoder_hidden_states");
  const auto labels = optional_tensor(io, "input.class_labels");
  EXPECT_EQ(context.defined(), c.has_context);
  EXPECT_EQ(labels.defined(), c.has_class_labels);
  EXPECT_FALSE(unet->is_training());

  const auto t_emb = unet->time_proj(timestep, sample);
  EXPECT_TRUE(matches_reference(t_emb, tensor(io, "debug.t_emb")));
  EXPECT_TRUE(matches_reference(unet->time_embedding(t_emb), tensor(io, "debug.emb")));

  const auto out = unet->forward(sample, timestep, context, labels);
  EXPECT_TRUE(matches_reference(out, tensor(io, "output.sample")));
}

INSTANTIATE_TEST_SUITE_P(DiffusersFixtures, UNetParity,
                         ::testing::Values(UNetCase{"unet_tiny", true, false},
                                           UNetCase{"unet_tiny_numclass", true, true},
                                           UNetCase{"unet_tiny_projclass", true, true},
                                           UNetCase{"unet_tiny_noattn", false, false}),
                         [](const auto& info) { return std::string(info.param.folder); });

TEST(UNet, ParameterNamesAreTheCheckpointKeys) {
  auto config = read_json(fixture("unet_tiny_projclass") + "/config.json");
  UNet2DConditionModel unet(config);
  const auto file =
      load_safetensors(fixture("unet_tiny_projclass") + "/diffusion_pytorch_model.safetensors");
  const auto params = unet->named_parameters(true);
  EXPECT_EQ(params.size(), file.size());
  for (const auto& item : file) {
    const auto* p = params.find(item.key());
    ASSERT_NE(p, nullptr) << item.key();
    EXPECT_TRUE(p->sizes().equals(item.value().sizes())) << item.key();
  }
}

TEST(UNet, GradientsReachEveryParameter) {
  torch::manual_seed(0);
  auto config = read_json(fixture("unet_tiny_projclass") + "/config.json");
  UNet2DConditionModel unet(config);
  unet->train();
  auto sample = torch::randn({2, 4, 16, 16});
  auto context = torch::randn({2, 7, 32});
  auto labels = torch::randn({2, 6});
  auto timesteps = torch::tensor({3, 700});
  auto loss = unet->forward(sample, timesteps, context, labels).square().mean();
  loss.backward();
  size_t checked = 0;
  for (const auto& item : unet->named_parameters(true)) {
    const auto& grad = item.value().grad();
    ASSERT_TRUE(grad.defined()) << item.key() << " got no gradient";
    EXPECT_TRUE(torch::isfinite(grad).all().item<bool>()) << item.key();
    EXPECT_GT(grad.abs().sum().item<double>(), 0.0) << item.key() << " has a zero gradient";
    ++checked;
  }
  EXPECT_EQ(checked, 212u);
}

TEST(UNet, ForwardIsDeterministic) {
  torch::NoGradGuard no_grad;
  auto unet = load_unet(fixture("unet_tiny"));
  const auto io = nn_test::load_io("unet_tiny");
  auto run = [&] {
    return unet->forward(tensor(io, "input.sample"), tensor(io, "input.timestep"),
                         tensor(io, "input.encoder_hidden_states"));
  };
  EXPECT_TRUE(torch::equal(run(), run()));
}

TEST(UNet, DropoutFollowsTrainAndEval) {
  torch::NoGradGuard no_grad;
  auto config = read_json(fixture("unet_tiny") + "/config.json");
  config["dropout"] = 0.5;
  torch::manual_seed(1);
  UNet2DConditionModel unet(config);
  auto sample = torch::randn({1, 4, 16, 16});
  auto context = torch::randn({1, 7, 32});
  auto t = torch::tensor({10});
  unet->eval();
  EXPECT_TRUE(torch::equal(unet->forward(sample, t, context), unet->forward(sample, t, context)));
  unet->train();
  EXPECT_FALSE(torch::equal(unet->forward(sample, t, context), unet->forward(sample, t, context)));
}

TEST(UNet, LinearProjectionMatchesConvProjection) {
  torch::NoGradGuard no_grad;
  auto conv_unet = load_unet(fixture("unet_tiny"));
  auto config = read_json(fixture("unet_tiny") + "/config.json");
  config["use_linear_projection"] = true;
  UNet2DConditionModel linear_unet(config);
  // Same weights: 1x1 conv kernels [out, in, 1, 1] are linear weights [out, in].
  StateDict converted;
  for (const auto& item : conv_unet->named_parameters(true)) {
    const bool projection = item.key().find(".proj_in.weight") != std::string::npos ||
                            item.key().find(".proj_out.weight") != std::string::npos;
    converted.insert(item.key(), projection ? item.value().flatten(1) : item.value());
  }
  load_into(*linear_unet, converted, "converted unet_tiny");
  linear_unet->eval();
  const auto io = nn_test::load_io("unet_tiny");
  auto out = linear_unet->forward(tensor(io, "input.sample"), tensor(io, "input.timestep"),
                                  tensor(io, "input.encoder_hidden_states"));
  EXPECT_TRUE(matches_reference(out, tensor(io, "output.sample")));
}

TEST(UNet, HalfPrecisionWeightsLoadIntoFloat32) {
  torch::NoGradGuard no_grad;
  namespace fs = std::filesystem;
  const auto dir = fs::path(TERRASYNTH_TEST_BINARY_DIR) / "nn_tests" / "unet_tiny_fp16";
  fs::create_directories(dir);
  fs::copy_file(fixture("unet_tiny") + "/config.json", dir / "config.json",
                fs::copy_options::overwrite_existing);
  fs::remove(dir / "diffusion_pytorch_model.safetensors");
  StateDict half;
  for (const auto& item :
       load_safetensors(fixture("unet_tiny") + "/diffusion_pytorch_model.safetensors")) {
    half.insert(item.key(), item.value().to(torch::kHalf));
  }
  save_safetensors((dir / "diffusion_pytorch_model.fp16.safetensors").string(), half);

  auto unet = load_unet(dir.string());
  for (const auto& p : unet->parameters()) ASSERT_EQ(p.scalar_type(), torch::kFloat32);
  const auto io = nn_test::load_io("unet_tiny");
  const auto reference = tensor(io, "output.sample");
  auto out = unet->forward(tensor(io, "input.sample"), tensor(io, "input.timestep"),
                           tensor(io, "input.encoder_hidden_states"));
  // fp16 weights round at 2^-11 relative: the output moves by about that much.
  EXPECT_TRUE(matches_reference(out, reference, 1e-2, 1e-2));
  EXPECT_FALSE(matches_reference(out, reference));  // really rounded, not the float32 file

  // And the network runs in bfloat16 end to end (the CUDA half-precision code path).
  auto bf16 = load_unet(dir.string(), torch::kBFloat16);
  auto out16 =
      bf16->forward(tensor(io, "input.sample").to(torch::kBFloat16), tensor(io, "input.timestep"),
                    tensor(io, "input.encoder_hidden_states").to(torch::kBFloat16));
  EXPECT_EQ(out16.scalar_type(), torch::kBFloat16);
  const double relative = (out16.to(torch::kFloat32) - reference).norm().item<double>() /
                          reference.norm().item<double>();
  EXPECT_LT(relative, 0.05);
}

TEST(UNet, TimestepClassEmbeddingUsesTheSinusoidalFeatures) {
  torch::NoGradGuard no_grad;
  auto config = read_json(fixture("unet_tiny_noattn") + "/config.json");
  config["class_embed_type"] = "timestep";
  torch::manual_seed(3);
  UNet2DConditionModel unet(config);
  unet->eval();
  auto sample = torch::randn({2, 7, 16, 16});
  auto t = torch::tensor({10, 500});
  auto labels = torch::tensor({100, 900});
  // emb = time_embedding(time_proj(t)) + class_embedding(time_proj(labels))
  auto expected = unet->time_embedding(unet->time_proj(t, sample)) +
                  unet->class_embedding_mlp(unet->time_proj(labels, sample));
  EXPECT_TRUE(torch::allclose(unet->embedding(t, labels, sample), expected));
  EXPECT_FALSE(torch::allclose(unet->forward(sample, t, {}, labels),
                               unet->forward(sample, t, {}, torch::tensor({101, 900}))));
}

TEST(UNet, OddSizesUpsampleToTheSkipSize) {
  torch::NoGradGuard no_grad;
  auto unet = load_unet(fixture("unet_tiny_noattn"));
  auto out = unet->forward(torch::randn({1, 7, 15, 13}), torch::tensor(int64_t{42}));
  EXPECT_EQ(out.sizes(), (std::vector<int64_t>{1, 4, 15, 13}));
}

TEST(UNet, RejectsBadInputsWithNamedErrors) {
  torch::NoGradGuard no_grad;
  auto unet = load_unet(fixture("unet_tiny_numclass"));
  const auto io = nn_test::load_io("unet_tiny_numclass");
  const auto sample = tensor(io, "input.sample");
  const auto t = tensor(io, "input.timestep");
  const auto context = tensor(io, "input.encoder_hidden_states");
  auto expect_error = [](const std::function<void()>& call, const std::string& needle) {
    try {
      call();
      ADD_FAILURE() << "expected an error naming " << needle;
    } catch (const EngineError& error) {
      EXPECT_EQ(error.kind(), EngineError::Kind::InvalidArgument);
      EXPECT_NE(std::string(error.what()).find(needle), std::string::npos) << error.what();
    }
  };
  expect_error(
      [&] {
        unet->forward(torch::randn({2, 3, 16, 16}), t, context, tensor(io, "input.class_labels"));
      },
      "sample");
  expect_error([&] { unet->forward(sample, t, torch::Tensor(), tensor(io, "input.class_labels")); },
               "encoder_hidden_states");
  expect_error([&] { unet->forward(sample, t, context); }, "class_labels");
  expect_error(
      [&] {
        unet->forward(sample, torch::tensor({1, 2, 3}), context, tensor(io, "input.class_labels"));
      },
      "timesteps");
}

TEST(UNet, RejectsUnsupportedOrInconsistentConfigs) {
  auto base = read_json(fixture("unet_tiny") + "/config.json");
  auto expect_kind = [](nlohmann::json config, EngineError::Kind kind, const std::string& key) {
    try {
      UNet2DConditionModel unet(config, "test/config.json");
      ADD_FAILURE() << "expected an error for " << key;
    } catch (const EngineError& error) {
      EXPECT_EQ(error.kind(), kind) << error.what();
      EXPECT_NE(std::string(error.what()).find(key), std::string::npos) << error.what();
      EXPECT_NE(std::string(error.what()).find("test/config.json"), std::string::npos);
    }
  };
  auto c = base;
  c["addition_embed_type"] = "text_time";
  expect_kind(c, EngineError::Kind::Unsupported, "addition_embed_type");
  c = base;
  c["down_block_types"] = {"SimpleCrossAttnDownBlock2D", "DownBlock2D"};
  expect_kind(c, EngineError::Kind::Unsupported, "down_block_types");
  c = base;
  c["num_attention_heads"] = 4;
  expect_kind(c, EngineError::Kind::ModelFormat, "num_attention_heads");
  c = base;
  c["block_out_channels"] = {32, 64, 64};
  expect_kind(c, EngineError::Kind::ModelFormat, "block_out_channels");
  c = base;
  c["layers_per_block"] = "two";
  expect_kind(c, EngineError::Kind::ModelFormat, "layers_per_block");
}

TEST(UNet, WeightsOfAnotherNetworkAreRejected) {
  try {
    load_unet(fixture("vae_tiny"));
    FAIL() << "expected an error";
  } catch (const EngineError& error) {
    EXPECT_EQ(error.kind(), EngineError::Kind::ModelFormat);
    EXPECT_NE(std::string(error.what()).find("AutoencoderTiny"), std::string::npos) << error.what();
  }
  auto config = read_json(fixture("unet_tiny") + "/config.json");
  UNet2DConditionModel unet(config);
  const auto wrong =
      load_safetensors(fixture("unet_tiny_numclass") + "/diffusion_pytorch_model.safetensors");
  try {
    load_into(*unet, wrong, "numclass weights");
    FAIL() << "expected an error";
  } catch (const EngineError& error) {
    EXPECT_EQ(error.kind(), EngineError::Kind::ModelFormat);
    EXPECT_NE(std::string(error.what()).find("class_embedding"), std::string::npos) << error.what();
  }
}
