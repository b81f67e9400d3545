#include "layout_layer.h"

#include <QCoreApplication>
#include <QFileInfo>
#include <stdexcept>

#include "qgscategorizedsymbolrenderer.h"
#include "qgscoordinatetransform.h"
#include "qgsfeaturerequest.h"
#include "qgsfeaturesource.h"
#include "qgsfillsymbol.h"
#include "qgslinesymbol.h"
#include "qgsproject.h"
#include "qgsvectordataprovider.h"
#include "qgsvectorfilewriter.h"
#include "qgsvectorlayer.h"
#include "terrasynth/engine/model.h"
#include "terrasynth/pipeline/dataset.h"

namespace terrasynth::plugin {

const char* const kLayoutClassField = "class";
const char* const kLayoutLayerName = QT_TRANSLATE_NOOP("Terrasynth", "Terrasynth layout");
const char* const kLayoutTableName = "terrasynth_layout";
const char* const kLayoutLayerProperty = "terrasynth/layout";

namespace {

[[noreturn]] void fail(const QString& message) { throw std::runtime_error(message.toStdString()); }

ClassPalette paletteFrom(const std::vector<std::string>& names,
                         const std::vector<std::array<uint8_t, 3>>& colours) {
  ClassPalette palette;
  for (size_t i = 0; i < names.size(); ++i) {
    palette.names << QString::fromStdString(names[i]);
    palette.colours << (i < colours.size()
                            ? QColor(colours[i][0], colours[i][1], colours[i][2])
                            : QColor::fromHsv(static_cast<int>(i * 47 % 360), 160, 200));
  }
  return palette;
}

}  // namespace

ClassPalette ClassPalette::fromModel(const engine::ModelInfo& model) {
  if (model.classes.empty()) return standard();
  return paletteFrom(model.classes, model.palette);
}

ClassPalette ClassPalette::standard() {
  return paletteFrom(pipeline::class_names(), pipeline::class_palette());
}

QColor ClassPalette::colour(const QString& name) const {
  const int index = names.indexOf(name);
  return index >= 0 && index < colours.size() ? colours.at(index) : QColor(Qt::gray);
}

std::unique_ptr<QgsVectorLayer> createLayoutLayer(const QString& gpkgPath,
                                                  const QgsCoordinateReferenceSystem& crs,
                                                  const ClassPalette& palette) {
  QgsFields fields;
  fields.append(QgsField(QString::fromLatin1(kLayoutClassField), QVariant::String,
                         QStringLiteral("text"), 32));
  QgsVectorFileWriter::SaveVectorOptions options;
  options.driverName = QStringLiteral("GPKG");
  options.layerName = QString::fromLatin1(kLayoutTableName);
  options.fileEncoding = QStringLiteral("UTF-8");
  options.actionOnExistingFile = QFileInfo::exists(gpkgPath)
                                     ? QgsVectorFileWriter::CreateOrOverwriteLayer
                                     : QgsVectorFileWriter::CreateOrOverwriteFile;
  QString newFile;
  QString newLayer;
  {
    std::unique_ptr<QgsVectorFileWriter> writer(QgsVectorFileWriter::create(
        gpkgPath, fields, QgsWkbTypes::MultiPolygon, crs,
        QgsProject::instance()->transformContext(), options, QgsFeatureSink::SinkFlags(),
        &newFile, &newLayer));
    if (!writer || writer->hasError() != QgsVectorFileWriter::NoError) {
      fail(QCoreApplication::translate("Terrasynth", "Cannot create the layout layer in %1: %2")
               .arg(gpkgPath, writer ? writer->errorMessage() : QCoreApplication::translate("Terrasynth", "unknown error")));
    }
  }
  const QString uri = QStringLiteral("%1|layername=%2")
                          .arg(newFile.isEmpty() ? gpkgPath : newFile,
                               newLayer.isEmpty() ? options.layerName : newLayer);
  auto layer = std::make_unique<QgsVectorLayer>(uri, QCoreApplication::translate("Terrasynth", kLayoutLayerName), QStringLiteral("ogr"));
  if (!layer->isValid()) fail(QCoreApplication::translate("Terrasynth", "Cannot open the layout layer just written: %1").arg(uri));
  layer->setCustomProperty(QString::fromLatin1(kLayoutLayerProperty), true);
  applyClassStyle(layer.get(), QString::fromLatin1(kLayoutClassField), palette);
  return layer;
}

void applyClassStyle(QgsVectorLayer* layer, const QString& field, const ClassPalette& palette) {
  QgsCategoryList categories;
  const bool lines = layer->geometryType() == QgsWkbTypes::LineGeometry;
  for (int i = 0; i < palette.names.size(); ++i) {
    const QColor colour = palette.colours.value(i, QColor(Qt::gray));
    QgsSymbol* symbol = nullptr;
    if (lines) {
      symbol = QgsLineSymbol::createSimple({{QStringLiteral("line_color"), colour.name()},
                                            {QStringLiteral("line_width"), QStringLiteral("0.8")}});
    } else {
      QColor fill = colour;
      fill.setAlpha(190);
      symbol = QgsFillSymbol::createSimple(
          {{QStringLiteral("color"), QStringLiteral("%1,%2,%3,%4")
                                         .arg(fill.red())
                                         .arg(fill.green())
                                         .arg(fill.blue())
                                         .arg(fill.alpha())},
           {QStringLiteral("outline_color"), colour.darker(150).name()},
           {QStringLiteral("outline_width"), QStringLiteral("0.3")}});
    }
    categories << QgsRendererCategory(palette.names.at(i), symbol, palette.names.at(i));
  }
  layer->setRenderer(new QgsCategorizedSymbolRenderer(field, categories));
  layer->triggerRepaint();
}

bool isLayoutLayer(const QgsMapLayer* layer) {
  return layer && layer->customProperty(QString::fromLatin1(kLayoutLayerProperty)).toBool();
}

QgsVectorLayer* findLayoutLayer(const QgsProject* project) {
  const auto layers = project->mapLayers();
  for (QgsMapLayer* layer : layers) {
    if (isLayoutLayer(layer)) return qobject_cast<QgsVectorLayer*>(layer);
  }
  return nullptr;
}

void addLayoutShape(QgsVectorLayer* layer, const QgsGeometry& geometry,
                    const QgsCoordinateReferenceSystem& crs, const QString& className) {
  if (!layer || !layer->isValid()) fail(QCoreApplication::translate("Terrasynth", "There is no layout layer to paint on."));
  const int field = layer->fields().indexOf(QString::fromLatin1(kLayoutClassField));
  if (field < 0) {
    fail(QCoreApplication::translate("Terrasynth", "The layer %1 has no field \"%2\".")
             .arg(layer->name(), QString::fromLatin1(kLayoutClassField)));
  }
  QgsGeometry shape = geometry;
  if (crs.isValid() && crs != layer->crs()) {
    QgsCoordinateTransform transform(crs, layer->crs(), QgsProject::instance());
    if (shape.transform(transform) != Qgis::GeometryOperationResult::Success) {
      fail(QCoreApplication::translate("Terrasynth", "Cannot transform the shape to the CRS of the layer %1.").arg(layer->name()));
    }
  }
  shape.convertToMultiType();
  QgsFeature feature(layer->fields());
  feature.setGeometry(shape);
  feature.setAttribute(field, className);
  bool added = false;
  if (layer->isEditable()) {
    added = layer->addFeature(feature);
  } else {
    QgsFeatureList features{feature};
    added = layer->dataProvider()->addFeatures(features);
    layer->updateExtents();
  }
  if (!added) {
    fail(QCoreApplication::translate("Terrasynth", "Cannot add the shape to the layer %1: %2")
             .arg(layer->name(), layer->dataProvider()->lastError()));
  }
  layer->triggerRepaint();
}

long long writeFeatureExport(const FeatureExport& features, const QString& gpkgPath,
                             const QString& layerName, const std::atomic<bool>* cancel) {
  const bool withClass =
      !features.className.isEmpty() || (features.source && !features.classField.isEmpty());
  QgsFields fields;
  if (withClass) {
    fields.append(QgsField(QString::fromLatin1(kLayoutClassField), QVariant::String,
                           QStringLiteral("text"), 32));
  }
  QgsWkbTypes::Type type = QgsWkbTypes::MultiPolygon;
  if (features.source) type = QgsWkbTypes::multiType(QgsWkbTypes::flatType(features.wkbType));
  if (features.source && !features.geometries.isEmpty()) type = QgsWkbTypes::Unknown;

  QgsVectorFileWriter::SaveVectorOptions options;
  options.driverName = QStringLiteral("GPKG");
  options.layerName = layerName;
  options.fileEncoding = QStringLiteral("UTF-8");
  std::unique_ptr<QgsVectorFileWriter> writer(QgsVectorFileWriter::create(
      gpkgPath, fields, type, features.crs, QgsCoordinateTransformContext(), options));
  if (!writer || writer->hasError() != QgsVectorFileWriter::NoError) {
    fail(QCoreApplication::translate("Terrasynth", "Cannot write %1: %2")
             .arg(gpkgPath, writer ? writer->errorMessage() : QCoreApplication::translate("Terrasynth", "unknown error")));
  }

  long long written = 0;
  auto write = [&](const QgsGeometry& geometry, const QString& className) {
    QgsFeature feature(fields);
    QgsGeometry shape = geometry;
    shape.convertToMultiType();
    feature.setGeometry(shape);
    if (withClass) feature.setAttribute(0, className);
    if (!writer->addFeature(feature)) {
      fail(QCoreApplication::translate("Terrasynth", "Cannot write a feature to %1: %2").arg(gpkgPath, writer->errorMessage()));
    }
    ++written;
  };

  for (const QgsGeometry& geometry : features.geometries) {
    if (!geometry.isEmpty()) write(geometry, features.className);
  }
  if (features.source) {
    QgsFeatureRequest request;
    if (!features.selection.isEmpty()) request.setFilterFids(features.selection);
    const int classIndex =
        features.classField.isEmpty() ? -1 : features.fields.indexOf(features.classField);
    if (!features.classField.isEmpty() && classIndex < 0) {
      fail(QCoreApplication::translate("Terrasynth", "The layout has no field \"%1\".").arg(features.classField));
    }
    if (classIndex >= 0) {
      request.setSubsetOfAttributes(QgsAttributeList{classIndex});
    } else {
      request.setNoAttributes();
    }
    QgsFeatureIterator iterator = features.source->getFeatures(request);
    QgsFeature feature;
    while (iterator.nextFeature(feature)) {
      if (cancel && cancel->load()) return -1;
      if (!feature.hasGeometry()) continue;
      QString className;
      if (classIndex >= 0) {
        const QString value = feature.attribute(classIndex).toString();
        className = features.classMapping.isEmpty() ? value : features.classMapping.value(value);
        if (className.isEmpty()) continue;  // a value mapped to no class
      }
      write(feature.geometry(), className);
    }
  }
  return written;
}

}  // namespace terrasynth::plugin
