#include "nn/autoencoder_kl.h"

#include "terrasynth/engine/error.h"

namespace terrasynth::engine::nn {

AutoencoderKLConfig AutoencoderKLConfig::parse(const ConfigReader& r) {
  AutoencoderKLConfig c;
  c.in_channels = r.get_int("in_channels", 3);
  c.out_channels = r.get_int("out_channels", 3);
  c.block_out_channels = r.get_int_list("block_out_channels", {64});
  const size_t n = c.block_out_channels.size();
  if (n == 0) r.fail("block_out_channels", "must not be empty");
  const auto down =
      r.get_string_list("down_block_types", std::vector<std::string>(n, "DownEncoderBlock2D"));
  const auto up =
      r.get_string_list("up_block_types", std::vector<std::string>(n, "UpDecoderBlock2D"));
  if (down.size() != n) r.fail("down_block_types", "must match block_out_channels");
  if (up.size() != n) r.fail("up_block_types", "must match block_out_channels");
  for (const auto& type : down) {
    if (type != "DownEncoderBlock2D") {
      r.unsupported("down_block_types", "contains '" + type + "' (supported: DownEncoderBlock2D)");
    }
  }
  for (const auto& type : up) {
    if (type != "UpDecoderBlock2D") {
      r.unsupported("up_block_types", "contains '" + type + "' (supported: UpDecoderBlock2D)");
    }
  }
  c.layers_per_block = r.get_int("layers_per_block", 1);
  c.act = parse_activation(r.get_string("act_fn", "silu"), r.label());
  c.latent_channels = r.get_int("latent_channels", 4);
  c.norm_num_groups = r.get_int("norm_num_groups", 32);
  c.scaling_factor = r.get_double("scaling_factor", 0.18215);
  c.shift_factor = r.get_double("shift_factor", 0.0);
  c.use_quant_conv = r.get_bool("use_quant_conv", true);
  c.use_post_quant_conv = r.get_bool("use_post_quant_conv", true);
  c.mid_block_add_attention = r.get_bool("mid_block_add_attention", true);
  r.require_absent("latents_mean", "per-channel latent statistics");
  r.require_absent("latents_std", "per-channel latent statistics");
  return c;
}

namespace {

BlockSpec vae_spec(const AutoencoderKLConfig& c, int64_t in, int64_t out) {
  BlockSpec s;
  s.num_layers = c.layers_per_block;
  s.in_channels = in;
  s.out_channels = out;
  s.temb_channels = 0;
  s.eps = 1e-6;
  s.act = c.act;
  s.groups = c.norm_num_groups;
  s.downsample_padding = 0;
  return s;
}

}  // namespace

UpDecoderBlockImpl::UpDecoderBlockImpl(const BlockSpec& spec) {
  resnets = register_module("resnets", torch::nn::ModuleList());
  for (int64_t i = 0; i < spec.num_layers; ++i) {
    const int64_t in = i == 0 ? spec.in_channels : spec.out_channels;
    resnet_layers_.push_back(ResnetBlock2D(resnet_options(spec, in, spec.out_channels)));
    resnets->push_back(resnet_layers_.back());
  }
  if (spec.add_sampler) {
    upsamplers = register_module("upsamplers", torch::nn::ModuleList());
    upsampler_ = Upsample2D(spec.out_channels, spec.out_channels);
    upsamplers->push_back(upsampler_);
  }
}

torch::Tensor UpDecoderBlockImpl::run_resnets(const torch::Tensor& x) {
  auto h = x;
  for (auto& resnet : resnet_layers_) h = resnet(h);
  return h;
}

torch::Tensor UpDecoderBlockImpl::upsample(const torch::Tensor& x) {
  return upsampler_ ? upsampler_(x) : x;
}

VaeEncoderImpl::VaeEncoderImpl(const AutoencoderKLConfig& c) : act_(c.act) {
  const auto& channels = c.block_out_channels;
  conv_in = register_module("conv_in", make_conv(c.in_channels, channels[0], 3));
  down_blocks = register_module("down_blocks", torch::nn::ModuleList());
  int64_t out = channels[0];
  for (size_t i = 0; i < channels.size(); ++i) {
    const int64_t in = out;
    out = channels[i];
    auto spec = vae_spec(c, in, out);
    spec.add_sampler = i + 1 != channels.size();
    down_.push_back(DownBlock(spec));
    down_blocks->push_back(down_.back());
  }
  auto mid = vae_spec(c, channels.back(), channels.back());
  mid.num_layers = 1;
  mid_block =
      register_module("mid_block", MidBlock2D(mid, c.mid_block_add_attention, channels.back()));
  conv_norm_out =
      register_module("conv_norm_out", GroupNorm(c.norm_num_groups, channels.back(), 1e-6));
  conv_out = register_module("conv_out", make_conv(channels.back(), 2 * c.latent_channels, 3));
}

torch::Tensor VaeEncoderImpl::forward(const torch::Tensor& x) {
  auto h = conv_in(x);
  for (auto& block : down_) h = block(h, torch::Tensor()).first;
  h = mid_block(h);
  h = activate(act_, conv_norm_out(h));
  return conv_out(h);
}

VaeDecoderImpl::VaeDecoderImpl(const AutoencoderKLConfig& c) : act_(c.act) {
  const auto& channels = c.block_out_channels;
  conv_in = register_module("conv_in", make_conv(c.latent_channels, channels.back(), 3));
  auto mid = vae_spec(c, channels.back(), channels.back());
  mid.num_layers = 1;
  mid_block =
      register_module("mid_block", MidBlock2D(mid, c.mid_block_add_attention, channels.back()));
  up_blocks = register_module("up_blocks", torch::nn::ModuleList());
  const std::vector<int64_t> reversed(channels.rbegin(), channels.rend());
  int64_t out = reversed[0];
  for (size_t i = 0; i < reversed.size(); ++i) {
    const int64_t in = out;
    out = reversed[i];
    auto spec = vae_spec(c, in, out);
    spec.num_layers = c.layers_per_block + 1;
    spec.add_sampler = i + 1 != reversed.size();
    up_.push_back(UpDecoderBlock(spec));
    up_blocks->push_back(up_.back());
  }
  conv_norm_out = register_module("conv_norm_out", GroupNorm(c.norm_num_groups, channels[0], 1e-6));
  conv_out = register_module("conv_out", make_conv(channels[0], c.out_channels, 3));
}

torch::Tensor VaeDecoderImpl::head(const torch::Tensor& z) {
  return up_[0]->run_resnets(mid_block(conv_in(z)));
}

torch::Tensor VaeDecoderImpl::tail(const torch::Tensor& h) {
  auto x = up_[0]->upsample(h);
  for (size_t i = 1; i < up_.size(); ++i) x = up_[i](x);
  x = activate(act_, conv_norm_out(x));
  return conv_out(x);
}

torch::Tensor LatentDistribution::sample(const torch::Tensor& noise) const {
  return mean + std * (noise.defined() ? noise.to(mean.options()) : torch::randn_like(mean));
}

AutoencoderKLImpl::AutoencoderKLImpl(const nlohmann::json& config, const std::string& label)
    : AutoencoderKLImpl(AutoencoderKLConfig::parse(ConfigReader(config, label))) {}

AutoencoderKLImpl::AutoencoderKLImpl(const AutoencoderKLConfig& config) : config_(config) {
  const int64_t latent = config_.latent_channels;
  encoder = register_module("encoder", VaeEncoder(config_));
  decoder = register_module("decoder", VaeDecoder(config_));
  if (config_.use_quant_conv) {
    quant_conv = register_module("quant_conv", make_conv(2 * latent, 2 * latent, 1, 1, 0));
  }
  if (config_.use_post_quant_conv) {
    post_quant_conv = register_module("post_quant_conv", make_conv(latent, latent, 1, 1, 0));
  }
}

LatentDistribution AutoencoderKLImpl::encode(const torch::Tensor& image) {
  if (!image.defined() || image.dim() != 4 || image.size(1) != config_.in_channels) {
    throw EngineError(EngineError::Kind::InvalidArgument,
                      "AutoencoderKL: image must be [B, " + std::to_string(config_.in_channels) +
                          ", H, W], got " +
                          (image.defined() ? c10::str(image.sizes()) : std::string("undefined")));
  }
  LatentDistribution d;
  d.parameters = encoder(image);
  if (quant_conv) d.parameters = quant_conv(d.parameters);
  auto parts = d.parameters.chunk(2, 1);
  d.mean = parts[0];
  d.logvar = parts[1].clamp(-30.0, 20.0);
  d.std = torch::exp(0.5 * d.logvar);
  d.var = torch::exp(d.logvar);
  return d;
}

void AutoencoderKLImpl::check_latents(const torch::Tensor& latents) const {
  if (!latents.defined() || latents.dim() != 4 || latents.size(1) != config_.latent_channels) {
    throw EngineError(
        EngineError::Kind::InvalidArgument,
        "AutoencoderKL: latents must be [B, " + std::to_string(config_.latent_channels) +
            ", h, w], got " +
            (latents.defined() ? c10::str(latents.sizes()) : std::string("undefined")));
  }
}

torch::Tensor AutoencoderKLImpl::decode_head(const torch::Tensor& latents) {
  check_latents(latents);
  auto z = post_quant_conv ? post_quant_conv(latents) : latents;
  return decoder->head(z);
}

torch::Tensor AutoencoderKLImpl::decode_tail(const torch::Tensor& features) {
  return decoder->tail(features);
}

torch::Tensor AutoencoderKLImpl::decode(const torch::Tensor& latents) {
  return decode_tail(decode_head(latents));
}

torch::Tensor AutoencoderKLImpl::forward(const torch::Tensor& image) {
  return decode(encode(image).mean);
}

}  // namespace terrasynth::engine::nn
