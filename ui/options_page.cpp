#include "options_page.h"

#include <QComboBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QPushButton>
#include <QSpinBox>
#include <QThread>
#include <QVBoxLayout>

#include "pipeline_bridge.h"
#include "qgsfilewidget.h"
#include "settings.h"

namespace terrasynth::plugin {

OptionsPage::OptionsPage(QWidget* parent) : QgsOptionsPageWidget(parent) {
  const PluginSettings settings = PluginSettings::load();
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);

  auto* modelsBox = new QGroupBox(tr("Model folders"), this);
  auto* modelsLayout = new QVBoxLayout(modelsBox);
  auto* modelsHelp = new QLabel(
      tr("Folders searched for Terrasynth models (each model is a folder with a model.json), "
         "before the models installed with the plugin."),
      modelsBox);
  modelsHelp->setWordWrap(true);
  modelsLayout->addWidget(modelsHelp);
  mFolders = new QListWidget(modelsBox);
  mFolders->addItems(settings.modelFolders);
  modelsLayout->addWidget(mFolders);
  auto* buttons = new QHBoxLayout();
  auto* add = new QPushButton(tr("Add folder…"), modelsBox);
  auto* remove = new QPushButton(tr("Remove"), modelsBox);
  buttons->addWidget(add);
  buttons->addWidget(remove);
  buttons->addStretch();
  modelsLayout->addLayout(buttons);
  layout->addWidget(modelsBox);
  connect(add, &QPushButton::clicked, this, &OptionsPage::addFolder);
  connect(remove, &QPushButton::clicked, this, &OptionsPage::removeFolder);

  auto* computeBox = new QGroupBox(tr("Computation"), this);
  auto* form = new QFormLayout(computeBox);
  mDevice = new QComboBox(computeBox);
  mDevice->addItem(tr("Automatic (GPU when available)"), QStringLiteral("auto"));
  mDevice->addItem(tr("CPU"), QStringLiteral("cpu"));
  mDevice->addItem(tr("GPU (CUDA)"), QStringLiteral("cuda"));
  mDevice->setCurrentIndex(std::max(0, mDevice->findData(settings.device)));
  form->addRow(tr("Device"), mDevice);
  mThreads = new QSpinBox(computeBox);
  mThreads->setRange(0, 1024);
  mThreads->setSpecialValueText(tr("All cores (%1)").arg(QThread::idealThreadCount()));
  mThreads->setValue(settings.threads);
  form->addRow(tr("CPU threads"), mThreads);
  mDeviceText = new QLabel(computeBox);
  form->addRow(tr("In use"), mDeviceText);
  layout->addWidget(computeBox);
  connect(mDevice, qOverload<int>(&QComboBox::currentIndexChanged), this,
          &OptionsPage::updateDeviceText);
  connect(mThreads, qOverload<int>(&QSpinBox::valueChanged), this,
          &OptionsPage::updateDeviceText);
  updateDeviceText();

  auto* outputBox = new QGroupBox(tr("Output"), this);
  auto* outputForm = new QFormLayout(outputBox);
  mOutputFolder = new QgsFileWidget(outputBox);
  mOutputFolder->setStorageMode(QgsFileWidget::GetDirectory);
  mOutputFolder->setFilePath(settings.outputFolder);
  outputForm->addRow(tr("Default output folder"), mOutputFolder);
  auto* outputHelp = new QLabel(
      tr("Used when the project has not been saved yet; otherwise images go to the project "
         "folder unless the dock names another folder."),
      outputBox);
  outputHelp->setWordWrap(true);
  outputForm->addRow(outputHelp);
  mTextureBank = new QgsFileWidget(outputBox);
  mTextureBank->setStorageMode(QgsFileWidget::GetDirectory);
  mTextureBank->setFilePath(settings.textureBank);
  outputForm->addRow(tr("Texture bank (optional)"), mTextureBank);
  auto* textureHelp = new QLabel(
      tr("A folder written by `terrasynth textures` from labelled photos: generated images get "
         "their fine detail from its photos (roads and roofs of a layout from real patches), "
         "at about 1.5 times the time. Empty: the model's own detail."),
      outputBox);
  textureHelp->setWordWrap(true);
  outputForm->addRow(textureHelp);
  layout->addWidget(outputBox);
  layout->addStretch();
}

void OptionsPage::addFolder() {
  const QString folder = QFileDialog::getExistingDirectory(this, tr("Model folder"));
  if (!folder.isEmpty() && mFolders->findItems(folder, Qt::MatchExactly).isEmpty()) {
    mFolders->addItem(folder);
  }
}

void OptionsPage::removeFolder() { delete mFolders->takeItem(mFolders->currentRow()); }

void OptionsPage::updateDeviceText() {
  mDeviceText->setText(describeDevice(mDevice->currentData().toString(), mThreads->value()));
}

void OptionsPage::apply() {
  PluginSettings settings = PluginSettings::load();
  settings.modelFolders.clear();
  for (int row = 0; row < mFolders->count(); ++row) {
    settings.modelFolders << mFolders->item(row)->text();
  }
  settings.device = mDevice->currentData().toString();
  settings.threads = mThreads->value();
  settings.outputFolder = mOutputFolder->filePath();
  settings.textureBank = mTextureBank->filePath();
  settings.save();
  emit settingsApplied();
}

OptionsFactory::OptionsFactory()
    : QgsOptionsWidgetFactory(tr("Terrasynth"),
                              QIcon(QStringLiteral(":/terrasynth/icons/terrasynth.svg"))) {}

QgsOptionsPageWidget* OptionsFactory::createWidget(QWidget* parent) const {
  auto* page = new OptionsPage(parent);
  connect(page, &OptionsPage::settingsApplied, this, &OptionsFactory::settingsChanged);
  return page;
}

}  // namespace terrasynth::plugin
