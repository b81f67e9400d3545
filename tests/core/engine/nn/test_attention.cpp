// Chunked attention equals plain attention, values and gradients.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "nn/attention.h"

using namespace terrasynth::engine::nn;

namespace {

torch::Tensor plain_attention(const torch::Tensor& q, const torch::Tensor& k,
                              const torch::Tensor& v, double scale) {
  return torch::softmax(torch::matmul(q, k.transpose(1, 2)) * scale, -1).matmul(v);
}

}  // namespace

TEST(ChunkedAttention, EqualsPlainAttentionForAnyChunkSize) {
  torch::manual_seed(0);
  auto q = torch::randn({6, 37, 8});
  auto k = torch::randn({6, 23, 8});
  auto v = torch::randn({6, 23, 5});
  auto reference = plain_attention(q, k, v, 0.35);
  for (int64_t budget :
       std::vector<int64_t>{1, 6 * 23, 6 * 23 * 5, 6 * 23 * 36, 6 * 23 * 37, int64_t{1} << 30}) {
    auto out = chunked_attention(q, k, v, 0.35, budget);
    EXPECT_TRUE(torch::allclose(out, reference, 1e-5, 1e-6)) << "budget " << budget;
  }
}

TEST(ChunkedAttention, GradientsEqualPlainAttention) {
  torch::manual_seed(1);
  auto q = torch::randn({2, 19, 4}, torch::requires_grad());
  auto k = torch::randn({2, 11, 4}, torch::requires_grad());
  auto v = torch::randn({2, 11, 4}, torch::requires_grad());
  auto target = torch::randn({2, 19, 4});
  (chunked_attention(q, k, v, 0.5, 2 * 11 * 3) * target).sum().backward();
  auto gq = q.grad().clone(), gk = k.grad().clone(), gv = v.grad().clone();
  q.mutable_grad().zero_();
  k.mutable_grad().zero_();
  v.mutable_grad().zero_();
  (plain_attention(q, k, v, 0.5) * target).sum().backward();
  EXPECT_TRUE(torch::allclose(gq, q.grad(), 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(gk, k.grad(), 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(gv, v.grad(), 1e-5, 1e-6));
}

TEST(ChunkedAttention, BudgetSettingIsRespectedByModules) {
  torch::manual_seed(2);
  AttentionOptions options;
  options.query_dim = 16;
  options.heads = 2;
  options.dim_head = 8;
  Attention attention(options);
  auto x = torch::randn({1, 50, 16});
  auto whole = attention(x);
  set_attention_score_budget(2 * 50 * 7);  // 7 queries at a time
  EXPECT_EQ(attention_score_budget(), 2 * 50 * 7);
  auto chunked = attention(x);
  set_attention_score_budget(0);
  EXPECT_EQ(attention_score_budget(), int64_t{1} << 26);
  EXPECT_TRUE(torch::allclose(whole, chunked, 1e-5, 1e-6));
}
