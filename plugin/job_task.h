#pragma once
// A generation or inpaint job as a QgsTask: progress in the task manager, cancel, jobs queued
// one after the other. The worker never touches the project: project layers reach it as
// feature sources copied on the main thread, and the result is added to the project on the
// main thread by addResultLayer().
#include <QImage>
#include <QList>
#include <QPair>
#include <QPointer>
#include <QString>
#include <QStringList>
#include <atomic>
#include <functional>

#include "layout_layer.h"
#include "qgstaskmanager.h"
#include "terrasynth/pipeline/jobs.h"

class QgsProject;
class QgsRasterLayer;

namespace terrasynth::plugin {

struct JobSpec {
  enum class Kind { Generate, Inpaint };
  Kind kind = Kind::Generate;
  QString title;      // for the task manager and messages
  QString layerName;  // of the result layer
  pipeline::GenerateJob generate;
  pipeline::InpaintJob inpaint;
  // Written to GeoPackages in the worker before the job runs, when not empty; they replace
  // the layout, the region (generate) or the mask (inpaint) of the job.
  FeatureExport layoutExport;
  FeatureExport regionExport;
  FeatureExport maskExport;
  QString sourceLayerId;  // inpaint: the raster layer the job reads (never overwritten)

  const std::string& output() const { return kind == Kind::Generate ? generate.output : inpaint.output; }
};

struct JobOutcome {
  JobSpec::Kind kind = JobSpec::Kind::Generate;
  bool ok = false;
  bool cancelled = false;
  QString error;  // a message for the user when neither ok nor cancelled
  QString title;
  QString layerName;
  QString output;
  QString stac;
  QString sourceLayerId;
  double seconds = 0;
  int width = 0;
  int height = 0;
  QStringList warnings;
  QList<QPair<QString, QString>> provenance;
};

struct JobHooks {
  std::function<void(double fraction, const QString& label)> progress;
  std::function<void(const QString& message)> warning;
  std::function<void(const QImage& image)> preview;
};

// Runs a job in the calling thread: exports, the pipeline, and cleanup. A cancelled or failed
// job leaves no output file behind. Never throws.
JobOutcome runJob(const JobSpec& spec, const std::atomic<bool>& cancel, const JobHooks& hooks);

// Adds a finished job's raster to the "Terrasynth" group of the project, with the job's
// provenance in the layer metadata. Main thread only. Returns nullptr when the raster cannot be
// opened.
QgsRasterLayer* addResultLayer(QgsProject* project, const JobOutcome& outcome);
extern const char* const kResultGroupName;  // "Terrasynth"

class GenerationTask : public QgsTask {
  Q_OBJECT
 public:
  explicit GenerationTask(JobSpec spec);
  ~GenerationTask() override;

  bool run() override;
  void finished(bool result) override;
  void cancel() override;
  const JobSpec& spec() const { return mSpec; }
  const JobOutcome& outcome() const { return mOutcome; }

 signals:
  // From the worker thread (use a queued connection).
  void previewReady(const QImage& image);
  // On the main thread, once, however the task ended (also when cancelled before it ran).
  void jobFinished(const terrasynth::plugin::JobOutcome& outcome);

 private:
  void report();

  JobSpec mSpec;
  JobOutcome mOutcome;
  std::atomic<bool> mCancel{false};
  bool mReported = false;
};

// Runs the plugin's tasks one after another through the QGIS task manager: a task submitted
// while another runs waits "on hold" (visible and cancellable in the task manager).
class JobQueue : public QObject {
  Q_OBJECT
 public:
  explicit JobQueue(QObject* parent = nullptr);
  ~JobQueue() override;
  // Takes ownership (the task manager does); returns the task id.
  long submit(GenerationTask* task);
  int pending() const;  // running and waiting tasks
  void cancelAll();

 signals:
  void jobFinished(const terrasynth::plugin::JobOutcome& outcome);
  void previewReady(const QImage& image);

 private:
  void startNext();
  QList<QPointer<GenerationTask>> mTasks;
  QPointer<GenerationTask> mRunning;
};

}  // namespace terrasynth::plugin

Q_DECLARE_METATYPE(terrasynth::plugin::JobOutcome)
