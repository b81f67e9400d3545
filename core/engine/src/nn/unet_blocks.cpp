#include "nn/unet_blocks.h"

#include "terrasynth/engine/error.h"

namespace terrasynth::engine::nn {

namespace {

TransformerOptions transformer_options(const BlockSpec& spec, int64_t channels) {
  if (spec.heads <= 0 || channels % spec.heads != 0) {
    throw EngineError(EngineError::Kind::ModelFormat, "attention: " + std::to_string(channels) +
                                                          " channels cannot be split into " +
                                                          std::to_string(spec.heads) + " heads");
  }
  TransformerOptions o;
  o.heads = spec.heads;
  o.dim_head = channels / spec.heads;
  o.in_channels = channels;
  o.num_layers = spec.transformer_layers;
  o.cross_attention_dim = spec.cross_attention_dim;
  o.norm_num_groups = spec.groups;
  o.use_linear_projection = spec.use_linear_projection;
  o.only_cross_attention = spec.only_cross_attention;
  o.dropout = spec.dropout;
  o.upcast_attention = spec.upcast_attention;
  return o;
}

}  // namespace

ResnetBlock2DOptions resnet_options(const BlockSpec& spec, int64_t in, int64_t out) {
  ResnetBlock2DOptions o;
  o.in_channels = in;
  o.out_channels = out;
  o.temb_channels = spec.temb_channels;
  o.groups = spec.groups;
  o.eps = spec.eps;
  o.act = spec.act;
  o.time_embedding_norm = spec.time_scale_shift;
  o.output_scale_factor = spec.output_scale_factor;
  o.skip_time_act = spec.skip_time_act;
  o.dropout = spec.dropout;
  return o;
}

DownBlockImpl::DownBlockImpl(const BlockSpec& spec) {
  resnets = register_module("resnets", torch::nn::ModuleList());
  if (spec.cross_attention) attentions = register_module("attentions", torch::nn::ModuleList());
  for (int64_t i = 0; i < spec.num_layers; ++i) {
    const int64_t in = i == 0 ? spec.in_channels : spec.out_channels;
    resnet_layers_.push_back(ResnetBlock2D(resnet_options(spec, in, spec.out_channels)));
    resnets->push_back(resnet_layers_.back());
    if (spec.cross_attention) {
      attention_layers_.push_back(Transformer2DModel(transformer_options(spec, spec.out_channels)));
      attentions->push_back(attention_layers_.back());
    }
  }
  if (spec.add_sampler) {
    downsamplers = register_module("downsamplers", torch::nn::ModuleList());
    downsampler_ = Downsample2D(spec.out_channels, spec.out_channels, spec.downsample_padding);
    downsamplers->push_back(downsampler_);
  }
}

std::pair<torch::Tensor, std::vector<torch::Tensor>> DownBlockImpl::forward(
    const torch::Tensor& x, const torch::Tensor& temb, const torch::Tensor& context) {
  std::vector<torch::Tensor> states;
  auto h = x;
  for (size_t i = 0; i < resnet_layers_.size(); ++i) {
    h = resnet_layers_[i](h, temb);
    if (!attention_layers_.empty()) h = attention_layers_[i](h, context);
    states.push_back(h);
  }
  if (downsampler_) {
    h = downsampler_(h);
    states.push_back(h);
  }
  return {h, std::move(states)};
}

UpBlockImpl::UpBlockImpl(const BlockSpec& spec) {
  resnets = register_module("resnets", torch::nn::ModuleList());
  if (spec.cross_attention) attentions = register_module("attentions", torch::nn::ModuleList());
  for (int64_t i = 0; i < spec.num_layers; ++i) {
    const int64_t skip = i == spec.num_layers - 1 ? spec.in_channels : spec.out_channels;
    const int64_t in = i == 0 ? spec.prev_output_channel : spec.out_channels;
    resnet_layers_.push_back(ResnetBlock2D(resnet_options(spec, in + skip, spec.out_channels)));
    resnets->push_back(resnet_layers_.back());
    if (spec.cross_attention) {
      attention_layers_.push_back(Transformer2DModel(transformer_options(spec, spec.out_channels)));
      attentions->push_back(attention_layers_.back());
    }
  }
  if (spec.add_sampler) {
    upsamplers = register_module("upsamplers", torch::nn::ModuleList());
    upsampler_ = Upsample2D(spec.out_channels, spec.out_channels);
    upsamplers->push_back(upsampler_);
  }
}

torch::Tensor UpBlockImpl::forward(const torch::Tensor& x, std::vector<torch::Tensor>& skips,
                                   const torch::Tensor& temb, const torch::Tensor& context,
                                   std::optional<std::vector<int64_t>> upsample_size) {
  auto h = x;
  for (size_t i = 0; i < resnet_layers_.size(); ++i) {
    if (skips.empty()) {
      throw EngineError(EngineError::Kind::Internal, "UNet up block: ran out of skip states");
    }
    h = torch::cat({h, skips.back()}, 1);
    skips.pop_back();
    h = resnet_layers_[i](h, temb);
    if (!attention_layers_.empty()) h = attention_layers_[i](h, context);
  }
  if (upsampler_) h = upsampler_(h, upsample_size);
  return h;
}

MidBlock2DCrossAttnImpl::MidBlock2DCrossAttnImpl(const BlockSpec& spec) {
  resnets = register_module("resnets", torch::nn::ModuleList());
  attentions = register_module("attentions", torch::nn::ModuleList());
  const int64_t c = spec.in_channels;
  resnet_layers_.push_back(ResnetBlock2D(resnet_options(spec, c, c)));
  resnets->push_back(resnet_layers_.back());
  for (int64_t i = 0; i < spec.num_layers; ++i) {
    attention_layers_.push_back(Transformer2DModel(transformer_options(spec, c)));
    attentions->push_back(attention_layers_.back());
    resnet_layers_.push_back(ResnetBlock2D(resnet_options(spec, c, c)));
    resnets->push_back(resnet_layers_.back());
  }
}

torch::Tensor MidBlock2DCrossAttnImpl::forward(const torch::Tensor& x, const torch::Tensor& temb,
                                               const torch::Tensor& context) {
  auto h = resnet_layers_[0](x, temb);
  for (size_t i = 0; i < attention_layers_.size(); ++i) {
    h = attention_layers_[i](h, context);
    h = resnet_layers_[i + 1](h, temb);
  }
  return h;
}

MidBlock2DImpl::MidBlock2DImpl(const BlockSpec& spec, bool add_attention,
                               int64_t attention_head_dim) {
  resnets = register_module("resnets", torch::nn::ModuleList());
  attentions = register_module("attentions", torch::nn::ModuleList());
  const int64_t c = spec.in_channels;
  if (attention_head_dim <= 0) attention_head_dim = c;
  resnet_layers_.push_back(ResnetBlock2D(resnet_options(spec, c, c)));
  resnets->push_back(resnet_layers_.back());
  for (int64_t i = 0; i < spec.num_layers; ++i) {
    if (add_attention) {
      AttentionOptions a;
      a.query_dim = c;
      a.heads = c / attention_head_dim;
      a.dim_head = attention_head_dim;
      a.bias = true;
      a.norm_num_groups = spec.groups;
      a.eps = spec.eps;
      a.residual_connection = true;
      a.rescale_output_factor = spec.output_scale_factor;
      attention_layers_.push_back(Attention(a));
      attentions->push_back(attention_layers_.back());
    }
    resnet_layers_.push_back(ResnetBlock2D(resnet_options(spec, c, c)));
    resnets->push_back(resnet_layers_.back());
  }
}

torch::Tensor MidBlock2DImpl::forward(const torch::Tensor& x, const torch::Tensor& temb) {
  auto h = resnet_layers_[0](x, temb);
  for (size_t i = 1; i < resnet_layers_.size(); ++i) {
    if (!attention_layers_.empty()) h = attention_layers_[i - 1](h);
    h = resnet_layers_[i](h, temb);
  }
  return h;
}

}  // namespace terrasynth::engine::nn
