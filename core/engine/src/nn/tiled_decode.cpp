#include "nn/tiled_decode.h"

#include <algorithm>
#include <cmath>

#include "nn/group_norm.h"
#include "terrasynth/engine/error.h"

namespace terrasynth::engine::nn {

namespace {

int64_t ceil_div(int64_t a, int64_t b) {
  return (a + b - 1) / b;
}

}  // namespace

std::vector<WindowSpan> window_spans(int64_t length, int64_t window, int64_t overlap) {
  if (length <= 0 || window <= 0 || overlap < 0 || overlap >= window) {
    throw EngineError(EngineError::Kind::InvalidArgument,
                      "tiled decode: need length > 0 and 0 <= overlap < window, got length " +
                          std::to_string(length) + ", window " + std::to_string(window) +
                          ", overlap " + std::to_string(overlap));
  }
  if (length <= window) return {WindowSpan{0, length, 0, length}};
  const int64_t count = 1 + ceil_div(length - window, window - overlap);
  std::vector<WindowSpan> spans(static_cast<size_t>(count));
  const int64_t travel = length - window;
  for (int64_t i = 0; i < count; ++i) {
    // Evenly spread starts; rounding keeps every overlap >= `overlap`.
    spans[i].start = (i * travel + (count - 1) / 2) / (count - 1);
    spans[i].length = window;
  }
  for (int64_t i = 0; i < count; ++i) {
    spans[i].core_start = i == 0 ? 0 : spans[i - 1].core_end;
    spans[i].core_end =
        i + 1 == count ? length : (spans[i + 1].start + spans[i].start + window) / 2;
  }
  return spans;
}

torch::Tensor window_blend_weights(const std::vector<WindowSpan>& spans, size_t index,
                                   int64_t upscale) {
  const auto& span = spans.at(index);
  const int64_t n = span.length * upscale;
  auto position = torch::arange(n, torch::kFloat64) + 0.5;
  auto weight = torch::ones({n}, torch::kFloat64);
  auto ramp = [](const torch::Tensor& t) {
    auto c = t.clamp(0.0, 1.0);
    return c * c * (3.0 - 2.0 * c);
  };
  if (index > 0) {
    const int64_t shared =
        (spans[index - 1].start + spans[index - 1].length - span.start) * upscale;
    if (shared > 0) weight = weight * ramp(position / static_cast<double>(shared));
  }
  if (index + 1 < spans.size()) {
    const int64_t shared = (span.start + span.length - spans[index + 1].start) * upscale;
    if (shared > 0) {
      weight = weight * ramp((static_cast<double>(n) - position) / static_cast<double>(shared));
    }
  }
  return weight.to(torch::kFloat32);
}

Status decode_tiled(TileableDecoder& decoder, const torch::Tensor& latents,
                    const TiledDecodeOptions& options, torch::Tensor& image,
                    const ProgressCallback& progress, const CancelToken* cancel) {
  torch::NoGradGuard no_grad;
  image = torch::Tensor();
  if (!latents.defined() || latents.dim() != 4) {
    throw EngineError(
        EngineError::Kind::InvalidArgument,
        "tiled decode: latents must be [B, C, h, w], got " +
            (latents.defined() ? c10::str(latents.sizes()) : std::string("undefined")));
  }
  const int64_t h = latents.size(2), w = latents.size(3);
  const int64_t scale = decoder.decoder_upscale();
  auto features = options.global_head ? decoder.decode_head(latents) : latents;
  auto run = [&](const torch::Tensor& x) {
    return options.global_head ? decoder.decode_tail(x)
                               : decoder.decode_tail(decoder.decode_head(x));
  };
  auto cancelled = [&] { return cancel && cancel->cancelled(); };

  if (h <= options.window && w <= options.window) {
    if (cancelled()) return Status::Cancelled;
    image = run(features).to(torch::kFloat32);
    if (progress) progress({"decode", 1, 1, 1, 1, 1.0, ""});
    return Status::Ok;
  }

  const auto ys = window_spans(h, options.window, options.overlap);
  const auto xs = window_spans(w, options.window, options.overlap);
  const int tiles = static_cast<int>(ys.size() * xs.size());
  auto& module = decoder.decoder_module();
  GroupNormStats stats(GroupNormStats::Mode::Record);
  std::unique_ptr<ScopedGroupNormStats> attach;
  bool shared_norms = false;
  if (options.norm_stats != WindowNormStats::PerWindow && count_group_norms(module) > 0) {
    // Which GroupNorm layers run per window (a head run on the whole latent needs no sharing):
    // probe with a tiny crop.
    attach = std::make_unique<ScopedGroupNormStats>(module, &stats);
    stats.begin_pass();
    run(features.slice(2, 0, std::min<int64_t>(h, 2)).slice(3, 0, std::min<int64_t>(w, 2)));
    shared_norms = stats.layers_in_pass() > 0;
    if (!shared_norms) attach.reset();
  }
  const bool two_pass = shared_norms && options.norm_stats == WindowNormStats::TwoPass;
  const int passes = two_pass ? 2 : 1;
  int pass = 0;
  auto report = [&](int tile) {
    if (!progress) return;
    const double done = (static_cast<double>(pass - 1) * tiles + tile) / (passes * tiles);
    progress({"decode", pass, passes, tile, tiles, done, ""});
  };
  auto window_of = [&](const WindowSpan& y, const WindowSpan& x) {
    return features.slice(2, y.start, y.start + y.length).slice(3, x.start, x.start + x.length);
  };

  if (shared_norms && !two_pass) {
    // The whole image at low resolution, with each channel's mean and deviation kept.
    if (cancelled()) return Status::Cancelled;
    const int64_t factor = ceil_div(std::max(h, w), options.window);
    auto small = torch::adaptive_avg_pool2d(features, {ceil_div(h, factor), ceil_div(w, factor)});
    const std::vector<int64_t> dims{0, 2, 3};
    auto [full_std, full_mean] = torch::std_mean(features, dims, false, true);
    auto [small_std, small_mean] = torch::std_mean(small, dims, false, true);
    small = (small - small_mean) / small_std.clamp_min(1e-6) * full_std + full_mean;
    stats.begin_pass();
    run(small);
    stats.set_mode(GroupNormStats::Mode::Replay);
  } else if (two_pass) {
    // Each window normalises with its own statistics and adds those of the part it owns.
    ++pass;
    const size_t layers = stats.layers_in_pass();
    stats.start_accumulation();
    int tile = 0;
    for (const auto& y : ys) {
      for (const auto& x : xs) {
        if (cancelled()) return Status::Cancelled;
        stats.set_accumulation_region({y.core_start - y.start, y.core_end - y.start,
                                       x.core_start - x.start, x.core_end - x.start, y.length,
                                       x.length});
        stats.begin_pass();
        run(window_of(y, x));
        if (stats.layers_in_pass() != layers) {
          throw EngineError(EngineError::Kind::Internal,
                            "tiled decode: a window ran a different number of GroupNorm layers");
        }
        report(++tile);
      }
    }
    stats.finish_accumulation();
    stats.set_mode(GroupNormStats::Mode::Replay);
  }

  ++pass;
  torch::Tensor sum, weight_sum;
  int tile = 0;
  for (size_t iy = 0; iy < ys.size(); ++iy) {
    const auto wy = window_blend_weights(ys, iy, scale).to(features.device());
    for (size_t ix = 0; ix < xs.size(); ++ix) {
      if (cancelled()) return Status::Cancelled;
      const auto& y = ys[iy];
      const auto& x = xs[ix];
      stats.begin_pass();
      auto decoded = run(window_of(y, x)).to(torch::kFloat32);
      if (decoded.size(2) != y.length * scale || decoded.size(3) != x.length * scale) {
        throw EngineError(EngineError::Kind::Internal,
                          "tiled decode: a window decoded to " + c10::str(decoded.sizes()) +
                              ", expected upscale " + std::to_string(scale));
      }
      if (!sum.defined()) {
        sum = torch::zeros({decoded.size(0), decoded.size(1), h * scale, w * scale},
                           decoded.options());
        weight_sum = torch::zeros({1, 1, h * scale, w * scale}, decoded.options());
      }
      const auto wx = window_blend_weights(xs, ix, scale).to(features.device());
      auto weight = (wy.unsqueeze(1) * wx.unsqueeze(0)).unsqueeze(0).unsqueeze(0);
      auto rows = torch::indexing::Slice(y.start * scale, (y.start + y.length) * scale);
      auto cols = torch::indexing::Slice(x.start * scale, (x.start + x.length) * scale);
      using torch::indexing::Ellipsis;
      sum.index({Ellipsis, rows, cols}).add_(decoded * weight);
      weight_sum.index({Ellipsis, rows, cols}).add_(weight);
      report(++tile);
    }
  }
  image = sum / weight_sum;
  return Status::Ok;
}

}  // namespace terrasynth::engine::nn
