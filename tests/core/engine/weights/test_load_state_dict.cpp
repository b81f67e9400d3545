// load_state_dict and module_state_dict on small torch::nn modules.
#include <gtest/gtest.h>

#include "weights/state_dict.h"
#include "weights_test_util.h"

namespace terrasynth::engine {
namespace {

using testing::expect_engine_error;

struct BlockImpl : torch::nn::Module {
  BlockImpl() {
    conv = register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(2, 3, 3)));
    norm = register_module("norm", torch::nn::BatchNorm2d(3));
    scale = register_parameter("scale", torch::ones({3}));
    steps = register_buffer("steps", torch::zeros({1}, torch::kInt64));
  }
  torch::nn::Conv2d conv{nullptr};
  torch::nn::BatchNorm2d norm{nullptr};
  torch::Tensor scale, steps;
};
TORCH_MODULE(Block);

struct NetImpl : torch::nn::Module {
  NetImpl() {
    proj = register_module("proj", torch::nn::Linear(4, 2));
    blocks = register_module("blocks", torch::nn::ModuleList(Block(), Block()));
  }
  torch::nn::Linear proj{nullptr};
  torch::nn::ModuleList blocks{nullptr};
};
TORCH_MODULE(Net);

// A file-like state dict for Net with recognisable values, in another dtype than the module.
StateDict checkpoint_for(const Net& net, torch::ScalarType type) {
  StateDict tensors;
  int64_t seed = 1;
  for (const auto& item : module_state_dict(*net))
    tensors.insert(item.key(),
                   torch::full(item.value().sizes(), seed++, torch::TensorOptions().dtype(type)));
  return tensors;
}

TEST(ModuleStateDict, ListsParametersAndBuffersInPyTorchOrder) {
  Net net;
  const auto keys = module_state_dict(*net).keys();
  const std::vector<std::string> expected_start = {"proj.weight",
                                                   "proj.bias",
                                                   "blocks.0.scale",
                                                   "blocks.0.steps",
                                                   "blocks.0.conv.weight",
                                                   "blocks.0.conv.bias",
                                                   "blocks.0.norm.weight",
                                                   "blocks.0.norm.bias",
                                                   "blocks.0.norm.running_mean",
                                                   "blocks.0.norm.running_var",
                                                   "blocks.0.norm.num_batches_tracked"};
  ASSERT_GE(keys.size(), expected_start.size());
  EXPECT_EQ(std::vector<std::string>(keys.begin(), keys.begin() + expected_start.size()),
            expected_start);
  EXPECT_EQ(keys.size(), 2 + 2 * 9u);
  EXPECT_EQ(keys.back(), "blocks.1.norm.num_batches_tracked");
}

TEST(ModuleStateDict, SharesMemoryWithTheModule) {
  Net net;
  StateDict state = module_state_dict(*net);
  {
    torch::NoGradGuard no_grad;
    state["proj.bias"].fill_(4);
  }
  EXPECT_EQ(net->proj->bias[1].item<float>(), 4.0f);
}

TEST(LoadStateDict, CopiesEveryTensorConvertingDtype) {
  Net net;
  const StateDict file = checkpoint_for(net, torch::kFloat64);
  const LoadReport report = load_state_dict(*net, file);
  EXPECT_TRUE(report.ok());
  for (const auto& item : module_state_dict(*net)) {
    EXPECT_TRUE(torch::equal(item.value().to(torch::kFloat64), file[item.key()])) << item.key();
  }
  EXPECT_EQ(net->proj->weight.scalar_type(), torch::kFloat32);  // the module keeps its dtype
  EXPECT_EQ(net->blocks[1]->as<Block>()->steps.scalar_type(), torch::kInt64);
  EXPECT_TRUE(net->proj->weight.requires_grad());
}

TEST(LoadStateDict, RoundTripsThroughASafetensorsFile) {
  testing::ScratchDir dir;
  Net source;
  save_safetensors(dir.file("net.safetensors"), module_state_dict(*source));
  Net target;
  EXPECT_TRUE(load_state_dict(*target, load_safetensors(dir.file("net.safetensors"))).ok());
  for (const auto& item : module_state_dict(*source))
    EXPECT_TRUE(torch::equal(module_state_dict(*target)[item.key()], item.value())) << item.key();
}

TEST(LoadStateDict, StrictRefusesMissingKeysAndLoadsNothing) {
  Net net;
  StateDict file = checkpoint_for(net, torch::kFloat32);
  file.erase("blocks.1.norm.running_var");
  const torch::Tensor before = net->proj->weight.clone();
  expect_engine_error([&] { load_state_dict(*net, file, true, "unet"); },
                      EngineError::Kind::ModelFormat,
                      {"unet:", "missing 1", "blocks.1.norm.running_var"});
  EXPECT_TRUE(torch::equal(net->proj->weight, before));
}

TEST(LoadStateDict, StrictRefusesUnexpectedKeys) {
  Net net;
  StateDict file = checkpoint_for(net, torch::kFloat32);
  file.insert("blocks.2.conv.weight", torch::zeros({1}));
  expect_engine_error([&] { load_state_dict(*net, file, true, "vae"); },
                      EngineError::Kind::ModelFormat,
                      {"vae:", "unexpected 1", "blocks.2.conv.weight"});
}

TEST(LoadStateDict, StrictRefusesShapeMismatches) {
  Net net;
  StateDict file = checkpoint_for(net, torch::kFloat32);
  file["proj.weight"] = torch::zeros({4, 2});
  expect_engine_error(
      [&] { load_state_dict(*net, file, true, "controlnet"); }, EngineError::Kind::ModelFormat,
      {"controlnet:", "shape mismatch 1", "proj.weight: file [4,2] vs module [2,4]"});
}

TEST(LoadStateDict, LongListsAreShortened) {
  Net net;
  expect_engine_error([&] { load_state_dict(*net, StateDict{}, true, "empty"); },
                      EngineError::Kind::ModelFormat, {"missing 20", "(12 more)"});
}

TEST(LoadStateDict, NonStrictReportsAndLoadsWhatMatches) {
  Net net;
  StateDict file = checkpoint_for(net, torch::kFloat32);
  file.erase("proj.bias");
  file.insert("extra", torch::zeros({2}));
  file["blocks.0.scale"] = torch::zeros({5});
  const LoadReport report = load_state_dict(*net, file, false);
  EXPECT_FALSE(report.ok());
  EXPECT_EQ(report.missing, std::vector<std::string>{"proj.bias"});
  EXPECT_EQ(report.unexpected, std::vector<std::string>{"extra"});
  ASSERT_EQ(report.mismatched.size(), 1u);
  EXPECT_EQ(report.mismatched[0], "blocks.0.scale: file [5] vs module [3]");
  EXPECT_TRUE(torch::equal(net->proj->weight, file["proj.weight"]));
  EXPECT_TRUE(torch::equal(net->blocks[0]->as<Block>()->scale, torch::ones({3})));
}

}  // namespace
}  // namespace terrasynth::engine
