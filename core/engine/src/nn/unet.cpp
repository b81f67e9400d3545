#include "nn/unet.h"

#include <algorithm>

#include "terrasynth/engine/error.h"

namespace terrasynth::engine::nn {

namespace {

const std::vector<std::string> kDefaultDownTypes = {"CrossAttnDownBlock2D", "CrossAttnDownBlock2D",
                                                    "CrossAttnDownBlock2D", "DownBlock2D"};
const std::vector<std::string> kDefaultUpTypes = {"UpBlock2D", "CrossAttnUpBlock2D",
                                                  "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"};

std::vector<bool> read_bool_or_list(const ConfigReader& r, const std::string& key, size_t count) {
  const auto& json = r.json();
  auto it = json.find(key);
  if (it == json.end() || it->is_null()) return std::vector<bool>(count, false);
  if (it->is_boolean()) return std::vector<bool>(count, it->get<bool>());
  if (it->is_array() && it->size() == count) {
    std::vector<bool> out;
    for (const auto& item : *it) {
      if (!item.is_boolean()) r.fail(key, "must be a boolean or a list of booleans");
      out.push_back(item.get<bool>());
    }
    return out;
  }
  r.fail(key, "must be a boolean or a list of " + std::to_string(count) + " booleans, found " +
                  it->dump());
}

template <typename T>
std::vector<T> reversed(std::vector<T> values) {
  std::reverse(values.begin(), values.end());
  return values;
}

std::string shape_of(const torch::Tensor& t) {
  return c10::str(t.sizes());
}

}  // namespace

UNetConfig UNetConfig::parse(const ConfigReader& r, Kind kind) {
  const bool unet = kind == Kind::UNet;
  UNetConfig c;
  c.in_channels = r.get_int("in_channels", 4);
  if (unet) c.out_channels = r.get_int("out_channels", 4);
  c.center_input_sample = r.get_bool("center_input_sample", false);
  c.flip_sin_to_cos = r.get_bool("flip_sin_to_cos", true);
  c.freq_shift = r.get_double("freq_shift", 0.0);

  c.down_block_types = r.get_string_list("down_block_types", kDefaultDownTypes);
  const size_t n = c.down_block_types.size();
  if (n == 0) r.fail("down_block_types", "must name at least one block");
  for (const auto& type : c.down_block_types) {
    if (type != "DownBlock2D" && type != "CrossAttnDownBlock2D") {
      r.unsupported("down_block_types",
                    "contains '" + type + "' (supported: DownBlock2D, CrossAttnDownBlock2D)");
    }
  }
  if (unet) {
    c.up_block_types = r.get_string_list("up_block_types", kDefaultUpTypes);
    if (c.up_block_types.size() != n) {
      r.fail("up_block_types", "must have as many entries as down_block_types");
    }
    for (const auto& type : c.up_block_types) {
      if (type != "UpBlock2D" && type != "CrossAttnUpBlock2D") {
        r.unsupported("up_block_types",
                      "contains '" + type + "' (supported: UpBlock2D, CrossAttnUpBlock2D)");
      }
    }
  }
  const auto mid = r.json().find("mid_block_type");
  if (mid != r.json().end() && mid->is_null()) {
    c.mid_block_type.clear();
  } else {
    c.mid_block_type = r.get_string("mid_block_type", "UNetMidBlock2DCrossAttn");
    if (c.mid_block_type != "UNetMidBlock2DCrossAttn" && c.mid_block_type != "UNetMidBlock2D") {
      r.unsupported("mid_block_type", "'" + c.mid_block_type +
                                          "' is not supported (UNetMidBlock2DCrossAttn, "
                                          "UNetMidBlock2D or null)");
    }
  }

  c.block_out_channels = r.get_int_list("block_out_channels", {320, 640, 1280, 1280});
  if (c.block_out_channels.size() != n) {
    r.fail("block_out_channels", "must have as many entries as down_block_types");
  }
  c.layers_per_block = r.get_int_or_list("layers_per_block", 2, n);
  c.only_cross_attention = read_bool_or_list(r, "only_cross_attention", n);
  c.downsample_padding = r.get_int("downsample_padding", 1);
  c.mid_block_scale_factor = r.get_double("mid_block_scale_factor", 1.0);
  c.dropout = r.get_double("dropout", 0.0);
  c.act = parse_activation(r.get_string("act_fn", "silu"), r.label());
  if (r.json().contains("norm_num_groups") && r.json()["norm_num_groups"].is_null()) {
    r.unsupported("norm_num_groups", "= null (networks without GroupNorm) is not supported");
  }
  c.norm_num_groups = r.get_int("norm_num_groups", 32);
  c.norm_eps = r.get_double("norm_eps", 1e-5);
  c.cross_attention_dim = r.get_int_or_list("cross_attention_dim", 1280, n);
  c.transformer_layers_per_block = r.get_int_or_list("transformer_layers_per_block", 1, n);
  if (r.has("reverse_transformer_layers_per_block")) {
    r.unsupported("reverse_transformer_layers_per_block", "is not supported");
  }
  // diffusers 0.31 reads attention_head_dim as the number of heads (a historical naming issue);
  // UNet2DConditionModel rejects num_attention_heads, ControlNetModel prefers it.
  if (r.has("num_attention_heads")) {
    if (unet) {
      r.fail("num_attention_heads",
             "is rejected by diffusers' UNet2DConditionModel: give the number of heads as "
             "attention_head_dim");
    }
    c.num_attention_heads = r.get_int_or_list("num_attention_heads", 8, n);
  } else {
    c.num_attention_heads = r.get_int_or_list("attention_head_dim", 8, n);
  }
  c.use_linear_projection = r.get_bool("use_linear_projection", false);
  c.upcast_attention = r.get_bool("upcast_attention", false);

  c.class_embed_type = r.get_string("class_embed_type", "");
  c.num_class_embeds = r.get_int("num_class_embeds", 0);
  c.projection_class_embeddings_input_dim = r.get_int("projection_class_embeddings_input_dim", 0);
  c.class_embeddings_concat = r.get_bool("class_embeddings_concat", false);
  const auto& cet = c.class_embed_type;
  if (!cet.empty() && cet != "timestep" && cet != "identity" && cet != "projection" &&
      cet != "simple_projection") {
    r.unsupported("class_embed_type", "'" + cet + "' is not supported");
  }
  if ((cet == "projection" || cet == "simple_projection") &&
      c.projection_class_embeddings_input_dim <= 0) {
    r.fail("projection_class_embeddings_input_dim",
           "must be set when class_embed_type is '" + cet + "'");
  }

  c.resnet_time_scale_shift = r.get_string("resnet_time_scale_shift", "default");
  if (c.resnet_time_scale_shift != "default" && c.resnet_time_scale_shift != "scale_shift") {
    r.unsupported("resnet_time_scale_shift",
                  "'" + c.resnet_time_scale_shift + "' is not supported (default, scale_shift)");
  }
  c.resnet_skip_time_act = r.get_bool("resnet_skip_time_act", false);
  c.resnet_out_scale_factor = r.get_double("resnet_out_scale_factor", 1.0);
  const auto time_type = r.get_string("time_embedding_type", "positional");
  if (time_type != "positional") {
    r.unsupported("time_embedding_type", "'" + time_type + "' is not supported (positional)");
  }
  c.time_embedding_dim = r.get_int("time_embedding_dim", 0);
  c.time_embedding_act = parse_activation(r.get_string("time_embedding_act_fn", ""), r.label());
  c.timestep_post_act = parse_activation(r.get_string("timestep_post_act", ""), r.label());
  c.time_cond_proj_dim = r.get_int("time_cond_proj_dim", 0);
  c.conv_in_kernel = r.get_int("conv_in_kernel", 3);
  c.conv_out_kernel = r.get_int("conv_out_kernel", 3);

  r.require_absent("addition_embed_type", "text/time addition embeddings");
  r.require_absent("encoder_hid_dim", "encoder hidden-state projection");
  r.require_absent("encoder_hid_dim_type", "encoder hidden-state projection");
  r.require_absent("dual_cross_attention", "dual cross-attention");
  r.require_absent("cross_attention_norm", "cross-attention normalisation");
  if (r.get_string("attention_type", "default") != "default") {
    r.unsupported("attention_type", "only 'default' attention is supported");
  }

  if (!unet) {
    c.conditioning_channels = r.get_int("conditioning_channels", 3);
    c.conditioning_embedding_out_channels =
        r.get_int_list("conditioning_embedding_out_channels", {16, 32, 96, 256});
    if (c.conditioning_embedding_out_channels.empty()) {
      r.fail("conditioning_embedding_out_channels", "must not be empty");
    }
    c.global_pool_conditions = r.get_bool("global_pool_conditions", false);
    const auto order = r.get_string("controlnet_conditioning_channel_order", "rgb");
    if (order != "rgb" && order != "bgr") {
      r.fail("controlnet_conditioning_channel_order", "must be 'rgb' or 'bgr'");
    }
    c.bgr_conditioning = order == "bgr";
  }
  for (auto channels : c.block_out_channels) {
    if (channels % c.norm_num_groups != 0) {
      r.fail("block_out_channels", "entries must be multiples of norm_num_groups");
    }
  }
  return c;
}

int64_t UNetConfig::time_embed_dim() const {
  return time_embedding_dim > 0 ? time_embedding_dim : block_out_channels[0] * 4;
}

bool UNetConfig::has_class_embedding() const {
  return !class_embed_type.empty() || num_class_embeds > 0;
}

UNetTrunkImpl::UNetTrunkImpl(UNetConfig config, const std::string& label)
    : config_(std::move(config)), label_(label) {
  const auto& c = config_;
  const int64_t c0 = c.block_out_channels[0];
  const int64_t ted = c.time_embed_dim();
  conv_in = register_module("conv_in", make_conv(c.in_channels, c0, c.conv_in_kernel));
  time_embedding = register_module(
      "time_embedding",
      TimestepEmbedding(c0, ted, c.act, 0, c.timestep_post_act, c.time_cond_proj_dim));
  if (c.class_embed_type.empty() && c.num_class_embeds > 0) {
    class_embedding_table =
        register_module("class_embedding", torch::nn::Embedding(c.num_class_embeds, ted));
  } else if (c.class_embed_type == "timestep") {
    class_embedding_mlp = register_module("class_embedding", TimestepEmbedding(c0, ted, c.act));
  } else if (c.class_embed_type == "projection") {
    class_embedding_mlp = register_module(
        "class_embedding",
        TimestepEmbedding(c.projection_class_embeddings_input_dim, ted, Activation::SiLU));
  } else if (c.class_embed_type == "simple_projection") {
    class_embedding_linear = register_module(
        "class_embedding", torch::nn::Linear(c.projection_class_embeddings_input_dim, ted));
  }

  down_blocks = register_module("down_blocks", torch::nn::ModuleList());
  for (size_t i = 0; i < c.down_block_types.size(); ++i) {
    auto spec = block_spec(i);
    spec.in_channels = i == 0 ? c0 : c.block_out_channels[i - 1];
    spec.out_channels = c.block_out_channels[i];
    spec.add_sampler = i + 1 != c.down_block_types.size();
    spec.cross_attention = c.down_block_types[i] == "CrossAttnDownBlock2D";
    has_cross_attention_ = has_cross_attention_ || spec.cross_attention;
    down_.push_back(DownBlock(spec));
    down_blocks->push_back(down_.back());
  }

  if (!c.mid_block_type.empty()) {
    auto spec = block_spec(c.down_block_types.size() - 1);
    spec.num_layers = 1;
    spec.in_channels = spec.out_channels = c.block_out_channels.back();
    spec.output_scale_factor = c.mid_block_scale_factor;
    if (c.mid_block_type == "UNetMidBlock2DCrossAttn") {
      spec.cross_attention = true;
      has_cross_attention_ = true;
      mid_block_cross = register_module("mid_block", MidBlock2DCrossAttn(spec));
    } else {
      spec.num_layers = 0;
      mid_block_plain = register_module("mid_block", MidBlock2D(spec, false));
    }
  }
}

BlockSpec UNetTrunkImpl::block_spec(size_t index) const {
  const auto& c = config_;
  BlockSpec s;
  s.num_layers = c.layers_per_block[index];
  s.temb_channels = c.class_embeddings_concat ? 2 * c.time_embed_dim() : c.time_embed_dim();
  s.eps = c.norm_eps;
  s.act = c.act;
  s.groups = c.norm_num_groups;
  s.downsample_padding = c.downsample_padding;
  s.time_scale_shift = c.resnet_time_scale_shift;
  s.output_scale_factor = c.resnet_out_scale_factor;
  s.dropout = c.dropout;
  s.skip_time_act = c.resnet_skip_time_act;
  s.transformer_layers = c.transformer_layers_per_block[index];
  s.cross_attention_dim = c.cross_attention_dim[index];
  s.heads = c.num_attention_heads[index];
  s.use_linear_projection = c.use_linear_projection;
  s.only_cross_attention = c.only_cross_attention[index];
  s.upcast_attention = c.upcast_attention;
  return s;
}

torch::Tensor UNetTrunkImpl::time_proj(const torch::Tensor& timesteps,
                                       const torch::Tensor& like) const {
  auto t = broadcast_timesteps(timesteps, like.size(0), like.device());
  return timestep_embedding(t, config_.block_out_channels[0], config_.flip_sin_to_cos,
                            config_.freq_shift)
      .to(like.scalar_type());
}

torch::Tensor UNetTrunkImpl::embedding(const torch::Tensor& timesteps,
                                       const torch::Tensor& class_labels,
                                       const torch::Tensor& like) {
  auto emb = time_embedding(time_proj(timesteps, like));
  if (config_.has_class_embedding()) {
    torch::Tensor class_emb;
    auto labels = class_labels.to(like.device());
    if (class_embedding_table) {
      class_emb = class_embedding_table(labels.to(torch::kLong));
    } else if (config_.class_embed_type == "timestep") {
      class_emb = class_embedding_mlp(time_proj(labels, like));
    } else if (class_embedding_mlp) {
      class_emb = class_embedding_mlp(labels.to(like.scalar_type()));
    } else if (class_embedding_linear) {
      class_emb = class_embedding_linear(labels.to(like.scalar_type()));
    } else {
      class_emb = labels.to(like.scalar_type());  // identity
    }
    emb = config_.class_embeddings_concat ? torch::cat({emb, class_emb}, -1) : emb + class_emb;
  }
  return activate(config_.time_embedding_act, emb);
}

void UNetTrunkImpl::check_inputs(const torch::Tensor& sample,
                                 const torch::Tensor& encoder_hidden_states,
                                 const torch::Tensor& class_labels) const {
  if (!sample.defined() || sample.dim() != 4 || sample.size(1) != config_.in_channels) {
    throw EngineError(EngineError::Kind::InvalidArgument,
                      label_ + ": sample must be [B, " + std::to_string(config_.in_channels) +
                          ", H, W], got " + (sample.defined() ? shape_of(sample) : "undefined"));
  }
  if (has_cross_attention_) {
    if (!encoder_hidden_states.defined() || encoder_hidden_states.dim() != 3 ||
        encoder_hidden_states.size(0) != sample.size(0)) {
      throw EngineError(
          EngineError::Kind::InvalidArgument,
          label_ + ": the network has cross-attention and needs encoder_hidden_states [B, L, " +
              std::to_string(config_.cross_attention_dim[0]) + "], got " +
              (encoder_hidden_states.defined() ? shape_of(encoder_hidden_states) : "none"));
    }
  }
  if (config_.has_class_embedding() && config_.class_embed_type != "identity") {
    const bool table = class_embedding_table || config_.class_embed_type == "timestep";
    const bool ok =
        class_labels.defined() && class_labels.size(0) == sample.size(0) &&
        (table ? class_labels.dim() == 1
               : class_labels.dim() == 2 &&
                     class_labels.size(1) == config_.projection_class_embeddings_input_dim);
    if (!ok) {
      throw EngineError(
          EngineError::Kind::InvalidArgument,
          label_ + ": class_labels must be " +
              (table
                   ? std::string("[B]")
                   : "[B, " + std::to_string(config_.projection_class_embeddings_input_dim) + "]") +
              ", got " + (class_labels.defined() ? shape_of(class_labels) : "none"));
    }
  }
}

std::pair<torch::Tensor, std::vector<torch::Tensor>> UNetTrunkImpl::run_down(
    const torch::Tensor& h, const torch::Tensor& emb, const torch::Tensor& context) {
  std::vector<torch::Tensor> states{h};
  auto x = h;
  for (auto& block : down_) {
    auto [out, block_states] = block(x, emb, context);
    x = out;
    states.insert(states.end(), block_states.begin(), block_states.end());
  }
  return {x, std::move(states)};
}

torch::Tensor UNetTrunkImpl::run_mid(const torch::Tensor& h, const torch::Tensor& emb,
                                     const torch::Tensor& context) {
  if (mid_block_cross) return mid_block_cross(h, emb, context);
  if (mid_block_plain) return mid_block_plain(h, emb);
  return h;
}

UNet2DConditionModelImpl::UNet2DConditionModelImpl(const nlohmann::json& config,
                                                   const std::string& label)
    : UNet2DConditionModelImpl(
          UNetConfig::parse(ConfigReader(config, label), UNetConfig::Kind::UNet), label) {}

UNet2DConditionModelImpl::UNet2DConditionModelImpl(const UNetConfig& config,
                                                   const std::string& label)
    : UNetTrunkImpl(config, label) {
  build_up_path();
}

void UNet2DConditionModelImpl::build_up_path() {
  const auto& c = config_;
  const size_t n = c.up_block_types.size();
  if (n != c.block_out_channels.size()) {
    throw EngineError(EngineError::Kind::ModelFormat,
                      label_ + ": up_block_types must have as many entries as block_out_channels");
  }
  const auto channels = reversed(c.block_out_channels);
  const auto heads = reversed(c.num_attention_heads);
  const auto layers = reversed(c.layers_per_block);
  const auto cross_dims = reversed(c.cross_attention_dim);
  const auto transformer_layers = reversed(c.transformer_layers_per_block);
  const auto only_cross = reversed(c.only_cross_attention);

  up_blocks = register_module("up_blocks", torch::nn::ModuleList());
  int64_t output_channel = channels[0];
  for (size_t i = 0; i < n; ++i) {
    const bool is_final = i + 1 == n;
    auto spec = block_spec(0);
    spec.prev_output_channel = output_channel;
    output_channel = channels[i];
    spec.in_channels = channels[std::min(i + 1, n - 1)];
    spec.out_channels = output_channel;
    spec.num_layers = layers[i] + 1;
    spec.add_sampler = !is_final;
    spec.cross_attention = c.up_block_types[i] == "CrossAttnUpBlock2D";
    spec.transformer_layers = transformer_layers[i];
    spec.cross_attention_dim = cross_dims[i];
    spec.heads = heads[i];
    spec.only_cross_attention = only_cross[i];
    has_cross_attention_ = has_cross_attention_ || spec.cross_attention;
    if (!is_final) ++num_upsamplers_;
    up_.push_back(UpBlock(spec));
    up_blocks->push_back(up_.back());
  }
  conv_norm_out = register_module(
      "conv_norm_out", GroupNorm(c.norm_num_groups, c.block_out_channels[0], c.norm_eps));
  conv_out = register_module("conv_out",
                             make_conv(c.block_out_channels[0], c.out_channels, c.conv_out_kernel));
}

size_t UNet2DConditionModelImpl::down_state_count() const {
  size_t count = 1;
  for (const auto& block : down_) {
    count += block->resnets->size() + (block->downsamplers ? 1 : 0);
  }
  return count;
}

int64_t UNet2DConditionModelImpl::spatial_multiple() const {
  return int64_t{1} << num_upsamplers_;
}

torch::Tensor UNet2DConditionModelImpl::forward(
    const torch::Tensor& sample, const torch::Tensor& timesteps,
    const torch::Tensor& encoder_hidden_states, const torch::Tensor& class_labels,
    const std::vector<torch::Tensor>& down_block_additional_residuals,
    const torch::Tensor& mid_block_additional_residual) {
  check_inputs(sample, encoder_hidden_states, class_labels);
  auto x = config_.center_input_sample ? 2 * sample - 1.0 : sample;
  auto emb = embedding(timesteps, class_labels, x);
  auto [h, states] = run_down(conv_in(x), emb, encoder_hidden_states);

  if (!down_block_additional_residuals.empty()) {
    if (down_block_additional_residuals.size() != states.size()) {
      throw EngineError(EngineError::Kind::InvalidArgument,
                        label_ + ": expected " + std::to_string(states.size()) +
                            " down_block_additional_residuals, got " +
                            std::to_string(down_block_additional_residuals.size()));
    }
    for (size_t i = 0; i < states.size(); ++i) {
      const auto& residual = down_block_additional_residuals[i];
      if (!residual.sizes().equals(states[i].sizes())) {
        throw EngineError(EngineError::Kind::InvalidArgument,
                          label_ + ": down_block_additional_residuals[" + std::to_string(i) +
                              "] is " + shape_of(residual) + ", expected " + shape_of(states[i]));
      }
      states[i] = states[i] + residual;
    }
  }
  h = run_mid(h, emb, encoder_hidden_states);
  if (mid_block_additional_residual.defined()) {
    if (!mid_block_additional_residual.sizes().equals(h.sizes())) {
      throw EngineError(EngineError::Kind::InvalidArgument,
                        label_ + ": mid_block_additional_residual is " +
                            shape_of(mid_block_additional_residual) + ", expected " + shape_of(h));
    }
    h = h + mid_block_additional_residual;
  }

  const int64_t multiple = spatial_multiple();
  const bool forward_upsample_size =
      sample.size(2) % multiple != 0 || sample.size(3) % multiple != 0;
  for (size_t i = 0; i < up_.size(); ++i) {
    std::optional<std::vector<int64_t>> upsample_size;
    const size_t consumed = up_[i]->num_layers();
    if (i + 1 < up_.size() && forward_upsample_size && states.size() > consumed) {
      const auto& next = states[states.size() - consumed - 1];
      upsample_size = std::vector<int64_t>{next.size(2), next.size(3)};
    }
    h = up_[i](h, states, emb, encoder_hidden_states, upsample_size);
  }
  h = activate(config_.act, conv_norm_out(h));
  return conv_out(h);
}

}  // namespace terrasynth::engine::nn
