#pragma once
// diffusers UNet2DConditionModel and the parts it shares with ControlNetModel, built from a
// config.json with parameter names equal to diffusers' state_dict keys.
#include <torch/torch.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "nn/config.h"
#include "nn/unet_blocks.h"

namespace terrasynth::engine::nn {

// The subset of UNet2DConditionModel / ControlNetModel configuration this engine implements.
// Keys with other values throw EngineError(Unsupported) when the config is read.
struct UNetConfig {
  int64_t in_channels = 4;
  int64_t out_channels = 4;
  bool center_input_sample = false;
  bool flip_sin_to_cos = true;
  double freq_shift = 0.0;
  std::vector<std::string> down_block_types;
  std::string mid_block_type = "UNetMidBlock2DCrossAttn";  // empty = no mid block
  std::vector<std::string> up_block_types;
  std::vector<bool> only_cross_attention;  // per down block
  std::vector<int64_t> block_out_channels;
  std::vector<int64_t> layers_per_block;  // per down block
  int64_t downsample_padding = 1;
  double mid_block_scale_factor = 1.0;
  double dropout = 0.0;
  Activation act = Activation::SiLU;
  int64_t norm_num_groups = 32;
  double norm_eps = 1e-5;
  std::vector<int64_t> cross_attention_dim;                   // per down block
  std::vector<int64_t> transformer_layers_per_block;          // per down block
  std::vector<int64_t> reverse_transformer_layers_per_block;  // per up block; empty = reversed
  std::vector<int64_t> num_attention_heads;                   // per down block
  bool use_linear_projection = false;
  bool upcast_attention = false;
  std::string class_embed_type;  // "", "timestep", "identity", "projection", "simple_projection"
  int64_t num_class_embeds = 0;
  int64_t projection_class_embeddings_input_dim = 0;
  bool class_embeddings_concat = false;
  std::string resnet_time_scale_shift = "default";
  bool resnet_skip_time_act = false;
  double resnet_out_scale_factor = 1.0;
  int64_t time_embedding_dim = 0;  // 0 = 4 x block_out_channels[0]
  Activation time_embedding_act = Activation::None;
  Activation timestep_post_act = Activation::None;
  int64_t time_cond_proj_dim = 0;
  int64_t conv_in_kernel = 3;
  int64_t conv_out_kernel = 3;
  // ControlNetModel only.
  int64_t conditioning_channels = 3;
  std::vector<int64_t> conditioning_embedding_out_channels{16, 32, 96, 256};
  bool global_pool_conditions = false;
  bool bgr_conditioning = false;  // controlnet_conditioning_channel_order == "bgr"

  enum class Kind { UNet, ControlNet };
  static UNetConfig parse(const ConfigReader& reader, Kind kind);
  int64_t time_embed_dim() const;
  bool has_class_embedding() const;
};

// Time and class embedding, input conv, down path and mid block: what UNet2DConditionModel and
// ControlNetModel share, under the same names.
class UNetTrunkImpl : public torch::nn::Module {
 public:
  // Sinusoidal timestep features [B, block_out_channels[0]] in `like`'s dtype (diffusers'
  // time_proj); `timesteps` is a scalar or [B].
  torch::Tensor time_proj(const torch::Tensor& timesteps, const torch::Tensor& like) const;
  // Time embedding plus class embedding (and the optional time_embedding activation).
  torch::Tensor embedding(const torch::Tensor& timesteps, const torch::Tensor& class_labels,
                          const torch::Tensor& like);

  const UNetConfig& config() const { return config_; }
  bool has_cross_attention() const { return has_cross_attention_; }

  torch::nn::Conv2d conv_in{nullptr};
  TimestepEmbedding time_embedding{nullptr};
  torch::nn::Embedding class_embedding_table{nullptr};
  TimestepEmbedding class_embedding_mlp{nullptr};
  torch::nn::Linear class_embedding_linear{nullptr};
  torch::nn::ModuleList down_blocks{nullptr};
  MidBlock2DCrossAttn mid_block_cross{nullptr};
  MidBlock2D mid_block_plain{nullptr};

 protected:
  UNetTrunkImpl(UNetConfig config, const std::string& label);
  void check_inputs(const torch::Tensor& sample, const torch::Tensor& encoder_hidden_states,
                    const torch::Tensor& class_labels) const;
  // Down path from the conv_in output; returns the last state and all skip states.
  std::pair<torch::Tensor, std::vector<torch::Tensor>> run_down(const torch::Tensor& h,
                                                                const torch::Tensor& emb,
                                                                const torch::Tensor& context);
  torch::Tensor run_mid(const torch::Tensor& h, const torch::Tensor& emb,
                        const torch::Tensor& context);
  BlockSpec block_spec(size_t index) const;

  UNetConfig config_;
  std::string label_;
  std::vector<DownBlock> down_;
  bool has_cross_attention_ = false;
};

class UNet2DConditionModelImpl : public UNetTrunkImpl {
 public:
  // `label` names the config in error messages.
  explicit UNet2DConditionModelImpl(const nlohmann::json& config,
                                    const std::string& label = "UNet2DConditionModel config");
  explicit UNet2DConditionModelImpl(const UNetConfig& config,
                                    const std::string& label = "UNet2DConditionModel config");

  // sample [B, in_channels, H, W]; timesteps scalar or [B]; encoder_hidden_states [B, L, D]
  // (required when the network has cross-attention); class_labels [B] int64 (num_class_embeds)
  // or [B, D] float (projection); ControlNet residuals as ControlNetModel returns them.
  torch::Tensor forward(const torch::Tensor& sample, const torch::Tensor& timesteps,
                        const torch::Tensor& encoder_hidden_states = {},
                        const torch::Tensor& class_labels = {},
                        const std::vector<torch::Tensor>& down_block_additional_residuals = {},
                        const torch::Tensor& mid_block_additional_residual = {});

  // Number of down states (= ControlNet residuals) the network produces.
  size_t down_state_count() const;
  // Spatial multiple the input must have to avoid uneven upsampling (2^upsamplers).
  int64_t spatial_multiple() const;

  torch::nn::ModuleList up_blocks{nullptr};
  GroupNorm conv_norm_out{nullptr};
  torch::nn::Conv2d conv_out{nullptr};

 private:
  void build_up_path();
  std::vector<UpBlock> up_;
  int64_t num_upsamplers_ = 0;
};
TORCH_MODULE(UNet2DConditionModel);

}  // namespace terrasynth::engine::nn
