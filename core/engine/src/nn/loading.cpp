#include "nn/loading.h"

#include <filesystem>
#include <regex>

#include "terrasynth/engine/error.h"

namespace terrasynth::engine::nn {

namespace fs = std::filesystem;

std::string find_weights_file(const std::string& folder) {
  for (const char* name :
       {"diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.fp16.safetensors",
        "diffusion_pytorch_model.bin"}) {
    const auto path = fs::path(folder) / name;
    if (fs::is_regular_file(path)) return path.string();
  }
  throw EngineError(
      EngineError::Kind::Io,
      folder + ": no diffusion_pytorch_model.safetensors (or .fp16.safetensors, .bin)");
}

nlohmann::json read_component_config(const std::string& folder, const std::string& expected_class) {
  const auto path = (fs::path(folder) / "config.json").string();
  auto reader = ConfigReader::from_file(path);
  if (!expected_class.empty()) {
    const auto name = reader.get_string("_class_name", expected_class);
    if (name != expected_class) {
      throw EngineError(EngineError::Kind::ModelFormat,
                        path + ": describes a " + name + ", expected a " + expected_class);
    }
  }
  return reader.json();
}

void load_into(torch::nn::Module& module, const StateDict& tensors, const std::string& label,
               torch::Dtype dtype, torch::Device device) {
  load_state_dict(module, tensors, /*strict=*/true, label);
  module.to(device, dtype);
}

namespace {

template <typename Holder>
Holder load_component(const std::string& folder, const std::string& class_name, torch::Dtype dtype,
                      torch::Device device) {
  auto config = read_component_config(folder, class_name);
  Holder network(config, (fs::path(folder) / "config.json").string());
  const auto weights = find_weights_file(folder);
  load_into(*network, load_weights(weights), weights, dtype, device);
  network->eval();
  return network;
}

}  // namespace

UNet2DConditionModel load_unet(const std::string& folder, torch::Dtype dtype,
                               torch::Device device) {
  return load_component<UNet2DConditionModel>(folder, "UNet2DConditionModel", dtype, device);
}

ControlNetModel load_controlnet(const std::string& folder, torch::Dtype dtype,
                                torch::Device device) {
  return load_component<ControlNetModel>(folder, "ControlNetModel", dtype, device);
}

AutoencoderKL load_autoencoder_kl(const std::string& folder, torch::Dtype dtype,
                                  torch::Device device) {
  return load_component<AutoencoderKL>(folder, "AutoencoderKL", dtype, device);
}

AutoencoderTiny load_autoencoder_tiny(const std::string& folder, torch::Dtype dtype,
                                      torch::Device device) {
  return load_component<AutoencoderTiny>(folder, "AutoencoderTiny", dtype, device);
}

AutoencoderTinyConfig taesd_config(const StateDict& encoder, const StateDict& decoder) {
  AutoencoderTinyConfig config;
  auto has_pool = [](const StateDict& tensors) {
    for (const auto& item : tensors) {
      if (item.key().find(".pool.") != std::string::npos) return true;
    }
    return false;
  };
  if (const auto* last = encoder.find("14.weight")) {
    config.latent_channels = last->size(0);
  } else if (const auto* first = decoder.find("1.weight")) {
    config.latent_channels = first->size(1);
  }
  config.use_midblock_gn = has_pool(encoder) || has_pool(decoder);
  return config;
}

StateDict taesd_to_diffusers(const StateDict& encoder, const StateDict& decoder) {
  static const std::regex index_key(R"(^(\d+)\.(.+)$)");
  StateDict out;
  auto convert = [&](const StateDict& tensors, const std::string& prefix, int shift,
                     const std::string& file) {
    for (const auto& item : tensors) {
      std::smatch match;
      if (!std::regex_match(item.key(), match, index_key)) {
        throw EngineError(EngineError::Kind::ModelFormat,
                          file + ": key '" + item.key() + "' is not a TAESD layer key");
      }
      const int index = std::stoi(match[1].str()) - shift;
      if (index < 0) {
        throw EngineError(EngineError::Kind::ModelFormat,
                          file + ": key '" + item.key() + "' precedes the decoder's first conv");
      }
      out.insert(prefix + std::to_string(index) + "." + match[2].str(), item.value());
    }
  };
  convert(encoder, "encoder.layers.", 0, "TAESD encoder");
  convert(decoder, "decoder.layers.", 1, "TAESD decoder");
  return out;
}

AutoencoderTiny load_taesd(const std::string& encoder_path, const std::string& decoder_path,
                           torch::Dtype dtype, torch::Device device) {
  if (encoder_path.empty() && decoder_path.empty()) {
    throw EngineError(EngineError::Kind::InvalidArgument,
                      "TAESD: give an encoder or a decoder checkpoint");
  }
  StateDict encoder = encoder_path.empty() ? StateDict() : load_weights(encoder_path);
  StateDict decoder = decoder_path.empty() ? StateDict() : load_weights(decoder_path);
  AutoencoderTiny network(taesd_config(encoder, decoder));
  const auto label = encoder_path.empty()   ? decoder_path
                     : decoder_path.empty() ? encoder_path
                                            : encoder_path + " + " + decoder_path;
  auto tensors = taesd_to_diffusers(encoder, decoder);
  const bool strict = !encoder_path.empty() && !decoder_path.empty();
  auto report = load_state_dict(*network, tensors, strict, label);
  if (!strict) {
    // Only the half without a file may be missing.
    const std::string absent = encoder_path.empty() ? "encoder." : "decoder.";
    bool ok = report.unexpected.empty() && report.mismatched.empty();
    for (const auto& key : report.missing) ok = ok && key.rfind(absent, 0) == 0;
    if (!ok) {
      std::string problem;
      for (const auto& key : report.unexpected) problem += " unexpected " + key + ";";
      for (const auto& key : report.mismatched) problem += " mismatched " + key + ";";
      for (const auto& key : report.missing) {
        if (key.rfind(absent, 0) != 0) problem += " missing " + key + ";";
      }
      throw EngineError(EngineError::Kind::ModelFormat,
                        label + ": not a TAESD checkpoint:" + problem);
    }
  }
  network->to(device, dtype);
  network->eval();
  return network;
}

torch::Tensor Autoencoder::encode(const torch::Tensor& image) {
  return kl ? kl->encode(image).mean : tiny->encode(image);
}

torch::Tensor Autoencoder::decode(const torch::Tensor& latents) {
  return kl ? kl->decode(latents) : tiny->decode(latents);
}

TileableDecoder& Autoencoder::tileable() {
  if (kl) return *kl;
  return *tiny;
}

torch::nn::Module& Autoencoder::module() {
  if (kl) return *kl;
  return *tiny;
}

int64_t Autoencoder::latent_channels() const {
  return kl ? kl->config().latent_channels : tiny->config().latent_channels;
}

int64_t Autoencoder::downscale() const {
  return kl ? kl->config().downscale() : tiny->config().downscale();
}

double Autoencoder::scaling_factor() const {
  return kl ? kl->config().scaling_factor : tiny->config().scaling_factor;
}

double Autoencoder::shift_factor() const {
  return kl ? kl->config().shift_factor : tiny->config().shift_factor;
}

Autoencoder load_autoencoder(const std::string& folder, torch::Dtype dtype, torch::Device device) {
  const auto config = read_component_config(folder);
  const auto it = config.find("_class_name");
  const std::string name = it != config.end() && it->is_string() ? it->get<std::string>() : "";
  Autoencoder out;
  if (name == "AutoencoderKL") {
    out.kl = load_autoencoder_kl(folder, dtype, device);
  } else if (name == "AutoencoderTiny") {
    out.tiny = load_autoencoder_tiny(folder, dtype, device);
  } else {
    throw EngineError(EngineError::Kind::ModelFormat,
                      folder + "/config.json: _class_name '" + name +
                          "' is not an autoencoder (AutoencoderKL, AutoencoderTiny)");
  }
  return out;
}

}  // namespace terrasynth::engine::nn
