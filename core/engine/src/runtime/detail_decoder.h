#pragma once
// The detail decoder: a feed-forward network that re-renders an image's fine detail from its
// 1/factor-resolution version, the land-cover layout at full resolution, the style and the
// ground resolution. Trained adversarially on the real photos (train/detail_train.cpp), it
// turns the soft output of a small diffusion model into crisp photographic texture: the
// diffusion model decides what goes where at the coarse scale, the decoder how it looks.
//
// The network has no normalisation layers and a bounded receptive field, so running it in
// windows with a halo of halo_pixels() gives the same pixels as one pass over the whole canvas.
#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "runtime/detail_config.h"
#include "terrasynth/engine/progress.h"

namespace terrasynth::engine {

struct DetailNetImpl : torch::nn::Module {
  explicit DetailNetImpl(const DetailDecoderConfig& config);
  // lowres [B,3,h,w] in [0,1]; layout [B,K,h*f,w*f] class fractions (zeros where unknown);
  // cond [B,S+2] (style one-hot, gsd known, gsd feature); noise: with config.noise, one
  // [B,1,h*2^s,w*2^s] tensor per upsampling stage s = 1, 2, ... Returns [B,3,h*f,w*f], not clamped.
  torch::Tensor forward(const torch::Tensor& lowres, const torch::Tensor& layout, const torch::Tensor& cond,
                        const std::vector<torch::Tensor>& noise = {});
  // Standard-normal noise inputs for a batch (training).
  std::vector<torch::Tensor> random_noise(const torch::Tensor& lowres) const;

  DetailDecoderConfig config;
  torch::nn::Conv2d conv_in{nullptr};
  torch::nn::ModuleList block_convs{nullptr};  // 2 per residual block
  torch::nn::ModuleList up_convs{nullptr};     // 1 per upsampling stage
  torch::nn::ModuleList mix_convs{nullptr};    // 1 per upsampling stage (after the layout joins)
  torch::nn::ModuleList stage_convs{nullptr};  // 2 per stage residual block
  torch::nn::Conv2d conv_out{nullptr};
};
TORCH_MODULE(DetailNet);

// Area average of images [B,C,H,W] over factor x factor blocks (H, W multiples of factor).
torch::Tensor detail_downsample(const torch::Tensor& images, int factor);

// The decoder's low-resolution input of images [B,3,H,W]: the area average, blurred by
// input_blur.
torch::Tensor detail_input(const DetailDecoderConfig& config, const torch::Tensor& images);

// Condition vectors [N, S+2] for the decoder: style index (< 0 = unknown) and gsd (<= 0 = unknown).
torch::Tensor detail_condition(const DetailDecoderConfig& config, const std::vector<int>& styles,
                               const std::vector<double>& gsds);

class DetailDecoder {
 public:
  // The config.json of a decoder folder alone (checked).
  static DetailDecoderConfig read_config(const std::string& folder);
  // A folder with config.json and detail.safetensors.
  static std::unique_ptr<DetailDecoder> load(const std::string& folder);
  explicit DetailDecoder(const DetailDecoderConfig& config);

  const DetailDecoderConfig& config() const { return config_; }
  DetailNet& net() { return net_; }
  void to(const torch::Device& device, torch::ScalarType dtype);

  // Where an image lies in the global pixel frame and which seed its noise inputs take.
  struct Placement {
    uint64_t seed = 0;
    int64_t origin_x = 0;
    int64_t origin_y = 0;
  };

  // Re-renders images [1,3,H,W] in [0,1] (any H, W) with class maps [1,H,W] (uint8, 255 =
  // unknown) in windows of about `window` pixels; returns [1,3,H,W] clamped to [0,1] (float,
  // CPU). Progress events of phase "detail"; returns an undefined tensor when cancelled.
  torch::Tensor apply(const torch::Tensor& image, const torch::Tensor& classes, int style, double gsd,
                      const Placement& placement, int window = 512, const ProgressCallback& progress = {},
                      const CancelToken* cancel = nullptr);

 private:
  DetailDecoderConfig config_;
  DetailNet net_;
  torch::Device device_{torch::kCPU};
  torch::ScalarType dtype_ = torch::kFloat32;
};

}  // namespace terrasynth::engine
