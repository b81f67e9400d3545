#pragma once
// Generating a canvas of any size in chunks with bounded memory.
//
// The canvas is cut into a grid of chunks generated in raster order. Each chunk's canvas is its
// own area plus a margin of `margin` pixels over its finished neighbours on the left and above;
// the margin goes to the engine as known pixels with a mask that is 0 (keep) far from the chunk
// and ramps up to 1 (regenerate) over the `feather` pixels next to it, so the new pixels continue
// the finished ones and the seam is blended away. Only one chunk row (plus the margin rows of the
// row above, which the next chunks still blend into) is held in memory; finished rows go to a
// sink in order, so outputs far larger than memory stream to disk.
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "terrasynth/engine/model.h"
#include "terrasynth/geo/grid.h"

namespace terrasynth::pipeline::detail {

struct ChunkLayout {
  int width = 0;  // canvas size
  int height = 0;
  std::vector<int> xs;  // chunk column starts, then `width`
  std::vector<int> ys;  // chunk row starts, then `height`
  int margin = 0;       // pixels each chunk sees of its finished left and upper neighbours
  int feather = 0;      // pixels of the margin blended with the new chunk (<= margin)

  int columns() const { return static_cast<int>(xs.size()) - 1; }
  int rows() const { return static_cast<int>(ys.size()) - 1; }
  int count() const { return columns() * rows(); }
  geo::Window area(int column, int row) const;    // the chunk's own pixels
  geo::Window canvas(int column, int row) const;  // own pixels plus the margins
};

// Chunks of at most about `chunk` pixels a side, sizes balanced and rounded up to `multiple`,
// at least the margin (the last row and column may be smaller: nothing continues them).
ChunkLayout make_chunk_layout(int width, int height, int chunk, int margin, int feather,
                              int multiple);

// The mask value of a margin pixel at distance `distance` (1 = next to the chunk) from the
// chunk's own area: 1 - distance / (feather + 1) inside the feather, 0 beyond.
float margin_ramp(int distance, int feather);

// What the canvas is conditioned on, asked for per window of the canvas.
class ChunkSource {
 public:
  virtual ~ChunkSource() = default;
  // Model class ids of the window (window.height x window.width); empty = no layout.
  virtual engine::ClassMap layout(const geo::Window& window) = 0;
  // Inpainting: known pixels (3 x h x w in [0, 1]) and mask (1 = regenerate) of the window.
  // false = plain generation (nothing known).
  virtual bool known(const geo::Window& window, engine::Image& known, engine::Mask& mask) = 0;
  // Whether a chunk is generated at all: chunks wholly outside a region or a mask are not (their
  // pixels are the known pixels, or 0 without any).
  virtual bool wanted(const geo::Window& area) = 0;
};

// Finished rows [y, y + count) of the canvas, `count * width * 3` bytes of interleaved RGB.
using RowSink = std::function<void(int y, int count, const uint8_t* rgb)>;

struct ChunkRun {
  const engine::Model* model = nullptr;
  engine::GenerateRequest request;  // style, scene, gsd, sampler and tiling; the rest per chunk
  int64_t origin_x = 0;             // the canvas's place in the global pixel frame (noise)
  int64_t origin_y = 0;
  std::function<void(double fraction, const std::string& label)> progress;
  const std::atomic<bool>* cancel = nullptr;
  // A small preview of the canvas (RGB, at most preview_size a side), after every chunk.
  std::function<void(int width, int height, const std::vector<uint8_t>& rgb)> preview;
  int preview_size = 256;
  // Called on each chunk's result before it is written (the request holds the chunk's layout,
  // known pixels and mask); false = cancelled.
  std::function<bool(const engine::GenerateRequest& request, engine::Image& image)> finish;
};

struct ChunkStats {
  engine::Status status = engine::Status::Ok;
  int generated = 0;  // chunks generated
  int skipped = 0;    // chunks not wanted
  int peak_rows = 0;  // canvas rows held in memory at once
  double seconds = 0;
};

ChunkStats run_chunks(const ChunkRun& run, const ChunkLayout& layout, ChunkSource& source,
                      const RowSink& sink);

// Windows the engine evaluates per denoising step for a canvas of this size (fused tiling
// geometry), for time estimates.
int64_t windows_per_step(int width, int height, int window, int overlap);

}  // namespace terrasynth::pipeline::detail
