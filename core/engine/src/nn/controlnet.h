#pragma once
// diffusers ControlNetModel: a copy of the UNet's down path and mid block driven by a
// conditioning image, producing residuals that UNet2DConditionModel::forward adds to its skip
// states and mid block output.
#include <torch/torch.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "nn/unet.h"

namespace terrasynth::engine::nn {

// diffusers ControlNetConditioningEmbedding: conv_in, pairs of (3x3, stride-2 3x3) convs, conv_out.
class ControlNetConditioningEmbeddingImpl : public torch::nn::Module {
 public:
  ControlNetConditioningEmbeddingImpl(int64_t embedding_channels, int64_t conditioning_channels,
                                      const std::vector<int64_t>& block_out_channels);
  torch::Tensor forward(const torch::Tensor& conditioning);
  // Ratio between the conditioning image and the latent (2^(stride-2 convs)).
  int64_t downscale() const { return int64_t{1} << (blocks->size() / 2); }

  torch::nn::Conv2d conv_in{nullptr}, conv_out{nullptr};
  torch::nn::ModuleList blocks{nullptr};

 private:
  std::vector<torch::nn::Conv2d> convs_;
};
TORCH_MODULE(ControlNetConditioningEmbedding);

struct ControlNetOutput {
  std::vector<torch::Tensor> down_block_res_samples;
  torch::Tensor mid_block_res_sample;
};

class ControlNetModelImpl : public UNetTrunkImpl {
 public:
  // Built as diffusers does: controlnet_down_blocks, controlnet_mid_block and
  // controlnet_cond_embedding.conv_out start at zero.
  explicit ControlNetModelImpl(const nlohmann::json& config,
                               const std::string& label = "ControlNetModel config");
  explicit ControlNetModelImpl(const UNetConfig& config,
                               const std::string& label = "ControlNetModel config");

  // controlnet_cond [B, conditioning_channels, H * downscale, W * downscale].
  ControlNetOutput forward(const torch::Tensor& sample, const torch::Tensor& timesteps,
                           const torch::Tensor& encoder_hidden_states,
                           const torch::Tensor& controlnet_cond, double conditioning_scale = 1.0,
                           const torch::Tensor& class_labels = {}, bool guess_mode = false);

  ControlNetConditioningEmbedding controlnet_cond_embedding{nullptr};
  torch::nn::ModuleList controlnet_down_blocks{nullptr};
  torch::nn::Conv2d controlnet_mid_block{nullptr};

 private:
  void build_control_path();
  std::vector<torch::nn::Conv2d> control_convs_;
};
TORCH_MODULE(ControlNetModel);

// diffusers ControlNetModel.from_unet: a ControlNet whose shared parts (conv_in, embeddings,
// down blocks, mid block) are copies of `unet`'s, with the given conditioning embedding.
ControlNetModel controlnet_from_unet(
    UNet2DConditionModelImpl& unet,
    const std::vector<int64_t>& conditioning_embedding_out_channels = {16, 32, 96, 256},
    int64_t conditioning_channels = 3);

}  // namespace terrasynth::engine::nn
