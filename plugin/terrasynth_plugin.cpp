#include "terrasynth_plugin.h"

#include <QAction>
#include <QDir>
#include <QRandomGenerator>
#include <memory>
#include <QFileInfo>
#include <QMenu>
#include <QTimer>
#include <QToolBar>
#include <QTranslator>

#include "layout_layer.h"
#include "options_page.h"
#include "pipeline_bridge.h"
#include "processing.h"
#include "qgisinterface.h"
#include "qgsapplication.h"
#include "qgslayertree.h"
#include "qgsmapcanvas.h"
#include "qgsmessagebar.h"
#include "qgsprocessingregistry.h"
#include "qgsrubberband.h"
#include "qgsproject.h"
#include "qgsstatusbar.h"
#include "qgsvectorlayer.h"
#include "selftest.h"
#include "settings.h"
#include "terrasynth/version.h"
#include "terrasynth_dock.h"

// Resources compiled into a static library must be registered explicitly.
static void initTerrasynthResources() {
  Q_INIT_RESOURCE(terrasynth);
#if TERRASYNTH_PLUGIN_HAVE_TRANSLATIONS
  Q_INIT_RESOURCE(terrasynth_i18n);
#endif
}

namespace terrasynth::plugin {

void initResources() {
  static const bool done = [] {
    initTerrasynthResources();
    return true;
  }();
  (void)done;
}

namespace {
QTranslator* gTranslator = nullptr;
const QString kProviderId = QStringLiteral("terrasynth");
}  // namespace

void installTranslation() {
  initResources();
  if (gTranslator) return;
  auto translator = std::make_unique<QTranslator>();
  const QLocale locale(QgsApplication::locale());
  if (translator->load(locale, QStringLiteral("terrasynth"), QStringLiteral("_"),
                       QStringLiteral(":/terrasynth/i18n"))) {
    gTranslator = translator.release();
    QCoreApplication::installTranslator(gTranslator);
  }
}

void removeTranslation() {
  if (!gTranslator) return;
  QCoreApplication::removeTranslator(gTranslator);
  delete gTranslator;
  gTranslator = nullptr;
}

bool registerProvider() {
  QgsProcessingRegistry* registry = QgsApplication::processingRegistry();
  if (!registry || registry->providerById(kProviderId)) return false;
  initResources();
  addModelFolders(PluginSettings::load().modelFolders);
  return registry->addProvider(new TerrasynthProvider());
}

void unregisterProvider() {
  QgsProcessingRegistry* registry = QgsApplication::processingRegistry();
  if (registry && registry->providerById(kProviderId)) registry->removeProvider(kProviderId);
}

TerrasynthPlugin::TerrasynthPlugin(QgisInterface* iface)
    : QgisPlugin(QStringLiteral("Terrasynth"),
                 QStringLiteral("Synthetic georeferenced aerial imagery"),
                 QStringLiteral("Raster"), QStringLiteral(TERRASYNTH_VERSION), QgisPlugin::UI),
      mIface(iface) {
  initResources();
  qRegisterMetaType<terrasynth::plugin::JobOutcome>();
}

TerrasynthPlugin::~TerrasynthPlugin() = default;

TerrasynthDock* TerrasynthPlugin::dock() const { return mDock; }

void TerrasynthPlugin::initGui() {
  installTranslation();
  const PluginSettings settings = PluginSettings::load();
  addModelFolders(settings.modelFolders);

  mQueue = new JobQueue(this);
  connect(mQueue, &JobQueue::jobFinished, this, &TerrasynthPlugin::onJobFinished);

  QgsMapCanvas* canvas = mIface->mapCanvas();
  mTool = new ShapeMapTool(canvas, ShapeMapTool::Shape::Rectangle);
  connect(mTool, &ShapeMapTool::geometryChanged, this, &TerrasynthPlugin::onShapeChanged);
  connect(mTool, &ShapeMapTool::geometryFinished, this, &TerrasynthPlugin::onShapeFinished);

  mDock = new TerrasynthDock(mIface->mainWindow());
  mIface->addDockWidget(Qt::RightDockWidgetArea, mDock);
  connect(mDock, &TerrasynthDock::drawRegionRequested, this,
          [this](int shape) { startDrawRegion(static_cast<ShapeMapTool::Shape>(shape)); });
  connect(mDock, &TerrasynthDock::canvasExtentRequested, this, &TerrasynthPlugin::useCanvasExtent);
  connect(mDock, &TerrasynthDock::newLayoutLayerRequested, this, [this] {
    QString error;
    if (!createLayoutLayerInProject(&error)) {
      mIface->messageBar()->pushCritical(tr("Terrasynth"), error);
    }
  });
  connect(mDock, &TerrasynthDock::paintLayoutRequested, this,
          [this](int shape) { startPaintLayout(static_cast<ShapeMapTool::Shape>(shape)); });
  connect(mDock, &TerrasynthDock::drawMaskRequested, this, &TerrasynthPlugin::startDrawMask);
  connect(mDock, &TerrasynthDock::generateRequested, this, [this] { generate(); });
  connect(mDock, &TerrasynthDock::modelChanged, this, &TerrasynthPlugin::onModelChanged);
  connect(mDock, &TerrasynthDock::optionsRequested, this,
          [this] { mIface->showOptionsDialog(mIface->mainWindow(), tr("Terrasynth")); });
  connect(mQueue, &JobQueue::previewReady, mDock.data(), &TerrasynthDock::showPreview);
  connect(mDock, &TerrasynthDock::regionChanged, this, &TerrasynthPlugin::showRegion);
  connect(mDock, &TerrasynthDock::maskShapesChanged, this, &TerrasynthPlugin::showMaskShapes);

  const QIcon icon(QStringLiteral(":/terrasynth/icons/terrasynth.svg"));
  mActionDock = new QAction(icon, tr("Terrasynth"), this);
  mActionDock->setObjectName(QStringLiteral("mActionTerrasynthDock"));
  mActionDock->setToolTip(tr("Show the Terrasynth panel (synthetic aerial imagery)"));
  mActionDock->setCheckable(true);
  mActionDock->setChecked(true);
  connect(mActionDock, &QAction::toggled, mDock.data(), &QgsDockWidget::setUserVisible);
  connect(mDock, &QgsDockWidget::visibilityChanged, mActionDock, &QAction::setChecked);

  mActionRectangle = new QAction(QIcon(QStringLiteral(":/terrasynth/icons/rectangle.svg")),
                                 tr("Draw a rectangular region"), this);
  connect(mActionRectangle, &QAction::triggered, this,
          [this] { startDrawRegion(ShapeMapTool::Shape::Rectangle); });
  mActionPolygon = new QAction(QIcon(QStringLiteral(":/terrasynth/icons/polygon.svg")),
                               tr("Draw a polygonal region"), this);
  connect(mActionPolygon, &QAction::triggered, this,
          [this] { startDrawRegion(ShapeMapTool::Shape::Polygon); });
  mActionPaint = new QAction(QIcon(QStringLiteral(":/terrasynth/icons/layout.svg")),
                             tr("Paint the layout"), this);
  connect(mActionPaint, &QAction::triggered, this, [this] {
    mDock->setMode(JobMode::Layout);
    startPaintLayout(ShapeMapTool::Shape::Polygon);
  });
  mActionGenerate = new QAction(QIcon(QStringLiteral(":/terrasynth/icons/generate.svg")),
                                tr("Generate"), this);
  connect(mActionGenerate, &QAction::triggered, this, [this] { generate(); });
  mActionSettings = new QAction(QIcon(QStringLiteral(":/terrasynth/icons/settings.svg")),
                                tr("Terrasynth Settings…"), this);
  connect(mActionSettings, &QAction::triggered, this,
          [this] { mIface->showOptionsDialog(mIface->mainWindow(), tr("Terrasynth")); });

  mToolBar = mIface->addToolBar(tr("Terrasynth"));
  mToolBar->setObjectName(QStringLiteral("TerrasynthToolBar"));
  mToolBar->addAction(mActionDock);
  mToolBar->addAction(mActionRectangle);
  mToolBar->addAction(mActionPolygon);
  mToolBar->addAction(mActionPaint);
  mToolBar->addAction(mActionGenerate);

  const QString menu = tr("&Terrasynth");
  for (QAction* action : {mActionDock, mActionGenerate, mActionSettings}) {
    mIface->addPluginToRasterMenu(menu, action);
    mIface->addPluginToMenu(menu, action);
  }

  mOptionsFactory = new OptionsFactory();
  connect(mOptionsFactory, &OptionsFactory::settingsChanged, this, &TerrasynthPlugin::reloadModels);
  mIface->registerOptionsWidgetFactory(mOptionsFactory);

  mOwnsProvider = registerProvider();

  connect(QgsProject::instance(), &QgsProject::layersAdded, this,
          [this] { mDock->refreshOsmLayers(QgsProject::instance()); });
  connect(QgsProject::instance(), &QgsProject::layersRemoved, this,
          [this] { mDock->refreshOsmLayers(QgsProject::instance()); });

  reloadModels();
  mDock->setSeed(QRandomGenerator::global()->bounded(2147483647));

  if (!qEnvironmentVariable("TERRASYNTH_PLUGIN_SELFTEST").isEmpty()) {
    connect(mIface, &QgisInterface::initializationCompleted, this, &TerrasynthPlugin::startSelfTest);
  }
}

void TerrasynthPlugin::unload() {
  if (mSelfTest) {
    delete mSelfTest;
    mSelfTest = nullptr;
  }
  if (mQueue) mQueue->cancelAll();
  if (mOwnsProvider) unregisterProvider();
  mOwnsProvider = false;
  if (mOptionsFactory) {
    mIface->unregisterOptionsWidgetFactory(mOptionsFactory);
    delete mOptionsFactory;
    mOptionsFactory = nullptr;
  }
  const QString menu = tr("&Terrasynth");
  for (QAction* action : {mActionDock, mActionGenerate, mActionSettings}) {
    if (!action) continue;
    mIface->removePluginRasterMenu(menu, action);
    mIface->removePluginMenu(menu, action);
  }
  delete mToolBar;
  delete mRegionBand;
  mRegionBand = nullptr;
  delete mMaskBand;
  mMaskBand = nullptr;
  if (mTool) {
    if (mIface->mapCanvas()->mapTool() == mTool) mIface->mapCanvas()->unsetMapTool(mTool);
    delete mTool;
    mTool = nullptr;
  }
  if (mDock) {
    mIface->removeDockWidget(mDock);
    delete mDock;
  }
  for (QAction* action : {mActionDock, mActionRectangle, mActionPolygon, mActionPaint,
                          mActionGenerate, mActionSettings}) {
    delete action;
  }
  mActionDock = mActionRectangle = mActionPolygon = mActionPaint = mActionGenerate =
      mActionSettings = nullptr;
  if (mQueue) {
    mQueue->disconnect(this);
    mQueue->deleteLater();
    mQueue = nullptr;
  }
  removeTranslation();
}

void TerrasynthPlugin::reloadModels() {
  const PluginSettings settings = PluginSettings::load();
  addModelFolders(settings.modelFolders);
  if (mDock) mDock->setModels(listModels(), settings.lastModel);
}

void TerrasynthPlugin::onModelChanged() {
  const engine::ModelInfo* model = mDock->currentModel();
  PluginSettings settings = PluginSettings::load();
  const QString device = describeDevice(settings.device, settings.threads);
  mDock->setDeviceInfo(device, model ? secondsPerPixel(*model, settings.device, settings.threads) : 0);
  if (model) {
    settings.lastModel = QString::fromStdString(model->name);
    settings.save();
    if (QgsVectorLayer* layout = findLayoutLayer(QgsProject::instance())) {
      applyClassStyle(layout, QString::fromLatin1(kLayoutClassField), ClassPalette::fromModel(*model));
    }
  }
}

namespace {
// Outlines shapes (in `crs`) on the canvas with a persistent band, created on first use.
void outline(QgsRubberBand*& band, QgsMapCanvas* canvas, const QVector<QgsGeometry>& shapes,
             const QgsCoordinateReferenceSystem& crs, const QColor& colour) {
  if (!band) {
    band = new QgsRubberBand(canvas, QgsWkbTypes::PolygonGeometry);
    band->setStrokeColor(colour);
    QColor fill = colour;
    fill.setAlpha(25);
    band->setFillColor(fill);
    band->setWidth(2);
    band->setLineStyle(Qt::DashLine);
  }
  band->reset(QgsWkbTypes::PolygonGeometry);
  for (const QgsGeometry& shape : shapes) band->addGeometry(shape, crs, false);
  band->updatePosition();
  band->update();
}
}  // namespace

void TerrasynthPlugin::showRegion() {
  QVector<QgsGeometry> shapes;
  if (!mDock->region().isNull()) shapes << mDock->region();
  outline(mRegionBand, mIface->mapCanvas(), shapes, mDock->regionCrs(), QColor(255, 128, 0));
}

void TerrasynthPlugin::showMaskShapes() {
  outline(mMaskBand, mIface->mapCanvas(), mDock->maskShapes(), mDock->maskCrs(),
          QColor(220, 0, 120));
}

void TerrasynthPlugin::activateTool(ToolPurpose purpose, ShapeMapTool::Shape shape) {
  mToolPurpose = purpose;
  mTool->setShape(shape);
  QColor colour(255, 128, 0);
  if (purpose == ToolPurpose::Layout) {
    const engine::ModelInfo* model = mDock->currentModel();
    const ClassPalette palette = model ? ClassPalette::fromModel(*model) : ClassPalette::standard();
    colour = palette.colour(mDock->paintClass());
  } else if (purpose == ToolPurpose::Mask) {
    colour = QColor(220, 0, 120);
  }
  mTool->setColour(colour);
  mIface->mapCanvas()->setMapTool(mTool);
  mDock->setUserVisible(true);
}

void TerrasynthPlugin::startDrawRegion(ShapeMapTool::Shape shape) {
  if (mDock->mode() == JobMode::Inpaint) mDock->setMode(JobMode::Region);
  activateTool(ToolPurpose::Region, shape);
  mIface->statusBarIface()->showMessage(
      shape == ShapeMapTool::Shape::Rectangle
          ? tr("Terrasynth: drag a rectangle, or click two opposite corners")
          : tr("Terrasynth: click the polygon's vertices; right-click closes it"),
      8000);
}

void TerrasynthPlugin::startPaintLayout(ShapeMapTool::Shape shape) {
  QgsVectorLayer* layer = mDock->layoutLayer();
  if (!isLayoutLayer(layer)) layer = findLayoutLayer(QgsProject::instance());
  if (!layer) {
    QString error;
    layer = createLayoutLayerInProject(&error);
    if (!layer) {
      mIface->messageBar()->pushCritical(tr("Terrasynth"), error);
      return;
    }
  }
  mDock->setLayoutLayer(layer);
  activateTool(ToolPurpose::Layout, shape);
}

void TerrasynthPlugin::startDrawMask() {
  mDock->setMode(JobMode::Inpaint);
  activateTool(ToolPurpose::Mask, ShapeMapTool::Shape::Polygon);
}

void TerrasynthPlugin::useCanvasExtent() {
  QgsMapCanvas* canvas = mIface->mapCanvas();
  mDock->setRegion(QgsGeometry::fromRect(canvas->extent()),
                   canvas->mapSettings().destinationCrs());
}

QgsVectorLayer* TerrasynthPlugin::createLayoutLayerInProject(QString* error) {
  QgsProject* project = QgsProject::instance();
  if (QgsVectorLayer* existing = findLayoutLayer(project)) {
    mDock->setLayoutLayer(existing);
    return existing;
  }
  const DockState state = mDock->state(defaultOutputFolder(PluginSettings::load()));
  QDir().mkpath(state.outputFolder);
  const QString path = QDir(state.outputFolder).filePath(QStringLiteral("terrasynth_layout.gpkg"));
  const engine::ModelInfo* model = mDock->currentModel();
  const ClassPalette palette = model ? ClassPalette::fromModel(*model) : ClassPalette::standard();
  std::unique_ptr<QgsVectorLayer> layer;
  // A layout painted earlier in the same folder is opened again, not replaced.
  if (QFileInfo::exists(path)) {
    layer = std::make_unique<QgsVectorLayer>(
        QStringLiteral("%1|layername=%2").arg(path, QString::fromLatin1(kLayoutTableName)),
        tr("Terrasynth layout"), QStringLiteral("ogr"));
    if (layer->isValid() && layer->fields().indexOf(QString::fromLatin1(kLayoutClassField)) >= 0) {
      layer->setCustomProperty(QString::fromLatin1(kLayoutLayerProperty), true);
      applyClassStyle(layer.get(), QString::fromLatin1(kLayoutClassField), palette);
    } else {
      layer.reset();
    }
  }
  if (!layer) {
    try {
      QgsCoordinateReferenceSystem crs = mIface->mapCanvas()->mapSettings().destinationCrs();
      if (!crs.isValid()) crs = project->crs();
      layer = createLayoutLayer(path, crs, palette);
    } catch (const std::exception& exception) {
      if (error) *error = QString::fromStdString(exception.what());
      return nullptr;
    }
  }
  QgsVectorLayer* added = layer.release();
  project->addMapLayer(added, false);
  project->layerTreeRoot()->insertLayer(0, added);
  mDock->setLayoutLayer(added);
  mDock->setMode(JobMode::Layout);
  return added;
}

void TerrasynthPlugin::onShapeChanged(const QgsGeometry& geometry) {
  if (mToolPurpose != ToolPurpose::Region) return;
  const QgsCoordinateReferenceSystem crs = mIface->mapCanvas()->mapSettings().destinationCrs();
  mDock->showRegionInfo(geometry, crs);
  if (geometry.type() == QgsWkbTypes::PolygonGeometry) {
    const RegionSize size = measureRegion(geometry.boundingBox(), crs, mDock->gsd(),
                                          mDock->secondsPerPixel());
    mIface->statusBarIface()->showMessage(tr("Terrasynth region: %1").arg(describeRegionSize(size)),
                                          5000);
  }
}

void TerrasynthPlugin::onShapeFinished(const QgsGeometry& geometry) {
  const QgsCoordinateReferenceSystem crs = mIface->mapCanvas()->mapSettings().destinationCrs();
  switch (mToolPurpose) {
    case ToolPurpose::Region:
      mDock->setRegion(geometry, crs);
      break;
    case ToolPurpose::Layout: {
      QgsVectorLayer* layer = mDock->layoutLayer();
      try {
        addLayoutShape(layer, geometry, crs, mDock->paintClass());
      } catch (const std::exception& error) {
        mIface->messageBar()->pushCritical(tr("Terrasynth"), QString::fromStdString(error.what()));
      }
      break;
    }
    case ToolPurpose::Mask:
      mDock->addMaskShape(geometry, crs);
      break;
  }
}

bool TerrasynthPlugin::generate(QString* error) {
  const PluginSettings settings = PluginSettings::load();
  DockState state = mDock->state(defaultOutputFolder(settings));
  state.device = settings.device;
  state.threads = settings.threads;
  state.textureBank = settings.textureBank;
  QString message;
  std::optional<JobSpec> spec = buildJob(state, &message);
  if (!spec) {
    mIface->messageBar()->pushWarning(tr("Terrasynth"), message);
    if (error) *error = message;
    return false;
  }
  if (!pipelineAvailable()) {
    message = tr("This build of the Terrasynth plugin has no generation pipeline.");
    mIface->messageBar()->pushCritical(tr("Terrasynth"), message);
    if (error) *error = message;
    return false;
  }
  const bool waits = mQueue->pending() > 0;
  mQueue->submit(new GenerationTask(*spec));
  mDock->setStatus(waits ? tr("Queued: %1").arg(spec->title) : tr("Running: %1").arg(spec->title));
  return true;
}

void TerrasynthPlugin::onJobFinished(const JobOutcome& outcome) {
  QgsMapLayer* layer = nullptr;
  if (outcome.ok) {
    layer = addResultLayer(QgsProject::instance(), outcome);
    if (layer) {
      const QString text = tr("%1: %2 × %3 px in %4 s, written to %5")
                               .arg(outcome.layerName)
                               .arg(outcome.width)
                               .arg(outcome.height)
                               .arg(outcome.seconds, 0, 'f', 1)
                               .arg(outcome.output);
      mIface->messageBar()->pushSuccess(tr("Terrasynth"), text);
      mDock->setStatus(text);
    } else {
      const QString text = tr("Cannot open the generated raster %1.").arg(outcome.output);
      mIface->messageBar()->pushCritical(tr("Terrasynth"), text);
      mDock->setStatus(text);
    }
  } else if (outcome.cancelled) {
    mIface->messageBar()->pushInfo(tr("Terrasynth"), tr("%1: cancelled.").arg(outcome.title));
    mDock->setStatus(tr("%1: cancelled.").arg(outcome.title));
  } else {
    mIface->messageBar()->pushCritical(tr("Terrasynth"), tr("%1 failed: %2").arg(outcome.title, outcome.error));
    mDock->setStatus(tr("%1 failed: %2").arg(outcome.title, outcome.error));
  }
  for (const QString& warning : outcome.warnings) {
    mIface->messageBar()->pushWarning(tr("Terrasynth"), warning);
  }
  emit jobDone(outcome, layer);
}

void TerrasynthPlugin::startSelfTest() {
  if (mSelfTest) return;
  mSelfTest = new SelfTest(this, qEnvironmentVariable("TERRASYNTH_PLUGIN_SELFTEST"));
  mSelfTest->start();
}

}  // namespace terrasynth::plugin
