#include "tiling/tiled_sampler.h"

#include <algorithm>
#include <map>
#include <utility>

#include "terrasynth/engine/error.h"

namespace terrasynth::engine::tiling {
namespace {

Geometry fused_geometry(const TiledOptions& o) { return {o.window, o.overlap, o.multiple}; }

Geometry shifted_geometry(const TiledOptions& o) {
  const int64_t overlap =
      o.shifted_overlap > 0 ? o.shifted_overlap : auto_shifted_overlap(o.window, o.multiple);
  return {o.window, overlap, o.multiple};
}

torch::Tensor axis_tensor(const std::vector<float>& w, const torch::Device& device) {
  return torch::from_blob(const_cast<float*>(w.data()), {static_cast<int64_t>(w.size())},
                          torch::kFloat32)
      .to(device, torch::kFloat32, /*non_blocking=*/false, /*copy=*/true);
}

// Sum of the axis weights over the canvas, per position.
torch::Tensor axis_sum(const AxisLayout& a, const torch::Device& device) {
  std::vector<float> sum(static_cast<size_t>(a.length), 0.f);
  for (size_t k = 0; k < a.spans.size(); ++k)
    for (int64_t i = 0; i < a.spans[k].size; ++i)
      sum[static_cast<size_t>(a.spans[k].start + i)] += a.weights[k][static_cast<size_t>(i)];
  return axis_tensor(sum, device);
}

}  // namespace

TileLayout layout_for_call(const TiledOptions& o, int64_t width, int64_t height,
                           const sched::ModelCall& call) {
  if (o.mode == TilingMode::Fused) return fused_layout(width, height, fused_geometry(o));
  const int64_t phase = static_cast<int64_t>(call.step) * std::max(call.passes, 1) + call.pass;
  return shifted_layout(width, height, shifted_geometry(o), phase);
}

sched::ModelFn tiled_model(sched::ModelFn window_model, TiledOptions options) {
  if (!window_model)
    throw EngineError(EngineError::Kind::InvalidArgument, "tiling: no window model callback");
  validate(fused_geometry(options));
  validate(shifted_geometry(options));
  if (options.batch < 1)
    throw EngineError(EngineError::Kind::InvalidArgument,
                      "tiling: the window batch must be at least 1, got " + std::to_string(options.batch));

  return [window_model = std::move(window_model), options](
             const torch::Tensor& input, const sched::ModelCall& call) -> torch::Tensor {
    if (input.dim() != 4)
      throw EngineError(EngineError::Kind::InvalidArgument,
                        "tiling: the canvas input must be [B, C, H, W], got " +
                            c10::str(input.sizes()));
    const int64_t batch = input.size(0);
    const int64_t height = input.size(2);
    const int64_t width = input.size(3);
    const TileLayout layout = layout_for_call(options, width, height, call);
    const std::vector<Window> windows = layout.windows();
    const auto device = input.device();

    // Windows grouped by size (first appearance order), then cut into batches.
    std::vector<std::vector<size_t>> groups;
    std::map<std::pair<int64_t, int64_t>, size_t> group_of;
    for (size_t k = 0; k < windows.size(); ++k) {
      const auto key = std::make_pair(windows[k].width, windows[k].height);
      auto it = group_of.find(key);
      if (it == group_of.end()) {
        group_of.emplace(key, groups.size());
        groups.push_back({k});
      } else {
        groups[it->second].push_back(k);
      }
    }

    std::vector<torch::Tensor> wx(layout.x.spans.size());
    std::vector<torch::Tensor> wy(layout.y.spans.size());
    for (size_t i = 0; i < wx.size(); ++i) wx[i] = axis_tensor(layout.x.weights[i], device);
    for (size_t i = 0; i < wy.size(); ++i) wy[i] = axis_tensor(layout.y.weights[i], device);

    torch::Tensor acc;
    const int total = static_cast<int>(windows.size());
    int done = 0;
    for (const auto& group : groups) {
      for (size_t first = 0; first < group.size(); first += static_cast<size_t>(options.batch)) {
        if (options.cancel && options.cancel->cancelled()) return {};
        const size_t last = std::min(group.size(), first + static_cast<size_t>(options.batch));
        std::vector<torch::Tensor> crops;
        sched::ModelCall sub = call;
        sub.regions.clear();
        sub.branches.clear();
        for (size_t g = first; g < last; ++g) {
          const Window& w = windows[group[g]];
          crops.push_back(input.slice(2, w.y, w.y + w.height).slice(3, w.x, w.x + w.width));
          for (int64_t b = 0; b < batch; ++b) {
            const sched::Region origin = static_cast<size_t>(b) < call.regions.size()
                                             ? call.regions[static_cast<size_t>(b)]
                                             : sched::Region{0, 0, width, height};
            sub.regions.push_back({origin.x + w.x, origin.y + w.y, w.width, w.height});
            sub.branches.push_back(call.branch(static_cast<size_t>(b)));
          }
        }
        const torch::Tensor out =
            window_model(crops.size() == 1 ? crops[0] : torch::cat(crops, 0), sub);
        if (!out.defined()) return {};
        const int64_t expected = static_cast<int64_t>(last - first) * batch;
        if (out.dim() != 4 || out.size(0) != expected || out.size(2) != windows[group[first]].height ||
            out.size(3) != windows[group[first]].width)
          throw EngineError(EngineError::Kind::InvalidArgument,
                            "tiling: the window model returned " + c10::str(out.sizes()) +
                                " for " + std::to_string(expected) + " windows of " +
                                std::to_string(windows[group[first]].width) + "x" +
                                std::to_string(windows[group[first]].height));
        if (!acc.defined())
          acc = torch::zeros({batch, out.size(1), height, width},
                             torch::TensorOptions().dtype(torch::kFloat32).device(device));
        for (size_t g = first; g < last; ++g) {
          const Window& w = windows[group[g]];
          const int64_t j = static_cast<int64_t>(g - first);
          const torch::Tensor weight = wy[static_cast<size_t>(w.yi)].view({1, 1, -1, 1}) *
                                       wx[static_cast<size_t>(w.xi)].view({1, 1, 1, -1});
          acc.slice(2, w.y, w.y + w.height)
              .slice(3, w.x, w.x + w.width)
              .add_(out.slice(0, j * batch, (j + 1) * batch).to(torch::kFloat32) * weight);
        }
        done += static_cast<int>(last - first);
        if (options.progress) {
          ProgressEvent event;
          event.phase = "denoise";
          event.step = call.step + 1;
          event.total_steps = call.total_steps;
          event.tile = done;
          event.total_tiles = total;
          const int passes = std::max(call.passes, 1);
          const double within = (call.pass + static_cast<double>(done) / total) / passes;
          event.fraction = call.total_steps > 0 ? (call.step + within) / call.total_steps : 0.0;
          options.progress(event);
        }
      }
    }
    const torch::Tensor weight_sum =
        axis_sum(layout.y, device).view({1, 1, -1, 1}) * axis_sum(layout.x, device).view({1, 1, 1, -1});
    return acc / weight_sum;
  };
}

}  // namespace terrasynth::engine::tiling
