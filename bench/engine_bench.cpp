// Engine micro-benchmarks (Google Benchmark): the default network's forward pass and one
// guided sampler step at the sizes a generation uses, on CPU and, when present, CUDA.
// Weights are random (speed does not depend on their values); the architecture is the shipped
// model's, read from configs/terrasynth-base.json.
//   terrasynth_engine_bench [--benchmark_filter=...] [--benchmark_format=json]
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>

#include "nn/unet.h"

namespace {

using terrasynth::engine::nn::UNet2DConditionModel;

nlohmann::json unet_config() {
  std::ifstream file(TERRASYNTH_BENCH_CONFIG);
  return nlohmann::json::parse(file).at("unet");
}

struct Setup {
  UNet2DConditionModel unet{nullptr};
  torch::Device device{torch::kCPU};
  int64_t in_channels = 0;
  int64_t class_dim = 0;
};

bool make_setup(benchmark::State& state, bool cuda, Setup& setup) {
  if (cuda && !torch::cuda::is_available()) {
    state.SkipWithError("no CUDA device");
    return false;
  }
  torch::manual_seed(0);
  const nlohmann::json config = unet_config();
  setup.unet = UNet2DConditionModel(config);
  setup.unet->eval();
  setup.device = cuda ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
  setup.unet->to(setup.device, cuda ? torch::kHalf : torch::kFloat);
  setup.in_channels = config.at("in_channels").get<int64_t>();
  setup.class_dim = config.value("projection_class_embeddings_input_dim", 0);
  return true;
}

// One network evaluation on a batch of `batch` latents of a `pixels`-wide image (latent = /4).
void unet_forward(benchmark::State& state, bool cuda) {
  Setup setup;
  if (!make_setup(state, cuda, setup)) return;
  torch::NoGradGuard no_grad;
  const int64_t pixels = state.range(0);
  const int64_t batch = state.range(1);
  const auto dtype = cuda ? torch::kHalf : torch::kFloat;
  const auto options = torch::TensorOptions().device(setup.device).dtype(dtype);
  const torch::Tensor x = torch::randn({batch, setup.in_channels, pixels / 4, pixels / 4}, options);
  const torch::Tensor t = torch::full({batch}, 500, torch::TensorOptions().device(setup.device));
  torch::Tensor classes;
  if (setup.class_dim > 0) classes = torch::zeros({batch, setup.class_dim}, options);
  setup.unet->forward(x, t, {}, classes);  // warm-up
  for (auto _ : state) {
    torch::Tensor out = setup.unet->forward(x, t, {}, classes);
    if (cuda) torch::cuda::synchronize();
    benchmark::DoNotOptimize(out.data_ptr());
  }
  state.counters["megapixels_per_second"] = benchmark::Counter(
      static_cast<double>(pixels * pixels * batch) / 1e6, benchmark::Counter::kIsIterationInvariantRate);
}

void BM_UNetForwardCpu(benchmark::State& state) { unet_forward(state, false); }
void BM_UNetForwardCuda(benchmark::State& state) { unet_forward(state, true); }

// Batch 2 = one classifier-free-guided step (conditional and unconditional in one call).
BENCHMARK(BM_UNetForwardCpu)->Args({256, 1})->Args({512, 1})->Args({512, 2})
    ->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_UNetForwardCuda)->Args({512, 2})->Args({1024, 2})->Args({512, 8})
    ->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

// Like BENCHMARK_MAIN(), with the CPU thread count of the command line's default (all cores, or
// OMP_NUM_THREADS when set): libtorch alone would use the physical cores only.
int main(int argc, char** argv) {
  if (std::getenv("OMP_NUM_THREADS") == nullptr)
    at::set_num_threads(static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  benchmark::AddCustomContext("torch_threads", std::to_string(at::get_num_threads()));
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
