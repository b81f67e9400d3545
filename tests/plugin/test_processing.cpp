// The Processing provider: registration, parameters, and every algorithm end-to-end.
#include <gdal_priv.h>
#include <gtest/gtest.h>

#include <QCryptographicHash>
#include <QFile>
#include <QFileInfo>
#include <memory>

#include "layout_layer.h"
#include "plugin_test_support.h"
#include "processing.h"
#include "qgsapplication.h"
#include "qgscoordinatetransform.h"
#include "qgsprocessingcontext.h"
#include "qgsexception.h"
#include "qgsprocessingfeedback.h"
#include "qgsprocessingregistry.h"
#include "qgsproject.h"
#include "qgsrasterdataprovider.h"
#include "qgsrasterlayer.h"
#include "qgsvectorfilewriter.h"
#include "qgsvectorlayer.h"
#include "terrasynth_plugin.h"

namespace terrasynth::plugin {
namespace {

using test::scratchRoot;
using test::sharedFixture;

const QgsProcessingAlgorithm* algorithm(const QString& id) {
  registerProvider();
  return QgsApplication::processingRegistry()->algorithmById(id);
}

QVariantMap run(const QString& id, const QVariantMap& parameters, bool* ok, QString* error,
                QgsProcessingFeedback* feedback = nullptr) {
  QgsProcessingContext context;
  context.setProject(QgsProject::instance());
  QgsProcessingFeedback ownFeedback;
  std::unique_ptr<QgsProcessingAlgorithm> instance(algorithm(id)->create());
  QVariantMap results;
  try {
    // Exceptions propagate so that the test sees their messages.
    results = instance->run(parameters, context, feedback ? feedback : &ownFeedback, ok,
                            QVariantMap(), false);
  } catch (const QgsProcessingException& exception) {
    *ok = false;
    *error = exception.what();
  }
  if (!*ok && error->isEmpty()) error->append(QStringLiteral("failed"));
  return results;
}

QString fileHash(const QString& path) {
  QFile file(path);
  if (!file.open(QIODevice::ReadOnly)) return QString();
  return QString::fromLatin1(QCryptographicHash::hash(file.readAll(), QCryptographicHash::Sha256).toHex());
}

// The output covers the requested extent in the requested CRS at the requested resolution.
void expectGeoreferenced(const QString& path, const QgsRectangle& extent, const QString& crs,
                         double gsd) {
  QgsRasterLayer raster(path, QStringLiteral("out"));
  ASSERT_TRUE(raster.isValid()) << path.toStdString();
  EXPECT_EQ(raster.crs().authid(), crs);
  EXPECT_NEAR(raster.rasterUnitsPerPixelX(), gsd, gsd * 1e-6);
  EXPECT_NEAR(raster.rasterUnitsPerPixelY(), gsd, gsd * 1e-6);
  const QgsRectangle got = raster.extent();
  EXPECT_NEAR(got.xMinimum(), extent.xMinimum(), gsd);
  EXPECT_NEAR(got.yMaximum(), extent.yMaximum(), gsd);
  EXPECT_NEAR(got.width(), extent.width(), gsd);
  EXPECT_NEAR(got.height(), extent.height(), gsd);
  EXPECT_GE(raster.bandCount(), 3);
}

TEST(ProcessingProvider, RegistersFourAlgorithmsWithUppercaseKeys) {
  registerProvider();
  EXPECT_FALSE(registerProvider());  // one provider with that id only
  const QgsProcessingProvider* provider =
      QgsApplication::processingRegistry()->providerById(QStringLiteral("terrasynth"));
  ASSERT_NE(provider, nullptr);
  EXPECT_EQ(provider->name(), QStringLiteral("Terrasynth"));
  QStringList ids;
  for (const QgsProcessingAlgorithm* algorithm : provider->algorithms()) {
    ids << algorithm->id();
    for (const QgsProcessingParameterDefinition* parameter : algorithm->parameterDefinitions()) {
      EXPECT_EQ(parameter->name(), parameter->name().toUpper())
          << algorithm->id().toStdString() << " " << parameter->name().toStdString();
    }
    EXPECT_NE(algorithm->parameterDefinition(QStringLiteral("OUTPUT")), nullptr);
    EXPECT_FALSE(algorithm->shortHelpString().isEmpty());
  }
  ids.sort();
  EXPECT_EQ(ids, (QStringList{QStringLiteral("terrasynth:generateextent"),
                              QStringLiteral("terrasynth:generatelayout"),
                              QStringLiteral("terrasynth:generateosm"),
                              QStringLiteral("terrasynth:inpaint")}));
}

TEST(ProcessingProvider, InpaintRefusesToOverwriteItsInput) {
  QTemporaryDir dir(scratchRoot() + QStringLiteral("/processing-XXXXXX"));
  const QString input = dir.filePath(QStringLiteral("input.tif"));
  ASSERT_TRUE(QFile::copy(sharedFixture(QStringLiteral("rasters/rotterdam_rgb_utm31n_4.5m.tif")), input));
  const QString hash = fileHash(input);
  bool ok = true;
  QString error;
  run(QStringLiteral("terrasynth:inpaint"),
      {{QStringLiteral("INPUT"), input},
       {QStringLiteral("MASK"), sharedFixture(QStringLiteral("vectors/alexandria_va_buildings_wgs84.geojson"))},
       {QStringLiteral("OUTPUT"), input}},
      &ok, &error);
  EXPECT_FALSE(ok);
  EXPECT_TRUE(error.contains(QStringLiteral("never overwritten"))) << error.toStdString();
  EXPECT_EQ(fileHash(input), hash);
}

TEST(ProcessingProvider, LayoutWithoutTheClassFieldIsAnError) {
  bool ok = true;
  QString error;
  QTemporaryDir dir(scratchRoot() + QStringLiteral("/processing-XXXXXX"));
  run(QStringLiteral("terrasynth:generatelayout"),
      {{QStringLiteral("LAYOUT"), sharedFixture(QStringLiteral("vectors/spacenet_atlanta_buildings.geojson"))},
       {QStringLiteral("CLASS_FIELD"), QStringLiteral("no_such_field")},
       {QStringLiteral("OUTPUT"), dir.filePath(QStringLiteral("out.tif"))}},
      &ok, &error);
  EXPECT_FALSE(ok);
  EXPECT_FALSE(QFileInfo::exists(dir.filePath(QStringLiteral("out.tif"))));
}

TEST(ProcessingProvider, GenerationTakesAnOptionalTextureBank) {
  for (const QString& id : {QStringLiteral("terrasynth:generateextent"), QStringLiteral("terrasynth:generatelayout"),
                           QStringLiteral("terrasynth:generateosm")})
    EXPECT_NE(algorithm(id)->parameterDefinition(QStringLiteral("TEXTURE_BANK")), nullptr) << id.toStdString();
  // Inpainting has its own texture step (from the surroundings).
  EXPECT_EQ(algorithm(QStringLiteral("terrasynth:inpaint"))->parameterDefinition(QStringLiteral("TEXTURE_BANK")),
            nullptr);
  // A folder that is no bank: an error naming it, and no output.
  QTemporaryDir dir(scratchRoot() + QStringLiteral("/processing-XXXXXX"));
  const QString output = dir.filePath(QStringLiteral("out.tif"));
  bool ok = true;
  QString error;
  run(QStringLiteral("terrasynth:generateextent"),
      {{QStringLiteral("EXTENT"), QStringLiteral("500000,500064,5000000,5000064 [EPSG:32631]")},
       {QStringLiteral("GSD"), 0.5},
       {QStringLiteral("TEXTURE_BANK"), dir.path()},
       {QStringLiteral("OUTPUT"), output}},
      &ok, &error);
  EXPECT_FALSE(ok);
  EXPECT_TRUE(error.contains(QStringLiteral("not a texture bank"))) << error.toStdString();
  EXPECT_FALSE(QFileInfo::exists(output));
}

class ProcessingEndToEnd : public ::testing::Test {
 protected:
  QTemporaryDir dir{scratchRoot() + QStringLiteral("/processing-XXXXXX")};
};

TEST_F(ProcessingEndToEnd, GenerateExtent) {
  TERRASYNTH_REQUIRE_MODEL(model);
  const double gsd = model.native_gsd;
  const QgsRectangle extent(500000, 5000000, 500000 + 96 * gsd, 5000000 + 64 * gsd);
  const QString output = dir.filePath(QStringLiteral("extent.tif"));
  bool ok = false;
  QString error;
  QgsProcessingFeedback feedback;
  double lastProgress = -1;
  QObject::connect(&feedback, &QgsFeedback::progressChanged,
                   [&lastProgress](double progress) { lastProgress = progress; });
  const QVariantMap results = run(
      QStringLiteral("terrasynth:generateextent"),
      {{QStringLiteral("EXTENT"), QStringLiteral("%1,%2,%3,%4 [EPSG:32631]")
                                      .arg(extent.xMinimum(), 0, 'f', 3)
                                      .arg(extent.xMaximum(), 0, 'f', 3)
                                      .arg(extent.yMinimum(), 0, 'f', 3)
                                      .arg(extent.yMaximum(), 0, 'f', 3)},
       {QStringLiteral("MODEL"), QString::fromStdString(model.dir)},
       {QStringLiteral("GSD"), gsd},
       {QStringLiteral("STEPS"), 2},
       {QStringLiteral("SEED"), 3},
       {QStringLiteral("OUTPUT"), output}},
      &ok, &error, &feedback);
  ASSERT_TRUE(ok) << error.toStdString();
  EXPECT_EQ(results.value(QStringLiteral("OUTPUT")).toString(), output);
  EXPECT_GT(lastProgress, 50);
  expectGeoreferenced(output, extent, QStringLiteral("EPSG:32631"), gsd);
}

TEST_F(ProcessingEndToEnd, GenerateFromALayoutLayer) {
  TERRASYNTH_REQUIRE_MODEL(model);
  const double gsd = model.native_gsd;
  const QString layoutPath = dir.filePath(QStringLiteral("layout.gpkg"));
  auto layout = createLayoutLayer(layoutPath, QgsCoordinateReferenceSystem(QStringLiteral("EPSG:32632")),
                                  ClassPalette::fromModel(model));
  const QgsRectangle extent(760000, 5220000, 760000 + 64 * gsd, 5220000 + 64 * gsd);
  const QString first = QString::fromStdString(model.classes.at(std::min<size_t>(1, model.classes.size() - 1)));
  addLayoutShape(layout.get(), QgsGeometry::fromRect(extent), layout->crs(),
                 QString::fromStdString(model.classes.front()));
  addLayoutShape(layout.get(),
                 QgsGeometry::fromRect(QgsRectangle(extent.xMinimum() + 8 * gsd, extent.yMinimum() + 8 * gsd,
                                                    extent.xMinimum() + 40 * gsd, extent.yMinimum() + 30 * gsd)),
                 layout->crs(), first);
  layout.reset();
  const QString output = dir.filePath(QStringLiteral("layout.tif"));
  bool ok = false;
  QString error;
  run(QStringLiteral("terrasynth:generatelayout"),
      {{QStringLiteral("LAYOUT"), layoutPath + QStringLiteral("|layername=terrasynth_layout")},
       {QStringLiteral("CLASS_FIELD"), QStringLiteral("class")},
       {QStringLiteral("MODEL"), QString::fromStdString(model.dir)},
       {QStringLiteral("GSD"), gsd},
       {QStringLiteral("STEPS"), 2},
       {QStringLiteral("OUTPUT"), output}},
      &ok, &error);
  ASSERT_TRUE(ok) << error.toStdString();
  expectGeoreferenced(output, extent, QStringLiteral("EPSG:32632"), gsd);
}

TEST_F(ProcessingEndToEnd, GenerateFromOpenStreetMap) {
  TERRASYNTH_REQUIRE_MODEL(model);
  const double gsd = model.native_gsd;
  // A small square in Vaduz (Liechtenstein), in UTM 32N.
  QgsCoordinateTransform toUtm(QgsCoordinateReferenceSystem(QStringLiteral("EPSG:4326")),
                               QgsCoordinateReferenceSystem(QStringLiteral("EPSG:32632")),
                               QgsProject::instance());
  const QgsPointXY centre = toUtm.transform(QgsPointXY(9.5215, 47.1410));
  const QgsRectangle extent(std::floor(centre.x()), std::floor(centre.y()),
                            std::floor(centre.x()) + 64 * gsd, std::floor(centre.y()) + 64 * gsd);
  const QString output = dir.filePath(QStringLiteral("osm.tif"));
  bool ok = false;
  QString error;
  run(QStringLiteral("terrasynth:generateosm"),
      {{QStringLiteral("OSM"), sharedFixture(QStringLiteral("vectors/liechtenstein-2013-08-03.osm.pbf"))},
       {QStringLiteral("EXTENT"), QStringLiteral("%1,%2,%3,%4 [EPSG:32632]")
                                      .arg(extent.xMinimum(), 0, 'f', 3)
                                      .arg(extent.xMaximum(), 0, 'f', 3)
                                      .arg(extent.yMinimum(), 0, 'f', 3)
                                      .arg(extent.yMaximum(), 0, 'f', 3)},
       {QStringLiteral("MODEL"), QString::fromStdString(model.dir)},
       {QStringLiteral("GSD"), gsd},
       {QStringLiteral("STEPS"), 2},
       {QStringLiteral("OUTPUT"), output}},
      &ok, &error);
  ASSERT_TRUE(ok) << error.toStdString();
  expectGeoreferenced(output, extent, QStringLiteral("EPSG:32632"), gsd);
}

TEST_F(ProcessingEndToEnd, InpaintKeepsTheInputAndThePixelsOutsideTheMask) {
  TERRASYNTH_REQUIRE_MODEL(model);
  const QString input = dir.filePath(QStringLiteral("input.tif"));
  ASSERT_TRUE(QFile::copy(sharedFixture(QStringLiteral("rasters/rotterdam_rgb_utm31n_4.5m.tif")), input));
  const QString hash = fileHash(input);
  QgsRasterLayer source(input, QStringLiteral("input"));
  ASSERT_TRUE(source.isValid());
  const QgsRectangle full = source.extent();
  const QgsRectangle hole(full.xMinimum() + 0.4 * full.width(), full.yMinimum() + 0.4 * full.height(),
                          full.xMinimum() + 0.6 * full.width(), full.yMinimum() + 0.6 * full.height());
  const QString maskPath = dir.filePath(QStringLiteral("mask.gpkg"));
  {
    FeatureExport mask;
    mask.crs = source.crs();
    mask.geometries = {QgsGeometry::fromRect(hole)};
    ASSERT_EQ(writeFeatureExport(mask, maskPath, QStringLiteral("mask")), 1);
  }
  const QString output = dir.filePath(QStringLiteral("inpainted.tif"));
  bool ok = false;
  QString error;
  run(QStringLiteral("terrasynth:inpaint"),
      {{QStringLiteral("INPUT"), input},
       {QStringLiteral("MASK"), maskPath + QStringLiteral("|layername=mask")},
       {QStringLiteral("FEATHER"), 0.0},
       {QStringLiteral("HARMONISE"), false},
       {QStringLiteral("TEXTURE"), false},
       {QStringLiteral("MODEL"), QString::fromStdString(model.dir)},
       {QStringLiteral("STEPS"), 2},
       {QStringLiteral("OUTPUT"), output}},
      &ok, &error);
  ASSERT_TRUE(ok) << error.toStdString();
  EXPECT_EQ(fileHash(input), hash);  // the input is never modified
  {
    GDALAllRegister();
    std::unique_ptr<GDALDataset> written(GDALDataset::Open(output.toUtf8().constData(), GDAL_OF_RASTER));
    ASSERT_TRUE(written);
    const char* harmonised = written->GetMetadataItem("TERRASYNTH_HARMONISED");
    ASSERT_NE(harmonised, nullptr);
    EXPECT_STREQ(harmonised, "no");  // the parameter reached the job
    const char* texture = written->GetMetadataItem("TERRASYNTH_TEXTURE");
    ASSERT_NE(texture, nullptr);
    EXPECT_STREQ(texture, "no");
  }
  QgsRasterLayer result(output, QStringLiteral("result"));
  ASSERT_TRUE(result.isValid());
  EXPECT_EQ(result.crs(), source.crs());
  EXPECT_EQ(result.width(), source.width());
  EXPECT_EQ(result.height(), source.height());
  EXPECT_NEAR(result.extent().xMinimum(), full.xMinimum(), 1e-6);
  EXPECT_NEAR(result.extent().yMaximum(), full.yMaximum(), 1e-6);
  // A corner block far from the mask is bit-identical to the input.
  const QgsRectangle corner(full.xMinimum(), full.yMaximum() - 0.2 * full.height(),
                            full.xMinimum() + 0.2 * full.width(), full.yMaximum());
  const int size = source.width() / 5;
  for (int band = 1; band <= 3; ++band) {
    std::unique_ptr<QgsRasterBlock> a(source.dataProvider()->block(band, corner, size, size));
    std::unique_ptr<QgsRasterBlock> b(result.dataProvider()->block(band, corner, size, size));
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->data(), b->data()) << "band " << band;
  }
}

TEST_F(ProcessingEndToEnd, CancelledRunLeavesNoFile) {
  TERRASYNTH_REQUIRE_MODEL(model);
  const QString output = dir.filePath(QStringLiteral("cancelled.tif"));
  QgsProcessingFeedback feedback;
  // Cancel as soon as the job reports progress: the pipeline checks the flag every step.
  QObject::connect(&feedback, &QgsFeedback::progressChanged, &feedback, [&feedback](double) {
    feedback.cancel();
  });
  bool ok = true;
  QString error;
  run(QStringLiteral("terrasynth:generateextent"),
      {{QStringLiteral("EXTENT"), QStringLiteral("500000,500128,5000000,5000128 [EPSG:32631]")},
       {QStringLiteral("MODEL"), QString::fromStdString(model.dir)},
       {QStringLiteral("STEPS"), 8},
       {QStringLiteral("OUTPUT"), output}},
      &ok, &error, &feedback);
  EXPECT_FALSE(ok);
  EXPECT_TRUE(error.contains(QStringLiteral("Cancelled"))) << error.toStdString();
  EXPECT_FALSE(QFileInfo::exists(output));
}

}  // namespace
}  // namespace terrasynth::plugin
