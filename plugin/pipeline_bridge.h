#pragma once
// The one place where the plugin calls core/pipeline and the engine's model and device API.
// Everything else in plugin/ and ui/ goes through these functions.
#include <QString>
#include <QStringList>
#include <vector>

#include "terrasynth/engine/model.h"
#include "terrasynth/pipeline/jobs.h"

namespace terrasynth::plugin {

// False in a build made before core/pipeline had its job implementation: jobs then fail with
// a message saying so.
bool pipelineAvailable();

// Model folders from the plugin settings join the pipeline's search path.
void addModelFolders(const QStringList& folders);
// Every model found on the search path; never throws (unreadable manifests are skipped).
std::vector<engine::ModelInfo> listModels();
// A model by name or folder; empty = the default model. Throws std::exception with a message
// naming the searched folders.
engine::ModelInfo findModel(const QString& nameOrDir);

// "GPU: NVIDIA H100 80GB HBM3" or "CPU, 2 threads".
QString describeDevice(const QString& device, int threads);
bool deviceIsCpu(const QString& device);

pipeline::JobPlan planGenerate(const pipeline::GenerateJob& job);
pipeline::JobResult runGenerate(const pipeline::GenerateJob& job,
                                const pipeline::JobControl& control);
pipeline::JobPlan planInpaint(const pipeline::InpaintJob& job);
pipeline::JobResult runInpaint(const pipeline::InpaintJob& job,
                               const pipeline::JobControl& control);

// Seconds the given model needs per output pixel at its native GSD on the given device,
// estimated by the pipeline's planner for a 1 km² square; 0 when unknown.
double secondsPerPixel(const engine::ModelInfo& model, const QString& device, int threads);

}  // namespace terrasynth::plugin
