#pragma once
// The "Terrasynth layout" layer (a GeoPackage layer with a class field, styled from the model's
// palette) and the export of project features into a layout or mask file for a job.
#include <QColor>
#include <QMap>
#include <QString>
#include <QStringList>
#include <QVector>
#include <atomic>
#include <memory>

#include "qgscoordinatereferencesystem.h"
#include "qgsfeatureid.h"
#include "qgsfields.h"
#include "qgsgeometry.h"
#include "qgswkbtypes.h"

class QgsAbstractFeatureSource;
class QgsMapLayer;
class QgsProject;
class QgsVectorLayer;

namespace terrasynth::engine {
struct ModelInfo;
}

namespace terrasynth::plugin {

// The class names of a model and one colour per class.
struct ClassPalette {
  QStringList names;
  QVector<QColor> colours;

  static ClassPalette fromModel(const engine::ModelInfo& model);
  // The class set shared by layouts, the OSM mapping and the default model.
  static ClassPalette standard();
  QColor colour(const QString& name) const;
};

extern const char* const kLayoutClassField;      // "class"
extern const char* const kLayoutLayerName;       // "Terrasynth layout" (translated when shown)
extern const char* const kLayoutTableName;       // "terrasynth_layout"
extern const char* const kLayoutLayerProperty;   // custom property marking the layer

// Creates (or replaces) a GeoPackage layer for painting a layout and returns it, not yet added
// to a project. Throws std::runtime_error naming the file on failure.
std::unique_ptr<QgsVectorLayer> createLayoutLayer(const QString& gpkgPath,
                                                  const QgsCoordinateReferenceSystem& crs,
                                                  const ClassPalette& palette);
// A categorised renderer on `field` with one category per class of the palette.
void applyClassStyle(QgsVectorLayer* layer, const QString& field, const ClassPalette& palette);
bool isLayoutLayer(const QgsMapLayer* layer);
QgsVectorLayer* findLayoutLayer(const QgsProject* project);
// Adds a shape (in `crs`) with a class to the layout layer. Throws std::runtime_error.
void addLayoutShape(QgsVectorLayer* layer, const QgsGeometry& geometry,
                    const QgsCoordinateReferenceSystem& crs, const QString& className);

// Features written to a GeoPackage by a worker thread: a feature source copied from a project
// layer on the main thread (never the layer itself), or shapes drawn on the map.
struct FeatureExport {
  std::shared_ptr<QgsAbstractFeatureSource> source;  // e.g. a QgsVectorLayerFeatureSource
  QgsFields fields;                                   // of the source
  QgsWkbTypes::Type wkbType = QgsWkbTypes::Unknown;   // of the source
  QgsCoordinateReferenceSystem crs;  // of the source, or of the drawn shapes
  QgsFeatureIds selection;           // empty = every feature of the source
  QString classField;                // source attribute holding the class; empty = none
  QMap<QString, QString> classMapping;  // attribute value -> class name; empty = value as is
  QVector<QgsGeometry> geometries;      // drawn shapes
  QString className;                    // class of the drawn shapes; empty = none

  bool isEmpty() const { return !source && geometries.isEmpty(); }
};

// Writes the export as layer `layerName` of a new GeoPackage with a "class" field when there
// is a class. Returns the number of features written, or -1 when `cancel` was set. Throws
// std::runtime_error naming the file.
long long writeFeatureExport(const FeatureExport& features, const QString& gpkgPath,
                             const QString& layerName,
                             const std::atomic<bool>* cancel = nullptr);

}  // namespace terrasynth::plugin
