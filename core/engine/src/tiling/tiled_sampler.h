#pragma once
// Seamless sampling of a canvas of any size with a network that sees one window at a time: turns
// a WINDOW model callback into the CANVAS model callback the samplers call.
//   Fused   (MultiDiffusion, Bar-Tal et al. 2023): every call evaluates all windows of the fixed
//           overlapping grid and blends their raw outputs with the geometry's weights. The samplers
//           are linear in the model output, so this equals fusing the per-window latents.
//   Shifted: windows with a small overlap on a grid shifted at every call (geometry.h), so seams
//           never stay in place; at most (W / (W - O))^2 times the untiled compute.
// The window callback receives crops [k * B, C, h, w] of the canvas input (windows outer, canvas
// batch inner) with ModelCall::regions giving each crop's place on the canvas, so it can crop its
// conditioning (layout, class map, known image) to match; ModelCall::branches is carried over.
// Windows of equal size are batched `batch` at a time.
#include "sched/sampler.h"
#include "terrasynth/engine/model.h"
#include "terrasynth/engine/progress.h"
#include "tiling/geometry.h"

namespace terrasynth::engine::tiling {

struct TiledOptions {
  TilingMode mode = TilingMode::Fused;
  int64_t window = 64;           // window side in latent pixels
  int64_t overlap = 16;          // fused-mode overlap
  int64_t shifted_overlap = 0;   // shifted-mode overlap; 0 = auto_shifted_overlap(window, multiple)
  int64_t multiple = 1;          // the network's size multiple (shifted-mode cell boundaries)
  int batch = 1;                 // windows per network call
  // Per window batch: phase "denoise", step (1-based), total_steps, tile = windows done so far in
  // this call, total_tiles, fraction of the whole run (passes of repeated steps included).
  ProgressCallback progress;
  const CancelToken* cancel = nullptr;  // checked before every window batch
};

// The window geometry a canvas call uses (for inspection and tests).
TileLayout layout_for_call(const TiledOptions& options, int64_t width, int64_t height,
                           const sched::ModelCall& call);

// Returns a canvas ModelFn; it returns an undefined tensor (cancel) as soon as the token is set or
// the window callback returns one.
sched::ModelFn tiled_model(sched::ModelFn window_model, TiledOptions options);

}  // namespace terrasynth::engine::tiling
