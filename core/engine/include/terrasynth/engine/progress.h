#pragma once
// Progress reporting and cooperative cancellation for every long engine operation.
// Cancellation is a result (Status::Cancelled), never an error.
#include <atomic>
#include <functional>
#include <string>

namespace terrasynth::engine {

struct ProgressEvent {
  std::string phase;    // "load", "encode", "denoise", "decode", "train", ...
  int step = 0;         // 1-based step within the phase
  int total_steps = 0;  // 0 when unknown
  int tile = 0;         // 1-based window index within the step, 0 when not tiled
  int total_tiles = 0;
  double fraction = 0;  // overall progress of the whole operation in [0, 1]
  std::string message;  // optional human-readable detail
};

using ProgressCallback = std::function<void(const ProgressEvent&)>;

// A lock-free flag shared between the caller (any thread, a signal handler too) and a running
// operation, which checks it at every step and every tile.
class CancelToken {
 public:
  void cancel() noexcept { flag_.store(true, std::memory_order_relaxed); }
  bool cancelled() const noexcept { return flag_.load(std::memory_order_relaxed); }
  void reset() noexcept { flag_.store(false, std::memory_order_relaxed); }

 private:
  std::atomic<bool> flag_{false};
};

enum class Status { Ok, Cancelled };

}  // namespace terrasynth::engine
