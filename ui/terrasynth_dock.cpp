#include "terrasynth_dock.h"

#include <QButtonGroup>
#include <QCheckBox>
#include <QComboBox>
#include <QFileInfo>
#include <QFormLayout>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPixmap>
#include <QPushButton>
#include <QRadioButton>
#include <QRandomGenerator>
#include <QScrollArea>
#include <QSpinBox>
#include <QStackedWidget>
#include <QTableWidget>
#include <QToolButton>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>

#include "layout_layer.h"
#include "map_tools.h"
#include "qgsdoublespinbox.h"
#include "qgsfieldcombobox.h"
#include "qgsfilewidget.h"
#include "qgsmaplayercombobox.h"
#include "qgsmaplayerproxymodel.h"
#include "qgsproject.h"
#include "qgsrasterlayer.h"
#include "qgsvectorlayer.h"

namespace terrasynth::plugin {

namespace {

QIcon swatch(const QColor& colour) {
  QPixmap pixmap(16, 16);
  pixmap.fill(colour);
  return QIcon(pixmap);
}

QString joined(const std::vector<std::string>& items) {
  QStringList list;
  for (const std::string& item : items) list << QString::fromStdString(item);
  return list.join(QStringLiteral(", "));
}

QToolButton* toolButton(const QString& text, const QString& icon, QWidget* parent) {
  auto* button = new QToolButton(parent);
  button->setText(text);
  button->setToolTip(text);
  if (!icon.isEmpty()) button->setIcon(QIcon(icon));
  button->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
  return button;
}

}  // namespace

TerrasynthDock::TerrasynthDock(QWidget* parent) : QgsDockWidget(tr("Terrasynth"), parent) {
  setObjectName(QStringLiteral("TerrasynthDock"));
  auto* scroll = new QScrollArea(this);
  scroll->setWidgetResizable(true);
  scroll->setFrameShape(QFrame::NoFrame);
  scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
  setMinimumWidth(340);
  auto* content = new QWidget(scroll);
  auto* layout = new QVBoxLayout(content);

  layout->addWidget(buildModelGroup());

  auto* modeRow = new QHBoxLayout();
  modeRow->addWidget(new QLabel(tr("Mode"), content));
  mMode = new QComboBox(content);
  mMode->setObjectName(QStringLiteral("mode"));
  mMode->addItem(tr("Region"), static_cast<int>(JobMode::Region));
  mMode->addItem(tr("Layout"), static_cast<int>(JobMode::Layout));
  mMode->addItem(tr("OSM layers"), static_cast<int>(JobMode::Osm));
  mMode->addItem(tr("Inpaint"), static_cast<int>(JobMode::Inpaint));
  modeRow->addWidget(mMode, 1);
  layout->addLayout(modeRow);

  mRegionGroup = buildRegionGroup();
  layout->addWidget(mRegionGroup);
  mPages = new QStackedWidget(content);
  mPages->addWidget(new QWidget(mPages));  // the region mode needs nothing more
  mPages->addWidget(buildLayoutPage());
  mPages->addWidget(buildOsmPage());
  mPages->addWidget(buildInpaintPage());
  layout->addWidget(mPages);
  layout->addWidget(buildParameterGroup());
  layout->addWidget(buildOutputGroup());

  mGenerate = new QPushButton(QIcon(QStringLiteral(":/terrasynth/icons/generate.svg")),
                              tr("Generate"), content);
  mGenerate->setObjectName(QStringLiteral("generate"));
  mGenerate->setDefault(true);
  layout->addWidget(mGenerate);
  mStatus = new QLabel(content);
  mStatus->setWordWrap(true);
  mStatus->setTextInteractionFlags(Qt::TextSelectableByMouse);
  layout->addWidget(mStatus);
  mPreview = new QLabel(content);
  mPreview->setAlignment(Qt::AlignCenter);
  mPreview->setMinimumHeight(0);
  layout->addWidget(mPreview);
  layout->addStretch();

  scroll->setWidget(content);
  setWidget(scroll);

  connect(mMode, qOverload<int>(&QComboBox::currentIndexChanged), this,
          &TerrasynthDock::updateModeWidgets);
  connect(mGenerate, &QPushButton::clicked, this, &TerrasynthDock::generateRequested);
  updateModeWidgets();
  updateModelInfo();
}

QWidget* TerrasynthDock::buildModelGroup() {
  auto* box = new QGroupBox(tr("Model"), this);
  auto* layout = new QVBoxLayout(box);
  auto* row = new QHBoxLayout();
  mModel = new QComboBox(box);
  mModel->setObjectName(QStringLiteral("model"));
  row->addWidget(mModel, 1);
  auto* options = new QToolButton(box);
  options->setIcon(QIcon(QStringLiteral(":/terrasynth/icons/settings.svg")));
  options->setToolTip(tr("Terrasynth settings (model folders, device, threads)"));
  row->addWidget(options);
  layout->addLayout(row);
  mModelInfo = new QLabel(box);
  mModelInfo->setWordWrap(true);
  layout->addWidget(mModelInfo);
  mDevice = new QLabel(box);
  mDevice->setWordWrap(true);
  mDevice->setObjectName(QStringLiteral("device"));
  layout->addWidget(mDevice);
  connect(mModel, qOverload<int>(&QComboBox::currentIndexChanged), this, [this] {
    updateModelInfo();
    emit modelChanged();
  });
  connect(options, &QToolButton::clicked, this, &TerrasynthDock::optionsRequested);
  return box;
}

QWidget* TerrasynthDock::buildRegionGroup() {
  auto* box = new QGroupBox(tr("Region"), this);
  auto* layout = new QVBoxLayout(box);
  auto* row = new QGridLayout();
  auto* rectangle = toolButton(tr("Rectangle"), QStringLiteral(":/terrasynth/icons/rectangle.svg"), box);
  auto* polygon = toolButton(tr("Polygon"), QStringLiteral(":/terrasynth/icons/polygon.svg"), box);
  auto* extent = toolButton(tr("Map extent"), QString(), box);
  auto* clear = toolButton(tr("Clear"), QString(), box);
  rectangle->setToolTip(tr("Draw a rectangle on the map (drag, or click two corners)"));
  polygon->setToolTip(tr("Draw a polygon on the map (click the vertices, right-click to close)"));
  extent->setToolTip(tr("Use the visible map extent"));
  for (QToolButton* button : {rectangle, polygon, extent, clear}) {
    button->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
  }
  row->addWidget(rectangle, 0, 0);
  row->addWidget(polygon, 0, 1);
  row->addWidget(extent, 1, 0);
  row->addWidget(clear, 1, 1);
  layout->addLayout(row);
  mRegionInfo = new QLabel(box);
  mRegionInfo->setWordWrap(true);
  mRegionInfo->setObjectName(QStringLiteral("regionInfo"));
  layout->addWidget(mRegionInfo);
  connect(rectangle, &QToolButton::clicked, this,
          [this] { emit drawRegionRequested(static_cast<int>(ShapeMapTool::Shape::Rectangle)); });
  connect(polygon, &QToolButton::clicked, this,
          [this] { emit drawRegionRequested(static_cast<int>(ShapeMapTool::Shape::Polygon)); });
  connect(extent, &QToolButton::clicked, this, &TerrasynthDock::canvasExtentRequested);
  connect(clear, &QToolButton::clicked, this, &TerrasynthDock::clearRegion);
  updateRegionText();
  return box;
}

QWidget* TerrasynthDock::buildLayoutPage() {
  auto* box = new QGroupBox(tr("Layout"), this);
  auto* layout = new QVBoxLayout(box);
  auto* form = new QFormLayout();
  mLayoutLayer = new QgsMapLayerComboBox(box);
  mLayoutLayer->setFilters(QgsMapLayerProxyModel::PolygonLayer | QgsMapLayerProxyModel::LineLayer);
  mLayoutLayer->setAllowEmptyLayer(true);
  form->addRow(tr("Layer"), mLayoutLayer);
  mLayoutField = new QgsFieldComboBox(box);
  form->addRow(tr("Class field"), mLayoutField);
  layout->addLayout(form);

  mPaintBox = new QWidget(box);
  auto* paintLayout = new QVBoxLayout(mPaintBox);
  paintLayout->setContentsMargins(0, 0, 0, 0);
  auto* newLayer = new QPushButton(QIcon(QStringLiteral(":/terrasynth/icons/layout.svg")),
                                   tr("New layout layer"), mPaintBox);
  newLayer->setToolTip(tr("Create a \"Terrasynth layout\" GeoPackage layer to paint on"));
  paintLayout->addWidget(newLayer);
  auto* classRow = new QHBoxLayout();
  classRow->addWidget(new QLabel(tr("Paint"), mPaintBox));
  mPaintClass = new QComboBox(mPaintBox);
  mPaintClass->setObjectName(QStringLiteral("paintClass"));
  classRow->addWidget(mPaintClass, 1);
  paintLayout->addLayout(classRow);
  auto* paintRow = new QHBoxLayout();
  auto* polygon = toolButton(tr("Polygon"), QStringLiteral(":/terrasynth/icons/polygon.svg"), mPaintBox);
  auto* box2 = toolButton(tr("Rotated box"), QStringLiteral(":/terrasynth/icons/box.svg"), mPaintBox);
  polygon->setToolTip(tr("Paint a polygon of the chosen class"));
  box2->setToolTip(tr("Paint a rotated box of the chosen class: click two corners of one side, "
                      "then click to set its width"));
  for (QToolButton* button : {polygon, box2}) {
    button->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
    paintRow->addWidget(button);
  }
  paintLayout->addLayout(paintRow);
  layout->addWidget(mPaintBox);

  mMappingBox = new QWidget(box);
  auto* mappingLayout = new QVBoxLayout(mMappingBox);
  mappingLayout->setContentsMargins(0, 0, 0, 0);
  auto* mappingRow = new QHBoxLayout();
  mappingRow->addWidget(new QLabel(tr("Field values to classes"), mMappingBox), 1);
  auto* read = new QPushButton(tr("Read values"), mMappingBox);
  mappingRow->addWidget(read);
  mappingLayout->addLayout(mappingRow);
  mMapping = new QTableWidget(0, 2, mMappingBox);
  mMapping->setHorizontalHeaderLabels({tr("Value"), tr("Class")});
  mMapping->horizontalHeader()->setStretchLastSection(true);
  mMapping->verticalHeader()->hide();
  mMapping->setMinimumHeight(120);
  mappingLayout->addWidget(mMapping);
  auto* mappingHelp = new QLabel(
      tr("Without a table, the field must hold class names or ids."), mMappingBox);
  mappingHelp->setWordWrap(true);
  mappingLayout->addWidget(mappingHelp);
  layout->addWidget(mMappingBox);

  connect(mLayoutLayer, &QgsMapLayerComboBox::layerChanged, this, [this](QgsMapLayer* layer) {
    mLayoutField->setLayer(layer);
    updateLayoutFieldWidgets();
  });
  connect(mLayoutField, &QgsFieldComboBox::fieldChanged, this, [this] {
    mMapping->setRowCount(0);
  });
  connect(newLayer, &QPushButton::clicked, this, &TerrasynthDock::newLayoutLayerRequested);
  connect(polygon, &QToolButton::clicked, this,
          [this] { emit paintLayoutRequested(static_cast<int>(ShapeMapTool::Shape::Polygon)); });
  connect(box2, &QToolButton::clicked, this,
          [this] { emit paintLayoutRequested(static_cast<int>(ShapeMapTool::Shape::RotatedBox)); });
  connect(read, &QPushButton::clicked, this, &TerrasynthDock::readLayoutValues);
  return box;
}

QWidget* TerrasynthDock::buildOsmPage() {
  auto* box = new QGroupBox(tr("OpenStreetMap"), this);
  auto* form = new QFormLayout(box);
  mOsmLayer = new QComboBox(box);
  mOsmLayer->setToolTip(tr("OpenStreetMap files (.osm, .pbf) among the project's layers"));
  form->addRow(tr("Project layer"), mOsmLayer);
  mOsmFile = new QgsFileWidget(box);
  mOsmFile->setFilter(tr("OpenStreetMap files (*.osm *.pbf)"));
  form->addRow(tr("or file"), mOsmFile);
  mOsmMapping = new QgsFileWidget(box);
  mOsmMapping->setFilter(tr("JSON files (*.json)"));
  mOsmMapping->setToolTip(tr("Tag-to-class mapping; empty = the default OSM class mapping"));
  form->addRow(tr("Class mapping"), mOsmMapping);
  auto* help = new QLabel(tr("Roads, buildings, water and land use become classes through the "
                             "mapping; draw the region to generate above."),
                          box);
  help->setWordWrap(true);
  form->addRow(help);
  connect(mOsmFile, &QgsFileWidget::fileChanged, this, [this](const QString& path) {
    if (!path.isEmpty()) mOsmLayer->setCurrentIndex(-1);
  });
  return box;
}

QWidget* TerrasynthDock::buildInpaintPage() {
  auto* box = new QGroupBox(tr("Inpaint"), this);
  auto* layout = new QVBoxLayout(box);
  auto* form = new QFormLayout();
  mInpaintRaster = new QgsMapLayerComboBox(box);
  mInpaintRaster->setFilters(QgsMapLayerProxyModel::RasterLayer);
  form->addRow(tr("Raster"), mInpaintRaster);
  layout->addLayout(form);

  auto* group = new QButtonGroup(box);
  mMaskDrawn = new QRadioButton(tr("Mask drawn on the map"), box);
  mMaskFromLayer = new QRadioButton(tr("Mask polygons from a layer"), box);
  group->addButton(mMaskDrawn);
  group->addButton(mMaskFromLayer);
  mMaskDrawn->setChecked(true);
  layout->addWidget(mMaskDrawn);
  auto* drawRow = new QHBoxLayout();
  auto* draw = toolButton(tr("Draw mask"), QStringLiteral(":/terrasynth/icons/polygon.svg"), box);
  draw->setToolTip(tr("Draw a polygon around the area to regenerate"));
  auto* clear = toolButton(tr("Clear"), QString(), box);
  mMaskInfo = new QLabel(box);
  drawRow->addWidget(draw);
  drawRow->addWidget(clear);
  drawRow->addWidget(mMaskInfo, 1);
  layout->addLayout(drawRow);
  layout->addWidget(mMaskFromLayer);
  auto* layerForm = new QFormLayout();
  mMaskLayer = new QgsMapLayerComboBox(box);
  mMaskLayer->setFilters(QgsMapLayerProxyModel::PolygonLayer);
  layerForm->addRow(tr("Layer"), mMaskLayer);
  mMaskSelected = new QCheckBox(tr("Selected features only"), box);
  mMaskSelected->setChecked(true);
  layerForm->addRow(QString(), mMaskSelected);
  mGrow = new QgsDoubleSpinBox(box);
  mGrow->setRange(0, 1000);
  mGrow->setSuffix(tr(" m"));
  mGrow->setClearValue(0);
  layerForm->addRow(tr("Grow mask by"), mGrow);
  mFeather = new QgsDoubleSpinBox(box);
  mFeather->setRange(-1, 1000);
  mFeather->setSuffix(tr(" m"));
  mFeather->setSpecialValueText(tr("Automatic"));
  mFeather->setValue(-1);
  mFeather->setClearValue(-1, tr("Automatic"));
  layerForm->addRow(tr("Feather"), mFeather);
  layout->addLayout(layerForm);
  auto* help = new QLabel(tr("The result is a new layer; the raster itself is never changed."), box);
  help->setWordWrap(true);
  layout->addWidget(help);

  connect(draw, &QToolButton::clicked, this, [this] {
    mMaskDrawn->setChecked(true);
    emit drawMaskRequested();
  });
  connect(clear, &QToolButton::clicked, this, &TerrasynthDock::clearMaskShapes);
  connect(mMaskLayer, &QgsMapLayerComboBox::layerChanged, this,
          [this] { mMaskFromLayer->setChecked(true); });
  clearMaskShapes();
  return box;
}

QWidget* TerrasynthDock::buildParameterGroup() {
  auto* box = new QGroupBox(tr("Parameters"), this);
  auto* form = new QFormLayout(box);
  mGsd = new QgsDoubleSpinBox(box);
  mGsd->setObjectName(QStringLiteral("gsd"));
  mGsd->setDecimals(3);
  mGsd->setRange(0.01, 1000);
  mGsd->setSingleStep(0.05);
  mGsd->setSuffix(tr(" m/px"));
  mGsd->setShowClearButton(true);
  mGsd->setToolTip(tr("Ground resolution of the output; the clear button restores the model's"));
  form->addRow(tr("Resolution"), mGsd);

  mSteps = new QSpinBox(box);
  mSteps->setRange(0, 1000);
  mSteps->setSpecialValueText(tr("Model default"));
  form->addRow(tr("Steps"), mSteps);

  mSampler = new QComboBox(box);
  mSampler->addItem(tr("Model default"), QString());
  mSampler->addItem(QStringLiteral("DPM-Solver++ 2M"), QStringLiteral("dpmpp_2m"));
  mSampler->addItem(QStringLiteral("DPM-Solver++ 2M Karras"), QStringLiteral("dpmpp_2m_karras"));
  mSampler->addItem(QStringLiteral("DDIM"), QStringLiteral("ddim"));
  mSampler->addItem(QStringLiteral("Euler"), QStringLiteral("euler"));
  mSampler->addItem(QStringLiteral("Euler Karras"), QStringLiteral("euler_karras"));
  mSampler->addItem(QStringLiteral("Euler ancestral"), QStringLiteral("euler_ancestral"));
  form->addRow(tr("Sampler"), mSampler);

  mGuidance = new QgsDoubleSpinBox(box);
  mGuidance->setRange(-1, 50);
  mGuidance->setDecimals(2);
  mGuidance->setSingleStep(0.25);
  mGuidance->setSpecialValueText(tr("Model default"));
  mGuidance->setValue(-1);
  mGuidance->setClearValue(-1, tr("Model default"));
  form->addRow(tr("Guidance"), mGuidance);

  auto* seedRow = new QHBoxLayout();
  mSeed = new QSpinBox(box);
  mSeed->setObjectName(QStringLiteral("seed"));
  mSeed->setRange(0, 2147483647);
  seedRow->addWidget(mSeed, 1);
  auto* newSeed = new QToolButton(box);
  newSeed->setIcon(QIcon(QStringLiteral(":/terrasynth/icons/dice.svg")));
  newSeed->setToolTip(tr("New seed"));
  seedRow->addWidget(newSeed);
  form->addRow(tr("Seed"), seedRow);

  mScene = new QComboBox(box);
  mScene->setEditable(false);
  form->addRow(tr("Scene"), mScene);
  mStyle = new QComboBox(box);
  form->addRow(tr("Style"), mStyle);

  connect(newSeed, &QToolButton::clicked, this, [this] {
    setSeed(QRandomGenerator::global()->bounded(2147483647));
  });
  connect(mGsd, qOverload<double>(&QgsDoubleSpinBox::valueChanged), this, [this] {
    updateDeviceText();
    updateRegionText();
    emit gsdChanged();
  });
  return box;
}

QWidget* TerrasynthDock::buildOutputGroup() {
  auto* box = new QGroupBox(tr("Output"), this);
  auto* layout = new QVBoxLayout(box);
  mProjectFolder = new QRadioButton(tr("Project folder"), box);
  mChosenFolder = new QRadioButton(tr("Folder"), box);
  auto* group = new QButtonGroup(box);
  group->addButton(mProjectFolder);
  group->addButton(mChosenFolder);
  mProjectFolder->setChecked(true);
  layout->addWidget(mProjectFolder);
  auto* folderRow = new QHBoxLayout();
  folderRow->addWidget(mChosenFolder);
  mFolder = new QgsFileWidget(box);
  mFolder->setStorageMode(QgsFileWidget::GetDirectory);
  folderRow->addWidget(mFolder, 1);
  layout->addLayout(folderRow);
  auto* formatRow = new QHBoxLayout();
  formatRow->addWidget(new QLabel(tr("Format"), box));
  mFormat = new QComboBox(box);
  mFormat->addItem(tr("GeoTIFF (tiled, compressed)"), false);
  mFormat->addItem(tr("Cloud Optimized GeoTIFF"), true);
  formatRow->addWidget(mFormat, 1);
  layout->addLayout(formatRow);
  connect(mFolder, &QgsFileWidget::fileChanged, this, [this](const QString& path) {
    if (!path.isEmpty()) mChosenFolder->setChecked(true);
  });
  return box;
}

void TerrasynthDock::setModels(const std::vector<engine::ModelInfo>& models,
                               const QString& preferred) {
  const QString previous = mModel->currentData().toString();
  mModels = models;
  {
    const QSignalBlocker blocker(mModel);
    mModel->clear();
    for (const engine::ModelInfo& model : mModels) {
      const QString label = model.version.empty()
                                ? QString::fromStdString(model.name)
                                : QStringLiteral("%1 %2").arg(QString::fromStdString(model.name),
                                                              QString::fromStdString(model.version));
      mModel->addItem(label, QString::fromStdString(model.dir));
    }
    if (mModels.empty()) mModel->addItem(tr("No model found"), QString());
  }
  if (!selectModel(preferred) && !selectModel(previous)) mModel->setCurrentIndex(0);
  updateModelInfo();
  emit modelChanged();
}

const engine::ModelInfo* TerrasynthDock::currentModel() const {
  const int index = mModel->currentIndex();
  return index >= 0 && index < static_cast<int>(mModels.size()) ? &mModels[index] : nullptr;
}

bool TerrasynthDock::selectModel(const QString& nameOrDir) {
  if (nameOrDir.isEmpty()) return false;
  const QString canonical = QFileInfo(nameOrDir).canonicalFilePath();
  for (size_t i = 0; i < mModels.size(); ++i) {
    const QString dir = QString::fromStdString(mModels[i].dir);
    if (QString::fromStdString(mModels[i].name) == nameOrDir || dir == nameOrDir ||
        (!canonical.isEmpty() && QFileInfo(dir).canonicalFilePath() == canonical)) {
      mModel->setCurrentIndex(static_cast<int>(i));
      return true;
    }
  }
  return false;
}

void TerrasynthDock::updateModelInfo() {
  const engine::ModelInfo* model = currentModel();
  const QString previousClass = mPaintClass ? mPaintClass->currentText() : QString();
  if (!model) {
    mModelInfo->setText(tr("Add a folder holding Terrasynth models in the settings."));
    mGenerate->setEnabled(false);
  } else {
    QStringList lines;
    if (!model->description.empty()) lines << QString::fromStdString(model->description);
    lines << tr("Native resolution: %1 m/px (trained %2–%3 m/px)")
                 .arg(model->native_gsd)
                 .arg(model->min_gsd)
                 .arg(model->max_gsd);
    lines << tr("Classes: %1").arg(joined(model->classes));
    QString licence = tr("Licence: %1").arg(QString::fromStdString(model->licence));
    if (!model->licence_note.empty()) {
      licence += QStringLiteral(" — ") + QString::fromStdString(model->licence_note);
    }
    lines << licence;
    mModelInfo->setText(lines.join(QLatin1Char('\n')));
    mGenerate->setEnabled(true);
    {
      const QSignalBlocker blocker(mGsd);
      mGsd->setClearValue(model->native_gsd);
      mGsd->setValue(model->native_gsd);
    }
  }
  const ClassPalette palette = model ? ClassPalette::fromModel(*model) : ClassPalette::standard();
  mPaintClass->clear();
  for (int i = 0; i < palette.names.size(); ++i) {
    mPaintClass->addItem(swatch(palette.colours.value(i)), palette.names.at(i));
  }
  if (!previousClass.isEmpty()) setPaintClass(previousClass);

  mScene->clear();
  mScene->addItem(tr("(none)"), QString());
  mStyle->clear();
  mStyle->addItem(tr("Model default"), QString());
  if (model) {
    for (const std::string& scene : model->scenes) {
      mScene->addItem(QString::fromStdString(scene), QString::fromStdString(scene));
    }
    for (const std::string& style : model->styles) {
      mStyle->addItem(QString::fromStdString(style), QString::fromStdString(style));
    }
    mScene->setEnabled(!model->scenes.empty());
    mStyle->setEnabled(!model->styles.empty());
  }
  updateDeviceText();
  updateRegionText();
}

void TerrasynthDock::setDeviceInfo(const QString& description, double secondsPerPixel) {
  mDeviceDescription = description;
  mSecondsPerPixel = secondsPerPixel;
  updateDeviceText();
  updateRegionText();
}

void TerrasynthDock::updateDeviceText() {
  QString text = mDeviceDescription;
  const double gsd = mGsd->value();
  if (mSecondsPerPixel > 0 && gsd > 0) {
    const double perKm2 = mSecondsPerPixel * 1e6 / (gsd * gsd);
    text = tr("%1: expect ~%2 per km² at %3 m/px")
               .arg(mDeviceDescription, describeDuration(perKm2))
               .arg(gsd);
  }
  mDevice->setText(text);
}

JobMode TerrasynthDock::mode() const { return static_cast<JobMode>(mMode->currentData().toInt()); }

void TerrasynthDock::setMode(JobMode mode) {
  mMode->setCurrentIndex(mMode->findData(static_cast<int>(mode)));
}

void TerrasynthDock::updateModeWidgets() {
  const JobMode current = mode();
  mPages->setCurrentIndex(static_cast<int>(current));
  // The stack takes the size of the page shown, not of the largest one.
  for (int i = 0; i < mPages->count(); ++i) {
    const bool shown = i == mPages->currentIndex();
    mPages->widget(i)->setSizePolicy(shown ? QSizePolicy::Preferred : QSizePolicy::Ignored,
                                     shown ? QSizePolicy::Preferred : QSizePolicy::Ignored);
  }
  mPages->adjustSize();
  mRegionGroup->setVisible(current != JobMode::Inpaint);
  switch (current) {
    case JobMode::Region:
      mGenerate->setText(tr("Generate"));
      break;
    case JobMode::Layout:
      mGenerate->setText(tr("Generate from layout"));
      break;
    case JobMode::Osm:
      mGenerate->setText(tr("Generate from OpenStreetMap"));
      break;
    case JobMode::Inpaint:
      mGenerate->setText(tr("Inpaint"));
      break;
  }
  updateRegionText();
}

double TerrasynthDock::gsd() const { return mGsd->value(); }
void TerrasynthDock::setGsd(double gsd) { mGsd->setValue(gsd); }
void TerrasynthDock::setSteps(int steps) { mSteps->setValue(steps); }
void TerrasynthDock::setSeed(quint64 seed) {
  mSeed->setValue(static_cast<int>(std::min<quint64>(seed, 2147483647)));
}
quint64 TerrasynthDock::seed() const { return static_cast<quint64>(mSeed->value()); }
void TerrasynthDock::setScene(const QString& scene) {
  mScene->setCurrentIndex(std::max(0, mScene->findData(scene)));
}
void TerrasynthDock::setStyle(const QString& style) {
  mStyle->setCurrentIndex(std::max(0, mStyle->findData(style)));
}
void TerrasynthDock::setCog(bool cog) { mFormat->setCurrentIndex(cog ? 1 : 0); }
void TerrasynthDock::setOutputFolder(const QString& folder) {
  mFolder->setFilePath(folder);
  (folder.isEmpty() ? mProjectFolder : mChosenFolder)->setChecked(true);
}

void TerrasynthDock::setRegion(const QgsGeometry& region, const QgsCoordinateReferenceSystem& crs) {
  mRegion = region;
  mRegionCrs = crs;
  updateRegionText();
  emit regionChanged();
}

void TerrasynthDock::clearRegion() {
  mRegion = QgsGeometry();
  updateRegionText();
  emit regionChanged();
}

void TerrasynthDock::showRegionInfo(const QgsGeometry& region,
                                    const QgsCoordinateReferenceSystem& crs) {
  if (region.isNull() || region.type() != QgsWkbTypes::PolygonGeometry) return;
  const RegionSize size = measureRegion(region.boundingBox(), crs, gsd(), mSecondsPerPixel);
  mRegionInfo->setText(describeRegionSize(size));
}

void TerrasynthDock::updateRegionText() {
  if (!mRegionInfo) return;
  if (mRegion.isNull()) {
    mRegionInfo->setText(mode() == JobMode::Layout
                             ? tr("No region: the layout layer's extent is generated.")
                             : tr("No region yet: draw one on the map."));
    return;
  }
  const RegionSize size =
      measureRegion(mRegion.boundingBox(), mRegionCrs, mGsd ? gsd() : 0, mSecondsPerPixel);
  const QString shape = isAxisAlignedRectangle(mRegion) ? tr("Rectangle") : tr("Polygon");
  mRegionInfo->setText(QStringLiteral("%1: %2").arg(shape, describeRegionSize(size)));
}

void TerrasynthDock::setLayoutLayer(QgsVectorLayer* layer) {
  mLayoutLayer->setLayer(layer);
  mLayoutField->setLayer(layer);
  updateLayoutFieldWidgets();
}

QgsVectorLayer* TerrasynthDock::layoutLayer() const {
  return qobject_cast<QgsVectorLayer*>(mLayoutLayer->currentLayer());
}

void TerrasynthDock::updateLayoutFieldWidgets() {
  QgsVectorLayer* layer = layoutLayer();
  const bool painted = isLayoutLayer(layer);
  if (painted || (layer && layer->fields().indexOf(QString::fromLatin1(kLayoutClassField)) >= 0)) {
    mLayoutField->setField(QString::fromLatin1(kLayoutClassField));
  }
  mMapping->setRowCount(0);
  mMappingBox->setVisible(layer && !painted);
}

QString TerrasynthDock::paintClass() const { return mPaintClass->currentText(); }
void TerrasynthDock::setPaintClass(const QString& name) {
  const int index = mPaintClass->findText(name);
  if (index >= 0) mPaintClass->setCurrentIndex(index);
}

void TerrasynthDock::readLayoutValues() {
  QgsVectorLayer* layer = layoutLayer();
  mMapping->setRowCount(0);
  if (!layer) return;
  const int field = layer->fields().indexOf(mLayoutField->currentField());
  if (field < 0) return;
  QList<QVariant> values = layer->uniqueValues(field, 500).values();
  std::sort(values.begin(), values.end(),
            [](const QVariant& a, const QVariant& b) { return a.toString() < b.toString(); });
  QStringList classes;
  for (int i = 0; i < mPaintClass->count(); ++i) classes << mPaintClass->itemText(i);
  for (const QVariant& value : values) {
    if (value.isNull()) continue;
    const QString text = value.toString();
    const int row = mMapping->rowCount();
    mMapping->insertRow(row);
    auto* item = new QTableWidgetItem(text);
    item->setFlags(item->flags() & ~Qt::ItemIsEditable);
    mMapping->setItem(row, 0, item);
    auto* combo = new QComboBox(mMapping);
    combo->addItem(tr("(ignore)"), QString());
    for (int i = 0; i < classes.size(); ++i) {
      combo->addItem(mPaintClass->itemIcon(i), classes.at(i), classes.at(i));
    }
    // A value that already names a class (or its id) maps to it.
    int match = -1;
    for (int i = 0; i < classes.size(); ++i) {
      if (classes.at(i).compare(text, Qt::CaseInsensitive) == 0) match = i;
    }
    bool isId = false;
    const int id = text.toInt(&isId);
    if (match < 0 && isId && id >= 0 && id < classes.size()) match = id;
    combo->setCurrentIndex(match + 1);
    mMapping->setCellWidget(row, 1, combo);
  }
}

QMap<QString, QString> TerrasynthDock::classMapping() const {
  QMap<QString, QString> mapping;
  for (int row = 0; row < mMapping->rowCount(); ++row) {
    const auto* combo = qobject_cast<QComboBox*>(mMapping->cellWidget(row, 1));
    if (combo && mMapping->item(row, 0)) {
      mapping.insert(mMapping->item(row, 0)->text(), combo->currentData().toString());
    }
  }
  return mapping;
}

void TerrasynthDock::setOsmPath(const QString& path) {
  const int index = mOsmLayer->findData(path);
  if (index >= 0) {
    mOsmLayer->setCurrentIndex(index);
    mOsmFile->setFilePath(QString());
  } else {
    mOsmFile->setFilePath(path);
  }
}

void TerrasynthDock::refreshOsmLayers(const QgsProject* project) {
  const QString current = mOsmLayer->currentData().toString();
  mOsmLayer->clear();
  QStringList seen;
  const auto layers = project->mapLayers();
  for (QgsMapLayer* layer : layers) {
    const QString path = osmSourcePath(qobject_cast<QgsVectorLayer*>(layer));
    if (path.isEmpty() || seen.contains(path)) continue;
    seen << path;
    mOsmLayer->addItem(QFileInfo(path).fileName(), path);
  }
  const int index = mOsmLayer->findData(current);
  mOsmLayer->setCurrentIndex(index >= 0 ? index : (mOsmLayer->count() > 0 ? 0 : -1));
}

void TerrasynthDock::setInpaintRaster(QgsRasterLayer* layer) { mInpaintRaster->setLayer(layer); }

void TerrasynthDock::addMaskShape(const QgsGeometry& shape,
                                  const QgsCoordinateReferenceSystem& crs) {
  if (!mMaskShapes.isEmpty() && crs != mMaskCrs) mMaskShapes.clear();
  mMaskShapes << shape;
  mMaskCrs = crs;
  mMaskDrawn->setChecked(true);
  mMaskInfo->setText(tr("%n shape(s)", nullptr, mMaskShapes.size()));
  emit maskShapesChanged();
}

void TerrasynthDock::clearMaskShapes() {
  mMaskShapes.clear();
  mMaskInfo->setText(tr("no shape yet"));
  emit maskShapesChanged();
}

void TerrasynthDock::setMaskLayer(QgsVectorLayer* layer, bool selectedOnly) {
  mMaskLayer->setLayer(layer);
  mMaskSelected->setChecked(selectedOnly);
  mMaskFromLayer->setChecked(true);
}

void TerrasynthDock::setStatus(const QString& text) { mStatus->setText(text); }

void TerrasynthDock::showPreview(const QImage& image) {
  if (image.isNull()) {
    mPreview->clear();
    return;
  }
  const int width = std::max(120, mPreview->width());
  mPreview->setPixmap(QPixmap::fromImage(image).scaled(width, width, Qt::KeepAspectRatio,
                                                       Qt::SmoothTransformation));
}

DockState TerrasynthDock::state(const QString& defaultFolder) const {
  DockState state;
  state.mode = mode();
  if (const engine::ModelInfo* model = currentModel()) {
    state.model = QString::fromStdString(model->dir.empty() ? model->name : model->dir);
  }
  state.gsd = gsd();
  state.steps = mSteps->value();
  state.sampler = mSampler->currentData().toString();
  state.guidance = mGuidance->value();
  state.seed = seed();
  state.scene = mScene->currentData().toString();
  state.style = mStyle->currentData().toString();
  state.region = mRegion;
  state.regionCrs = mRegionCrs;
  state.layoutLayer = layoutLayer();
  state.layoutField = mLayoutField->currentField();
  const QMap<QString, QString> mapping = classMapping();
  bool identity = true;
  for (auto it = mapping.cbegin(); it != mapping.cend(); ++it) identity &= it.key() == it.value();
  if (!identity) state.classMapping = mapping;
  state.osmPath = mOsmFile->filePath().isEmpty() ? mOsmLayer->currentData().toString()
                                                 : mOsmFile->filePath();
  state.osmMapping = mOsmMapping->filePath();
  state.inpaintRaster = qobject_cast<QgsRasterLayer*>(mInpaintRaster->currentLayer());
  if (mMaskDrawn->isChecked()) {
    state.maskShapes = mMaskShapes;
    state.maskCrs = mMaskCrs;
  } else {
    state.maskLayer = qobject_cast<QgsVectorLayer*>(mMaskLayer->currentLayer());
    state.maskSelectedOnly = mMaskSelected->isChecked();
  }
  state.growMetres = mGrow->value();
  state.featherMetres = mFeather->value();
  state.outputFolder = mChosenFolder->isChecked() && !mFolder->filePath().isEmpty()
                           ? mFolder->filePath()
                           : defaultFolder;
  state.cog = mFormat->currentData().toBool();
  return state;
}

}  // namespace terrasynth::plugin
