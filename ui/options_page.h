#pragma once
// The "Terrasynth" page of the QGIS Options dialog: model folders, device, threads, the
// default output folder and the texture bank of generation.
#include "qgsoptionswidgetfactory.h"

class QComboBox;
class QListWidget;
class QSpinBox;
class QLabel;
class QgsFileWidget;

namespace terrasynth::plugin {

class OptionsPage : public QgsOptionsPageWidget {
  Q_OBJECT
 public:
  explicit OptionsPage(QWidget* parent = nullptr);
  void apply() override;

 signals:
  void settingsApplied();

 private:
  void addFolder();
  void removeFolder();
  void updateDeviceText();

  QListWidget* mFolders = nullptr;
  QComboBox* mDevice = nullptr;
  QSpinBox* mThreads = nullptr;
  QLabel* mDeviceText = nullptr;
  QgsFileWidget* mOutputFolder = nullptr;
  QgsFileWidget* mTextureBank = nullptr;
};

class OptionsFactory : public QgsOptionsWidgetFactory {
  Q_OBJECT
 public:
  OptionsFactory();
  QgsOptionsPageWidget* createWidget(QWidget* parent = nullptr) const override;

 signals:
  // After the user pressed OK in the Options dialog.
  void settingsChanged();
};

}  // namespace terrasynth::plugin
