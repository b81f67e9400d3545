#include "job_builder.h"

#include <QDateTime>
#include <QDir>
#include <QFileInfo>
#include <cmath>
#include <type_traits>

#include "qgsproviderregistry.h"
#include "qgsrasterlayer.h"
#include "qgsvectorlayer.h"
#include "qgsvectorlayerfeatureiterator.h"
#include "text.h"

namespace terrasynth::plugin {

namespace {

std::string crsDefinition(const QgsCoordinateReferenceSystem& crs) {
  if (!crs.authid().isEmpty()) return crs.authid().toStdString();
  return crs.toWkt(QgsCoordinateReferenceSystem::WKT_PREFERRED).toStdString();
}

QString fileOf(const QgsMapLayer* layer) {
  const QVariantMap parts =
      QgsProviderRegistry::instance()->decodeUri(layer->providerType(), layer->source());
  return parts.value(QStringLiteral("path")).toString();
}

FeatureExport exportOf(const QgsVectorLayer* layer) {
  FeatureExport features;
  features.source = std::make_shared<QgsVectorLayerFeatureSource>(layer);
  features.fields = layer->fields();
  features.wkbType = layer->wkbType();
  features.crs = layer->crs();
  return features;
}

// Sets the where-part of a generate job: an extent for a rectangle, a region file otherwise.
void setArea(JobSpec& spec, const QgsGeometry& region, const QgsCoordinateReferenceSystem& crs) {
  const QgsRectangle box = region.boundingBox();
  spec.generate.crs = crsDefinition(crs);
  if (isAxisAlignedRectangle(region)) {
    spec.generate.extent =
        std::array<double, 4>{box.xMinimum(), box.yMinimum(), box.xMaximum(), box.yMaximum()};
  } else {
    spec.regionExport.geometries = {region};
    spec.regionExport.crs = crs;
  }
}

template <typename Job>
void fillCommon(Job& job, const DockState& state) {
  job.model = state.model.toStdString();
  job.gsd = state.gsd;
  job.scene = state.scene.toStdString();
  job.style = state.style.toStdString();
  job.sampling.sampler = state.sampler.toStdString();
  job.sampling.steps = state.steps;
  job.sampling.guidance = state.guidance;
  job.sampling.seed = state.seed;
  job.device.device = state.device.isEmpty() ? "auto" : state.device.toStdString();
  job.device.threads = state.threads;
  job.cog = state.cog;
  if constexpr (std::is_same_v<Job, pipeline::GenerateJob>) job.sampling.texture_bank = state.textureBank.toStdString();
}

}  // namespace

bool isAxisAlignedRectangle(const QgsGeometry& geometry) {
  if (geometry.isNull() || geometry.type() != QgsWkbTypes::PolygonGeometry) return false;
  const QgsRectangle box = geometry.boundingBox();
  const double boxArea = box.width() * box.height();
  return boxArea > 0 && std::abs(geometry.area() - boxArea) <= 1e-9 * boxArea &&
         geometry.constGet()->nCoordinates() <= 5;
}

QString osmSourcePath(const QgsVectorLayer* layer) {
  if (!layer || layer->providerType() != QLatin1String("ogr")) return QString();
  const QString path = fileOf(layer);
  const QString suffix = QFileInfo(path).suffix().toLower();
  return suffix == QLatin1String("pbf") || suffix == QLatin1String("osm") ? path : QString();
}

QString uniqueOutputPath(const QString& folder, const QString& stem) {
  const QString base =
      stem + QLatin1Char('_') + QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-HHmmss"));
  QDir dir(folder);
  QString path = dir.filePath(base + QStringLiteral(".tif"));
  for (int n = 2; QFileInfo::exists(path); ++n) {
    path = dir.filePath(QStringLiteral("%1_%2.tif").arg(base).arg(n));
  }
  return path;
}

std::optional<JobSpec> buildJob(const DockState& state, QString* error) {
  auto failed = [error](const QString& message) {
    if (error) *error = message;
    return std::optional<JobSpec>();
  };
  if (state.outputFolder.isEmpty()) return failed(Text::tr("Choose an output folder."));
  if (!QDir().mkpath(state.outputFolder) || !QFileInfo(state.outputFolder).isWritable()) {
    return failed(Text::tr("The output folder %1 cannot be written.").arg(state.outputFolder));
  }

  JobSpec spec;
  const bool hasRegion = !state.region.isNull() && !state.region.isEmpty();
  switch (state.mode) {
    case JobMode::Region: {
      if (!hasRegion) {
        return failed(Text::tr("Draw a region on the map (or use the map extent) first."));
      }
      spec.kind = JobSpec::Kind::Generate;
      setArea(spec, state.region, state.regionCrs);
      spec.title = Text::tr("Terrasynth: generate a region");
      spec.layerName = Text::tr("Generated region");
      spec.generate.output = uniqueOutputPath(state.outputFolder, QStringLiteral("terrasynth_region")).toStdString();
      break;
    }
    case JobMode::Layout: {
      const QgsVectorLayer* layer = state.layoutLayer.data();
      if (!layer || !layer->isValid()) return failed(Text::tr("Choose a layout layer."));
      if (state.layoutField.isEmpty() || layer->fields().indexOf(state.layoutField) < 0) {
        return failed(Text::tr("Choose the field of %1 that holds the classes.").arg(layer->name()));
      }
      if (layer->featureCount() == 0) {
        return failed(Text::tr("The layout layer %1 has no features yet.").arg(layer->name()));
      }
      spec.kind = JobSpec::Kind::Generate;
      spec.layoutExport = exportOf(layer);
      spec.layoutExport.classField = state.layoutField;
      spec.layoutExport.classMapping = state.classMapping;
      if (hasRegion) {
        setArea(spec, state.region, state.regionCrs);
      } else {
        setArea(spec, QgsGeometry::fromRect(layer->extent()), layer->crs());
      }
      spec.title = Text::tr("Terrasynth: generate from %1").arg(layer->name());
      spec.layerName = Text::tr("Generated from %1").arg(layer->name());
      spec.generate.output = uniqueOutputPath(state.outputFolder, QStringLiteral("terrasynth_layout")).toStdString();
      break;
    }
    case JobMode::Osm: {
      if (state.osmPath.isEmpty() || !QFileInfo::exists(state.osmPath)) {
        return failed(Text::tr("Choose an OpenStreetMap layer or file (.osm or .pbf)."));
      }
      if (!hasRegion) {
        return failed(Text::tr("Draw the region to generate (or use the map extent) first: "
                               "OpenStreetMap extracts are usually much larger."));
      }
      spec.kind = JobSpec::Kind::Generate;
      setArea(spec, state.region, state.regionCrs);
      spec.generate.layout.path = state.osmPath.toStdString();
      spec.generate.layout.osm_mapping = state.osmMapping.toStdString();
      spec.title = Text::tr("Terrasynth: generate from OpenStreetMap");
      spec.layerName = Text::tr("Generated from %1").arg(QFileInfo(state.osmPath).fileName());
      spec.generate.output = uniqueOutputPath(state.outputFolder, QStringLiteral("terrasynth_osm")).toStdString();
      break;
    }
    case JobMode::Inpaint: {
      const QgsRasterLayer* raster = state.inpaintRaster.data();
      if (!raster || !raster->isValid()) return failed(Text::tr("Choose the raster to inpaint."));
      const QString input = fileOf(raster);
      if (raster->providerType() != QLatin1String("gdal") || !QFileInfo::exists(input)) {
        return failed(Text::tr("The raster %1 is not a file on disk.").arg(raster->name()));
      }
      spec.kind = JobSpec::Kind::Inpaint;
      spec.inpaint.raster = input.toStdString();
      spec.sourceLayerId = raster->id();
      if (!state.maskShapes.isEmpty()) {
        spec.maskExport.geometries = state.maskShapes;
        spec.maskExport.crs = state.maskCrs;
      } else if (const QgsVectorLayer* mask = state.maskLayer.data()) {
        spec.maskExport = exportOf(mask);
        if (state.maskSelectedOnly) {
          if (mask->selectedFeatureCount() == 0) {
            return failed(Text::tr("Select the mask polygons in %1 first.").arg(mask->name()));
          }
          spec.maskExport.selection = mask->selectedFeatureIds();
        }
      } else {
        return failed(Text::tr("Draw the area to inpaint on the map, or choose a mask layer."));
      }
      spec.inpaint.grow_m = state.growMetres;
      spec.inpaint.feather_m = state.featherMetres;
      spec.title = Text::tr("Terrasynth: inpaint %1").arg(raster->name());
      spec.layerName = Text::tr("%1 (inpainted)").arg(raster->name());
      const QString stem = QFileInfo(input).completeBaseName() + QStringLiteral("_inpainted");
      spec.inpaint.output = uniqueOutputPath(state.outputFolder, stem).toStdString();
      break;
    }
  }
  if (spec.kind == JobSpec::Kind::Generate) {
    fillCommon(spec.generate, state);
  } else {
    fillCommon(spec.inpaint, state);
    // The GSD of an inpaint job only describes rasters without georeferencing.
    if (state.inpaintRaster && state.inpaintRaster->crs().isValid()) spec.inpaint.gsd = 0;
  }
  return spec;
}

}  // namespace terrasynth::plugin
