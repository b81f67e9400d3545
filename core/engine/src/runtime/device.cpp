#include "terrasynth/engine/device.h"

#include <torch/torch.h>

#include <algorithm>
#include <cstdlib>
#include <thread>

#include "terrasynth/engine/error.h"

namespace terrasynth::engine {

bool cuda_available() { return torch::cuda::is_available(); }

int configure_cpu_threads(int threads) {
  if (threads <= 0) {
    if (const char* env = std::getenv("OMP_NUM_THREADS")) threads = std::atoi(env);
  }
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  // libtorch defaults to one intra-op thread on some builds: set it explicitly.
  at::set_num_threads(threads);
  return at::get_num_threads();
}

DeviceKind parse_device_kind(const std::string& name) {
  if (name == "auto" || name.empty()) return DeviceKind::Auto;
  if (name == "cpu") return DeviceKind::Cpu;
  if (name == "cuda" || name == "gpu") return DeviceKind::Cuda;
  throw EngineError(EngineError::Kind::InvalidArgument,
                    "unknown device '" + name + "' (valid: auto, cpu, cuda)");
}

std::string to_string(DeviceKind kind) {
  switch (kind) {
    case DeviceKind::Auto: return "auto";
    case DeviceKind::Cpu: return "cpu";
    case DeviceKind::Cuda: return "cuda";
  }
  return "auto";
}

std::string describe_device(const DeviceOptions& options) {
  const bool use_cuda = options.device == DeviceKind::Cuda ||
                        (options.device == DeviceKind::Auto && cuda_available());
  if (use_cuda) {
    if (!cuda_available())
      return "GPU requested, but this build or machine has no CUDA device";
    return "GPU: CUDA device 0";
  }
  int threads = options.threads;
  if (threads <= 0) threads = at::get_num_threads();
  return "CPU, " + std::to_string(threads) + (threads == 1 ? " thread" : " threads");
}

}  // namespace terrasynth::engine
