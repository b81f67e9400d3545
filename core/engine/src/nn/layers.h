#pragma once
// Building blocks shared by the diffusers networks: activations, timestep embeddings, ResNet
// blocks, down- and upsamplers. Module and parameter names equal diffusers' state_dict keys.
#include <torch/torch.h>

#include <optional>
#include <string>

#include "nn/group_norm.h"

namespace terrasynth::engine::nn {

enum class Activation { None, SiLU, ReLU, GELU, Mish };

// diffusers' get_activation names: "silu"/"swish", "relu", "gelu", "mish"; empty = None.
Activation parse_activation(const std::string& name, const std::string& context);
torch::Tensor activate(Activation activation, const torch::Tensor& x);

// diffusers' get_timestep_embedding: sinusoidal features [B, dim] in float32 for timesteps [B].
torch::Tensor timestep_embedding(const torch::Tensor& timesteps, int64_t dim, bool flip_sin_to_cos,
                                 double downscale_freq_shift, double scale = 1.0,
                                 double max_period = 10000.0);

// Timesteps as a [batch] tensor on `device`: accepts a 0-d tensor, [1] or [batch].
torch::Tensor broadcast_timesteps(const torch::Tensor& timesteps, int64_t batch,
                                  const torch::Device& device);

// diffusers TimestepEmbedding: linear_1 -> act -> linear_2 (-> post_act), optional cond_proj.
class TimestepEmbeddingImpl : public torch::nn::Module {
 public:
  TimestepEmbeddingImpl(int64_t in_channels, int64_t time_embed_dim, Activation act,
                        int64_t out_dim = 0, Activation post_act = Activation::None,
                        int64_t cond_proj_dim = 0);
  torch::Tensor forward(const torch::Tensor& sample, const torch::Tensor& condition = {});

  torch::nn::Linear linear_1{nullptr}, linear_2{nullptr}, cond_proj{nullptr};

 private:
  Activation act_, post_act_;
};
TORCH_MODULE(TimestepEmbedding);

struct ResnetBlock2DOptions {
  int64_t in_channels = 0;
  int64_t out_channels = 0;   // 0 = in_channels
  int64_t temb_channels = 0;  // 0 = no time embedding projection
  int64_t groups = 32;
  int64_t groups_out = 0;  // 0 = groups
  double eps = 1e-6;
  Activation act = Activation::SiLU;
  std::string time_embedding_norm = "default";  // "default" | "scale_shift"
  double output_scale_factor = 1.0;
  bool skip_time_act = false;
  double dropout = 0.0;
  std::optional<bool> use_in_shortcut;  // default: in_channels != out_channels
  bool conv_shortcut_bias = true;
};

// diffusers ResnetBlock2D (pre-norm, no up/down sampling inside the block).
class ResnetBlock2DImpl : public torch::nn::Module {
 public:
  explicit ResnetBlock2DImpl(const ResnetBlock2DOptions& options);
  torch::Tensor forward(const torch::Tensor& input, const torch::Tensor& temb = {});

  GroupNorm norm1{nullptr}, norm2{nullptr};
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr}, conv_shortcut{nullptr};
  torch::nn::Linear time_emb_proj{nullptr};

 private:
  ResnetBlock2DOptions options_;
};
TORCH_MODULE(ResnetBlock2D);

// diffusers Downsample2D with use_conv=True: stride-2 3x3 conv; padding 0 pads right/bottom by 1
// first (the VAE encoder's convention).
class Downsample2DImpl : public torch::nn::Module {
 public:
  Downsample2DImpl(int64_t channels, int64_t out_channels, int64_t padding);
  torch::Tensor forward(const torch::Tensor& x);

  torch::nn::Conv2d conv{nullptr};

 private:
  int64_t padding_;
};
TORCH_MODULE(Downsample2D);

// diffusers Upsample2D with use_conv=True: nearest x2 (or to `output_size`), then a 3x3 conv.
class Upsample2DImpl : public torch::nn::Module {
 public:
  Upsample2DImpl(int64_t channels, int64_t out_channels);
  torch::Tensor forward(const torch::Tensor& x,
                        std::optional<std::vector<int64_t>> output_size = {});

  torch::nn::Conv2d conv{nullptr};
};
TORCH_MODULE(Upsample2D);

// A conv with diffusers' default arguments.
torch::nn::Conv2d make_conv(int64_t in, int64_t out, int64_t kernel, int64_t stride = 1,
                            int64_t padding = -1, bool bias = true);

}  // namespace terrasynth::engine::nn
