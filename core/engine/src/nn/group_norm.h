#pragma once
// GroupNorm whose statistics can be recorded on one input and replayed on others, so the windows
// of a tiled decode normalise with (an estimate of) the statistics of the whole image instead of
// their own, and neighbouring windows agree.
#include <torch/torch.h>

#include <vector>

namespace terrasynth::engine::nn {

// Per-layer statistics of one network pass. Layers are matched by call order, which is fixed for
// a given network: call begin_pass() before each pass.
class GroupNormStats {
 public:
  enum class Mode {
    Record,  // normalise each layer with its input's own statistics and store them
    Replay,  // normalise each layer with the stored statistics
  };

  // A rectangle of the pass input (rows y0..y1, columns x0..x1 of a grid of grid_h x grid_w);
  // each layer scales it to its own resolution.
  struct Region {
    int64_t y0 = 0, y1 = 0, x0 = 0, x1 = 0;
    int64_t grid_h = 0, grid_w = 0;
  };

  explicit GroupNormStats(Mode mode) : mode_(mode) {}

  Mode mode() const { return mode_; }
  void set_mode(Mode mode) { mode_ = mode; }
  void begin_pass() { cursor_ = 0; }
  // Number of layers seen in the last pass (checks that passes agree).
  size_t layers_in_pass() const { return cursor_; }
  size_t layer_count() const { return mean_.size(); }
  // Statistics of layer `index` ([N, G] float32 mean and biased variance).
  const torch::Tensor& mean(size_t index) const { return mean_.at(index); }
  const torch::Tensor& var(size_t index) const { return var_.at(index); }

  // While accumulating, each layer also adds the sums of its raw input over `region` (the part of
  // the window it owns); finish_accumulation() turns the sums of all windows into statistics.
  void start_accumulation();
  void set_accumulation_region(const Region& region) { region_ = region; }
  void finish_accumulation();
  bool accumulating() const { return accumulating_; }

  // Called by GroupNorm layers.
  torch::Tensor normalize(const torch::Tensor& x, int64_t groups, double eps);

 private:
  Mode mode_;
  size_t cursor_ = 0;
  std::vector<torch::Tensor> mean_;  // [N, G] float32
  std::vector<torch::Tensor> var_;   // [N, G] float32, biased
  bool accumulating_ = false;
  Region region_;
  std::vector<torch::Tensor> sum_;    // [N, G] float64
  std::vector<torch::Tensor> sumsq_;  // [N, G] float64
  std::vector<int64_t> count_;        // elements per (N, G)
};

// torch::nn::GroupNorm with diffusers' parameter names (weight, bias) and optional shared
// statistics. Without shared statistics it is exactly torch::group_norm.
class GroupNormImpl : public torch::nn::Module {
 public:
  GroupNormImpl(int64_t num_groups, int64_t num_channels, double eps = 1e-5, bool affine = true);

  torch::Tensor forward(const torch::Tensor& x);

  int64_t num_groups() const { return num_groups_; }
  int64_t num_channels() const { return num_channels_; }
  double eps() const { return eps_; }
  void set_shared_stats(GroupNormStats* stats) { stats_ = stats; }

  torch::Tensor weight, bias;

 private:
  int64_t num_groups_;
  int64_t num_channels_;
  double eps_;
  GroupNormStats* stats_ = nullptr;
};
TORCH_MODULE(GroupNorm);

// Points every GroupNorm below `root` at `stats` for the lifetime of the guard.
class ScopedGroupNormStats {
 public:
  ScopedGroupNormStats(torch::nn::Module& root, GroupNormStats* stats);
  ~ScopedGroupNormStats();
  ScopedGroupNormStats(const ScopedGroupNormStats&) = delete;
  ScopedGroupNormStats& operator=(const ScopedGroupNormStats&) = delete;

 private:
  std::vector<GroupNormImpl*> layers_;
};

// Number of GroupNorm layers below `root`.
size_t count_group_norms(torch::nn::Module& root);

}  // namespace terrasynth::engine::nn
