#pragma once
// Turns what the dock shows (a plain DockState) into a job: the mode's inputs, the parameters,
// an output file name. Main thread: reads project layers and copies feature sources for the
// worker.
#include <QMap>
#include <QPointer>
#include <QString>
#include <QVector>
#include <optional>

#include "job_task.h"
#include "qgscoordinatereferencesystem.h"
#include "qgsgeometry.h"

class QgsRasterLayer;
class QgsVectorLayer;

namespace terrasynth::plugin {

enum class JobMode { Region = 0, Layout = 1, Osm = 2, Inpaint = 3 };

struct DockState {
  JobMode mode = JobMode::Region;
  QString model;  // model folder or name; empty = the default model
  double gsd = 0;
  int steps = 0;
  QString sampler;  // empty = the model's
  double guidance = -1;
  quint64 seed = 0;
  QString scene;
  QString style;

  // Region, layout and OSM modes: the area to generate (a rectangle is used as an extent, any
  // other polygon as a region whose outside is transparent).
  QgsGeometry region;
  QgsCoordinateReferenceSystem regionCrs;

  // Layout mode: a vector layer, its class field, and value -> class (empty = values as is).
  QPointer<QgsVectorLayer> layoutLayer;
  QString layoutField;
  QMap<QString, QString> classMapping;

  // OSM mode: an .osm/.pbf file and an optional JSON tag mapping (empty = the default).
  QString osmPath;
  QString osmMapping;

  // Inpaint mode: a raster layer and mask polygons drawn on the map or taken from a layer.
  QPointer<QgsRasterLayer> inpaintRaster;
  QVector<QgsGeometry> maskShapes;
  QgsCoordinateReferenceSystem maskCrs;
  QPointer<QgsVectorLayer> maskLayer;
  bool maskSelectedOnly = false;
  double growMetres = 0;
  double featherMetres = -1;

  QString outputFolder;  // where the output goes (created when missing)
  bool cog = false;
  QString device = QStringLiteral("auto");
  int threads = 0;
  // Generation (region, layout and OSM modes): a texture bank folder; empty = off. Inpainting
  // has its own texture step (from the surroundings).
  QString textureBank;
};

// A job for the state, or std::nullopt with a message naming what is missing.
std::optional<JobSpec> buildJob(const DockState& state, QString* error);

// True when the polygon is an axis-aligned rectangle (then it is sent as an extent).
bool isAxisAlignedRectangle(const QgsGeometry& geometry);
// The source file of an OpenStreetMap layer (.osm or .pbf), or an empty string.
QString osmSourcePath(const QgsVectorLayer* layer);
// A file name in `folder` that does not exist yet: <stem>_<yyyyMMdd-HHmmss>[_n].tif.
QString uniqueOutputPath(const QString& folder, const QString& stem);

}  // namespace terrasynth::plugin
