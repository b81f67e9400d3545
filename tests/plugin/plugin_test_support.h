#pragma once
// Helpers shared by the plugin tests: fixtures in ../shared, a scratch folder outside /tmp-only
// assumptions, the model used for end-to-end generation, and event-loop waiting.
#include <gtest/gtest.h>

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QString>
#include <QTemporaryDir>
#include <functional>

#include "pipeline_bridge.h"
#include "terrasynth/test_paths.h"

namespace terrasynth::plugin::test {

inline QString sharedFixture(const QString& relative) {
  return QDir(QStringLiteral(TERRASYNTH_TEST_SHARED_DIR "/fixtures")).filePath(relative);
}

// A fresh folder under the build tree (rasters under /tmp count as temporary layers in QGIS).
inline QString scratchRoot() {
  const QString root = QStringLiteral(TERRASYNTH_TEST_BINARY_DIR "/test_scratch/plugin");
  QDir().mkpath(root);
  return root;
}

// Processes events until `done` or the timeout; returns done().
inline bool waitFor(const std::function<bool()>& done, int timeoutMs = 120000) {
  QElapsedTimer timer;
  timer.start();
  while (!done() && timer.elapsed() < timeoutMs) {
    QCoreApplication::processEvents(QEventLoop::AllEvents, 50);
  }
  return done();
}

// The model end-to-end tests generate with: $TERRASYNTH_TEST_MODEL, else the build's
// TERRASYNTH_PLUGIN_TEST_MODEL, else the default model on the search path.
inline QString testModelName() {
  const QString fromEnv = qEnvironmentVariable("TERRASYNTH_TEST_MODEL");
  if (!fromEnv.isEmpty()) return fromEnv;
  return QStringLiteral(TERRASYNTH_PLUGIN_TEST_MODEL);
}

// Skips when this build has no generation pipeline; fails when no model can be found.
#define TERRASYNTH_REQUIRE_MODEL(info)                                                        \
  if (!::terrasynth::plugin::pipelineAvailable()) {                                           \
    GTEST_SKIP() << "this build has no generation pipeline (core/pipeline jobs missing)";     \
  }                                                                                           \
  engine::ModelInfo info;                                                                     \
  try {                                                                                       \
    info = ::terrasynth::plugin::findModel(::terrasynth::plugin::test::testModelName());     \
  } catch (const std::exception& error) {                                                     \
    FAIL() << "no model for the end-to-end tests (set TERRASYNTH_TEST_MODEL): " << error.what(); \
  }

}  // namespace terrasynth::plugin::test
