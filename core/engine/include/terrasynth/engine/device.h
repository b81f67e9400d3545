#pragma once
// Compute device and precision, described without torch types.
#include <string>

namespace terrasynth::engine {

enum class DeviceKind { Auto, Cpu, Cuda };
enum class Precision { Auto, Float32, Float16, BFloat16 };  // Auto: f32 on CPU, f16 on CUDA

struct DeviceOptions {
  DeviceKind device = DeviceKind::Auto;
  Precision precision = Precision::Auto;
  int threads = 0;  // CPU intra-op threads; 0 = all cores (or OMP_NUM_THREADS when set)
};

bool cuda_available();
// "GPU: NVIDIA H100 80GB HBM3" or "CPU, 2 threads".
std::string describe_device(const DeviceOptions& options);
// Applies the thread count to the process-wide CPU thread pool; returns the count in effect.
int configure_cpu_threads(int threads);

DeviceKind parse_device_kind(const std::string& name);  // "auto" | "cpu" | "cuda"
std::string to_string(DeviceKind kind);

}  // namespace terrasynth::engine
