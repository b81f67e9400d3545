#pragma once
// A hidden test hook: with TERRASYNTH_PLUGIN_SELFTEST=script.json in the environment, the
// plugin drives itself through the steps of the script once QGIS has started (the same calls
// the dock's buttons make, mouse events sent to the map canvas), writes a JSON report and quits
// QGIS. Used by the real-application test and by scripts/screenshots; see docs/PLUGIN.md.
#include <QJsonArray>
#include <QJsonObject>
#include <QObject>
#include <QTimer>
#include <functional>

#include "qgspointxy.h"

class QgsMapLayer;

namespace terrasynth::plugin {

class TerrasynthPlugin;
struct JobOutcome;

class SelfTest : public QObject {
  Q_OBJECT
 public:
  SelfTest(TerrasynthPlugin* plugin, const QString& scriptPath);
  void start();

 private:
  void next();
  // Runs one step: true when it completed (or started an asynchronous part in mPoll).
  bool runStep(const QJsonObject& step, QString* message);
  void endStep(bool ok, const QString& message);
  void finish(bool ok, const QString& message);
  void writeReport(bool ok, const QString& message);
  void sendMouse(int type, const QgsPointXY& point, Qt::MouseButton button);
  void drawShape(const QString& shape, const QJsonArray& points, bool complete);
  QgsMapLayer* layerNamed(const QString& name) const;
  void onJobDone(const JobOutcome& outcome, QgsMapLayer* layer);

  TerrasynthPlugin* mPlugin;
  QString mScriptPath;
  QJsonObject mScript;
  QJsonArray mSteps;
  int mIndex = 0;
  QJsonArray mResults;
  QJsonArray mJobs;
  int mJobsDone = 0;
  std::function<bool(QString*)> mPoll;  // an asynchronous step: true when done
  QTimer mPollTimer;
  QTimer mDeadline;
  bool mFinished = false;
};

}  // namespace terrasynth::plugin
