#pragma once
// Progress and cancellation of geo's long calls (rasterising, writing, overviews, warping).
// Cancellation is a result (Status::Cancelled), never an error; a cancelled write leaves no file.
#include <atomic>
#include <functional>
#include <string>

namespace terrasynth::geo {

struct Control {
  // fraction in [0, 1] of the whole call, and a short label of the current stage.
  std::function<void(double fraction, const std::string& label)> progress;
  // Set from any thread (or a signal handler) to stop at the next block.
  const std::atomic<bool>* cancel = nullptr;

  bool cancelled() const { return cancel != nullptr && cancel->load(std::memory_order_relaxed); }
  void report(double fraction, const std::string& label) const {
    if (progress) progress(fraction, label);
  }
  // A control reporting into [begin, end] of this one (for a stage of a longer call).
  Control stage(double begin, double end) const {
    Control sub;
    sub.cancel = cancel;
    if (progress) {
      auto parent = progress;
      sub.progress = [parent, begin, end](double fraction, const std::string& label) {
        parent(begin + (end - begin) * fraction, label);
      };
    }
    return sub;
  }
};

enum class Status { Ok, Cancelled };

}  // namespace terrasynth::geo
