// Jobs as QGIS tasks: results added on the main thread with provenance, cancellation leaving
// no file, and several jobs queued one after the other.
#include <gtest/gtest.h>

#include <QFile>
#include <QFileInfo>
#include <QThread>
#include <memory>

#include "job_builder.h"
#include "job_task.h"
#include "plugin_test_support.h"
#include "qgsapplication.h"
#include "qgslayertree.h"
#include "qgslayertreegroup.h"
#include "qgsproject.h"
#include "qgsrasterlayer.h"
#include "qgstaskmanager.h"

namespace terrasynth::plugin {
namespace {

using test::scratchRoot;
using test::sharedFixture;
using test::waitFor;

TEST(ResultLayer, AddedToTheTerrasynthGroupWithProvenance) {
  QTemporaryDir dir(scratchRoot() + QStringLiteral("/tasks-XXXXXX"));
  const QString raster = dir.filePath(QStringLiteral("generated.tif"));
  ASSERT_TRUE(QFile::copy(sharedFixture(QStringLiteral("rasters/rotterdam_rgb_utm31n_4.5m.tif")), raster));
  JobOutcome outcome;
  outcome.ok = true;
  outcome.title = QStringLiteral("Terrasynth: generate a region");
  outcome.layerName = QStringLiteral("Generated region");
  outcome.output = raster;
  outcome.width = 200;
  outcome.height = 200;
  outcome.provenance = {{QStringLiteral("model"), QStringLiteral("unit-model 1.0")},
                        {QStringLiteral("seed"), QStringLiteral("42")}};
  QgsProject project;
  QgsRasterLayer* first = addResultLayer(&project, outcome);
  ASSERT_NE(first, nullptr);
  outcome.layerName = QStringLiteral("Second");
  QgsRasterLayer* second = addResultLayer(&project, outcome);
  ASSERT_NE(second, nullptr);

  QgsLayerTreeGroup* group = project.layerTreeRoot()->findGroup(QString::fromLatin1(kResultGroupName));
  ASSERT_NE(group, nullptr);
  ASSERT_EQ(group->findLayers().size(), 2);
  EXPECT_EQ(group->findLayers().at(0)->layer(), second);  // the newest on top
  EXPECT_EQ(project.layerTreeRoot()->children().size(), 1);  // one group, reused
  EXPECT_EQ(first->name(), QStringLiteral("Generated region"));
  EXPECT_TRUE(first->metadata().abstract().contains(QStringLiteral("model: unit-model 1.0")));
  EXPECT_TRUE(first->metadata().abstract().contains(QStringLiteral("seed: 42")));
  EXPECT_EQ(first->customProperty(QStringLiteral("terrasynth/provenance/seed")).toString(),
            QStringLiteral("42"));
  EXPECT_FALSE(first->metadata().history().isEmpty());

  outcome.output = dir.filePath(QStringLiteral("missing.tif"));
  EXPECT_EQ(addResultLayer(&project, outcome), nullptr);
}

TEST(RunJob, FailureLeavesNoFileAndNamesTheProblem) {
  QTemporaryDir dir(scratchRoot() + QStringLiteral("/tasks-XXXXXX"));
  JobSpec spec;
  spec.kind = JobSpec::Kind::Inpaint;
  spec.inpaint.raster = dir.filePath(QStringLiteral("does-not-exist.tif")).toStdString();
  spec.inpaint.output = dir.filePath(QStringLiteral("out.tif")).toStdString();
  spec.maskExport.crs = QgsCoordinateReferenceSystem(QStringLiteral("EPSG:32631"));
  spec.maskExport.geometries = {QgsGeometry::fromRect(QgsRectangle(0, 0, 10, 10))};
  const std::atomic<bool> cancel{false};
  const JobOutcome outcome = runJob(spec, cancel, {});
  EXPECT_FALSE(outcome.ok);
  EXPECT_FALSE(outcome.cancelled);
  EXPECT_FALSE(outcome.error.isEmpty());
  if (pipelineAvailable()) {
    EXPECT_TRUE(outcome.error.contains(QStringLiteral("does-not-exist"))) << outcome.error.toStdString();
  }
  EXPECT_FALSE(QFileInfo::exists(dir.filePath(QStringLiteral("out.tif"))));
}

TEST(RunJob, CancelledBeforeItStartsWritesNothing) {
  QTemporaryDir dir(scratchRoot() + QStringLiteral("/tasks-XXXXXX"));
  JobSpec spec;
  spec.generate.extent = std::array<double, 4>{500000, 5000000, 500064, 5000064};
  spec.generate.crs = "EPSG:32631";
  spec.generate.output = dir.filePath(QStringLiteral("out.tif")).toStdString();
  spec.regionExport.crs = QgsCoordinateReferenceSystem(QStringLiteral("EPSG:32631"));
  spec.regionExport.geometries = {QgsGeometry::fromRect(QgsRectangle(500000, 5000000, 500064, 5000064))};
  const std::atomic<bool> cancel{true};
  const JobOutcome outcome = runJob(spec, cancel, {});
  EXPECT_TRUE(outcome.cancelled);
  EXPECT_FALSE(outcome.ok);
  EXPECT_FALSE(QFileInfo::exists(dir.filePath(QStringLiteral("out.tif"))));
}

class TaskTest : public ::testing::Test {
 protected:
  JobSpec regionJob(const engine::ModelInfo& model, const QString& name, int size) {
    DockState state;
    state.model = QString::fromStdString(model.dir);
    state.gsd = model.native_gsd;
    state.steps = 2;
    state.seed = 5;
    state.outputFolder = dir.path();
    state.region = QgsGeometry::fromRect(
        QgsRectangle(500000, 5000000, 500000 + size * model.native_gsd, 5000000 + size * model.native_gsd));
    state.regionCrs = QgsCoordinateReferenceSystem(QStringLiteral("EPSG:32631"));
    QString error;
    auto spec = buildJob(state, &error);
    EXPECT_TRUE(spec) << error.toStdString();
    spec->generate.output = dir.filePath(name).toStdString();
    return *spec;
  }
  QTemporaryDir dir{scratchRoot() + QStringLiteral("/tasks-XXXXXX")};
};

TEST_F(TaskTest, GeneratedLayerArrivesOnTheMainThread) {
  TERRASYNTH_REQUIRE_MODEL(model);
  JobQueue queue;
  std::vector<JobOutcome> outcomes;
  QgsRasterLayer* layer = nullptr;
  QObject::connect(&queue, &JobQueue::jobFinished, [&](const JobOutcome& outcome) {
    EXPECT_EQ(QThread::currentThread(), QCoreApplication::instance()->thread());
    outcomes.push_back(outcome);
    if (outcome.ok) layer = addResultLayer(QgsProject::instance(), outcome);
  });
  queue.submit(new GenerationTask(regionJob(model, QStringLiteral("one.tif"), 64)));
  ASSERT_TRUE(waitFor([&] { return !outcomes.empty(); }));
  ASSERT_TRUE(outcomes[0].ok) << outcomes[0].error.toStdString();
  ASSERT_NE(layer, nullptr);
  EXPECT_EQ(layer->crs().authid(), QStringLiteral("EPSG:32631"));
  EXPECT_EQ(layer->width(), 64);
  EXPECT_FALSE(outcomes[0].provenance.isEmpty());
  QgsProject::instance()->removeMapLayer(layer);
}

TEST_F(TaskTest, CancelledTaskLeavesNoFile) {
  TERRASYNTH_REQUIRE_MODEL(model);
  JobQueue queue;
  std::vector<JobOutcome> outcomes;
  QObject::connect(&queue, &JobQueue::jobFinished,
                   [&](const JobOutcome& outcome) { outcomes.push_back(outcome); });
  auto* task = new GenerationTask(regionJob(model, QStringLiteral("cancelled.tif"), 256));
  // Cancel once the pipeline reports progress, i.e. while it is generating.
  QObject::connect(task, &QgsTask::progressChanged, task, [task](double) { task->cancel(); });
  queue.submit(task);
  ASSERT_TRUE(waitFor([&] { return !outcomes.empty(); }));
  EXPECT_TRUE(outcomes[0].cancelled) << outcomes[0].error.toStdString();
  EXPECT_FALSE(QFileInfo::exists(dir.filePath(QStringLiteral("cancelled.tif"))));
}

TEST_F(TaskTest, JobsRunOneAfterTheOther) {
  TERRASYNTH_REQUIRE_MODEL(model);
  JobQueue queue;
  std::vector<QString> order;
  QObject::connect(&queue, &JobQueue::jobFinished,
                   [&](const JobOutcome& outcome) { order.push_back(QFileInfo(outcome.output).fileName()); });
  auto* first = new GenerationTask(regionJob(model, QStringLiteral("first.tif"), 64));
  auto* second = new GenerationTask(regionJob(model, QStringLiteral("second.tif"), 64));
  auto* third = new GenerationTask(regionJob(model, QStringLiteral("third.tif"), 64));
  queue.submit(first);
  queue.submit(second);
  queue.submit(third);
  EXPECT_EQ(second->status(), QgsTask::OnHold);
  EXPECT_EQ(third->status(), QgsTask::OnHold);
  EXPECT_EQ(queue.pending(), 3);
  third->cancel();  // a waiting job can be cancelled without running
  ASSERT_TRUE(waitFor([&] { return order.size() == 3; }));
  EXPECT_EQ(order[0], QStringLiteral("third.tif"));
  EXPECT_EQ(order[1], QStringLiteral("first.tif"));
  EXPECT_EQ(order[2], QStringLiteral("second.tif"));
  EXPECT_TRUE(QFileInfo::exists(dir.filePath(QStringLiteral("first.tif"))));
  EXPECT_TRUE(QFileInfo::exists(dir.filePath(QStringLiteral("second.tif"))));
  EXPECT_FALSE(QFileInfo::exists(dir.filePath(QStringLiteral("third.tif"))));
  EXPECT_EQ(queue.pending(), 0);
}

TEST(TaskQueue, HeldTaskCancelledBeforeRunningReportsOnce) {
  // Needs no model: a task on hold is terminated without running.
  JobQueue queue;
  int reports = 0;
  bool cancelled = false;
  QObject::connect(&queue, &JobQueue::jobFinished, [&](const JobOutcome& outcome) {
    ++reports;
    cancelled = outcome.cancelled;
  });
  JobSpec spec;
  spec.generate.output = "/nonexistent-folder/never.tif";
  auto* task = new GenerationTask(spec);
  task->hold();
  QgsApplication::taskManager()->addTask(task);
  QObject::connect(task, &GenerationTask::jobFinished, &queue, &JobQueue::jobFinished);
  EXPECT_EQ(task->status(), QgsTask::OnHold);
  task->cancel();
  ASSERT_TRUE(waitFor([&] { return reports > 0; }, 10000));
  QCoreApplication::processEvents();
  EXPECT_EQ(reports, 1);
  EXPECT_TRUE(cancelled);
}

}  // namespace
}  // namespace terrasynth::plugin
