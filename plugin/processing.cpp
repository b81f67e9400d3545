#include "processing.h"

#include <QFileInfo>
#include <QIcon>
#include <atomic>

#include "job_task.h"
#include "qgsexception.h"
#include "qgsprocessingfeedback.h"
#include "qgsprocessingparameters.h"
#include "qgsprocessingoutputs.h"
#include "qgsproject.h"
#include "qgsrasterlayer.h"
#include "settings.h"
#include "text.h"

namespace terrasynth::plugin {

namespace {

const QString kIcon = QStringLiteral(":/terrasynth/icons/terrasynth.svg");
const QStringList kSamplers = {QString(), QStringLiteral("ddim"), QStringLiteral("euler"),
                               QStringLiteral("euler_ancestral"), QStringLiteral("dpmpp_2m"),
                               QStringLiteral("dpmpp_2m_karras"), QStringLiteral("euler_karras")};
const QStringList kDevices = {QString(), QStringLiteral("auto"), QStringLiteral("cpu"),
                              QStringLiteral("cuda")};

std::string crsDefinition(const QgsCoordinateReferenceSystem& crs) {
  if (!crs.authid().isEmpty()) return crs.authid().toStdString();
  return crs.toWkt(QgsCoordinateReferenceSystem::WKT_PREFERRED).toStdString();
}

void advanced(QgsProcessingParameterDefinition* parameter) {
  parameter->setFlags(parameter->flags() | QgsProcessingParameterDefinition::FlagAdvanced);
}

}  // namespace

void TerrasynthAlgorithm::readExtent(const QVariantMap& parameters, const QString& name,
                                     QgsProcessingContext& context, pipeline::GenerateJob& job) {
  QgsCoordinateReferenceSystem crs = parameterAsExtentCrs(parameters, name, context);
  if (!crs.isValid() && context.project()) crs = context.project()->crs();
  if (!crs.isValid()) {
    throw QgsProcessingException(
        Text::tr("The extent %1 has no coordinate reference system.").arg(name));
  }
  const QgsRectangle extent = parameterAsExtent(parameters, name, context, crs);
  if (extent.isEmpty()) {
    throw QgsProcessingException(Text::tr("The extent %1 is empty.").arg(name));
  }
  job.extent = std::array<double, 4>{extent.xMinimum(), extent.yMinimum(), extent.xMaximum(),
                                     extent.yMaximum()};
  job.crs = crsDefinition(crs);
}

// ---- provider -------------------------------------------------------------------------------

TerrasynthProvider::TerrasynthProvider(QObject* parent) : QgsProcessingProvider(parent) {}
QString TerrasynthProvider::id() const { return QStringLiteral("terrasynth"); }
QString TerrasynthProvider::name() const { return QStringLiteral("Terrasynth"); }
QString TerrasynthProvider::longName() const {
  return Text::tr("Terrasynth synthetic aerial imagery");
}
QIcon TerrasynthProvider::icon() const { return QIcon(kIcon); }
QString TerrasynthProvider::svgIconPath() const { return kIcon; }
QStringList TerrasynthProvider::supportedOutputRasterLayerExtensions() const {
  return {QStringLiteral("tif")};
}

void TerrasynthProvider::loadAlgorithms() {
  addAlgorithm(new GenerateExtentAlgorithm());
  addAlgorithm(new GenerateLayoutAlgorithm());
  addAlgorithm(new GenerateOsmAlgorithm());
  addAlgorithm(new InpaintAlgorithm());
}

// ---- shared parameters ----------------------------------------------------------------------

QString TerrasynthAlgorithm::group() const { return Text::tr("Generation"); }
QString TerrasynthAlgorithm::groupId() const { return QStringLiteral("generation"); }
QIcon TerrasynthAlgorithm::icon() const { return QIcon(kIcon); }
QString TerrasynthAlgorithm::svgIconPath() const { return kIcon; }

void TerrasynthAlgorithm::addTextureBankParameter() {
  auto* bank = new QgsProcessingParameterFile(
      QStringLiteral("TEXTURE_BANK"),
      Text::tr("Texture bank folder: rebuild fine detail from its photos (empty = off)"),
      QgsProcessingParameterFile::Folder, QString(), QVariant(), true);
  advanced(bank);
  addParameter(bank);
}

void TerrasynthAlgorithm::addCommonParameters(bool withScene) {
  addParameter(new QgsProcessingParameterString(
      QStringLiteral("MODEL"), Text::tr("Model (name or folder; empty = the default model)"),
      QVariant(), false, true));
  addParameter(new QgsProcessingParameterNumber(
      QStringLiteral("GSD"), Text::tr("Ground resolution in metres per pixel (0 = the model's)"),
      QgsProcessingParameterNumber::Double, 0.0, true, 0.0));
  if (withScene) {
    addParameter(new QgsProcessingParameterString(
        QStringLiteral("SCENE"), Text::tr("Scene (e.g. forest, dense_residential)"), QVariant(),
        false, true));
  }
  addParameter(new QgsProcessingParameterString(
      QStringLiteral("STYLE"), Text::tr("Style or region (e.g. recife; empty = the model's)"),
      QVariant(), false, true));
  addParameter(new QgsProcessingParameterNumber(QStringLiteral("SEED"), Text::tr("Seed"),
                                                QgsProcessingParameterNumber::Integer, 0, true,
                                                0, 2147483647));
  auto* sampler = new QgsProcessingParameterEnum(
      QStringLiteral("SAMPLER"), Text::tr("Sampler"),
      {Text::tr("Model default"), QStringLiteral("DDIM"), QStringLiteral("Euler"),
       QStringLiteral("Euler ancestral"), QStringLiteral("DPM-Solver++ 2M")},
      false, 0, true);
  addParameter(sampler);
  auto* steps = new QgsProcessingParameterNumber(
      QStringLiteral("STEPS"), Text::tr("Sampling steps (0 = the model's)"),
      QgsProcessingParameterNumber::Integer, 0, true, 0, 1000);
  addParameter(steps);
  auto* guidance = new QgsProcessingParameterNumber(
      QStringLiteral("GUIDANCE"), Text::tr("Guidance scale (-1 = the model's)"),
      QgsProcessingParameterNumber::Double, -1.0, true, -1.0, 50.0);
  addParameter(guidance);
  auto* device = new QgsProcessingParameterEnum(
      QStringLiteral("DEVICE"), Text::tr("Device"),
      {Text::tr("As in the Terrasynth settings"), Text::tr("Automatic"), Text::tr("CPU"),
       Text::tr("GPU (CUDA)")},
      false, 0, true);
  advanced(device);
  addParameter(device);
  auto* threads = new QgsProcessingParameterNumber(
      QStringLiteral("THREADS"), Text::tr("CPU threads (0 = as in the settings)"),
      QgsProcessingParameterNumber::Integer, 0, true, 0, 1024);
  advanced(threads);
  addParameter(threads);
  auto* tile = new QgsProcessingParameterNumber(
      QStringLiteral("TILE"), Text::tr("Window size in pixels (0 = the model's)"),
      QgsProcessingParameterNumber::Integer, 0, true, 0, 8192);
  advanced(tile);
  addParameter(tile);
  auto* overlap = new QgsProcessingParameterNumber(
      QStringLiteral("OVERLAP"), Text::tr("Window overlap in pixels (-1 = the model's)"),
      QgsProcessingParameterNumber::Integer, -1, true, -1, 4096);
  advanced(overlap);
  addParameter(overlap);
  auto* fast = new QgsProcessingParameterBoolean(
      QStringLiteral("FAST"), Text::tr("Fast tiling (shifted windows)"), false, true);
  advanced(fast);
  addParameter(fast);
  addParameter(new QgsProcessingParameterBoolean(
      QStringLiteral("COG"), Text::tr("Write a Cloud Optimized GeoTIFF"), false, true));
  addParameter(new QgsProcessingParameterRasterDestination(QStringLiteral("OUTPUT"),
                                                           Text::tr("Generated image")));
  addOutput(new QgsProcessingOutputFile(QStringLiteral("STAC"), Text::tr("STAC item")));
}

void TerrasynthAlgorithm::readCommonParameters(const QVariantMap& parameters,
                                               QgsProcessingContext& context,
                                               JobSpec& spec) const {
  const PluginSettings settings = PluginSettings::load();
  pipeline::SamplingParams sampling;
  sampling.sampler =
      kSamplers.value(parameterAsEnum(parameters, QStringLiteral("SAMPLER"), context)).toStdString();
  sampling.steps = parameterAsInt(parameters, QStringLiteral("STEPS"), context);
  sampling.guidance = parameterAsDouble(parameters, QStringLiteral("GUIDANCE"), context);
  sampling.seed = static_cast<uint64_t>(
      std::max(0LL, static_cast<long long>(parameterAsDouble(parameters, QStringLiteral("SEED"),
                                                             context))));
  if (parameterDefinition(QStringLiteral("TEXTURE_BANK")))
    sampling.texture_bank = parameterAsFile(parameters, QStringLiteral("TEXTURE_BANK"), context).trimmed().toStdString();
  pipeline::TileParams tiles;
  tiles.tile = parameterAsInt(parameters, QStringLiteral("TILE"), context);
  tiles.overlap = parameterAsInt(parameters, QStringLiteral("OVERLAP"), context);
  tiles.fast = parameterAsBool(parameters, QStringLiteral("FAST"), context);
  pipeline::DeviceParams device;
  const QString deviceName = kDevices.value(parameterAsEnum(parameters, QStringLiteral("DEVICE"), context));
  device.device = (deviceName.isEmpty() ? settings.device : deviceName).toStdString();
  const int threads = parameterAsInt(parameters, QStringLiteral("THREADS"), context);
  device.threads = threads > 0 ? threads : settings.threads;

  const QString output = parameterAsOutputLayer(parameters, QStringLiteral("OUTPUT"), context);
  if (output.isEmpty()) throw QgsProcessingException(Text::tr("No output file was given."));
  const std::string model = parameterAsString(parameters, QStringLiteral("MODEL"), context).trimmed().toStdString();
  const double gsd = parameterAsDouble(parameters, QStringLiteral("GSD"), context);
  const std::string style = parameterAsString(parameters, QStringLiteral("STYLE"), context).trimmed().toStdString();
  const std::string scene =
      parameters.contains(QStringLiteral("SCENE"))
          ? parameterAsString(parameters, QStringLiteral("SCENE"), context).trimmed().toStdString()
          : std::string();
  const bool cog = parameterAsBool(parameters, QStringLiteral("COG"), context);

  auto fill = [&](auto& job) {
    job.model = model;
    job.gsd = gsd;
    job.style = style;
    job.scene = scene;
    job.sampling = sampling;
    job.tiles = tiles;
    job.device = device;
    job.output = output.toStdString();
    job.cog = cog;
  };
  if (spec.kind == JobSpec::Kind::Generate) {
    fill(spec.generate);
    spec.generate.force = true;  // a Processing user asked for exactly this extent
  } else {
    fill(spec.inpaint);
  }
  spec.title = displayName();
  spec.layerName = QFileInfo(output).completeBaseName();
}

QVariantMap TerrasynthAlgorithm::execute(const JobSpec& spec,
                                         QgsProcessingFeedback* feedback) const {
  std::atomic<bool> cancel{false};
  QMetaObject::Connection connection;
  if (feedback) {
    connection = QObject::connect(feedback, &QgsFeedback::canceled, [&cancel] { cancel = true; });
    if (feedback->isCanceled()) cancel = true;
  }
  QString lastLabel;
  JobHooks hooks;
  hooks.progress = [feedback, &lastLabel, &cancel](double fraction, const QString& label) {
    if (!feedback) return;
    feedback->setProgress(100.0 * fraction);
    if (!label.isEmpty() && label != lastLabel) {
      lastLabel = label;
      feedback->setProgressText(label);
    }
    if (feedback->isCanceled()) cancel = true;
  };
  hooks.warning = [feedback](const QString& message) {
    if (feedback) feedback->pushWarning(message);
  };
  const JobOutcome outcome = runJob(spec, cancel, hooks);
  if (connection) QObject::disconnect(connection);

  if (outcome.cancelled) {
    throw QgsProcessingException(
        Text::tr("Cancelled: %1 was not written.").arg(QString::fromStdString(spec.output())));
  }
  if (!outcome.ok) throw QgsProcessingException(outcome.error);
  if (feedback) {
    for (const QString& warning : outcome.warnings) feedback->pushWarning(warning);
    feedback->pushInfo(Text::tr("Wrote %1 (%2 × %3 px) in %4 s.")
                           .arg(outcome.output)
                           .arg(outcome.width)
                           .arg(outcome.height)
                           .arg(outcome.seconds, 0, 'f', 1));
  }
  QVariantMap results;
  results.insert(QStringLiteral("OUTPUT"), outcome.output);
  results.insert(QStringLiteral("STAC"), outcome.stac);
  return results;
}

// ---- generate for an extent -----------------------------------------------------------------

QString GenerateExtentAlgorithm::name() const { return QStringLiteral("generateextent"); }
QString GenerateExtentAlgorithm::displayName() const {
  return Text::tr("Generate imagery for an extent");
}
QString GenerateExtentAlgorithm::shortHelpString() const {
  return Text::tr(
      "Generates a synthetic aerial image covering an extent, at a ground resolution, optionally "
      "conditioned on a scene class and a style. The output is a georeferenced GeoTIFF (or COG) "
      "in the CRS of the extent.");
}
GenerateExtentAlgorithm* GenerateExtentAlgorithm::createInstance() const {
  return new GenerateExtentAlgorithm();
}
void GenerateExtentAlgorithm::initAlgorithm(const QVariantMap&) {
  addParameter(new QgsProcessingParameterExtent(QStringLiteral("EXTENT"), Text::tr("Extent")));
  addCommonParameters(true);
  addTextureBankParameter();
}
QVariantMap GenerateExtentAlgorithm::processAlgorithm(const QVariantMap& parameters,
                                                      QgsProcessingContext& context,
                                                      QgsProcessingFeedback* feedback) {
  JobSpec spec;
  spec.kind = JobSpec::Kind::Generate;
  readExtent(parameters, QStringLiteral("EXTENT"), context, spec.generate);
  readCommonParameters(parameters, context, spec);
  return execute(spec, feedback);
}

// ---- generate from a layout layer -----------------------------------------------------------

QString GenerateLayoutAlgorithm::name() const { return QStringLiteral("generatelayout"); }
QString GenerateLayoutAlgorithm::displayName() const {
  return Text::tr("Generate imagery from a layout layer");
}
QString GenerateLayoutAlgorithm::shortHelpString() const {
  return Text::tr(
      "Generates a synthetic aerial image that follows a layout: polygons (and lines) whose "
      "class field holds a class name of the model (building, road, vegetation, water, ...) or "
      "its id. Without an extent the layout's extent is used.");
}
GenerateLayoutAlgorithm* GenerateLayoutAlgorithm::createInstance() const {
  return new GenerateLayoutAlgorithm();
}
void GenerateLayoutAlgorithm::initAlgorithm(const QVariantMap&) {
  addParameter(new QgsProcessingParameterFeatureSource(
      QStringLiteral("LAYOUT"), Text::tr("Layout layer"),
      {QgsProcessing::TypeVectorPolygon, QgsProcessing::TypeVectorLine}));
  addParameter(new QgsProcessingParameterField(QStringLiteral("CLASS_FIELD"),
                                               Text::tr("Class field"), QStringLiteral("class"),
                                               QStringLiteral("LAYOUT")));
  addParameter(new QgsProcessingParameterExtent(
      QStringLiteral("EXTENT"), Text::tr("Extent (empty = the layout's)"), QVariant(), true));
  addCommonParameters(false);
  addTextureBankParameter();
}
QVariantMap GenerateLayoutAlgorithm::processAlgorithm(const QVariantMap& parameters,
                                                      QgsProcessingContext& context,
                                                      QgsProcessingFeedback* feedback) {
  JobSpec spec;
  spec.kind = JobSpec::Kind::Generate;
  std::unique_ptr<QgsProcessingFeatureSource> source(
      parameterAsSource(parameters, QStringLiteral("LAYOUT"), context));
  if (!source) {
    throw QgsProcessingException(invalidSourceError(parameters, QStringLiteral("LAYOUT")));
  }
  const QString field = parameterAsString(parameters, QStringLiteral("CLASS_FIELD"), context);
  if (source->fields().indexOf(field) < 0) {
    throw QgsProcessingException(
        Text::tr("The layout layer has no field \"%1\".").arg(field));
  }
  if (parameters.value(QStringLiteral("EXTENT")).isValid() &&
      !parameterAsString(parameters, QStringLiteral("EXTENT"), context).isEmpty()) {
    readExtent(parameters, QStringLiteral("EXTENT"), context, spec.generate);
  } else {
    const QgsRectangle extent = source->sourceExtent();
    if (extent.isEmpty()) throw QgsProcessingException(Text::tr("The layout layer is empty."));
    spec.generate.extent = std::array<double, 4>{extent.xMinimum(), extent.yMinimum(),
                                                 extent.xMaximum(), extent.yMaximum()};
    spec.generate.crs = crsDefinition(source->sourceCrs());
  }
  QString layerName;
  const QString path = parameterAsCompatibleSourceLayerPathAndLayerName(
      parameters, QStringLiteral("LAYOUT"), context,
      {QStringLiteral("gpkg"), QStringLiteral("shp"), QStringLiteral("geojson")},
      QStringLiteral("gpkg"), feedback, &layerName);
  spec.generate.layout.path = path.toStdString();
  spec.generate.layout.layer = layerName.toStdString();
  spec.generate.layout.class_field = field.toStdString();
  readCommonParameters(parameters, context, spec);
  return execute(spec, feedback);
}

// ---- generate from OpenStreetMap ------------------------------------------------------------

QString GenerateOsmAlgorithm::name() const { return QStringLiteral("generateosm"); }
QString GenerateOsmAlgorithm::displayName() const {
  return Text::tr("Generate imagery from OpenStreetMap data");
}
QString GenerateOsmAlgorithm::shortHelpString() const {
  return Text::tr(
      "Generates a synthetic aerial image from an OpenStreetMap extract (.osm or .pbf): roads, "
      "buildings, water and land use become a layout through a tag-to-class mapping (the "
      "default one shipped with Terrasynth unless a JSON mapping file is given).");
}
GenerateOsmAlgorithm* GenerateOsmAlgorithm::createInstance() const {
  return new GenerateOsmAlgorithm();
}
void GenerateOsmAlgorithm::initAlgorithm(const QVariantMap&) {
  addParameter(new QgsProcessingParameterFile(
      QStringLiteral("OSM"), Text::tr("OpenStreetMap file"), QgsProcessingParameterFile::File,
      QString(), QVariant(), false, Text::tr("OpenStreetMap files (*.osm *.pbf)")));
  addParameter(new QgsProcessingParameterExtent(QStringLiteral("EXTENT"), Text::tr("Extent")));
  addParameter(new QgsProcessingParameterFile(
      QStringLiteral("MAPPING"), Text::tr("Tag-to-class mapping (empty = the default)"),
      QgsProcessingParameterFile::File, QStringLiteral("json"), QVariant(), true));
  addCommonParameters(false);
  addTextureBankParameter();
}
QVariantMap GenerateOsmAlgorithm::processAlgorithm(const QVariantMap& parameters,
                                                   QgsProcessingContext& context,
                                                   QgsProcessingFeedback* feedback) {
  JobSpec spec;
  spec.kind = JobSpec::Kind::Generate;
  const QString osm = parameterAsFile(parameters, QStringLiteral("OSM"), context);
  if (!QFileInfo::exists(osm)) {
    throw QgsProcessingException(Text::tr("The OpenStreetMap file %1 does not exist.").arg(osm));
  }
  readExtent(parameters, QStringLiteral("EXTENT"), context, spec.generate);
  spec.generate.layout.path = osm.toStdString();
  spec.generate.layout.osm_mapping =
      parameterAsFile(parameters, QStringLiteral("MAPPING"), context).toStdString();
  readCommonParameters(parameters, context, spec);
  return execute(spec, feedback);
}

// ---- inpaint --------------------------------------------------------------------------------

QString InpaintAlgorithm::name() const { return QStringLiteral("inpaint"); }
QString InpaintAlgorithm::displayName() const { return Text::tr("Inpaint a raster area"); }
QString InpaintAlgorithm::shortHelpString() const {
  return Text::tr(
      "Regenerates the area of a raster covered by mask polygons and writes the result to a new "
      "raster; pixels outside the mask are kept as they are and the input is never modified.");
}
InpaintAlgorithm* InpaintAlgorithm::createInstance() const { return new InpaintAlgorithm(); }
void InpaintAlgorithm::initAlgorithm(const QVariantMap&) {
  addParameter(new QgsProcessingParameterRasterLayer(QStringLiteral("INPUT"),
                                                     Text::tr("Raster to inpaint")));
  addParameter(new QgsProcessingParameterFeatureSource(
      QStringLiteral("MASK"), Text::tr("Mask polygons"), {QgsProcessing::TypeVectorPolygon}));
  addParameter(new QgsProcessingParameterNumber(
      QStringLiteral("GROW"), Text::tr("Grow the mask by (metres)"),
      QgsProcessingParameterNumber::Double, 0.0, true, 0.0));
  addParameter(new QgsProcessingParameterNumber(
      QStringLiteral("FEATHER"), Text::tr("Feather width in metres (-1 = automatic)"),
      QgsProcessingParameterNumber::Double, -1.0, true, -1.0));
  addParameter(new QgsProcessingParameterBoolean(
      QStringLiteral("AUTO_LAYOUT"),
      Text::tr("Continue the classes of the surroundings into the mask"), true, true));
  addParameter(new QgsProcessingParameterBoolean(
      QStringLiteral("HARMONISE"), Text::tr("Match tone and grain to the surroundings"), true,
      true));
  addParameter(new QgsProcessingParameterBoolean(
      QStringLiteral("TEXTURE"), Text::tr("Rebuild fine detail from the surroundings' texture"),
      true, true));
  addCommonParameters(true);
}
QVariantMap InpaintAlgorithm::processAlgorithm(const QVariantMap& parameters,
                                               QgsProcessingContext& context,
                                               QgsProcessingFeedback* feedback) {
  JobSpec spec;
  spec.kind = JobSpec::Kind::Inpaint;
  QgsRasterLayer* raster = parameterAsRasterLayer(parameters, QStringLiteral("INPUT"), context);
  if (!raster) throw QgsProcessingException(invalidRasterError(parameters, QStringLiteral("INPUT")));
  if (raster->providerType() != QLatin1String("gdal")) {
    throw QgsProcessingException(
        Text::tr("The raster %1 is not a file GDAL can read.").arg(raster->name()));
  }
  const QString input = raster->source();
  spec.inpaint.raster = input.toStdString();
  QString maskLayer;
  const QString mask = parameterAsCompatibleSourceLayerPathAndLayerName(
      parameters, QStringLiteral("MASK"), context,
      {QStringLiteral("gpkg"), QStringLiteral("shp"), QStringLiteral("geojson")},
      QStringLiteral("gpkg"), feedback, &maskLayer);
  spec.inpaint.mask_path = mask.toStdString();
  spec.inpaint.mask_layer = maskLayer.toStdString();
  spec.inpaint.grow_m = parameterAsDouble(parameters, QStringLiteral("GROW"), context);
  spec.inpaint.feather_m = parameterAsDouble(parameters, QStringLiteral("FEATHER"), context);
  spec.inpaint.auto_layout = parameterAsBoolean(parameters, QStringLiteral("AUTO_LAYOUT"), context);
  spec.inpaint.harmonise = parameterAsBoolean(parameters, QStringLiteral("HARMONISE"), context);
  spec.inpaint.texture = parameterAsBoolean(parameters, QStringLiteral("TEXTURE"), context);
  readCommonParameters(parameters, context, spec);
  if (QFileInfo(input).absoluteFilePath() ==
      QFileInfo(QString::fromStdString(spec.inpaint.output)).absoluteFilePath()) {
    throw QgsProcessingException(
        Text::tr("The output %1 is the raster being inpainted: choose another file, the input "
                 "is never overwritten.")
            .arg(input));
  }
  return execute(spec, feedback);
}

}  // namespace terrasynth::plugin
