#include "nn/controlnet.h"

#include <cmath>

#include "terrasynth/engine/error.h"

namespace terrasynth::engine::nn {

namespace {

void zero_conv(torch::nn::Conv2d& conv) {
  torch::NoGradGuard no_grad;
  conv->weight.zero_();
  if (conv->bias.defined()) conv->bias.zero_();
}

}  // namespace

ControlNetConditioningEmbeddingImpl::ControlNetConditioningEmbeddingImpl(
    int64_t embedding_channels, int64_t conditioning_channels,
    const std::vector<int64_t>& block_out_channels) {
  conv_in = register_module("conv_in", make_conv(conditioning_channels, block_out_channels[0], 3));
  blocks = register_module("blocks", torch::nn::ModuleList());
  for (size_t i = 0; i + 1 < block_out_channels.size(); ++i) {
    const int64_t in = block_out_channels[i], out = block_out_channels[i + 1];
    convs_.push_back(make_conv(in, in, 3));
    blocks->push_back(convs_.back());
    convs_.push_back(make_conv(in, out, 3, 2));
    blocks->push_back(convs_.back());
  }
  conv_out =
      register_module("conv_out", make_conv(block_out_channels.back(), embedding_channels, 3));
  zero_conv(conv_out);
}

torch::Tensor ControlNetConditioningEmbeddingImpl::forward(const torch::Tensor& conditioning) {
  auto h = torch::silu(conv_in(conditioning));
  for (auto& conv : convs_) h = torch::silu(conv(h));
  return conv_out(h);
}

ControlNetModelImpl::ControlNetModelImpl(const nlohmann::json& config, const std::string& label)
    : ControlNetModelImpl(
          UNetConfig::parse(ConfigReader(config, label), UNetConfig::Kind::ControlNet), label) {}

ControlNetModelImpl::ControlNetModelImpl(const UNetConfig& config, const std::string& label)
    : UNetTrunkImpl(config, label) {
  build_control_path();
}

void ControlNetModelImpl::build_control_path() {
  const auto& c = config_;
  controlnet_cond_embedding = register_module(
      "controlnet_cond_embedding",
      ControlNetConditioningEmbedding(c.block_out_channels[0], c.conditioning_channels,
                                      c.conditioning_embedding_out_channels));
  controlnet_down_blocks = register_module("controlnet_down_blocks", torch::nn::ModuleList());
  auto add = [&](int64_t channels) {
    control_convs_.push_back(make_conv(channels, channels, 1, 1, 0));
    zero_conv(control_convs_.back());
    controlnet_down_blocks->push_back(control_convs_.back());
  };
  add(c.block_out_channels[0]);
  for (size_t i = 0; i < c.down_block_types.size(); ++i) {
    for (int64_t layer = 0; layer < c.layers_per_block[i]; ++layer) add(c.block_out_channels[i]);
    if (i + 1 < c.down_block_types.size()) add(c.block_out_channels[i]);
  }
  const int64_t mid = c.block_out_channels.back();
  controlnet_mid_block = register_module("controlnet_mid_block", make_conv(mid, mid, 1, 1, 0));
  zero_conv(controlnet_mid_block);
}

ControlNetOutput ControlNetModelImpl::forward(const torch::Tensor& sample,
                                              const torch::Tensor& timesteps,
                                              const torch::Tensor& encoder_hidden_states,
                                              const torch::Tensor& controlnet_cond,
                                              double conditioning_scale,
                                              const torch::Tensor& class_labels, bool guess_mode) {
  check_inputs(sample, encoder_hidden_states, class_labels);
  const int64_t factor = controlnet_cond_embedding->downscale();
  if (!controlnet_cond.defined() || controlnet_cond.dim() != 4 ||
      controlnet_cond.size(0) != sample.size(0) ||
      controlnet_cond.size(1) != config_.conditioning_channels ||
      controlnet_cond.size(2) != sample.size(2) * factor ||
      controlnet_cond.size(3) != sample.size(3) * factor) {
    throw EngineError(EngineError::Kind::InvalidArgument,
                      label_ + ": controlnet_cond must be [" + std::to_string(sample.size(0)) +
                          ", " + std::to_string(config_.conditioning_channels) + ", " +
                          std::to_string(sample.size(2) * factor) + ", " +
                          std::to_string(sample.size(3) * factor) + "], got " +
                          (controlnet_cond.defined() ? c10::str(controlnet_cond.sizes())
                                                     : std::string("undefined")));
  }
  auto cond = config_.bgr_conditioning ? controlnet_cond.flip({1}) : controlnet_cond;
  auto emb = embedding(timesteps, class_labels, sample);
  auto h = conv_in(sample) + controlnet_cond_embedding(cond.to(sample.scalar_type()));
  auto [out, states] = run_down(h, emb, encoder_hidden_states);
  out = run_mid(out, emb, encoder_hidden_states);

  if (states.size() != control_convs_.size()) {
    throw EngineError(EngineError::Kind::Internal,
                      label_ + ": " + std::to_string(states.size()) + " down states for " +
                          std::to_string(control_convs_.size()) + " controlnet_down_blocks");
  }
  ControlNetOutput result;
  const size_t count = states.size();
  for (size_t i = 0; i < count; ++i) {
    double scale = conditioning_scale;
    if (guess_mode && !config_.global_pool_conditions) {
      // torch.logspace(-1, 0, count + 1): 10^(-1 + i / count)
      scale *= std::pow(10.0, -1.0 + static_cast<double>(i) / static_cast<double>(count));
    }
    result.down_block_res_samples.push_back(control_convs_[i](states[i]) * scale);
  }
  result.mid_block_res_sample = controlnet_mid_block(out) * conditioning_scale;
  if (config_.global_pool_conditions) {
    for (auto& r : result.down_block_res_samples) r = r.mean({2, 3}, true);
    result.mid_block_res_sample = result.mid_block_res_sample.mean({2, 3}, true);
  }
  return result;
}

ControlNetModel controlnet_from_unet(
    UNet2DConditionModelImpl& unet, const std::vector<int64_t>& conditioning_embedding_out_channels,
    int64_t conditioning_channels) {
  UNetConfig config = unet.config();
  config.conditioning_embedding_out_channels = conditioning_embedding_out_channels;
  config.conditioning_channels = conditioning_channels;
  ControlNetModel controlnet(config);
  torch::NoGradGuard no_grad;
  auto source = unet.named_parameters(true);
  auto buffers = unet.named_buffers(true);
  for (auto& item : controlnet->named_parameters(true)) {
    if (const auto* from = source.find(item.key())) item.value().copy_(*from);
  }
  for (auto& item : controlnet->named_buffers(true)) {
    if (const auto* from = buffers.find(item.key())) item.value().copy_(*from);
  }
  if (auto* parameter = unet.named_parameters(true).find("conv_in.weight")) {
    controlnet->to(parameter->device(), parameter->scalar_type());
  }
  return controlnet;
}

}  // namespace terrasynth::engine::nn
