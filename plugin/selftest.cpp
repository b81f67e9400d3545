#include "selftest.h"

#include <QAction>
#include <QApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QMainWindow>
#include <QMouseEvent>
#include <QTimer>

#include "job_task.h"
#include "qgisinterface.h"
#include "qgslayertree.h"
#include "qgslayertreegroup.h"
#include "qgsmapcanvas.h"
#include "qgsmaptopixel.h"
#include "qgsproject.h"
#include "qgsrasterlayer.h"
#include "qgsvectorlayer.h"
#include "settings.h"
#include "terrasynth_dock.h"
#include "terrasynth_plugin.h"

namespace terrasynth::plugin {

namespace {

JobMode modeNamed(const QString& name) {
  if (name == QLatin1String("layout")) return JobMode::Layout;
  if (name == QLatin1String("osm")) return JobMode::Osm;
  if (name == QLatin1String("inpaint")) return JobMode::Inpaint;
  return JobMode::Region;
}

ShapeMapTool::Shape shapeNamed(const QString& name) {
  if (name == QLatin1String("polygon")) return ShapeMapTool::Shape::Polygon;
  if (name == QLatin1String("box")) return ShapeMapTool::Shape::RotatedBox;
  return ShapeMapTool::Shape::Rectangle;
}

}  // namespace

SelfTest::SelfTest(TerrasynthPlugin* plugin, const QString& scriptPath)
    : QObject(plugin), mPlugin(plugin), mScriptPath(scriptPath) {
  mPollTimer.setInterval(100);
  connect(&mPollTimer, &QTimer::timeout, this, [this] {
    if (!mPoll) return;
    QString message;
    if (mPoll(&message)) {
      mPoll = nullptr;
      mPollTimer.stop();
      endStep(!message.startsWith(QLatin1String("error:")), message);
    }
  });
  mDeadline.setSingleShot(true);
  connect(&mDeadline, &QTimer::timeout, this,
          [this] { finish(false, QStringLiteral("the self-test ran out of time")); });
  connect(mPlugin, &TerrasynthPlugin::jobDone, this, &SelfTest::onJobDone);
}

void SelfTest::start() {
  QFile file(mScriptPath);
  if (!file.open(QIODevice::ReadOnly)) {
    finish(false, QStringLiteral("cannot read the self-test script %1").arg(mScriptPath));
    return;
  }
  QJsonParseError error;
  const QJsonDocument document = QJsonDocument::fromJson(file.readAll(), &error);
  if (!document.isObject()) {
    finish(false, QStringLiteral("%1: %2").arg(mScriptPath, error.errorString()));
    return;
  }
  mScript = document.object();
  mSteps = mScript.value(QStringLiteral("steps")).toArray();
  if (mScript.value(QStringLiteral("maximize")).toBool(true)) {
    mPlugin->iface()->mainWindow()->showMaximized();
  }
  mDeadline.start(static_cast<int>(mScript.value(QStringLiteral("timeout_s")).toDouble(600) * 1000));
  QTimer::singleShot(mScript.value(QStringLiteral("start_delay_ms")).toInt(500), this,
                     &SelfTest::next);
}

void SelfTest::next() {
  if (mFinished) return;
  if (mIndex >= mSteps.size()) {
    finish(true, QString());
    return;
  }
  const QJsonObject step = mSteps.at(mIndex).toObject();
  QString message;
  bool ok = false;
  try {
    ok = runStep(step, &message);
  } catch (const std::exception& error) {
    message = QString::fromStdString(error.what());
  }
  if (!ok) {
    endStep(false, message);
  } else if (mPoll) {
    mPollTimer.start();
  } else {
    endStep(true, message);
  }
}

void SelfTest::endStep(bool ok, const QString& message) {
  const QJsonObject step = mSteps.at(mIndex).toObject();
  QJsonObject result;
  result.insert(QStringLiteral("op"), step.value(QStringLiteral("op")));
  result.insert(QStringLiteral("ok"), ok);
  if (!message.isEmpty()) result.insert(QStringLiteral("message"), message);
  mResults.append(result);
  ++mIndex;
  if (!ok) {
    finish(false, QStringLiteral("step %1 (%2) failed: %3")
                      .arg(mIndex)
                      .arg(step.value(QStringLiteral("op")).toString(), message));
    return;
  }
  QTimer::singleShot(step.value(QStringLiteral("after_ms")).toInt(50), this, &SelfTest::next);
}

QgsMapLayer* SelfTest::layerNamed(const QString& name) const {
  const QList<QgsMapLayer*> layers = QgsProject::instance()->mapLayersByName(name);
  return layers.isEmpty() ? nullptr : layers.first();
}

void SelfTest::sendMouse(int type, const QgsPointXY& point, Qt::MouseButton button) {
  QgsMapCanvas* canvas = mPlugin->iface()->mapCanvas();
  const QPointF position = canvas->getCoordinateTransform()->transform(point).toQPointF();
  const Qt::MouseButtons buttons =
      type == QEvent::MouseButtonPress || (type == QEvent::MouseMove && button != Qt::NoButton)
          ? Qt::MouseButtons(button)
          : Qt::MouseButtons();
  QMouseEvent event(static_cast<QEvent::Type>(type), position,
                    canvas->viewport()->mapToGlobal(position.toPoint()),
                    type == QEvent::MouseMove ? Qt::NoButton : button, buttons, Qt::NoModifier);
  QApplication::sendEvent(canvas->viewport(), &event);
}

void SelfTest::drawShape(const QString& shape, const QJsonArray& points, bool complete) {
  QVector<QgsPointXY> map;
  for (const QJsonValue& value : points) {
    const QJsonArray xy = value.toArray();
    map << QgsPointXY(xy.at(0).toDouble(), xy.at(1).toDouble());
  }
  if (map.size() < 2) throw std::runtime_error("a shape needs at least two points");
  if (shape == QLatin1String("rectangle")) {
    sendMouse(QEvent::MouseButtonPress, map.at(0), Qt::LeftButton);
    sendMouse(QEvent::MouseMove, map.at(1), Qt::LeftButton);
    if (complete) sendMouse(QEvent::MouseButtonRelease, map.at(1), Qt::LeftButton);
    return;
  }
  // An unfinished shape stops with the pointer on its last point (the rubber band shows it).
  for (int i = 0; i < map.size(); ++i) {
    sendMouse(QEvent::MouseMove, map.at(i), Qt::NoButton);
    if (!complete && i == map.size() - 1) return;
    sendMouse(QEvent::MouseButtonPress, map.at(i), Qt::LeftButton);
    sendMouse(QEvent::MouseButtonRelease, map.at(i), Qt::LeftButton);
  }
  if (complete && shape == QLatin1String("polygon")) {
    sendMouse(QEvent::MouseButtonPress, map.last(), Qt::RightButton);
    sendMouse(QEvent::MouseButtonRelease, map.last(), Qt::RightButton);
  }
}

bool SelfTest::runStep(const QJsonObject& step, QString* message) {
  const QString op = step.value(QStringLiteral("op")).toString();
  QgisInterface* iface = mPlugin->iface();
  QgsMapCanvas* canvas = iface->mapCanvas();
  TerrasynthDock* dock = mPlugin->dock();

  if (op == QLatin1String("add_raster") || op == QLatin1String("add_vector")) {
    const QString path = step.value(QStringLiteral("path")).toString();
    const QString name = step.value(QStringLiteral("name")).toString(QFileInfo(path).completeBaseName());
    QgsMapLayer* layer = op == QLatin1String("add_raster")
                             ? static_cast<QgsMapLayer*>(iface->addRasterLayer(path, name))
                             : iface->addVectorLayer(path, name, QStringLiteral("ogr"));
    if (!layer || !layer->isValid()) {
      *message = QStringLiteral("cannot open %1").arg(path);
      return false;
    }
    return true;
  }
  if (op == QLatin1String("zoom")) {
    const QJsonArray extent = step.value(QStringLiteral("extent")).toArray();
    const QString crs = step.value(QStringLiteral("crs")).toString();
    if (!crs.isEmpty()) {
      QgsProject::instance()->setCrs(QgsCoordinateReferenceSystem(crs));
      canvas->setDestinationCrs(QgsCoordinateReferenceSystem(crs));
    }
    if (extent.size() == 4) {
      canvas->setExtent(QgsRectangle(extent.at(0).toDouble(), extent.at(1).toDouble(),
                                     extent.at(2).toDouble(), extent.at(3).toDouble()));
    } else if (QgsMapLayer* layer = layerNamed(step.value(QStringLiteral("layer")).toString())) {
      canvas->setExtent(canvas->mapSettings().layerExtentToOutputExtent(layer, layer->extent()));
    }
    canvas->refresh();
    return true;
  }
  if (op == QLatin1String("model")) {
    const QString folder = step.value(QStringLiteral("folder")).toString();
    if (!folder.isEmpty()) {
      PluginSettings settings = PluginSettings::load();
      if (!settings.modelFolders.contains(folder)) settings.modelFolders << folder;
      settings.save();
      mPlugin->reloadModels();
    }
    const QString model = step.value(QStringLiteral("model")).toString();
    if (!model.isEmpty() && !dock->selectModel(model)) {
      *message = QStringLiteral("no model %1").arg(model);
      return false;
    }
    if (!dock->currentModel()) {
      *message = QStringLiteral("no model found");
      return false;
    }
    *message = QString::fromStdString(dock->currentModel()->name);
    return true;
  }
  if (op == QLatin1String("set")) {
    if (step.contains(QStringLiteral("mode"))) {
      dock->setMode(modeNamed(step.value(QStringLiteral("mode")).toString()));
    }
    if (step.contains(QStringLiteral("gsd"))) dock->setGsd(step.value(QStringLiteral("gsd")).toDouble());
    if (step.contains(QStringLiteral("steps"))) dock->setSteps(step.value(QStringLiteral("steps")).toInt());
    if (step.contains(QStringLiteral("seed"))) {
      dock->setSeed(static_cast<quint64>(step.value(QStringLiteral("seed")).toDouble()));
    }
    if (step.contains(QStringLiteral("scene"))) dock->setScene(step.value(QStringLiteral("scene")).toString());
    if (step.contains(QStringLiteral("style"))) dock->setStyle(step.value(QStringLiteral("style")).toString());
    if (step.contains(QStringLiteral("cog"))) dock->setCog(step.value(QStringLiteral("cog")).toBool());
    if (step.contains(QStringLiteral("output_folder"))) {
      dock->setOutputFolder(step.value(QStringLiteral("output_folder")).toString());
    }
    if (step.contains(QStringLiteral("paint_class"))) {
      dock->setPaintClass(step.value(QStringLiteral("paint_class")).toString());
    }
    if (step.contains(QStringLiteral("osm"))) dock->setOsmPath(step.value(QStringLiteral("osm")).toString());
    if (step.contains(QStringLiteral("raster"))) {
      auto* raster = qobject_cast<QgsRasterLayer*>(layerNamed(step.value(QStringLiteral("raster")).toString()));
      if (!raster) {
        *message = QStringLiteral("no raster layer %1").arg(step.value(QStringLiteral("raster")).toString());
        return false;
      }
      dock->setInpaintRaster(raster);
    }
    if (step.contains(QStringLiteral("layout_layer"))) {
      auto* layer = qobject_cast<QgsVectorLayer*>(layerNamed(step.value(QStringLiteral("layout_layer")).toString()));
      if (!layer) {
        *message = QStringLiteral("no vector layer %1").arg(step.value(QStringLiteral("layout_layer")).toString());
        return false;
      }
      dock->setLayoutLayer(layer);
    }
    return true;
  }
  if (op == QLatin1String("draw")) {
    const QString purpose = step.value(QStringLiteral("purpose")).toString(QStringLiteral("region"));
    const QString shape = step.value(QStringLiteral("shape")).toString(QStringLiteral("rectangle"));
    if (purpose == QLatin1String("layout")) {
      if (step.contains(QStringLiteral("class"))) dock->setPaintClass(step.value(QStringLiteral("class")).toString());
      mPlugin->startPaintLayout(shapeNamed(shape));
    } else if (purpose == QLatin1String("mask")) {
      mPlugin->startDrawMask();
    } else {
      mPlugin->startDrawRegion(shapeNamed(shape));
    }
    drawShape(shape, step.value(QStringLiteral("points")).toArray(),
              step.value(QStringLiteral("finish")).toBool(true));
    return true;
  }
  if (op == QLatin1String("visible") || op == QLatin1String("opacity")) {
    QgsMapLayer* layer = layerNamed(step.value(QStringLiteral("layer")).toString());
    if (!layer) {
      *message = QStringLiteral("no layer %1").arg(step.value(QStringLiteral("layer")).toString());
      return false;
    }
    if (op == QLatin1String("opacity")) {
      layer->setOpacity(step.value(QStringLiteral("value")).toDouble(1.0));
      layer->triggerRepaint();
    } else if (QgsLayerTreeLayer* node = QgsProject::instance()->layerTreeRoot()->findLayer(layer)) {
      node->setItemVisibilityChecked(step.value(QStringLiteral("value")).toBool(true));
    }
    return true;
  }
  if (op == QLatin1String("canvas_extent")) {
    mPlugin->useCanvasExtent();
    return true;
  }
  if (op == QLatin1String("new_layout_layer")) {
    QString error;
    if (!mPlugin->createLayoutLayerInProject(&error)) {
      *message = error;
      return false;
    }
    return true;
  }
  if (op == QLatin1String("show_dock")) {
    dock->setUserVisible(true);
    dock->raise();
    return true;
  }
  if (op == QLatin1String("generate")) {
    const int before = mJobsDone;
    if (!mPlugin->generate(message)) return false;
    if (step.contains(QStringLiteral("cancel_after_ms"))) {
      QTimer::singleShot(step.value(QStringLiteral("cancel_after_ms")).toInt(), this,
                         [this] { mPlugin->queue()->cancelAll(); });
    }
    if (!step.value(QStringLiteral("wait")).toBool(true)) return true;
    const QString expect = step.value(QStringLiteral("expect")).toString(QStringLiteral("ok"));
    mPoll = [this, before, expect](QString* result) {
      if (mJobsDone <= before) return false;
      const QJsonObject job = mJobs.last().toObject();
      const QString status = job.value(QStringLiteral("status")).toString();
      *result = status == expect ? job.value(QStringLiteral("output")).toString()
                                 : QStringLiteral("error: expected %1, got %2: %3")
                                       .arg(expect, status, job.value(QStringLiteral("error")).toString());
      return true;
    };
    return true;
  }
  if (op == QLatin1String("wait")) {
    const int ms = step.value(QStringLiteral("ms")).toInt(500);
    auto elapsed = std::make_shared<QElapsedTimer>();
    elapsed->start();
    mPoll = [elapsed, ms](QString*) { return elapsed->elapsed() >= ms; };
    return true;
  }
  if (op == QLatin1String("screenshot")) {
    const QString path = step.value(QStringLiteral("path")).toString();
    const QString target = step.value(QStringLiteral("target")).toString(QStringLiteral("window"));
    auto elapsed = std::make_shared<QElapsedTimer>();
    elapsed->start();
    canvas->refresh();
    mPoll = [=](QString* result) {
      // Let the canvas finish rendering (and the window settle) before grabbing it.
      if (elapsed->elapsed() < 800 || (canvas->isDrawing() && elapsed->elapsed() < 30000)) {
        return false;
      }
      QWidget* widget = iface->mainWindow();
      if (target == QLatin1String("dock")) widget = dock;
      if (target == QLatin1String("canvas")) widget = canvas;
      QDir().mkpath(QFileInfo(path).absolutePath());
      const bool saved = widget->grab().save(path, "PNG");
      *result = saved ? path : QStringLiteral("error: cannot save %1").arg(path);
      return true;
    };
    return true;
  }
  if (op == QLatin1String("quit")) {
    mIndex = static_cast<int>(mSteps.size());
    return true;
  }
  *message = QStringLiteral("unknown step \"%1\"").arg(op);
  return false;
}

void SelfTest::onJobDone(const JobOutcome& outcome, QgsMapLayer* layer) {
  QJsonObject job;
  job.insert(QStringLiteral("title"), outcome.title);
  job.insert(QStringLiteral("status"), outcome.ok          ? QStringLiteral("ok")
                                       : outcome.cancelled ? QStringLiteral("cancelled")
                                                           : QStringLiteral("error"));
  job.insert(QStringLiteral("output"), outcome.output);
  job.insert(QStringLiteral("output_exists"), QFileInfo::exists(outcome.output));
  job.insert(QStringLiteral("error"), outcome.error);
  job.insert(QStringLiteral("width"), outcome.width);
  job.insert(QStringLiteral("height"), outcome.height);
  if (layer) {
    job.insert(QStringLiteral("layer"), layer->name());
    job.insert(QStringLiteral("layer_id"), layer->id());
  }
  mJobs.append(job);
  ++mJobsDone;
}

void SelfTest::writeReport(bool ok, const QString& message) {
  QJsonObject report;
  report.insert(QStringLiteral("ok"), ok);
  report.insert(QStringLiteral("message"), message);
  report.insert(QStringLiteral("steps"), mResults);
  report.insert(QStringLiteral("jobs"), mJobs);
  QJsonArray group;
  if (QgsLayerTreeGroup* node = QgsProject::instance()->layerTreeRoot()->findGroup(
          QString::fromLatin1(kResultGroupName))) {
    for (QgsLayerTreeLayer* child : node->findLayers()) {
      QJsonObject entry;
      entry.insert(QStringLiteral("name"), child->name());
      if (QgsMapLayer* layer = child->layer()) {
        entry.insert(QStringLiteral("source"), layer->source());
        entry.insert(QStringLiteral("valid"), layer->isValid());
        entry.insert(QStringLiteral("crs"), layer->crs().authid());
        entry.insert(QStringLiteral("abstract"), layer->metadata().abstract());
      }
      group.append(entry);
    }
  }
  report.insert(QStringLiteral("group"), group);
  // Drawn shapes reach the map tools as integer screen positions: one screen pixel is the
  // precision a caller can expect of their map coordinates.
  if (QgsMapCanvas* canvas = mPlugin->iface()->mapCanvas()) {
    QJsonObject view;
    view.insert(QStringLiteral("width"), canvas->width());
    view.insert(QStringLiteral("height"), canvas->height());
    view.insert(QStringLiteral("map_units_per_pixel"), canvas->mapUnitsPerPixel());
    report.insert(QStringLiteral("canvas"), view);
  }
  const QString path = mScript.value(QStringLiteral("report")).toString(mScriptPath + QStringLiteral(".report.json"));
  QFile file(path);
  if (file.open(QIODevice::WriteOnly | QIODevice::Truncate)) {
    file.write(QJsonDocument(report).toJson());
  }
}

void SelfTest::finish(bool ok, const QString& message) {
  if (mFinished) return;
  mFinished = true;
  mPollTimer.stop();
  mDeadline.stop();
  mPlugin->queue()->cancelAll();
  writeReport(ok, message);
  if (!mScript.value(QStringLiteral("quit")).toBool(true)) return;
  QgisInterface* iface = mPlugin->iface();
  JobQueue* queue = mPlugin->queue();
  // Quit once no job runs any more, with a clean project so that QGIS asks nothing.
  auto* timer = new QTimer(iface->mainWindow());
  connect(timer, &QTimer::timeout, iface->mainWindow(), [timer, iface, queue] {
    if (queue && queue->pending() > 0) return;
    timer->stop();
    timer->deleteLater();
    QgsProject::instance()->setDirty(false);
    iface->actionExit()->trigger();
  });
  timer->start(200);
}

}  // namespace terrasynth::plugin
