#include "nn/autoencoder_tiny.h"

#include "terrasynth/engine/error.h"

namespace terrasynth::engine::nn {

AutoencoderTinyConfig AutoencoderTinyConfig::parse(const ConfigReader& r) {
  AutoencoderTinyConfig c;
  c.in_channels = r.get_int("in_channels", 3);
  c.out_channels = r.get_int("out_channels", 3);
  c.encoder_block_out_channels =
      r.get_int_list("encoder_block_out_channels", c.encoder_block_out_channels);
  c.decoder_block_out_channels =
      r.get_int_list("decoder_block_out_channels", c.decoder_block_out_channels);
  c.num_encoder_blocks = r.get_int_list("num_encoder_blocks", c.num_encoder_blocks);
  c.num_decoder_blocks = r.get_int_list("num_decoder_blocks", c.num_decoder_blocks);
  if (c.encoder_block_out_channels.empty() ||
      c.encoder_block_out_channels.size() != c.num_encoder_blocks.size()) {
    r.fail("num_encoder_blocks", "must have as many entries as encoder_block_out_channels");
  }
  if (c.decoder_block_out_channels.empty() ||
      c.decoder_block_out_channels.size() != c.num_decoder_blocks.size()) {
    r.fail("num_decoder_blocks", "must have as many entries as decoder_block_out_channels");
  }
  c.act = parse_activation(r.get_string("act_fn", "relu"), r.label());
  c.latent_channels = r.get_int("latent_channels", 4);
  c.upsampling_scaling_factor = r.get_int("upsampling_scaling_factor", 2);
  const auto upsample_fn = r.get_string("upsample_fn", "nearest");
  if (upsample_fn != "nearest") {
    r.unsupported("upsample_fn", "'" + upsample_fn + "' is not supported (nearest)");
  }
  c.latent_magnitude = r.get_double("latent_magnitude", 3.0);
  c.latent_shift = r.get_double("latent_shift", 0.5);
  c.scaling_factor = r.get_double("scaling_factor", 1.0);
  c.shift_factor = r.get_double("shift_factor", 0.0);
  c.use_midblock_gn = r.get_bool("use_midblock_gn", false);
  return c;
}

nlohmann::json AutoencoderTinyConfig::to_json() const {
  return {{"_class_name", "AutoencoderTiny"},
          {"in_channels", in_channels},
          {"out_channels", out_channels},
          {"encoder_block_out_channels", encoder_block_out_channels},
          {"decoder_block_out_channels", decoder_block_out_channels},
          {"num_encoder_blocks", num_encoder_blocks},
          {"num_decoder_blocks", num_decoder_blocks},
          {"act_fn", act == Activation::SiLU   ? "silu"
                     : act == Activation::GELU ? "gelu"
                                               : "relu"},
          {"latent_channels", latent_channels},
          {"upsampling_scaling_factor", upsampling_scaling_factor},
          {"upsample_fn", "nearest"},
          {"latent_magnitude", latent_magnitude},
          {"latent_shift", latent_shift},
          {"scaling_factor", scaling_factor},
          {"shift_factor", shift_factor},
          {"use_midblock_gn", use_midblock_gn}};
}

int64_t AutoencoderTinyConfig::downscale() const {
  int64_t factor = 1;
  for (size_t i = 1; i < num_decoder_blocks.size(); ++i) factor *= upsampling_scaling_factor;
  return factor;
}

TinyBlockImpl::TinyBlockImpl(int64_t in, int64_t out, Activation act, bool with_pool) : act_(act) {
  auto activation =
      torch::nn::Functional([act](const torch::Tensor& x) { return activate(act, x); });
  conv0_ = make_conv(in, out, 3);
  conv2_ = make_conv(out, out, 3);
  conv4_ = make_conv(out, out, 3);
  conv = register_module("conv",
                         torch::nn::Sequential(conv0_, activation, conv2_, activation, conv4_));
  if (in != out) skip = register_module("skip", make_conv(in, out, 1, 1, 0, false));
  if (with_pool) {
    const int64_t hidden = in * 4;
    pool_in_ = make_conv(in, hidden, 1, 1, 0, false);
    pool_norm_ = GroupNorm(4, hidden);
    pool_out_ = make_conv(hidden, in, 1, 1, 0, false);
    pool = register_module(
        "pool", torch::nn::Sequential(pool_in_, pool_norm_, torch::nn::ReLU(), pool_out_));
  }
}

torch::Tensor TinyBlockImpl::forward(const torch::Tensor& input) {
  auto x = input;
  if (pool) x = x + pool_out_(torch::relu(pool_norm_(pool_in_(x))));
  auto h = conv4_(activate(act_, conv2_(activate(act_, conv0_(x)))));
  return torch::relu(h + (skip ? skip(x) : x));
}

void TinyStackImpl::add_conv(int64_t in, int64_t out, int64_t stride, bool bias) {
  Layer layer{Layer::Kind::Conv};
  layer.conv =
      register_module(std::to_string(layers_.size()), make_conv(in, out, 3, stride, 1, bias));
  layers_.push_back(layer);
}

void TinyStackImpl::add_block(int64_t channels, Activation act, bool pool) {
  Layer layer{Layer::Kind::Block};
  layer.block =
      register_module(std::to_string(layers_.size()), TinyBlock(channels, channels, act, pool));
  layers_.push_back(layer);
}

void TinyStackImpl::add_activation(Activation act) {
  Layer layer{Layer::Kind::Activation};
  layer.act = act;
  layers_.push_back(layer);
}

void TinyStackImpl::add_upsample(int64_t factor) {
  Layer layer{Layer::Kind::Upsample};
  layer.factor = factor;
  layers_.push_back(layer);
}

torch::Tensor TinyStackImpl::run(const torch::Tensor& input, size_t begin, size_t end) {
  namespace F = torch::nn::functional;
  auto x = input;
  for (size_t i = begin; i < end && i < layers_.size(); ++i) {
    auto& layer = layers_[i];
    switch (layer.kind) {
      case Layer::Kind::Conv:
        x = layer.conv(x);
        break;
      case Layer::Kind::Block:
        x = layer.block(x);
        break;
      case Layer::Kind::Activation:
        x = activate(layer.act, x);
        break;
      case Layer::Kind::Upsample: {
        const double f = static_cast<double>(layer.factor);
        x = F::interpolate(x, F::InterpolateFuncOptions()
                                  .scale_factor(std::vector<double>{f, f})
                                  .mode(torch::kNearest));
        break;
      }
    }
  }
  return x;
}

TinyEncoderImpl::TinyEncoderImpl(const AutoencoderTinyConfig& c) {
  layers = register_module("layers", TinyStack());
  const auto& channels = c.encoder_block_out_channels;
  const size_t stages = channels.size();
  for (size_t i = 0; i < stages; ++i) {
    if (i == 0) {
      layers->add_conv(c.in_channels, channels[0], 1, true);
    } else {
      layers->add_conv(channels[i - 1], channels[i], 2, false);
    }
    const bool pool = c.use_midblock_gn && i + 1 == stages;
    for (int64_t b = 0; b < c.num_encoder_blocks[i]; ++b)
      layers->add_block(channels[i], c.act, pool);
  }
  layers->add_conv(channels.back(), c.latent_channels, 1, true);
}

torch::Tensor TinyEncoderImpl::forward(const torch::Tensor& image) {
  return layers->run(image.add(1).div(2), 0, layers->size());
}

TinyDecoderImpl::TinyDecoderImpl(const AutoencoderTinyConfig& c) {
  layers = register_module("layers", TinyStack());
  const auto& channels = c.decoder_block_out_channels;
  const size_t stages = channels.size();
  layers->add_conv(c.latent_channels, channels[0], 1, true);
  layers->add_activation(c.act);
  for (size_t i = 0; i < stages; ++i) {
    const bool final = i + 1 == stages;
    const bool pool = c.use_midblock_gn && i == 0;
    for (int64_t b = 0; b < c.num_decoder_blocks[i]; ++b)
      layers->add_block(channels[i], c.act, pool);
    if (i == 0) head_end_ = layers->size();
    if (!final) layers->add_upsample(c.upsampling_scaling_factor);
    const int64_t out = final ? c.out_channels : channels[i + 1];
    layers->add_conv(channels[i], out, 1, final);
  }
}

torch::Tensor TinyDecoderImpl::head(const torch::Tensor& latents) {
  return layers->run(torch::tanh(latents / 3) * 3, 0, head_end_);
}

torch::Tensor TinyDecoderImpl::tail(const torch::Tensor& features) {
  return layers->run(features, head_end_, layers->size()).mul(2).sub(1);
}

AutoencoderTinyImpl::AutoencoderTinyImpl(const nlohmann::json& config, const std::string& label)
    : AutoencoderTinyImpl(AutoencoderTinyConfig::parse(ConfigReader(config, label))) {}

AutoencoderTinyImpl::AutoencoderTinyImpl(const AutoencoderTinyConfig& config) : config_(config) {
  encoder = register_module("encoder", TinyEncoder(config_));
  decoder = register_module("decoder", TinyDecoder(config_));
}

torch::Tensor AutoencoderTinyImpl::encode(const torch::Tensor& image) {
  if (!image.defined() || image.dim() != 4 || image.size(1) != config_.in_channels) {
    throw EngineError(EngineError::Kind::InvalidArgument,
                      "AutoencoderTiny: image must be [B, " + std::to_string(config_.in_channels) +
                          ", H, W], got " +
                          (image.defined() ? c10::str(image.sizes()) : std::string("undefined")));
  }
  return encoder(image);
}

void AutoencoderTinyImpl::check_latents(const torch::Tensor& latents) const {
  if (!latents.defined() || latents.dim() != 4 || latents.size(1) != config_.latent_channels) {
    throw EngineError(
        EngineError::Kind::InvalidArgument,
        "AutoencoderTiny: latents must be [B, " + std::to_string(config_.latent_channels) +
            ", h, w], got " +
            (latents.defined() ? c10::str(latents.sizes()) : std::string("undefined")));
  }
}

torch::Tensor AutoencoderTinyImpl::decode_head(const torch::Tensor& latents) {
  check_latents(latents);
  return decoder->head(latents);
}

torch::Tensor AutoencoderTinyImpl::decode_tail(const torch::Tensor& features) {
  return decoder->tail(features);
}

torch::Tensor AutoencoderTinyImpl::decode(const torch::Tensor& latents) {
  return decode_tail(decode_head(latents));
}

torch::Tensor AutoencoderTinyImpl::scale_latents(const torch::Tensor& raw) const {
  return raw.div(2 * config_.latent_magnitude).add(config_.latent_shift).clamp(0, 1);
}

torch::Tensor AutoencoderTinyImpl::unscale_latents(const torch::Tensor& unit) const {
  return unit.sub(config_.latent_shift).mul(2 * config_.latent_magnitude);
}

torch::Tensor AutoencoderTinyImpl::forward(const torch::Tensor& image) {
  auto quantised = scale_latents(encode(image)).mul(255).round().to(torch::kByte);
  return decode(unscale_latents(quantised.to(image.scalar_type()) / 255.0));
}

}  // namespace terrasynth::engine::nn
