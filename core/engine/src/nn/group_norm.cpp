#include "nn/group_norm.h"

#include "terrasynth/engine/error.h"

namespace terrasynth::engine::nn {

namespace {

std::vector<int64_t> affine_shape(const torch::Tensor& x) {
  std::vector<int64_t> shape(static_cast<size_t>(x.dim()), 1);
  shape[1] = x.size(1);
  return shape;
}

}  // namespace

void GroupNormStats::start_accumulation() {
  accumulating_ = true;
  sum_.clear();
  sumsq_.clear();
  count_.clear();
}

void GroupNormStats::finish_accumulation() {
  if (!accumulating_) return;
  accumulating_ = false;
  if (sum_.size() != mean_.size()) {
    throw EngineError(EngineError::Kind::Internal,
                      "GroupNorm statistics: accumulated " + std::to_string(sum_.size()) +
                          " layers but recorded " + std::to_string(mean_.size()));
  }
  for (size_t i = 0; i < sum_.size(); ++i) {
    if (count_[i] == 0) continue;
    auto mean = sum_[i] / static_cast<double>(count_[i]);
    auto var = (sumsq_[i] / static_cast<double>(count_[i]) - mean * mean).clamp_min(0.0);
    mean_[i] = mean.to(torch::kFloat32);
    var_[i] = var.to(torch::kFloat32);
  }
}

torch::Tensor GroupNormStats::normalize(const torch::Tensor& x, int64_t groups, double eps) {
  const size_t layer = cursor_++;
  const int64_t batch = x.size(0);
  auto grouped = x.reshape({batch, groups, -1}).to(torch::kFloat32);

  if (mode_ == Mode::Record) {
    auto [var, mean] = torch::var_mean(grouped, {-1}, /*unbiased=*/false, /*keepdim=*/false);
    if (layer < mean_.size()) {
      mean_[layer] = mean;
      var_[layer] = var;
    } else if (layer == mean_.size()) {
      mean_.push_back(mean);
      var_.push_back(var);
    } else {
      throw EngineError(EngineError::Kind::Internal, "GroupNorm statistics: layer order broken");
    }
  } else if (layer >= mean_.size()) {
    throw EngineError(EngineError::Kind::Internal,
                      "GroupNorm statistics: layer " + std::to_string(layer) +
                          " was not recorded (the pass differs from the recording pass)");
  }
  const auto& mean = mean_[layer];
  const auto& var = var_[layer];
  if (mean.size(0) != batch || mean.size(1) != groups) {
    throw EngineError(EngineError::Kind::Internal,
                      "GroupNorm statistics: layer " + std::to_string(layer) +
                          " recorded for another batch or group count");
  }

  if (accumulating_ && x.dim() == 4) {
    const auto& r = region_;
    const int64_t h = x.size(2), w = x.size(3);
    const int64_t y0 = r.y0 * h / r.grid_h, y1 = r.y1 * h / r.grid_h;
    const int64_t x0 = r.x0 * w / r.grid_w, x1 = r.x1 * w / r.grid_w;
    auto core = x.slice(2, y0, y1).slice(3, x0, x1).to(torch::kFloat64);
    auto core_grouped = core.reshape({batch, groups, -1});
    auto sum = core_grouped.sum(-1);
    auto sumsq = core_grouped.pow(2).sum(-1);
    const int64_t count = core_grouped.size(2);
    if (layer == sum_.size()) {
      sum_.push_back(sum);
      sumsq_.push_back(sumsq);
      count_.push_back(count);
    } else {
      sum_[layer] += sum;
      sumsq_[layer] += sumsq;
      count_[layer] += count;
    }
  }

  auto normalized = (grouped - mean.unsqueeze(-1)) * torch::rsqrt(var.unsqueeze(-1) + eps);
  return normalized.reshape(x.sizes()).to(x.scalar_type());
}

GroupNormImpl::GroupNormImpl(int64_t num_groups, int64_t num_channels, double eps, bool affine)
    : num_groups_(num_groups), num_channels_(num_channels), eps_(eps) {
  if (num_groups <= 0 || num_channels % num_groups != 0) {
    throw EngineError(EngineError::Kind::ModelFormat, "GroupNorm: " + std::to_string(num_channels) +
                                                          " channels cannot be split into " +
                                                          std::to_string(num_groups) + " groups");
  }
  if (affine) {
    weight = register_parameter("weight", torch::ones({num_channels}));
    bias = register_parameter("bias", torch::zeros({num_channels}));
  }
}

torch::Tensor GroupNormImpl::forward(const torch::Tensor& x) {
  if (!stats_) return torch::group_norm(x, num_groups_, weight, bias, eps_);
  auto y = stats_->normalize(x, num_groups_, eps_);
  if (weight.defined()) y = y * weight.view(affine_shape(x)) + bias.view(affine_shape(x));
  return y;
}

ScopedGroupNormStats::ScopedGroupNormStats(torch::nn::Module& root, GroupNormStats* stats) {
  root.apply([&](torch::nn::Module& module) {
    if (auto* norm = dynamic_cast<GroupNormImpl*>(&module)) {
      norm->set_shared_stats(stats);
      layers_.push_back(norm);
    }
  });
}

ScopedGroupNormStats::~ScopedGroupNormStats() {
  for (auto* layer : layers_) layer->set_shared_stats(nullptr);
}

size_t count_group_norms(torch::nn::Module& root) {
  size_t count = 0;
  root.apply([&](torch::nn::Module& module) {
    if (dynamic_cast<GroupNormImpl*>(&module)) ++count;
  });
  return count;
}

}  // namespace terrasynth::engine::nn
