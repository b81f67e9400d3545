#include "pipeline_bridge.h"

#include <QCoreApplication>
#include <stdexcept>

#include "terrasynth/engine/device.h"
#include "terrasynth/pipeline/models.h"

namespace terrasynth::plugin {

namespace {

engine::DeviceOptions deviceOptions(const QString& device, int threads) {
  engine::DeviceOptions options;
  try {
    options.device = engine::parse_device_kind(device.isEmpty() ? "auto" : device.toStdString());
  } catch (const std::exception&) {
    options.device = engine::DeviceKind::Auto;
  }
  options.threads = threads;
  return options;
}

#if !TERRASYNTH_PLUGIN_HAVE_PIPELINE
[[noreturn]] void noPipeline() {
  throw std::runtime_error(
      QCoreApplication::translate("Terrasynth",
                                  "This build of the Terrasynth plugin has no generation pipeline: "
                                  "rebuild it with core/pipeline complete.")
          .toStdString());
}
#endif

}  // namespace

bool pipelineAvailable() { return TERRASYNTH_PLUGIN_HAVE_PIPELINE != 0; }

QString describeDevice(const QString& device, int threads) {
  try {
    return QString::fromStdString(engine::describe_device(deviceOptions(device, threads)));
  } catch (const std::exception& error) {
    return QString::fromStdString(error.what());
  }
}

bool deviceIsCpu(const QString& device) {
  const engine::DeviceOptions options = deviceOptions(device, 0);
  if (options.device == engine::DeviceKind::Cpu) return true;
  if (options.device == engine::DeviceKind::Cuda) return false;
  return !engine::cuda_available();
}

#if TERRASYNTH_PLUGIN_HAVE_PIPELINE

void addModelFolders(const QStringList& folders) {
  for (const QString& folder : folders) {
    if (!folder.trimmed().isEmpty()) pipeline::add_model_folder(folder.trimmed().toStdString());
  }
}

std::vector<engine::ModelInfo> listModels() {
  try {
    return pipeline::list_models();
  } catch (const std::exception&) {
    return {};
  }
}

engine::ModelInfo findModel(const QString& nameOrDir) {
  const std::string name =
      nameOrDir.isEmpty() ? std::string(pipeline::kDefaultModelName) : nameOrDir.toStdString();
  return engine::read_model_info(pipeline::resolve_model(name));
}

pipeline::JobPlan planGenerate(const pipeline::GenerateJob& job) {
  return pipeline::plan_generate(job);
}
pipeline::JobResult runGenerate(const pipeline::GenerateJob& job,
                                const pipeline::JobControl& control) {
  return pipeline::run_generate(job, control);
}
pipeline::JobPlan planInpaint(const pipeline::InpaintJob& job) {
  return pipeline::plan_inpaint(job);
}
pipeline::JobResult runInpaint(const pipeline::InpaintJob& job,
                               const pipeline::JobControl& control) {
  return pipeline::run_inpaint(job, control);
}

double secondsPerPixel(const engine::ModelInfo& model, const QString& device, int threads) {
  // A 1 km square in a UTM zone: the planner's estimate does not depend on where it is.
  pipeline::GenerateJob job;
  job.extent = std::array<double, 4>{500000.0, 5000000.0, 501000.0, 5001000.0};
  job.crs = "EPSG:32631";
  job.gsd = model.native_gsd > 0 ? model.native_gsd : 0.5;
  job.model = model.dir.empty() ? model.name : model.dir;
  job.device.device = device.isEmpty() ? "auto" : device.toStdString();
  job.device.threads = threads;
  job.force = true;
  try {
    const pipeline::JobPlan plan = pipeline::plan_generate(job);
    const double pixels = static_cast<double>(plan.width) * plan.height;
    return pixels > 0 ? plan.estimated_seconds / pixels : 0.0;
  } catch (const std::exception&) {
    return 0.0;
  }
}

#else

void addModelFolders(const QStringList&) {}
std::vector<engine::ModelInfo> listModels() { return {}; }
engine::ModelInfo findModel(const QString&) { noPipeline(); }
pipeline::JobPlan planGenerate(const pipeline::GenerateJob&) { noPipeline(); }
pipeline::JobResult runGenerate(const pipeline::GenerateJob&, const pipeline::JobControl&) {
  noPipeline();
}
pipeline::JobPlan planInpaint(const pipeline::InpaintJob&) { noPipeline(); }
pipeline::JobResult runInpaint(const pipeline::InpaintJob&, const pipeline::JobControl&) {
  noPipeline();
}
double secondsPerPixel(const engine::ModelInfo&, const QString&, int) { return 0.0; }

#endif

}  // namespace terrasynth::plugin
