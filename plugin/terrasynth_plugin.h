#pragma once
// The QGIS plugin: toolbar, menu entries, the dock, the map tools, the Processing provider, the
// options page and the job queue. A thin adapter: jobs are built by buildJob() and run by the
// pipeline through GenerationTask.
#include <QObject>
#include <QPointer>

#include "job_task.h"
#include "map_tools.h"
#include "qgisplugin.h"

class QAction;
class QMenu;
class QToolBar;
class QgisInterface;
class QgsRubberBand;
class QgsVectorLayer;

namespace terrasynth::plugin {

class OptionsFactory;
class SelfTest;
class TerrasynthDock;

class TerrasynthPlugin : public QObject, public QgisPlugin {
  Q_OBJECT
 public:
  explicit TerrasynthPlugin(QgisInterface* iface);
  ~TerrasynthPlugin() override;

  void initGui() override;
  void unload() override;

  QgisInterface* iface() const { return mIface; }
  TerrasynthDock* dock() const;
  ShapeMapTool* mapTool() const { return mTool; }
  JobQueue* queue() const { return mQueue; }

  // What the dock's buttons do; public for the self-test hook.
  void startDrawRegion(ShapeMapTool::Shape shape);
  void startPaintLayout(ShapeMapTool::Shape shape);
  void startDrawMask();
  void useCanvasExtent();
  QgsVectorLayer* createLayoutLayerInProject(QString* error = nullptr);
  // Builds a job from the dock and queues it; false (with a message bar note) when the dock
  // lacks something.
  bool generate(QString* error = nullptr);
  void reloadModels();

 signals:
  // After a job ended and, when it succeeded, its layer was added (nullptr otherwise).
  void jobDone(const terrasynth::plugin::JobOutcome& outcome, QgsMapLayer* layer);

 private:
  enum class ToolPurpose { Region, Layout, Mask };
  void activateTool(ToolPurpose purpose, ShapeMapTool::Shape shape);
  void onShapeChanged(const QgsGeometry& geometry);
  void onShapeFinished(const QgsGeometry& geometry);
  void onJobFinished(const JobOutcome& outcome);
  void onModelChanged();
  void startSelfTest();
  // The chosen region and mask shapes stay outlined on the map.
  void showRegion();
  void showMaskShapes();

  QgisInterface* mIface = nullptr;
  QPointer<TerrasynthDock> mDock;
  QPointer<QToolBar> mToolBar;
  QMenu* mMenu = nullptr;
  QAction* mActionDock = nullptr;
  QAction* mActionRectangle = nullptr;
  QAction* mActionPolygon = nullptr;
  QAction* mActionPaint = nullptr;
  QAction* mActionGenerate = nullptr;
  QAction* mActionSettings = nullptr;
  ShapeMapTool* mTool = nullptr;
  QgsRubberBand* mRegionBand = nullptr;
  QgsRubberBand* mMaskBand = nullptr;
  ToolPurpose mToolPurpose = ToolPurpose::Region;
  JobQueue* mQueue = nullptr;
  OptionsFactory* mOptionsFactory = nullptr;
  bool mOwnsProvider = false;
  SelfTest* mSelfTest = nullptr;
};

// Registers the icons and translations compiled into the library (idempotent).
void initResources();
// Installs the translation matching the QGIS locale (once per process); the Processing
// provider's entry point calls it too.
void installTranslation();
void removeTranslation();
// Registers the Processing provider unless one with id "terrasynth" exists; true when added.
bool registerProvider();
void unregisterProvider();

}  // namespace terrasynth::plugin
