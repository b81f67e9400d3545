#pragma once
// The plugin's persistent settings (QGIS user profile, group "terrasynth/").
#include <QString>
#include <QStringList>

namespace terrasynth::plugin {

struct PluginSettings {
  QStringList modelFolders;  // searched before the installed models
  QString device = QStringLiteral("auto");  // "auto" | "cpu" | "cuda"
  int threads = 0;                          // CPU threads; 0 = all cores
  QString outputFolder;                     // empty = the project folder
  QString lastModel;                        // model picked in the dock last time
  QString textureBank;  // a texture bank folder for generation (`terrasynth textures`); empty = off

  static PluginSettings load();
  void save() const;
};

// Where outputs go when the dock says "project folder": the project's folder, the default
// output folder of the settings, or ~/Terrasynth for an unsaved project.
QString defaultOutputFolder(const PluginSettings& settings);

}  // namespace terrasynth::plugin
