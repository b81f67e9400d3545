#include "settings.h"

#include <QDir>
#include <QFileInfo>

#include "qgsproject.h"
#include "qgssettings.h"

namespace terrasynth::plugin {

namespace {
const QString kGroup = QStringLiteral("terrasynth/");
}

PluginSettings PluginSettings::load() {
  QgsSettings settings;
  PluginSettings result;
  result.modelFolders = settings.value(kGroup + QStringLiteral("modelFolders")).toStringList();
  result.device = settings.value(kGroup + QStringLiteral("device"), QStringLiteral("auto")).toString();
  result.threads = settings.value(kGroup + QStringLiteral("threads"), 0).toInt();
  result.outputFolder = settings.value(kGroup + QStringLiteral("outputFolder")).toString();
  result.lastModel = settings.value(kGroup + QStringLiteral("lastModel")).toString();
  result.textureBank = settings.value(kGroup + QStringLiteral("textureBank")).toString();
  return result;
}

void PluginSettings::save() const {
  QgsSettings settings;
  settings.setValue(kGroup + QStringLiteral("modelFolders"), modelFolders);
  settings.setValue(kGroup + QStringLiteral("device"), device);
  settings.setValue(kGroup + QStringLiteral("threads"), threads);
  settings.setValue(kGroup + QStringLiteral("outputFolder"), outputFolder);
  settings.setValue(kGroup + QStringLiteral("lastModel"), lastModel);
  settings.setValue(kGroup + QStringLiteral("textureBank"), textureBank);
}

QString defaultOutputFolder(const PluginSettings& settings) {
  const QString projectFile = QgsProject::instance()->fileName();
  if (!projectFile.isEmpty()) return QFileInfo(projectFile).absolutePath();
  if (!settings.outputFolder.isEmpty()) return settings.outputFolder;
  return QDir::home().filePath(QStringLiteral("Terrasynth"));
}

}  // namespace terrasynth::plugin
