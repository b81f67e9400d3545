#pragma once
// Attention modules of diffusers (Attention, GEGLU feed-forward, BasicTransformerBlock,
// Transformer2DModel) with memory-bounded attention: libtorch 1.13 has no fused attention, so
// queries are processed in chunks and the score matrix never exceeds a fixed budget.
#include <torch/torch.h>

#include "nn/group_norm.h"

namespace terrasynth::engine::nn {

// Largest number of attention score elements (batch x heads x queries x keys) computed at once;
// 0 restores the default (2^26, 256 MiB in float32).
void set_attention_score_budget(int64_t elements);
int64_t attention_score_budget();

// softmax(q k^T * scale) v for q [BH, Lq, d], k [BH, Lk, d], v [BH, Lk, dv], in chunks of
// queries. Scores are computed in the inputs' dtype and the softmax in float32 (diffusers'
// upcast), so half precision does not overflow.
torch::Tensor chunked_attention(const torch::Tensor& q, const torch::Tensor& k,
                                const torch::Tensor& v, double scale,
                                int64_t max_score_elements = 0, bool upcast = false);

struct AttentionOptions {
  int64_t query_dim = 0;
  int64_t cross_attention_dim = 0;  // 0 = query_dim (self-attention)
  int64_t heads = 8;
  int64_t dim_head = 64;
  bool bias = false;  // biases of to_q, to_k, to_v
  bool out_bias = true;
  int64_t norm_num_groups = 0;  // > 0: a GroupNorm before the projections (VAE attention)
  double eps = 1e-5;
  bool residual_connection = false;
  double rescale_output_factor = 1.0;
  double dropout = 0.0;
  bool upcast_attention = false;  // scores from float32 queries and keys
};

// diffusers Attention (AttnProcessor maths). Takes [B, L, C] or [B, C, H, W] hidden states.
class AttentionImpl : public torch::nn::Module {
 public:
  explicit AttentionImpl(const AttentionOptions& options);
  torch::Tensor forward(const torch::Tensor& hidden_states, const torch::Tensor& context = {});

  GroupNorm group_norm{nullptr};
  torch::nn::Linear to_q{nullptr}, to_k{nullptr}, to_v{nullptr}, to_out_proj{nullptr};
  torch::nn::ModuleList to_out{nullptr};

 private:
  AttentionOptions options_;
};
TORCH_MODULE(Attention);

// diffusers GEGLU: proj to 2x inner, value * gelu(gate).
class GEGLUImpl : public torch::nn::Module {
 public:
  GEGLUImpl(int64_t dim_in, int64_t dim_out);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::Linear proj{nullptr};
};
TORCH_MODULE(GEGLU);

// diffusers FeedForward with activation_fn="geglu": net = [GEGLU, Dropout, Linear].
class FeedForwardImpl : public torch::nn::Module {
 public:
  FeedForwardImpl(int64_t dim, int64_t mult = 4, double dropout = 0.0);
  torch::Tensor forward(const torch::Tensor& x);

  torch::nn::ModuleList net{nullptr};
  GEGLU geglu{nullptr};
  torch::nn::Linear out{nullptr};

 private:
  double dropout_;
};
TORCH_MODULE(FeedForward);

struct TransformerOptions {
  int64_t heads = 8;
  int64_t dim_head = 64;
  int64_t in_channels = 0;
  int64_t num_layers = 1;
  int64_t cross_attention_dim = 0;  // 0 = no cross-attention (attn2 absent)
  int64_t norm_num_groups = 32;
  bool use_linear_projection = false;
  bool only_cross_attention = false;
  bool upcast_attention = false;
  double dropout = 0.0;
};

// diffusers BasicTransformerBlock (norm_type "layer_norm", GEGLU feed-forward).
class BasicTransformerBlockImpl : public torch::nn::Module {
 public:
  BasicTransformerBlockImpl(int64_t dim, const TransformerOptions& options);
  torch::Tensor forward(const torch::Tensor& hidden_states, const torch::Tensor& context = {});

  torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr}, norm3{nullptr};
  Attention attn1{nullptr}, attn2{nullptr};
  FeedForward ff{nullptr};

 private:
  bool only_cross_attention_;
};
TORCH_MODULE(BasicTransformerBlock);

// diffusers Transformer2DModel for continuous [B, C, H, W] inputs.
class Transformer2DModelImpl : public torch::nn::Module {
 public:
  explicit Transformer2DModelImpl(const TransformerOptions& options);
  torch::Tensor forward(const torch::Tensor& hidden_states, const torch::Tensor& context = {});

  GroupNorm norm{nullptr};
  torch::nn::Conv2d proj_in_conv{nullptr}, proj_out_conv{nullptr};
  torch::nn::Linear proj_in_linear{nullptr}, proj_out_linear{nullptr};
  torch::nn::ModuleList transformer_blocks{nullptr};

 private:
  TransformerOptions options_;
  std::vector<BasicTransformerBlock> blocks_;
};
TORCH_MODULE(Transformer2DModel);

}  // namespace terrasynth::engine::nn
