// Translations: the German .ts is complete and its compiled .qm is embedded and used.
#include <gtest/gtest.h>

#include <QFile>
#include <QPushButton>
#include <QRegularExpression>
#include <QTranslator>

#include "plugin_test_support.h"
#include "terrasynth_dock.h"
#include "terrasynth_plugin.h"

namespace terrasynth::plugin {
namespace {

TEST(Translations, GermanSourceIsComplete) {
  QFile file(QStringLiteral(TERRASYNTH_TEST_SOURCE_DIR "/i18n/terrasynth_de.ts"));
  ASSERT_TRUE(file.open(QIODevice::ReadOnly));
  const QString text = QString::fromUtf8(file.readAll());
  const int messages = static_cast<int>(text.count(QStringLiteral("<message")));
  EXPECT_GT(messages, 100);
  EXPECT_EQ(text.count(QStringLiteral("type=\"unfinished\"")), 0);
  EXPECT_EQ(text.count(QStringLiteral("<translation></translation>")), 0);
}

TEST(Translations, EmbeddedGermanCatalogueTranslatesTheDock) {
  initResources();
  QTranslator translator;
  ASSERT_TRUE(translator.load(QStringLiteral(":/terrasynth/i18n/terrasynth_de.qm")));
  ASSERT_TRUE(QCoreApplication::installTranslator(&translator));
  {
    TerrasynthDock dock;
    EXPECT_EQ(dock.windowTitle(), QStringLiteral("Terrasynth"));
    const auto* generate = dock.generateButton();
    EXPECT_EQ(generate->text(), QStringLiteral("Generieren")) << generate->text().toStdString();
  }
  EXPECT_EQ(QCoreApplication::translate("Terrasynth", "%1 min"), QStringLiteral("%1 Min."));
  QCoreApplication::removeTranslator(&translator);
}

}  // namespace
}  // namespace terrasynth::plugin
