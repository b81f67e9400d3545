#include "job_task.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QFile>
#include <QFileInfo>
#include <QTemporaryDir>
#include <exception>
#include <memory>
#include <stdexcept>

#include "pipeline_bridge.h"
#include "qgsapplication.h"
#include "qgslayertree.h"
#include "qgslayertreegroup.h"
#include "qgslayermetadata.h"
#include "qgsproject.h"
#include "qgsrasterlayer.h"
#include "terrasynth/version.h"

namespace terrasynth::plugin {

const char* const kResultGroupName = "Terrasynth";

namespace {

QString text(const char* source) { return QCoreApplication::translate("Terrasynth", source); }

// Writes one export into the scratch folder; throws when it is empty.
QString writeExport(const FeatureExport& features, const QTemporaryDir& scratch,
                    const QString& name, const std::atomic<bool>& cancel, bool* cancelled) {
  const QString path = scratch.filePath(name + QStringLiteral(".gpkg"));
  const long long written = writeFeatureExport(features, path, name, &cancel);
  if (written < 0) {
    *cancelled = true;
  } else if (written == 0) {
    throw std::runtime_error(
        QCoreApplication::translate("Terrasynth", "The %1 has no features to use.")
            .arg(QCoreApplication::translate("Terrasynth", name.toUtf8().constData()))
            .toStdString());
  }
  return path;
}

void removeIfNew(const QString& path, bool existedBefore) {
  if (!path.isEmpty() && !existedBefore && QFileInfo::exists(path)) QFile::remove(path);
}

}  // namespace

JobOutcome runJob(const JobSpec& original, const std::atomic<bool>& cancel,
                  const JobHooks& hooks) {
  // Names of the exports, for lupdate.
  (void)QT_TRANSLATE_NOOP("Terrasynth", "layout");
  (void)QT_TRANSLATE_NOOP("Terrasynth", "region");
  (void)QT_TRANSLATE_NOOP("Terrasynth", "mask");

  JobSpec spec = original;
  JobOutcome outcome;
  outcome.kind = spec.kind;
  outcome.title = spec.title;
  outcome.layerName = spec.layerName;
  outcome.sourceLayerId = spec.sourceLayerId;
  const QString output = QString::fromStdString(spec.output());
  outcome.output = output;
  const bool outputExisted = QFileInfo::exists(output);
  const QString stacGuess = QFileInfo(output).path() + QLatin1Char('/') +
                            QFileInfo(output).completeBaseName() + QStringLiteral(".json");
  const bool stacExisted = QFileInfo::exists(stacGuess);

  try {
    if (output.isEmpty()) throw std::runtime_error(text("The job has no output file.").toStdString());
    QTemporaryDir scratch;
    if (!scratch.isValid()) {
      throw std::runtime_error(
          text("Cannot create a temporary folder: %1").arg(scratch.errorString()).toStdString());
    }
    bool cancelled = false;
    pipeline::LayoutParams& layout =
        spec.kind == JobSpec::Kind::Generate ? spec.generate.layout : spec.inpaint.layout;
    if (!spec.layoutExport.isEmpty()) {
      layout.path = writeExport(spec.layoutExport, scratch, QStringLiteral("layout"), cancel,
                                &cancelled)
                        .toStdString();
      layout.layer = "layout";
      layout.class_field = kLayoutClassField;
      layout.osm_mapping.clear();
    }
    if (!cancelled && spec.kind == JobSpec::Kind::Generate && !spec.regionExport.isEmpty()) {
      spec.generate.region_path =
          writeExport(spec.regionExport, scratch, QStringLiteral("region"), cancel, &cancelled)
              .toStdString();
      spec.generate.region_layer = "region";
    }
    if (!cancelled && spec.kind == JobSpec::Kind::Inpaint && !spec.maskExport.isEmpty()) {
      spec.inpaint.mask_path =
          writeExport(spec.maskExport, scratch, QStringLiteral("mask"), cancel, &cancelled)
              .toStdString();
      spec.inpaint.mask_layer = "mask";
    }

    if (!cancelled && !cancel.load()) {
      pipeline::JobControl control;
      control.cancel = &cancel;
      if (hooks.progress) {
        control.progress = [&hooks](double fraction, const std::string& label) {
          hooks.progress(fraction, QString::fromStdString(label));
        };
      }
      if (hooks.warning) {
        control.warning = [&hooks](const std::string& message) {
          hooks.warning(QString::fromStdString(message));
        };
      }
      if (hooks.preview) {
        control.preview = [&hooks](int width, int height, const std::vector<uint8_t>& rgb) {
          if (width <= 0 || height <= 0 || rgb.size() < size_t(width) * size_t(height) * 3) return;
          const QImage image(rgb.data(), width, height, width * 3, QImage::Format_RGB888);
          hooks.preview(image.copy());
        };
      }
      const pipeline::JobResult result = spec.kind == JobSpec::Kind::Generate
                                             ? runGenerate(spec.generate, control)
                                             : runInpaint(spec.inpaint, control);
      cancelled = result.cancelled;
      outcome.seconds = result.seconds;
      outcome.width = result.plan.width;
      outcome.height = result.plan.height;
      if (!result.output.empty()) outcome.output = QString::fromStdString(result.output);
      outcome.stac = QString::fromStdString(result.stac);
      for (const std::string& warning : result.warnings) {
        outcome.warnings << QString::fromStdString(warning);
      }
      for (const auto& [key, value] : result.provenance) {
        outcome.provenance << qMakePair(QString::fromStdString(key), QString::fromStdString(value));
      }
    } else {
      cancelled = true;
    }
    outcome.cancelled = cancelled;
    outcome.ok = !cancelled;
    if (outcome.ok && !QFileInfo::exists(outcome.output)) {
      outcome.ok = false;
      outcome.error = text("The job ended without writing %1.").arg(outcome.output);
    }
  } catch (const std::exception& error) {
    outcome.ok = false;
    outcome.error = QString::fromStdString(error.what());
  } catch (...) {
    outcome.ok = false;
    outcome.error = text("Unknown error.");
  }
  if (!outcome.ok) {
    // Nothing half-done stays behind; files that were there before are never touched.
    removeIfNew(output, outputExisted);
    if (outcome.output != output) removeIfNew(outcome.output, false);
    removeIfNew(stacGuess, stacExisted);
    if (!outcome.stac.isEmpty() && outcome.stac != stacGuess) removeIfNew(outcome.stac, false);
  }
  return outcome;
}

QgsRasterLayer* addResultLayer(QgsProject* project, const JobOutcome& outcome) {
  auto layer = std::make_unique<QgsRasterLayer>(outcome.output, outcome.layerName,
                                                QStringLiteral("gdal"));
  if (!layer->isValid()) return nullptr;

  QgsLayerMetadata metadata = layer->metadata();
  metadata.setTitle(outcome.layerName);
  metadata.setType(QStringLiteral("dataset"));
  QStringList lines;
  lines << text("Synthetic imagery generated by Terrasynth %1.").arg(QStringLiteral(TERRASYNTH_VERSION));
  for (const auto& [key, value] : outcome.provenance) {
    lines << QStringLiteral("%1: %2").arg(key, value);
    layer->setCustomProperty(QStringLiteral("terrasynth/provenance/") + key, value);
  }
  if (!outcome.stac.isEmpty()) lines << text("STAC item: %1").arg(outcome.stac);
  metadata.setAbstract(lines.join(QLatin1Char('\n')));
  metadata.addKeywords(QStringLiteral("Terrasynth"),
                       {QStringLiteral("synthetic"), QStringLiteral("generated imagery")});
  metadata.addHistoryItem(text("%1: %2 (%3 × %4 px, %5 s)")
                              .arg(QDateTime::currentDateTime().toString(Qt::ISODate),
                                   outcome.title)
                              .arg(outcome.width)
                              .arg(outcome.height)
                              .arg(outcome.seconds, 0, 'f', 1));
  layer->setMetadata(metadata);
  layer->setCustomProperty(QStringLiteral("terrasynth/generated"), true);
  if (!outcome.sourceLayerId.isEmpty()) {
    layer->setCustomProperty(QStringLiteral("terrasynth/source_layer"), outcome.sourceLayerId);
  }

  QgsLayerTree* root = project->layerTreeRoot();
  QgsLayerTreeGroup* group = root->findGroup(QString::fromLatin1(kResultGroupName));
  if (!group) group = root->insertGroup(0, QString::fromLatin1(kResultGroupName));
  QgsRasterLayer* added = layer.release();
  project->addMapLayer(added, false);
  group->insertLayer(0, added);
  return added;
}

GenerationTask::GenerationTask(JobSpec spec)
    : QgsTask(spec.title, QgsTask::CanCancel), mSpec(std::move(spec)) {
  mOutcome.kind = mSpec.kind;
  mOutcome.title = mSpec.title;
  mOutcome.layerName = mSpec.layerName;
  mOutcome.output = QString::fromStdString(mSpec.output());
  mOutcome.sourceLayerId = mSpec.sourceLayerId;
  mOutcome.cancelled = true;  // until run() says otherwise: a task cancelled before it ran
}

GenerationTask::~GenerationTask() {
  // The task manager deletes every task it ran or terminated; a task never reported yet still
  // tells its listeners how it ended.
  report();
}

bool GenerationTask::run() {
  JobHooks hooks;
  hooks.progress = [this](double fraction, const QString&) { setProgress(100.0 * fraction); };
  hooks.preview = [this](const QImage& image) { emit previewReady(image); };
  mOutcome = runJob(mSpec, mCancel, hooks);
  return mOutcome.ok;
}

void GenerationTask::cancel() {
  mCancel.store(true);
  QgsTask::cancel();
}

void GenerationTask::finished(bool) { report(); }

void GenerationTask::report() {
  if (mReported) return;
  mReported = true;
  emit jobFinished(mOutcome);
}

JobQueue::JobQueue(QObject* parent) : QObject(parent) {}

JobQueue::~JobQueue() {
  for (const QPointer<GenerationTask>& task : mTasks) {
    if (task) task->disconnect(this);
  }
}

long JobQueue::submit(GenerationTask* task) {
  connect(task, &GenerationTask::previewReady, this, &JobQueue::previewReady,
          Qt::QueuedConnection);
  connect(task, &GenerationTask::jobFinished, this, [this, task](const JobOutcome& outcome) {
    mTasks.removeAll(QPointer<GenerationTask>(task));
    if (mRunning == task) mRunning.clear();
    emit jobFinished(outcome);
    startNext();
  });
  mTasks << task;
  if (mRunning) {
    task->hold();
  } else {
    mRunning = task;
  }
  return QgsApplication::taskManager()->addTask(task);
}

int JobQueue::pending() const {
  int count = 0;
  for (const QPointer<GenerationTask>& task : mTasks) count += task ? 1 : 0;
  return count;
}

void JobQueue::cancelAll() {
  const auto tasks = mTasks;
  for (const QPointer<GenerationTask>& task : tasks) {
    if (task) task->cancel();
  }
}

void JobQueue::startNext() {
  if (mRunning) return;
  for (const QPointer<GenerationTask>& task : mTasks) {
    if (task && task->status() == QgsTask::OnHold) {
      mRunning = task;
      task->unhold();
      return;
    }
  }
}

}  // namespace terrasynth::plugin
