#include "terrasynth/engine/model.h"

#include <filesystem>

#include "runtime/conditioning.h"
#include "runtime/generation.h"
#include "runtime/manifest.h"
#include "runtime/network.h"
#include "sched/schedule.h"
#include "terrasynth/engine/error.h"

namespace fs = std::filesystem;

namespace terrasynth::engine {

struct Model::Impl {
  Manifest manifest;
  std::unique_ptr<DenoiserNetwork> network;
  std::unique_ptr<DenoiserNetwork> refiner;
  std::unique_ptr<DetailDecoder> detail;
  std::unique_ptr<sched::NoiseSchedule> schedule;
  torch::Device device{torch::kCPU};
  torch::ScalarType dtype = torch::kFloat32;
  DeviceOptions options;
};

Model::Model(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Model::~Model() = default;

std::shared_ptr<Model> Model::load(const std::string& dir, const DeviceOptions& device) {
  auto impl = std::make_unique<Impl>();
  impl->manifest = read_manifest(dir);
  impl->options = device;
  const bool cuda = device.device == DeviceKind::Cuda || (device.device == DeviceKind::Auto && cuda_available());
  if (device.device == DeviceKind::Cuda && !cuda_available())
    throw EngineError(EngineError::Kind::Unsupported,
                      "CUDA was requested but this build or machine has no CUDA device (use --device cpu)");
  if (cuda) {
    impl->device = torch::Device(torch::kCUDA);
    impl->dtype = device.precision == Precision::Float32    ? torch::kFloat32
                  : device.precision == Precision::BFloat16 ? torch::kBFloat16
                                                            : torch::kFloat16;
  } else {
    if (device.precision == Precision::Float16 || device.precision == Precision::BFloat16)
      throw EngineError(EngineError::Kind::Unsupported, "half precision is only supported on CUDA");
    configure_cpu_threads(device.threads);
  }
  const fs::path unet_dir = fs::path(dir) / impl->manifest.unet_folder;
  impl->network = DenoiserNetwork::load(unet_dir.string());
  const int expected = denoiser_input_channels(impl->manifest);
  if (impl->network->in_channels() != expected)
    throw EngineError(EngineError::Kind::ModelFormat,
                      unet_dir.string() + ": the UNet takes " + std::to_string(impl->network->in_channels()) +
                          " input channels but model.json's conditioning needs " + std::to_string(expected));
  if (impl->network->out_channels() != impl->manifest.conditioning.latent_channels)
    throw EngineError(EngineError::Kind::ModelFormat,
                      unet_dir.string() + ": the UNet outputs " + std::to_string(impl->network->out_channels()) +
                          " channels but the latent has " + std::to_string(impl->manifest.conditioning.latent_channels));
  impl->network->module().to(impl->device, impl->dtype);
  impl->network->module().eval();
  if (!impl->manifest.refiner_folder.empty()) {
    const fs::path refiner_dir = fs::path(dir) / impl->manifest.refiner_folder;
    impl->refiner = DenoiserNetwork::load(refiner_dir.string());
    const int layout_channels =
        impl->manifest.refiner_layout ? static_cast<int>(impl->manifest.info.classes.size()) : 0;
    if (impl->refiner->in_channels() != 3 + layout_channels || impl->refiner->out_channels() != 3)
      throw EngineError(EngineError::Kind::ModelFormat,
                        refiner_dir.string() + ": a refiner takes " + std::to_string(3 + layout_channels) +
                            (layout_channels > 0 ? " (RGB and one per class of the layout)" : " (RGB)") +
                            " channels and returns 3, this one takes " +
                            std::to_string(impl->refiner->in_channels()) + " and returns " +
                            std::to_string(impl->refiner->out_channels()));
    const int class_dim = class_vector_size(impl->manifest);
    const int refiner_class_dim = impl->refiner->config().value("projection_class_embeddings_input_dim", 0);
    if (refiner_class_dim != 0 && refiner_class_dim != class_dim)
      throw EngineError(EngineError::Kind::ModelFormat,
                        refiner_dir.string() + ": the refiner's class embedding takes " +
                            std::to_string(refiner_class_dim) + " values but model.json's class vector has " +
                            std::to_string(class_dim));
    const int64_t window_multiple =
        int64_t{impl->manifest.conditioning.latent_factor} * impl->network->spatial_multiple();
    if (window_multiple % impl->refiner->spatial_multiple() != 0)
      throw EngineError(EngineError::Kind::ModelFormat,
                        refiner_dir.string() + ": the refiner needs windows in multiples of " +
                            std::to_string(impl->refiner->spatial_multiple()) + " px, which " +
                            std::to_string(window_multiple) + " px windows are not");
    impl->refiner->module().to(impl->device, impl->dtype);
    impl->refiner->module().eval();
  }
  if (!impl->manifest.detail_folder.empty()) {
    const fs::path detail_dir = fs::path(dir) / impl->manifest.detail_folder;
    const DetailDecoderConfig config = DetailDecoder::read_config(detail_dir.string());
    const auto& info = impl->manifest.info;
    if (config.num_classes != static_cast<int>(info.classes.size()))
      throw EngineError(EngineError::Kind::ModelFormat,
                        detail_dir.string() + ": the detail decoder takes " + std::to_string(config.num_classes) +
                            " layout classes but model.json has " + std::to_string(info.classes.size()));
    if (config.num_styles != 0 && config.num_styles != static_cast<int>(info.styles.size()))
      throw EngineError(EngineError::Kind::ModelFormat,
                        detail_dir.string() + ": the detail decoder knows " + std::to_string(config.num_styles) +
                            " styles but model.json has " + std::to_string(info.styles.size()));
    impl->detail = DetailDecoder::load(detail_dir.string());
    impl->detail->to(impl->device, impl->dtype);
    impl->manifest.info.detail_factor = config.factor;
  }
  impl->schedule = std::make_unique<sched::NoiseSchedule>(
      sched::ScheduleConfig::load((fs::path(dir) / impl->manifest.scheduler_folder).string()));
  return std::shared_ptr<Model>(new Model(std::move(impl)));
}

const ModelInfo& Model::info() const { return impl_->manifest.info; }

std::string Model::device_description() const {
  DeviceOptions options = impl_->options;
  options.device = impl_->device.is_cuda() ? DeviceKind::Cuda : DeviceKind::Cpu;
  return describe_device(options);
}

GenerateResult Model::generate(const GenerateRequest& request, const ProgressCallback& progress,
                               const CancelToken* cancel) const {
  GenerationContext context;
  context.network = impl_->network.get();
  context.refiner = impl_->refiner.get();
  context.detail = impl_->detail.get();
  context.manifest = &impl_->manifest;
  context.schedule = impl_->schedule.get();
  context.device = impl_->device;
  context.dtype = impl_->dtype;
  return run_generation(context, request, progress, cancel);
}

}  // namespace terrasynth::engine
