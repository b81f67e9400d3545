#include "chunk_runner.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>

#include "terrasynth/engine/error.h"
#include "terrasynth/engine/progress.h"

namespace terrasynth::pipeline::detail {

namespace {

int round_up(int value, int multiple) {
  return multiple > 1 ? (value + multiple - 1) / multiple * multiple : value;
}

// Balanced starts of `count` pieces covering `length`, each a multiple of `multiple` (the last
// takes the rest).
std::vector<int> starts(int length, int chunk, int multiple) {
  const int count = std::max(1, (length + chunk - 1) / chunk);
  const int size = std::min(length, round_up((length + count - 1) / count, multiple));
  std::vector<int> result;
  for (int start = 0; start < length; start += size) result.push_back(start);
  result.push_back(length);
  return result;
}

// Index of the piece of `bounds` (starts, then the end) holding `position`.
int piece_of(const std::vector<int>& bounds, int position) {
  auto it = std::upper_bound(bounds.begin(), bounds.end(), position);
  return static_cast<int>(it - bounds.begin()) - 1;
}

uint8_t to_byte(float value) {
  const float scaled = std::clamp(value, 0.f, 1.f) * 255.f;
  return static_cast<uint8_t>(std::lround(scaled));
}

int spans(int length, int window, int overlap) {
  if (length <= window) return 1;
  const int stride = std::max(1, window - overlap);
  return (length - window + stride - 1) / stride + 1;
}

}  // namespace

geo::Window ChunkLayout::area(int column, int row) const {
  return {xs[column], ys[row], xs[column + 1] - xs[column], ys[row + 1] - ys[row]};
}

geo::Window ChunkLayout::canvas(int column, int row) const {
  const int left = column > 0 ? std::min(margin, xs[column]) : 0;
  const int top = row > 0 ? std::min(margin, ys[row]) : 0;
  return {xs[column] - left, ys[row] - top, xs[column + 1] - xs[column] + left,
          ys[row + 1] - ys[row] + top};
}

ChunkLayout make_chunk_layout(int width, int height, int chunk, int margin, int feather,
                              int multiple) {
  if (width <= 0 || height <= 0)
    throw engine::EngineError(engine::EngineError::Kind::InvalidArgument,
                              "canvas size must be positive, got " + std::to_string(width) + "x" +
                                  std::to_string(height));
  ChunkLayout layout;
  layout.width = width;
  layout.height = height;
  layout.margin = std::max(0, margin);
  layout.feather = std::clamp(feather, 0, layout.margin);
  const int side = std::max(round_up(std::max(chunk, 2 * layout.margin), multiple), multiple);
  layout.xs = starts(width, side, multiple);
  layout.ys = starts(height, side, multiple);
  return layout;
}

float margin_ramp(int distance, int feather) {
  if (distance <= 0) return 1.f;
  if (distance > feather) return 0.f;
  return 1.f - static_cast<float>(distance) / static_cast<float>(feather + 1);
}

int64_t windows_per_step(int width, int height, int window, int overlap) {
  return static_cast<int64_t>(spans(width, window, overlap)) * spans(height, window, overlap);
}

ChunkStats run_chunks(const ChunkRun& run, const ChunkLayout& layout, ChunkSource& source,
                      const RowSink& sink) {
  const auto started = std::chrono::steady_clock::now();
  ChunkStats stats;
  const int width = layout.width;
  const int columns = layout.columns(), rows = layout.rows();
  const int total = layout.count();
  auto is_cancelled = [&] { return run.cancel && run.cancel->load(std::memory_order_relaxed); };

  // Rows [buffer_y, buffer_y + buffer_rows) of the canvas, RGB.
  int buffer_y = 0;
  std::vector<uint8_t> buffer;
  // finished[row % 2][column]: the chunk's pixels are final content (generated, or known).
  std::vector<std::vector<char>> finished(2, std::vector<char>(columns, 0));

  // Preview: nearest sampling of the canvas into at most preview_size a side.
  const double preview_scale =
      std::min(1.0, static_cast<double>(run.preview_size) / std::max(width, layout.height));
  const int preview_w = std::max(1, static_cast<int>(std::lround(width * preview_scale)));
  const int preview_h = std::max(1, static_cast<int>(std::lround(layout.height * preview_scale)));
  std::vector<uint8_t> preview;
  if (run.preview) preview.assign(static_cast<size_t>(preview_w) * preview_h * 3, 0);

  engine::CancelToken token;
  for (int row = 0; row < rows; ++row) {
    // The buffer keeps the margin rows of the row above; extend it down to this row's end.
    const int row_end = layout.ys[row + 1];
    buffer.resize(static_cast<size_t>(row_end - buffer_y) * width * 3, 0);
    stats.peak_rows = std::max(stats.peak_rows, row_end - buffer_y);
    auto pixel = [&](int x, int y) {
      return buffer.data() + (static_cast<size_t>(y - buffer_y) * width + x) * 3;
    };
    std::vector<char>& above = finished[(row + 1) % 2];
    std::vector<char>& current = finished[row % 2];
    std::fill(current.begin(), current.end(), 0);

    for (int column = 0; column < columns; ++column) {
      const int index = row * columns + column;
      if (is_cancelled()) {
        stats.status = engine::Status::Cancelled;
        return stats;
      }
      const geo::Window area = layout.area(column, row);
      const geo::Window canvas = layout.canvas(column, row);
      const std::string label = "chunk " + std::to_string(index + 1) + "/" + std::to_string(total);
      if (run.progress) run.progress(static_cast<double>(index) / total, label);

      engine::Image known;
      engine::Mask mask;
      const bool has_known = source.known(canvas, known, mask);
      if (!source.wanted(area)) {
        // Not generated: its pixels are the known ones (inpainting) or stay 0.
        for (int y = area.y; y < area.y + area.height; ++y)
          for (int x = area.x; x < area.x + area.width; ++x) {
            uint8_t* out = pixel(x, y);
            for (int c = 0; c < 3; ++c)
              out[c] = has_known ? to_byte(known.at(c, y - canvas.y, x - canvas.x)) : 0;
          }
        current[column] = has_known ? 1 : 0;
        ++stats.skipped;
        continue;
      }

      // Margins: finished pixels become known, blended over the feather next to the chunk.
      if (!has_known) {
        known = engine::Image(3, canvas.height, canvas.width, 0.f);
        mask = engine::Mask(canvas.height, canvas.width, 1.f);
      }
      bool any_known = has_known;
      // Pixels the result may replace: the own area and the margins over finished chunks.
      std::vector<char> writable(static_cast<size_t>(canvas.pixels()), 1);
      for (int y = canvas.y; y < canvas.y + canvas.height; ++y) {
        const int dy = area.y - y;  // > 0 in the top margin
        for (int x = canvas.x; x < canvas.x + canvas.width; ++x) {
          const int dx = area.x - x;
          if (dx <= 0 && dy <= 0) continue;  // own area
          const int source_column = piece_of(layout.xs, x);
          const bool done = dy > 0 ? above[source_column] != 0
                                   : (source_column < column && current[source_column] != 0);
          const int cy = y - canvas.y, cx = x - canvas.x;
          if (!done) {
            // Nothing finished there: context for the model at most, never written back.
            writable[static_cast<size_t>(cy) * canvas.width + cx] = 0;
            continue;
          }
          const uint8_t* value = pixel(x, y);
          for (int c = 0; c < 3; ++c) known.at(c, cy, cx) = value[c] / 255.f;
          const float ramp = std::min(margin_ramp(dx, layout.feather), margin_ramp(dy, layout.feather));
          mask.at(cy, cx) = has_known ? mask.at(cy, cx) * ramp : ramp;
          any_known = true;
        }
      }

      engine::GenerateRequest request = run.request;
      request.origin_x = run.origin_x + canvas.x;
      request.origin_y = run.origin_y + canvas.y;
      request.width = canvas.width;
      request.height = canvas.height;
      request.layout = source.layout(canvas);
      if (any_known) {
        request.known = std::move(known);
        request.mask = std::move(mask);
      }
      auto progress = [&](const engine::ProgressEvent& event) {
        if (is_cancelled()) token.cancel();
        if (!run.progress) return;
        std::string detail = label;
        if (event.phase == "denoise" && event.total_steps > 0)
          detail += ": step " + std::to_string(event.step) + "/" + std::to_string(event.total_steps);
        run.progress((index + std::clamp(event.fraction, 0.0, 1.0)) / total, detail);
      };
      engine::GenerateResult result = run.model->generate(request, progress, &token);
      const bool generated = result.status != engine::Status::Cancelled && !is_cancelled();
      if (generated && run.finish && run.progress) run.progress((index + 0.99) / total, label + ": texture step");
      if (!generated || (run.finish && !run.finish(request, result.image))) {
        stats.status = engine::Status::Cancelled;
        return stats;
      }
      for (int y = 0; y < canvas.height; ++y)
        for (int x = 0; x < canvas.width; ++x) {
          if (!writable[static_cast<size_t>(y) * canvas.width + x]) continue;
          uint8_t* out = pixel(canvas.x + x, canvas.y + y);
          for (int c = 0; c < 3; ++c) out[c] = to_byte(result.image.at(c, y, x));
        }
      current[column] = 1;
      ++stats.generated;

      if (run.preview) {
        for (int py = 0; py < preview_h; ++py) {
          const int y = std::min(layout.height - 1, static_cast<int>((py + 0.5) / preview_scale));
          if (y < canvas.y || y >= canvas.y + canvas.height) continue;
          for (int px = 0; px < preview_w; ++px) {
            const int x = std::min(width - 1, static_cast<int>((px + 0.5) / preview_scale));
            if (x < canvas.x || x >= canvas.x + canvas.width) continue;
            std::memcpy(&preview[(static_cast<size_t>(py) * preview_w + px) * 3], pixel(x, y), 3);
          }
        }
        run.preview(preview_w, preview_h, preview);
      }
    }

    // Rows the next chunk row will not blend into are final.
    const bool last = row + 1 == rows;
    const int keep_from = last ? row_end : std::max(buffer_y, row_end - layout.margin);
    if (keep_from > buffer_y) sink(buffer_y, keep_from - buffer_y, buffer.data());
    const size_t kept = static_cast<size_t>(row_end - keep_from) * width * 3;
    std::memmove(buffer.data(), buffer.data() + buffer.size() - kept, kept);
    buffer.resize(kept);
    buffer_y = keep_from;
  }
  if (run.progress) run.progress(1.0, "chunks done");
  stats.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return stats;
}

}  // namespace terrasynth::pipeline::detail
