#pragma once
// The "Terrasynth" dock: model and device, mode (region, layout, OSM layers, inpaint), the
// mode's inputs, sampling parameters, output, and the Generate button. It only shows and
// collects state (DockState); the plugin reacts to its signals.
#include <QPointer>
#include <vector>

#include "job_builder.h"
#include "qgsdockwidget.h"
#include "terrasynth/engine/model.h"

class QButtonGroup;
class QCheckBox;
class QComboBox;
class QLabel;
class QPushButton;
class QRadioButton;
class QSpinBox;
class QStackedWidget;
class QTableWidget;
class QToolButton;
class QgsDoubleSpinBox;
class QgsFieldComboBox;
class QgsFileWidget;
class QgsMapLayerComboBox;
class QgsProject;

namespace terrasynth::plugin {

class TerrasynthDock : public QgsDockWidget {
  Q_OBJECT
 public:
  explicit TerrasynthDock(QWidget* parent = nullptr);

  // Models and device.
  void setModels(const std::vector<engine::ModelInfo>& models, const QString& preferred);
  const engine::ModelInfo* currentModel() const;
  bool selectModel(const QString& nameOrDir);
  // The device in words, and the planner's seconds per output pixel (0 = unknown).
  void setDeviceInfo(const QString& description, double secondsPerPixel);
  double secondsPerPixel() const { return mSecondsPerPixel; }

  JobMode mode() const;
  void setMode(JobMode mode);

  // Everything a job needs, as shown. `defaultFolder` is used when "project folder" is chosen.
  DockState state(const QString& defaultFolder) const;

  // Parameters.
  double gsd() const;
  void setGsd(double gsd);
  void setSteps(int steps);
  void setSeed(quint64 seed);
  quint64 seed() const;
  void setScene(const QString& scene);
  void setStyle(const QString& style);
  void setCog(bool cog);
  void setOutputFolder(const QString& folder);  // empty = the project folder

  // Region.
  void setRegion(const QgsGeometry& region, const QgsCoordinateReferenceSystem& crs);
  void clearRegion();
  QgsGeometry region() const { return mRegion; }
  QgsCoordinateReferenceSystem regionCrs() const { return mRegionCrs; }
  // Live size and time while a region is being drawn.
  void showRegionInfo(const QgsGeometry& region, const QgsCoordinateReferenceSystem& crs);

  // Layout.
  void setLayoutLayer(QgsVectorLayer* layer);
  QgsVectorLayer* layoutLayer() const;
  QString paintClass() const;
  void setPaintClass(const QString& name);
  // Fills the value -> class table from the distinct values of the layout field.
  void readLayoutValues();

  // OSM.
  void setOsmPath(const QString& path);

  // Inpaint.
  void setInpaintRaster(QgsRasterLayer* layer);
  void addMaskShape(const QgsGeometry& shape, const QgsCoordinateReferenceSystem& crs);
  void clearMaskShapes();
  int maskShapeCount() const { return mMaskShapes.size(); }
  QVector<QgsGeometry> maskShapes() const { return mMaskShapes; }
  QgsCoordinateReferenceSystem maskCrs() const { return mMaskCrs; }
  void setMaskLayer(QgsVectorLayer* layer, bool selectedOnly);

  // Jobs.
  void setStatus(const QString& text);
  void showPreview(const QImage& image);
  QPushButton* generateButton() const { return mGenerate; }

  // Refreshes the OSM layer list (call when the project's layers change).
  void refreshOsmLayers(const QgsProject* project);

 signals:
  void modelChanged();
  void gsdChanged();
  void regionChanged();
  void maskShapesChanged();
  void drawRegionRequested(int shape);  // ShapeMapTool::Shape
  void canvasExtentRequested();
  void newLayoutLayerRequested();
  void paintLayoutRequested(int shape);
  void drawMaskRequested();
  void generateRequested();
  void optionsRequested();

 private:
  QWidget* buildModelGroup();
  QWidget* buildRegionGroup();
  QWidget* buildLayoutPage();
  QWidget* buildOsmPage();
  QWidget* buildInpaintPage();
  QWidget* buildParameterGroup();
  QWidget* buildOutputGroup();
  void updateModelInfo();
  void updateDeviceText();
  void updateRegionText();
  void updateModeWidgets();
  void updateLayoutFieldWidgets();
  QMap<QString, QString> classMapping() const;

  std::vector<engine::ModelInfo> mModels;
  QString mDeviceDescription;
  double mSecondsPerPixel = 0;
  QgsGeometry mRegion;
  QgsCoordinateReferenceSystem mRegionCrs;
  QVector<QgsGeometry> mMaskShapes;
  QgsCoordinateReferenceSystem mMaskCrs;

  QComboBox* mModel = nullptr;
  QLabel* mModelInfo = nullptr;
  QLabel* mDevice = nullptr;
  QComboBox* mMode = nullptr;
  QStackedWidget* mPages = nullptr;
  QWidget* mRegionGroup = nullptr;
  QLabel* mRegionInfo = nullptr;

  QgsMapLayerComboBox* mLayoutLayer = nullptr;
  QgsFieldComboBox* mLayoutField = nullptr;
  QComboBox* mPaintClass = nullptr;
  QTableWidget* mMapping = nullptr;
  QWidget* mMappingBox = nullptr;
  QWidget* mPaintBox = nullptr;

  QComboBox* mOsmLayer = nullptr;
  QgsFileWidget* mOsmFile = nullptr;
  QgsFileWidget* mOsmMapping = nullptr;

  QgsMapLayerComboBox* mInpaintRaster = nullptr;
  QRadioButton* mMaskDrawn = nullptr;
  QRadioButton* mMaskFromLayer = nullptr;
  QLabel* mMaskInfo = nullptr;
  QgsMapLayerComboBox* mMaskLayer = nullptr;
  QCheckBox* mMaskSelected = nullptr;
  QgsDoubleSpinBox* mGrow = nullptr;
  QgsDoubleSpinBox* mFeather = nullptr;

  QgsDoubleSpinBox* mGsd = nullptr;
  QSpinBox* mSteps = nullptr;
  QComboBox* mSampler = nullptr;
  QgsDoubleSpinBox* mGuidance = nullptr;
  QSpinBox* mSeed = nullptr;
  QComboBox* mScene = nullptr;
  QComboBox* mStyle = nullptr;

  QRadioButton* mProjectFolder = nullptr;
  QRadioButton* mChosenFolder = nullptr;
  QgsFileWidget* mFolder = nullptr;
  QComboBox* mFormat = nullptr;

  QPushButton* mGenerate = nullptr;
  QLabel* mStatus = nullptr;
  QLabel* mPreview = nullptr;
};

}  // namespace terrasynth::plugin
