#include "nn/layers.h"

#include <cmath>

#include "terrasynth/engine/error.h"

namespace terrasynth::engine::nn {

Activation parse_activation(const std::string& name, const std::string& context) {
  if (name.empty()) return Activation::None;
  if (name == "silu" || name == "swish") return Activation::SiLU;
  if (name == "relu") return Activation::ReLU;
  if (name == "gelu") return Activation::GELU;
  if (name == "mish") return Activation::Mish;
  throw EngineError(
      EngineError::Kind::Unsupported,
      context + ": activation '" + name + "' is not supported (silu, relu, gelu, mish)");
}

torch::Tensor activate(Activation activation, const torch::Tensor& x) {
  switch (activation) {
    case Activation::None:
      return x;
    case Activation::SiLU:
      return torch::silu(x);
    case Activation::ReLU:
      return torch::relu(x);
    case Activation::GELU:
      return torch::gelu(x);
    case Activation::Mish:
      return torch::mish(x);
  }
  return x;
}

torch::Tensor timestep_embedding(const torch::Tensor& timesteps, int64_t dim, bool flip_sin_to_cos,
                                 double downscale_freq_shift, double scale, double max_period) {
  if (timesteps.dim() != 1) {
    throw EngineError(EngineError::Kind::InvalidArgument,
                      "timestep embedding: timesteps must be a 1-D tensor, got " +
                          std::to_string(timesteps.dim()) + " dimensions");
  }
  const int64_t half = dim / 2;
  auto exponent =
      torch::arange(0, half, timesteps.options().dtype(torch::kFloat32)) * (-std::log(max_period));
  exponent = exponent / (static_cast<double>(half) - downscale_freq_shift);
  auto frequencies = torch::exp(exponent);
  auto angles = timesteps.unsqueeze(1).to(torch::kFloat32) * frequencies.unsqueeze(0);
  if (scale != 1.0) angles = angles * scale;
  auto emb = flip_sin_to_cos ? torch::cat({torch::cos(angles), torch::sin(angles)}, -1)
                             : torch::cat({torch::sin(angles), torch::cos(angles)}, -1);
  if (dim % 2 == 1) emb = torch::constant_pad_nd(emb, {0, 1, 0, 0}, 0);
  return emb;
}

torch::Tensor broadcast_timesteps(const torch::Tensor& timesteps, int64_t batch,
                                  const torch::Device& device) {
  if (!timesteps.defined()) {
    throw EngineError(EngineError::Kind::InvalidArgument, "timesteps: tensor is undefined");
  }
  auto t = timesteps.to(device);
  if (t.dim() == 0) t = t.unsqueeze(0);
  if (t.dim() != 1 || (t.size(0) != 1 && t.size(0) != batch)) {
    throw EngineError(EngineError::Kind::InvalidArgument,
                      "timesteps: expected a scalar or " + std::to_string(batch) +
                          " values, got shape " + std::string(c10::str(t.sizes())));
  }
  return t.expand({batch});
}

TimestepEmbeddingImpl::TimestepEmbeddingImpl(int64_t in_channels, int64_t time_embed_dim,
                                             Activation act, int64_t out_dim, Activation post_act,
                                             int64_t cond_proj_dim)
    : act_(act), post_act_(post_act) {
  linear_1 = register_module("linear_1", torch::nn::Linear(in_channels, time_embed_dim));
  if (cond_proj_dim > 0) {
    cond_proj = register_module(
        "cond_proj",
        torch::nn::Linear(torch::nn::LinearOptions(cond_proj_dim, in_channels).bias(false)));
  }
  linear_2 = register_module(
      "linear_2", torch::nn::Linear(time_embed_dim, out_dim > 0 ? out_dim : time_embed_dim));
}

torch::Tensor TimestepEmbeddingImpl::forward(const torch::Tensor& sample,
                                             const torch::Tensor& condition) {
  auto x = sample;
  if (condition.defined() && cond_proj) x = x + cond_proj(condition);
  x = activate(act_, linear_1(x));
  x = linear_2(x);
  return activate(post_act_, x);
}

torch::nn::Conv2d make_conv(int64_t in, int64_t out, int64_t kernel, int64_t stride,
                            int64_t padding, bool bias) {
  if (padding < 0) padding = (kernel - 1) / 2;
  return torch::nn::Conv2d(
      torch::nn::Conv2dOptions(in, out, kernel).stride(stride).padding(padding).bias(bias));
}

ResnetBlock2DImpl::ResnetBlock2DImpl(const ResnetBlock2DOptions& options) : options_(options) {
  auto& o = options_;
  if (o.out_channels == 0) o.out_channels = o.in_channels;
  if (o.groups_out == 0) o.groups_out = o.groups;
  if (o.time_embedding_norm != "default" && o.time_embedding_norm != "scale_shift" &&
      o.time_embedding_norm != "group") {
    throw EngineError(EngineError::Kind::Unsupported,
                      "ResnetBlock2D: time_embedding_norm '" + o.time_embedding_norm +
                          "' is not supported (default, scale_shift)");
  }
  norm1 = register_module("norm1", GroupNorm(o.groups, o.in_channels, o.eps));
  conv1 = register_module("conv1", make_conv(o.in_channels, o.out_channels, 3));
  if (o.temb_channels > 0) {
    const int64_t proj_out =
        o.time_embedding_norm == "scale_shift" ? 2 * o.out_channels : o.out_channels;
    time_emb_proj = register_module("time_emb_proj", torch::nn::Linear(o.temb_channels, proj_out));
  }
  norm2 = register_module("norm2", GroupNorm(o.groups_out, o.out_channels, o.eps));
  conv2 = register_module("conv2", make_conv(o.out_channels, o.out_channels, 3));
  const bool shortcut = o.use_in_shortcut.value_or(o.in_channels != o.out_channels);
  if (shortcut) {
    conv_shortcut = register_module(
        "conv_shortcut", make_conv(o.in_channels, o.out_channels, 1, 1, 0, o.conv_shortcut_bias));
  }
}

torch::Tensor ResnetBlock2DImpl::forward(const torch::Tensor& input, const torch::Tensor& temb) {
  const auto& o = options_;
  auto h = activate(o.act, norm1(input));
  h = conv1(h);
  torch::Tensor t;
  if (time_emb_proj && temb.defined()) {
    t = o.skip_time_act ? temb : activate(o.act, temb);
    t = time_emb_proj(t).unsqueeze(-1).unsqueeze(-1);
  }
  if (o.time_embedding_norm == "scale_shift") {
    if (!t.defined()) {
      throw EngineError(EngineError::Kind::InvalidArgument,
                        "ResnetBlock2D: scale_shift time embedding needs a time embedding");
    }
    auto parts = t.chunk(2, 1);
    h = norm2(h) * (1 + parts[0]) + parts[1];
  } else {
    if (t.defined()) h = h + t;
    h = norm2(h);
  }
  h = activate(o.act, h);
  if (o.dropout > 0) h = torch::dropout(h, o.dropout, is_training());
  h = conv2(h);
  auto residual = conv_shortcut ? conv_shortcut(input) : input;
  auto out = residual + h;
  if (o.output_scale_factor != 1.0) out = out / o.output_scale_factor;
  return out;
}

Downsample2DImpl::Downsample2DImpl(int64_t channels, int64_t out_channels, int64_t padding)
    : padding_(padding) {
  conv = register_module("conv", make_conv(channels, out_channels, 3, 2, padding));
}

torch::Tensor Downsample2DImpl::forward(const torch::Tensor& x) {
  if (padding_ == 0) return conv(torch::constant_pad_nd(x, {0, 1, 0, 1}, 0));
  return conv(x);
}

Upsample2DImpl::Upsample2DImpl(int64_t channels, int64_t out_channels) {
  conv = register_module("conv", make_conv(channels, out_channels, 3));
}

torch::Tensor Upsample2DImpl::forward(const torch::Tensor& x,
                                      std::optional<std::vector<int64_t>> output_size) {
  namespace F = torch::nn::functional;
  // Nearest upsampling of bfloat16 is missing on some backends: upsample in float32.
  const bool upcast = x.scalar_type() == torch::kBFloat16;
  auto h = upcast ? x.to(torch::kFloat32) : x;
  auto options = F::InterpolateFuncOptions().mode(torch::kNearest);
  if (output_size) {
    options.size(*output_size);
  } else {
    options.scale_factor(std::vector<double>{2.0, 2.0});
  }
  h = F::interpolate(h, options);
  if (upcast) h = h.to(torch::kBFloat16);
  return conv(h);
}

}  // namespace terrasynth::engine::nn
