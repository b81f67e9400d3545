#pragma once
// diffusers UNet blocks: DownBlock2D / CrossAttnDownBlock2D, UpBlock2D / CrossAttnUpBlock2D,
// UNetMidBlock2DCrossAttn and UNetMidBlock2D (with or without attention).
#include <torch/torch.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "nn/attention.h"
#include "nn/layers.h"

namespace terrasynth::engine::nn {

struct BlockSpec {
  int64_t num_layers = 1;
  int64_t in_channels = 0;
  int64_t out_channels = 0;
  int64_t prev_output_channel = 0;  // up blocks: channels coming from the block below
  int64_t temb_channels = 0;        // 0 = no time embedding
  bool add_sampler = false;         // downsampler (down blocks) or upsampler (up blocks)
  double eps = 1e-5;
  Activation act = Activation::SiLU;
  int64_t groups = 32;
  int64_t downsample_padding = 1;
  std::string time_scale_shift = "default";
  double output_scale_factor = 1.0;
  double dropout = 0.0;
  bool skip_time_act = false;
  // Cross-attention blocks only.
  bool cross_attention = false;
  int64_t transformer_layers = 1;
  int64_t cross_attention_dim = 0;
  int64_t heads = 8;
  bool use_linear_projection = false;
  bool only_cross_attention = false;
  bool upcast_attention = false;
};

ResnetBlock2DOptions resnet_options(const BlockSpec& spec, int64_t in, int64_t out);

// DownBlock2D, or CrossAttnDownBlock2D when spec.cross_attention.
class DownBlockImpl : public torch::nn::Module {
 public:
  explicit DownBlockImpl(const BlockSpec& spec);
  // Returns the output and the states passed to the up path (one per layer, plus the
  // downsampled output when there is a downsampler).
  std::pair<torch::Tensor, std::vector<torch::Tensor>> forward(const torch::Tensor& x,
                                                               const torch::Tensor& temb,
                                                               const torch::Tensor& context = {});
  bool has_cross_attention() const { return !attention_layers_.empty(); }

  torch::nn::ModuleList resnets{nullptr}, attentions{nullptr}, downsamplers{nullptr};

 private:
  std::vector<ResnetBlock2D> resnet_layers_;
  std::vector<Transformer2DModel> attention_layers_;
  Downsample2D downsampler_{nullptr};
};
TORCH_MODULE(DownBlock);

// UpBlock2D, or CrossAttnUpBlock2D when spec.cross_attention.
class UpBlockImpl : public torch::nn::Module {
 public:
  explicit UpBlockImpl(const BlockSpec& spec);
  // Consumes skip states from the back of `skips`.
  torch::Tensor forward(const torch::Tensor& x, std::vector<torch::Tensor>& skips,
                        const torch::Tensor& temb, const torch::Tensor& context = {},
                        std::optional<std::vector<int64_t>> upsample_size = {});
  size_t num_layers() const { return resnet_layers_.size(); }

  torch::nn::ModuleList resnets{nullptr}, attentions{nullptr}, upsamplers{nullptr};

 private:
  std::vector<ResnetBlock2D> resnet_layers_;
  std::vector<Transformer2DModel> attention_layers_;
  Upsample2D upsampler_{nullptr};
};
TORCH_MODULE(UpBlock);

// UNetMidBlock2DCrossAttn: resnet, then (transformer, resnet) x num_layers.
class MidBlock2DCrossAttnImpl : public torch::nn::Module {
 public:
  explicit MidBlock2DCrossAttnImpl(const BlockSpec& spec);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& temb,
                        const torch::Tensor& context = {});

  torch::nn::ModuleList resnets{nullptr}, attentions{nullptr};

 private:
  std::vector<ResnetBlock2D> resnet_layers_;
  std::vector<Transformer2DModel> attention_layers_;
};
TORCH_MODULE(MidBlock2DCrossAttn);

// UNetMidBlock2D: resnet, then (optional spatial self-attention, resnet) x num_layers. The UNet
// builds it with num_layers = 0; the VAE with one attention layer.
class MidBlock2DImpl : public torch::nn::Module {
 public:
  MidBlock2DImpl(const BlockSpec& spec, bool add_attention, int64_t attention_head_dim = 0);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& temb = {});

  torch::nn::ModuleList resnets{nullptr}, attentions{nullptr};

 private:
  std::vector<ResnetBlock2D> resnet_layers_;
  std::vector<Attention> attention_layers_;
};
TORCH_MODULE(MidBlock2D);

}  // namespace terrasynth::engine::nn
