#pragma once
// The denoising network of a model package, behind one small interface used by both the
// trainer and the generator.
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <memory>
#include <string>

namespace terrasynth::engine {

class DenoiserNetwork {
 public:
  // Builds the network from a diffusers UNet2DConditionModel config (randomly initialised).
  explicit DenoiserNetwork(const nlohmann::json& unet_config);
  // Builds it from a folder with config.json and weights (fp16 or fp32 safetensors).
  static std::unique_ptr<DenoiserNetwork> load(const std::string& folder);

  // Raw model output for `input` (latent plus condition channels) at `timesteps` [B] with
  // class vectors [B, D] (undefined tensor when the network has no class embedding).
  torch::Tensor forward(const torch::Tensor& input, const torch::Tensor& timesteps,
                        const torch::Tensor& class_labels);

  torch::nn::Module& module();
  const nlohmann::json& config() const { return config_; }
  int in_channels() const;
  int out_channels() const;
  // Pixels of the network's input grid that one downsampling chain needs (2^(levels-1)).
  int spatial_multiple() const;

  struct Impl;

 private:
  nlohmann::json config_;
  std::shared_ptr<Impl> impl_;
};

}  // namespace terrasynth::engine
