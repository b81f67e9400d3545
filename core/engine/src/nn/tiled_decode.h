#pragma once
// Seamless tiled decoding of large latents: overlapping windows blended with smooth weights.
// Decoders are split in a latent-resolution head, run once on the whole latent (cheap; keeps the
// VAE's mid-block attention global), and an upsampling tail run per window. GroupNorm layers in
// the tail normalise with statistics shared by all windows: first estimated by one pass over a
// downsampled copy of the head output, or measured by a first pass over all windows.
#include <torch/torch.h>

#include <vector>

#include "terrasynth/engine/progress.h"

namespace terrasynth::engine::nn {

class TileableDecoder {
 public:
  virtual ~TileableDecoder() = default;
  // Latent-resolution part; its output keeps the latent's height and width.
  virtual torch::Tensor decode_head(const torch::Tensor& latents) = 0;
  // The rest, from head features to pixels.
  virtual torch::Tensor decode_tail(const torch::Tensor& features) = 0;
  // Output pixels per latent pixel.
  virtual int64_t decoder_upscale() const = 0;
  // The module holding the decoder's GroupNorm layers.
  virtual torch::nn::Module& decoder_module() = 0;
};

// How GroupNorm layers that run per window get their statistics.
enum class WindowNormStats {
  PerWindow,    // each window its own (windows disagree: visible seams)
  Downsampled,  // one pass over the head output downsampled to one window, matched per channel
                // to the full output's mean and deviation
  TwoPass,      // a first pass measures each window's own statistics over the part it owns;
                // their combination normalises every window in the second pass
};

struct TiledDecodeOptions {
  int64_t window = 64;      // latent pixels per window side
  int64_t overlap = 16;     // latent pixels shared by neighbouring windows
  bool global_head = true;  // run the head on the whole latent (else once per window)
  WindowNormStats norm_stats = WindowNormStats::TwoPass;
};

// One window along an axis, in latent pixels. Windows overlap; their cores partition the axis at
// the middle of each overlap.
struct WindowSpan {
  int64_t start = 0;
  int64_t length = 0;
  int64_t core_start = 0;
  int64_t core_end = 0;
};

// Windows of at most `window` covering [0, length) with at least `overlap` shared between
// neighbours, spread evenly (the first starts at 0, the last ends at `length`).
std::vector<WindowSpan> window_spans(int64_t length, int64_t window, int64_t overlap);

// Blend weights [length * upscale] of window `index`: 1 inside, a smoothstep ramp across each
// overlap with a neighbour, so the weights of neighbours sum to 1.
torch::Tensor window_blend_weights(const std::vector<WindowSpan>& spans, size_t index,
                                   int64_t upscale);

// Decodes `latents` [B, C, h, w] into `image` [B, C_out, h * upscale, w * upscale] (float32).
// A latent that fits in one window is decoded in one call, exactly as decoder.decode_tail(
// decoder.decode_head(latents)). Returns Status::Cancelled (image left undefined) when `cancel`
// fires; progress reports phase "decode" with one step per pass and one tile per window.
Status decode_tiled(TileableDecoder& decoder, const torch::Tensor& latents,
                    const TiledDecodeOptions& options, torch::Tensor& image,
                    const ProgressCallback& progress = {}, const CancelToken* cancel = nullptr);

}  // namespace terrasynth::engine::nn
