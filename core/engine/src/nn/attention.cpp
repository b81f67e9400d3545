#include "nn/attention.h"

#include <algorithm>
#include <atomic>
#include <cmath>

#include "nn/layers.h"
#include "terrasynth/engine/error.h"

namespace terrasynth::engine::nn {

namespace {

constexpr int64_t kDefaultScoreBudget = int64_t{1} << 26;
std::atomic<int64_t> g_score_budget{kDefaultScoreBudget};

// [B, L, heads * d] -> [B * heads, L, d]
torch::Tensor split_heads(const torch::Tensor& x, int64_t heads) {
  const int64_t b = x.size(0), l = x.size(1), d = x.size(2) / heads;
  return x.reshape({b, l, heads, d}).permute({0, 2, 1, 3}).reshape({b * heads, l, d});
}

// [B * heads, L, d] -> [B, L, heads * d]
torch::Tensor merge_heads(const torch::Tensor& x, int64_t heads) {
  const int64_t bh = x.size(0), l = x.size(1), d = x.size(2);
  return x.reshape({bh / heads, heads, l, d})
      .permute({0, 2, 1, 3})
      .reshape({bh / heads, l, heads * d});
}

torch::Tensor attend(const torch::Tensor& q, const torch::Tensor& kt, const torch::Tensor& v,
                     double scale, bool upcast) {
  auto scores =
      upcast ? torch::bmm(q.to(torch::kFloat32), kt.to(torch::kFloat32)) : torch::bmm(q, kt);
  scores.mul_(scale);  // bmm's backward does not need its output: safe under autograd
  auto probs = scores.scalar_type() == torch::kFloat32
                   ? torch::softmax(scores, -1)
                   : torch::softmax(scores, -1, torch::kFloat32);
  return torch::bmm(probs.to(v.scalar_type()), v);
}

}  // namespace

void set_attention_score_budget(int64_t elements) {
  g_score_budget.store(elements > 0 ? elements : kDefaultScoreBudget);
}

int64_t attention_score_budget() {
  return g_score_budget.load();
}

torch::Tensor chunked_attention(const torch::Tensor& q, const torch::Tensor& k,
                                const torch::Tensor& v, double scale, int64_t max_score_elements,
                                bool upcast) {
  if (q.dim() != 3 || k.dim() != 3 || v.dim() != 3 || q.size(0) != k.size(0) ||
      k.size(0) != v.size(0) || k.size(1) != v.size(1) || q.size(2) != k.size(2)) {
    throw EngineError(EngineError::Kind::InvalidArgument,
                      "attention: incompatible q " + c10::str(q.sizes()) + ", k " +
                          c10::str(k.sizes()) + ", v " + c10::str(v.sizes()));
  }
  const int64_t budget = max_score_elements > 0 ? max_score_elements : attention_score_budget();
  const int64_t rows = q.size(0) * k.size(1);
  const int64_t chunk = std::max<int64_t>(1, budget / std::max<int64_t>(1, rows));
  const int64_t queries = q.size(1);
  auto kt = k.transpose(1, 2);
  if (chunk >= queries) return attend(q, kt, v, scale, upcast);
  std::vector<torch::Tensor> parts;
  parts.reserve(static_cast<size_t>((queries + chunk - 1) / chunk));
  for (int64_t start = 0; start < queries; start += chunk) {
    parts.push_back(
        attend(q.narrow(1, start, std::min(chunk, queries - start)), kt, v, scale, upcast));
  }
  return torch::cat(parts, 1);
}

AttentionImpl::AttentionImpl(const AttentionOptions& options) : options_(options) {
  auto& o = options_;
  const int64_t inner = o.heads * o.dim_head;
  const int64_t context_dim = o.cross_attention_dim > 0 ? o.cross_attention_dim : o.query_dim;
  if (o.norm_num_groups > 0) {
    group_norm = register_module("group_norm", GroupNorm(o.norm_num_groups, o.query_dim, o.eps));
  }
  auto linear = [](int64_t in, int64_t out, bool bias) {
    return torch::nn::Linear(torch::nn::LinearOptions(in, out).bias(bias));
  };
  to_q = register_module("to_q", linear(o.query_dim, inner, o.bias));
  to_k = register_module("to_k", linear(context_dim, inner, o.bias));
  to_v = register_module("to_v", linear(context_dim, inner, o.bias));
  to_out = register_module("to_out", torch::nn::ModuleList());
  to_out_proj = linear(inner, o.query_dim, o.out_bias);
  to_out->push_back(to_out_proj);
  to_out->push_back(torch::nn::Dropout(o.dropout));
}

torch::Tensor AttentionImpl::forward(const torch::Tensor& hidden_states,
                                     const torch::Tensor& context) {
  const auto& o = options_;
  const bool spatial = hidden_states.dim() == 4;
  auto x = hidden_states;
  int64_t b = x.size(0), c = 0, h = 0, w = 0;
  if (spatial) {
    c = x.size(1), h = x.size(2), w = x.size(3);
    // GroupNorm on [B, C, H, W] reduces over the same elements as diffusers' [B, C, H*W].
    if (group_norm) x = group_norm(x);
    x = x.reshape({b, c, h * w}).transpose(1, 2);
  } else if (group_norm) {
    x = group_norm(x.transpose(1, 2)).transpose(1, 2);
  }
  auto source = context.defined() ? context : x;
  auto q = split_heads(to_q(x), o.heads);
  auto k = split_heads(to_k(source), o.heads);
  auto v = split_heads(to_v(source), o.heads);
  const double scale = 1.0 / std::sqrt(static_cast<double>(o.dim_head));
  auto out = merge_heads(chunked_attention(q, k, v, scale, 0, o.upcast_attention), o.heads);
  out = to_out_proj(out);
  if (o.dropout > 0) out = torch::dropout(out, o.dropout, is_training());
  if (spatial) out = out.transpose(1, 2).reshape({b, c, h, w});
  if (o.residual_connection) out = out + hidden_states;
  if (o.rescale_output_factor != 1.0) out = out / o.rescale_output_factor;
  return out;
}

GEGLUImpl::GEGLUImpl(int64_t dim_in, int64_t dim_out) {
  proj = register_module("proj", torch::nn::Linear(dim_in, dim_out * 2));
}

torch::Tensor GEGLUImpl::forward(const torch::Tensor& x) {
  auto parts = proj(x).chunk(2, -1);
  return parts[0] * torch::gelu(parts[1]);
}

FeedForwardImpl::FeedForwardImpl(int64_t dim, int64_t mult, double dropout) : dropout_(dropout) {
  const int64_t inner = dim * mult;
  net = register_module("net", torch::nn::ModuleList());
  geglu = GEGLU(dim, inner);
  out = torch::nn::Linear(inner, dim);
  net->push_back(geglu);
  net->push_back(torch::nn::Dropout(dropout));
  net->push_back(out);
}

torch::Tensor FeedForwardImpl::forward(const torch::Tensor& x) {
  auto h = geglu(x);
  if (dropout_ > 0) h = torch::dropout(h, dropout_, is_training());
  return out(h);
}

BasicTransformerBlockImpl::BasicTransformerBlockImpl(int64_t dim, const TransformerOptions& options)
    : only_cross_attention_(options.only_cross_attention) {
  auto layer_norm = [dim]() {
    return torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(1e-5));
  };
  AttentionOptions self_options;
  self_options.query_dim = dim;
  self_options.heads = options.heads;
  self_options.dim_head = options.dim_head;
  self_options.dropout = options.dropout;
  self_options.upcast_attention = options.upcast_attention;
  if (options.only_cross_attention) self_options.cross_attention_dim = options.cross_attention_dim;
  norm1 = register_module("norm1", layer_norm());
  attn1 = register_module("attn1", Attention(self_options));
  if (options.cross_attention_dim > 0) {
    AttentionOptions cross_options = self_options;
    cross_options.cross_attention_dim = options.cross_attention_dim;
    norm2 = register_module("norm2", layer_norm());
    attn2 = register_module("attn2", Attention(cross_options));
  }
  norm3 = register_module("norm3", layer_norm());
  ff = register_module("ff", FeedForward(dim, 4, options.dropout));
}

torch::Tensor BasicTransformerBlockImpl::forward(const torch::Tensor& hidden_states,
                                                 const torch::Tensor& context) {
  auto h = hidden_states;
  h = attn1(norm1(h), only_cross_attention_ ? context : torch::Tensor()) + h;
  if (attn2) h = attn2(norm2(h), context) + h;
  return ff(norm3(h)) + h;
}

Transformer2DModelImpl::Transformer2DModelImpl(const TransformerOptions& options)
    : options_(options) {
  const auto& o = options_;
  const int64_t inner = o.heads * o.dim_head;
  norm = register_module("norm", GroupNorm(o.norm_num_groups, o.in_channels, 1e-6));
  if (o.use_linear_projection) {
    proj_in_linear = register_module("proj_in", torch::nn::Linear(o.in_channels, inner));
  } else {
    proj_in_conv = register_module("proj_in", make_conv(o.in_channels, inner, 1, 1, 0));
  }
  transformer_blocks = register_module("transformer_blocks", torch::nn::ModuleList());
  for (int64_t i = 0; i < o.num_layers; ++i) {
    blocks_.push_back(BasicTransformerBlock(inner, o));
    transformer_blocks->push_back(blocks_.back());
  }
  if (o.use_linear_projection) {
    proj_out_linear = register_module("proj_out", torch::nn::Linear(inner, o.in_channels));
  } else {
    proj_out_conv = register_module("proj_out", make_conv(inner, o.in_channels, 1, 1, 0));
  }
}

torch::Tensor Transformer2DModelImpl::forward(const torch::Tensor& hidden_states,
                                              const torch::Tensor& context) {
  const int64_t b = hidden_states.size(0), h = hidden_states.size(2), w = hidden_states.size(3);
  auto x = norm(hidden_states);
  int64_t inner = 0;
  if (proj_in_conv) {
    x = proj_in_conv(x);
    inner = x.size(1);
    x = x.permute({0, 2, 3, 1}).reshape({b, h * w, inner});
  } else {
    x = x.permute({0, 2, 3, 1}).reshape({b, h * w, x.size(1)});
    x = proj_in_linear(x);
    inner = x.size(2);
  }
  for (auto& block : blocks_) x = block(x, context);
  if (proj_out_conv) {
    x = x.reshape({b, h, w, inner}).permute({0, 3, 1, 2}).contiguous();
    x = proj_out_conv(x);
  } else {
    x = proj_out_linear(x);
    x = x.reshape({b, h, w, x.size(2)}).permute({0, 3, 1, 2}).contiguous();
  }
  return x + hidden_states;
}

}  // namespace terrasynth::engine::nn
