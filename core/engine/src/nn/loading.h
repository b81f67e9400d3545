#pragma once
// Factories for the runtime and the trainer: networks from diffusers folders (config.json and
// diffusion_pytorch_model[.fp16].safetensors), weights converted to the requested dtype and
// device at load.
#include <torch/torch.h>

#include <nlohmann/json.hpp>
#include <string>

#include "nn/autoencoder_kl.h"
#include "nn/autoencoder_tiny.h"
#include "nn/controlnet.h"
#include "nn/unet.h"
#include "weights/state_dict.h"

namespace terrasynth::engine::nn {

// The weights file of a diffusers component folder: diffusion_pytorch_model.safetensors, then
// .fp16.safetensors, then .bin. Throws EngineError(Io) naming the folder when none exists.
std::string find_weights_file(const std::string& folder);
// config.json of a folder; when `expected_class` is not empty, its "_class_name" (if present)
// must match. Throws EngineError(Io / ModelFormat).
nlohmann::json read_component_config(const std::string& folder,
                                     const std::string& expected_class = "");

// Copies `tensors` into `module` (strict: every key must match), then moves the module to
// `dtype` and `device`. `label` names the weights in errors.
void load_into(torch::nn::Module& module, const StateDict& tensors, const std::string& label,
               torch::Dtype dtype = torch::kFloat32, torch::Device device = torch::kCPU);

UNet2DConditionModel load_unet(const std::string& folder, torch::Dtype dtype = torch::kFloat32,
                               torch::Device device = torch::kCPU);
ControlNetModel load_controlnet(const std::string& folder, torch::Dtype dtype = torch::kFloat32,
                                torch::Device device = torch::kCPU);
AutoencoderKL load_autoencoder_kl(const std::string& folder, torch::Dtype dtype = torch::kFloat32,
                                  torch::Device device = torch::kCPU);
AutoencoderTiny load_autoencoder_tiny(const std::string& folder,
                                      torch::Dtype dtype = torch::kFloat32,
                                      torch::Device device = torch::kCPU);

// Original TAESD checkpoints (taesd.py naming, e.g. taef2_encoder.pth / taef2_decoder.pth).
// Either path may be empty: that half keeps its initial weights. The latent channel count and
// the FLUX.2 GroupNorm pool branch are read from the files.
AutoencoderTiny load_taesd(const std::string& encoder_path, const std::string& decoder_path,
                           torch::Dtype dtype = torch::kFloat32,
                           torch::Device device = torch::kCPU);
// The AutoencoderTiny config and diffusers-named state dict equivalent to taesd.py checkpoints.
AutoencoderTinyConfig taesd_config(const StateDict& encoder, const StateDict& decoder);
StateDict taesd_to_diffusers(const StateDict& encoder, const StateDict& decoder);

// Either autoencoder behind one interface, chosen by the folder's config "_class_name".
struct Autoencoder {
  AutoencoderKL kl{nullptr};
  AutoencoderTiny tiny{nullptr};

  // image in [-1, 1] -> unscaled latents (the posterior mean for AutoencoderKL).
  torch::Tensor encode(const torch::Tensor& image);
  // unscaled latents -> image in about [-1, 1].
  torch::Tensor decode(const torch::Tensor& latents);
  TileableDecoder& tileable();
  torch::nn::Module& module();
  int64_t latent_channels() const;
  int64_t downscale() const;
  double scaling_factor() const;
  double shift_factor() const;
};
Autoencoder load_autoencoder(const std::string& folder, torch::Dtype dtype = torch::kFloat32,
                             torch::Device device = torch::kCPU);

}  // namespace terrasynth::engine::nn
