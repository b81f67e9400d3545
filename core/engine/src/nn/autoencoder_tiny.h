#pragma once
// diffusers AutoencoderTiny (the TAESD family) with diffusers' parameter names, plus the FLUX.2
// variant of TAESD (TAEF2) whose blocks next to the latent carry a GroupNorm "pool" branch
// (config key "use_midblock_gn", not known to diffusers 0.31).
//
// Original TAESD checkpoints (taesd.py's nn.Sequential, e.g. taef2_encoder.pth) load through
// load_taesd(): encoder key "N.x" maps to "encoder.layers.N.x" and decoder key "N.x" to
// "decoder.layers.(N-1).x", because taesd.py's decoder starts with a parameter-free Clamp that
// diffusers applies in forward() instead.
#include <torch/torch.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "nn/config.h"
#include "nn/layers.h"
#include "nn/tiled_decode.h"

namespace terrasynth::engine::nn {

struct AutoencoderTinyConfig {
  int64_t in_channels = 3;
  int64_t out_channels = 3;
  std::vector<int64_t> encoder_block_out_channels{64, 64, 64, 64};
  std::vector<int64_t> decoder_block_out_channels{64, 64, 64, 64};
  std::vector<int64_t> num_encoder_blocks{1, 3, 3, 3};
  std::vector<int64_t> num_decoder_blocks{3, 3, 3, 1};
  Activation act = Activation::ReLU;
  int64_t latent_channels = 4;
  int64_t upsampling_scaling_factor = 2;
  double latent_magnitude = 3.0;
  double latent_shift = 0.5;
  double scaling_factor = 1.0;
  double shift_factor = 0.0;
  // TAEF2: GroupNorm pool branch in the encoder's last stage and the decoder's first stage.
  bool use_midblock_gn = false;

  static AutoencoderTinyConfig parse(const ConfigReader& reader);
  nlohmann::json to_json() const;
  int64_t downscale() const;
};

// diffusers AutoencoderTinyBlock (+ taesd.py's optional pool branch).
class TinyBlockImpl : public torch::nn::Module {
 public:
  TinyBlockImpl(int64_t in, int64_t out, Activation act, bool pool);
  torch::Tensor forward(const torch::Tensor& x);

  torch::nn::Sequential conv{nullptr}, pool{nullptr};
  torch::nn::Conv2d skip{nullptr};

 private:
  Activation act_;
  torch::nn::Conv2d conv0_{nullptr}, conv2_{nullptr}, conv4_{nullptr};
  torch::nn::Conv2d pool_in_{nullptr}, pool_out_{nullptr};
  GroupNorm pool_norm_{nullptr};
};
TORCH_MODULE(TinyBlock);

// A stack of layers named "0", "1", ... like nn.Sequential, with parameter-free layers
// (activations, upsampling) keeping their index.
class TinyStackImpl : public torch::nn::Module {
 public:
  TinyStackImpl() = default;
  void add_conv(int64_t in, int64_t out, int64_t stride, bool bias);
  void add_block(int64_t channels, Activation act, bool pool);
  void add_activation(Activation act);
  void add_upsample(int64_t factor);
  size_t size() const { return layers_.size(); }
  // Runs layers [begin, end).
  torch::Tensor run(const torch::Tensor& x, size_t begin, size_t end);

 private:
  struct Layer {
    enum class Kind { Conv, Block, Activation, Upsample } kind;
    torch::nn::Conv2d conv{nullptr};
    TinyBlock block{nullptr};
    Activation act = Activation::None;
    int64_t factor = 1;
  };
  std::vector<Layer> layers_;
};
TORCH_MODULE(TinyStack);

class TinyEncoderImpl : public torch::nn::Module {
 public:
  explicit TinyEncoderImpl(const AutoencoderTinyConfig& config);
  // image in [-1, 1] -> raw latents.
  torch::Tensor forward(const torch::Tensor& image);
  TinyStack layers{nullptr};
};
TORCH_MODULE(TinyEncoder);

class TinyDecoderImpl : public torch::nn::Module {
 public:
  explicit TinyDecoderImpl(const AutoencoderTinyConfig& config);
  // raw latents -> image in [-1, 1].
  torch::Tensor forward(const torch::Tensor& latents) { return tail(head(latents)); }
  // tanh clamp, input conv and the first stage's blocks (latent resolution).
  torch::Tensor head(const torch::Tensor& latents);
  torch::Tensor tail(const torch::Tensor& features);
  TinyStack layers{nullptr};

 private:
  size_t head_end_ = 0;
};
TORCH_MODULE(TinyDecoder);

class AutoencoderTinyImpl : public torch::nn::Module, public TileableDecoder {
 public:
  explicit AutoencoderTinyImpl(const nlohmann::json& config,
                               const std::string& label = "AutoencoderTiny config");
  explicit AutoencoderTinyImpl(const AutoencoderTinyConfig& config);

  // image [B, in_channels, H, W] in [-1, 1] -> raw latents [B, latent_channels, H/8, W/8].
  torch::Tensor encode(const torch::Tensor& image);
  // raw latents -> image in [-1, 1].
  torch::Tensor decode(const torch::Tensor& latents);
  // diffusers AutoencoderTiny.forward: encode, quantise the latents to 8 bits, decode.
  torch::Tensor forward(const torch::Tensor& image);
  torch::Tensor scale_latents(const torch::Tensor& raw) const;     // raw -> [0, 1]
  torch::Tensor unscale_latents(const torch::Tensor& unit) const;  // [0, 1] -> raw

  const AutoencoderTinyConfig& config() const { return config_; }

  torch::Tensor decode_head(const torch::Tensor& latents) override;
  torch::Tensor decode_tail(const torch::Tensor& features) override;
  int64_t decoder_upscale() const override { return config_.downscale(); }
  torch::nn::Module& decoder_module() override { return *decoder; }

  TinyEncoder encoder{nullptr};
  TinyDecoder decoder{nullptr};

 private:
  void check_latents(const torch::Tensor& latents) const;
  AutoencoderTinyConfig config_;
};
TORCH_MODULE(AutoencoderTiny);

}  // namespace terrasynth::engine::nn
