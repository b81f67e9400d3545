// GoogleTest main for the plugin tests: a real, headless QgsApplication (offscreen platform)
// with a throw-away profile, so that settings written by the tests never reach a user's.
#include <gtest/gtest.h>

#include <QTemporaryDir>
#include <cstring>

#include "qgsapplication.h"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--gtest_list_tests") == 0) return RUN_ALL_TESTS();
  }
  qputenv("QT_QPA_PLATFORM", "offscreen");
  QTemporaryDir profile;
  qputenv("XDG_CONFIG_HOME", profile.filePath(QStringLiteral("config")).toLocal8Bit());
  QgsApplication app(argc, argv, true, profile.path());
  QgsApplication::setPrefixPath(QStringLiteral("/usr"), true);
  QgsApplication::init(profile.path());
  QgsApplication::initQgis();
  const int result = RUN_ALL_TESTS();
  QgsApplication::exitQgis();
  return result;
}
