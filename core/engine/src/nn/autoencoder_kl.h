#pragma once
// diffusers AutoencoderKL (Encoder, Decoder, quant convs) with diffusers' parameter names.
#include <torch/torch.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "nn/config.h"
#include "nn/tiled_decode.h"
#include "nn/unet_blocks.h"

namespace terrasynth::engine::nn {

struct AutoencoderKLConfig {
  int64_t in_channels = 3;
  int64_t out_channels = 3;
  std::vector<int64_t> block_out_channels{64};
  int64_t layers_per_block = 1;
  Activation act = Activation::SiLU;
  int64_t latent_channels = 4;
  int64_t norm_num_groups = 32;
  double scaling_factor = 0.18215;
  double shift_factor = 0.0;
  bool use_quant_conv = true;
  bool use_post_quant_conv = true;
  bool mid_block_add_attention = true;

  static AutoencoderKLConfig parse(const ConfigReader& reader);
  // Image pixels per latent pixel (2^(blocks - 1)).
  int64_t downscale() const { return int64_t{1} << (block_out_channels.size() - 1); }
};

// diffusers UpDecoderBlock2D: resnets without skip connections, then an optional upsampler.
class UpDecoderBlockImpl : public torch::nn::Module {
 public:
  explicit UpDecoderBlockImpl(const BlockSpec& spec);
  torch::Tensor forward(const torch::Tensor& x) { return upsample(run_resnets(x)); }
  torch::Tensor run_resnets(const torch::Tensor& x);
  torch::Tensor upsample(const torch::Tensor& x);

  torch::nn::ModuleList resnets{nullptr}, upsamplers{nullptr};

 private:
  std::vector<ResnetBlock2D> resnet_layers_;
  Upsample2D upsampler_{nullptr};
};
TORCH_MODULE(UpDecoderBlock);

// diffusers vae Encoder: image -> [mean | logvar] moments (before quant_conv).
class VaeEncoderImpl : public torch::nn::Module {
 public:
  explicit VaeEncoderImpl(const AutoencoderKLConfig& config);
  torch::Tensor forward(const torch::Tensor& x);

  torch::nn::Conv2d conv_in{nullptr}, conv_out{nullptr};
  torch::nn::ModuleList down_blocks{nullptr};
  MidBlock2D mid_block{nullptr};
  GroupNorm conv_norm_out{nullptr};

 private:
  std::vector<DownBlock> down_;
  Activation act_;
};
TORCH_MODULE(VaeEncoder);

// diffusers vae Decoder, split in the latent-resolution head (conv_in, mid block, the first up
// block's resnets) and the upsampling tail, so tiled decoding can run the head (with its global
// attention and GroupNorm statistics) on the whole latent.
class VaeDecoderImpl : public torch::nn::Module {
 public:
  explicit VaeDecoderImpl(const AutoencoderKLConfig& config);
  torch::Tensor forward(const torch::Tensor& z) { return tail(head(z)); }
  torch::Tensor head(const torch::Tensor& z);
  torch::Tensor tail(const torch::Tensor& h);

  torch::nn::Conv2d conv_in{nullptr}, conv_out{nullptr};
  MidBlock2D mid_block{nullptr};
  torch::nn::ModuleList up_blocks{nullptr};
  GroupNorm conv_norm_out{nullptr};

 private:
  std::vector<UpDecoderBlock> up_;
  Activation act_;
};
TORCH_MODULE(VaeDecoder);

struct LatentDistribution {
  torch::Tensor parameters;  // moments [B, 2C, h, w]
  torch::Tensor mean, logvar, std, var;
  // mean + std * noise; `noise` of mean's shape (drawn from the global generator when undefined).
  torch::Tensor sample(const torch::Tensor& noise = {}) const;
};

class AutoencoderKLImpl : public torch::nn::Module, public TileableDecoder {
 public:
  explicit AutoencoderKLImpl(const nlohmann::json& config,
                             const std::string& label = "AutoencoderKL config");
  explicit AutoencoderKLImpl(const AutoencoderKLConfig& config);

  // image [B, in_channels, H, W] in [-1, 1] -> latent distribution (unscaled latents).
  LatentDistribution encode(const torch::Tensor& image);
  // latents [B, latent_channels, h, w] (unscaled) -> image in about [-1, 1].
  torch::Tensor decode(const torch::Tensor& latents);
  // encode, take the mean (or a sample with `noise`), decode.
  torch::Tensor forward(const torch::Tensor& image);

  const AutoencoderKLConfig& config() const { return config_; }

  // TileableDecoder
  torch::Tensor decode_head(const torch::Tensor& latents) override;
  torch::Tensor decode_tail(const torch::Tensor& features) override;
  int64_t decoder_upscale() const override { return config_.downscale(); }
  torch::nn::Module& decoder_module() override { return *decoder; }

  VaeEncoder encoder{nullptr};
  VaeDecoder decoder{nullptr};
  torch::nn::Conv2d quant_conv{nullptr}, post_quant_conv{nullptr};

 private:
  void check_latents(const torch::Tensor& latents) const;
  AutoencoderKLConfig config_;
};
TORCH_MODULE(AutoencoderKL);

}  // namespace terrasynth::engine::nn
