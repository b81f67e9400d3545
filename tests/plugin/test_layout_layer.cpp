// The "Terrasynth layout" layer, feature exports for jobs, and turning the dock's state into jobs.
#include <gtest/gtest.h>

#include <QFileInfo>
#include <QLabel>
#include <memory>

#include "job_builder.h"
#include "layout_layer.h"
#include "plugin_test_support.h"
#include "qgscategorizedsymbolrenderer.h"
#include "qgsproject.h"
#include "qgsrasterlayer.h"
#include "qgssymbol.h"
#include "qgsvectorlayer.h"
#include "qgsvectorlayerfeatureiterator.h"
#include "terrasynth/engine/model.h"
#include "terrasynth_dock.h"

namespace terrasynth::plugin {
namespace {

using test::scratchRoot;
using test::sharedFixture;

ClassPalette testPalette() {
  ClassPalette palette;
  palette.names = QStringList{QStringLiteral("other"), QStringLiteral("building"), QStringLiteral("road"),
                   QStringLiteral("vegetation"), QStringLiteral("water")};
  palette.colours = QVector<QColor>{QColor(120, 120, 120), QColor(200, 60, 40), QColor(90, 90, 90),
                     QColor(40, 160, 60), QColor(30, 90, 200)};
  return palette;
}

QgsGeometry square(double x, double y, double size) {
  return QgsGeometry::fromRect(QgsRectangle(x, y, x + size, y + size));
}

TEST(LayoutLayer, HasTheClassFieldAndAPaletteStyle) {
  QTemporaryDir dir(scratchRoot() + QStringLiteral("/layout-XXXXXX"));
  const QString path = dir.filePath(QStringLiteral("layout.gpkg"));
  const ClassPalette palette = testPalette();
  auto layer = createLayoutLayer(path, QgsCoordinateReferenceSystem(QStringLiteral("EPSG:32631")),
                                 palette);
  ASSERT_TRUE(layer->isValid());
  EXPECT_TRUE(QFileInfo::exists(path));
  EXPECT_TRUE(isLayoutLayer(layer.get()));
  EXPECT_EQ(layer->geometryType(), QgsWkbTypes::PolygonGeometry);
  EXPECT_EQ(layer->crs().authid(), QStringLiteral("EPSG:32631"));
  const int field = layer->fields().indexOf(QStringLiteral("class"));
  ASSERT_GE(field, 0);
  EXPECT_EQ(layer->fields().at(field).type(), QVariant::String);

  auto* renderer = dynamic_cast<QgsCategorizedSymbolRenderer*>(layer->renderer());
  ASSERT_NE(renderer, nullptr);
  EXPECT_EQ(renderer->classAttribute(), QStringLiteral("class"));
  ASSERT_EQ(renderer->categories().size(), palette.names.size());
  for (int i = 0; i < palette.names.size(); ++i) {
    const QgsRendererCategory& category = renderer->categories().at(i);
    EXPECT_EQ(category.value().toString(), palette.names.at(i));
    const QColor colour = category.symbol()->color();
    EXPECT_EQ(colour.rgb(), palette.colours.at(i).rgb()) << palette.names.at(i).toStdString();
  }
}

TEST(LayoutLayer, ShapesAreAddedWithTheirClassInTheLayerCrs) {
  QTemporaryDir dir(scratchRoot() + QStringLiteral("/layout-XXXXXX"));
  auto layer = createLayoutLayer(dir.filePath(QStringLiteral("layout.gpkg")),
                                 QgsCoordinateReferenceSystem(QStringLiteral("EPSG:32631")),
                                 testPalette());
  // A shape drawn on a canvas in WGS 84 near 3°E, 45°N (inside UTM 31N).
  const QgsGeometry drawn = QgsGeometry::fromRect(QgsRectangle(3.0, 45.0, 3.001, 45.001));
  addLayoutShape(layer.get(), drawn, QgsCoordinateReferenceSystem(QStringLiteral("EPSG:4326")),
                 QStringLiteral("building"));
  addLayoutShape(layer.get(), square(500000, 4983000, 20), layer->crs(), QStringLiteral("water"));
  ASSERT_EQ(layer->featureCount(), 2);
  QgsFeatureIterator features = layer->getFeatures();
  QgsFeature feature;
  ASSERT_TRUE(features.nextFeature(feature));
  EXPECT_EQ(feature.attribute(QStringLiteral("class")).toString(), QStringLiteral("building"));
  const QgsRectangle box = feature.geometry().boundingBox();
  EXPECT_GT(box.xMinimum(), 400000);  // projected, not degrees
  EXPECT_NEAR(box.width(), 78.8, 2.0);   // 0.001° of longitude at 45°N
  EXPECT_NEAR(box.height(), 111.1, 2.0);  // 0.001° of latitude
  ASSERT_TRUE(features.nextFeature(feature));
  EXPECT_EQ(feature.attribute(QStringLiteral("class")).toString(), QStringLiteral("water"));
  EXPECT_NEAR(feature.geometry().area(), 400, 1e-6);
}

TEST(LayoutLayer, ProjectLayoutLayerIsFoundByItsMark) {
  QTemporaryDir dir(scratchRoot() + QStringLiteral("/layout-XXXXXX"));
  auto layout = createLayoutLayer(dir.filePath(QStringLiteral("layout.gpkg")),
                                  QgsCoordinateReferenceSystem(QStringLiteral("EPSG:32631")),
                                  testPalette());
  QgsProject project;
  auto* other = new QgsVectorLayer(QStringLiteral("Polygon?crs=EPSG:32631"), QStringLiteral("x"),
                                   QStringLiteral("memory"));
  project.addMapLayer(other);
  EXPECT_EQ(findLayoutLayer(&project), nullptr);
  QgsVectorLayer* added = layout.release();
  project.addMapLayer(added);
  EXPECT_EQ(findLayoutLayer(&project), added);
}

std::unique_ptr<QgsVectorLayer> landUseLayer() {
  auto layer = std::make_unique<QgsVectorLayer>(
      QStringLiteral("Polygon?crs=EPSG:32631&field=landuse:string"), QStringLiteral("landuse"),
      QStringLiteral("memory"));
  QgsFeatureList features;
  const QStringList values = {QStringLiteral("forest"), QStringLiteral("house"),
                              QStringLiteral("parking"), QStringLiteral("forest")};
  for (int i = 0; i < values.size(); ++i) {
    QgsFeature feature(layer->fields());
    feature.setGeometry(square(500000 + 30 * i, 5000000, 25));
    feature.setAttribute(0, values.at(i));
    features << feature;
  }
  layer->dataProvider()->addFeatures(features);
  layer->updateExtents();
  return layer;
}

std::map<QString, int> classesIn(const QString& path, const QString& table) {
  QgsVectorLayer written(QStringLiteral("%1|layername=%2").arg(path, table), QStringLiteral("w"),
                         QStringLiteral("ogr"));
  std::map<QString, int> counts;
  if (!written.isValid()) return counts;
  QgsFeature feature;
  QgsFeatureIterator it = written.getFeatures();
  while (it.nextFeature(feature)) ++counts[feature.attribute(QStringLiteral("class")).toString()];
  return counts;
}

TEST(FeatureExport, MapsFieldValuesToClassesAndSkipsUnmapped) {
  auto layer = landUseLayer();
  FeatureExport features;
  features.source = std::make_shared<QgsVectorLayerFeatureSource>(layer.get());
  features.fields = layer->fields();
  features.wkbType = layer->wkbType();
  features.crs = layer->crs();
  features.classField = QStringLiteral("landuse");
  features.classMapping = {{QStringLiteral("forest"), QStringLiteral("vegetation")},
                           {QStringLiteral("house"), QStringLiteral("building")},
                           {QStringLiteral("parking"), QString()}};
  QTemporaryDir dir(scratchRoot() + QStringLiteral("/export-XXXXXX"));
  const QString path = dir.filePath(QStringLiteral("layout.gpkg"));
  EXPECT_EQ(writeFeatureExport(features, path, QStringLiteral("layout")), 3);
  const auto counts = classesIn(path, QStringLiteral("layout"));
  EXPECT_EQ(counts.size(), 2u);
  EXPECT_EQ(counts.at(QStringLiteral("vegetation")), 2);
  EXPECT_EQ(counts.at(QStringLiteral("building")), 1);
}

TEST(FeatureExport, SelectionAndDrawnShapes) {
  auto layer = landUseLayer();
  FeatureExport selected;
  selected.source = std::make_shared<QgsVectorLayerFeatureSource>(layer.get());
  selected.fields = layer->fields();
  selected.wkbType = layer->wkbType();
  selected.crs = layer->crs();
  selected.selection = {1, 2};
  QTemporaryDir dir(scratchRoot() + QStringLiteral("/export-XXXXXX"));
  EXPECT_EQ(writeFeatureExport(selected, dir.filePath(QStringLiteral("mask.gpkg")),
                               QStringLiteral("mask")),
            2);

  FeatureExport drawn;
  drawn.crs = QgsCoordinateReferenceSystem(QStringLiteral("EPSG:32631"));
  drawn.geometries = {square(0, 0, 10), square(20, 0, 10)};
  drawn.className = QStringLiteral("road");
  const QString path = dir.filePath(QStringLiteral("drawn.gpkg"));
  EXPECT_EQ(writeFeatureExport(drawn, path, QStringLiteral("layout")), 2);
  EXPECT_EQ(classesIn(path, QStringLiteral("layout")).at(QStringLiteral("road")), 2);
}

TEST(FeatureExport, StopsWhenCancelled) {
  auto layer = landUseLayer();
  FeatureExport features;
  features.source = std::make_shared<QgsVectorLayerFeatureSource>(layer.get());
  features.fields = layer->fields();
  features.wkbType = layer->wkbType();
  features.crs = layer->crs();
  const std::atomic<bool> cancel{true};
  QTemporaryDir dir(scratchRoot() + QStringLiteral("/export-XXXXXX"));
  EXPECT_EQ(writeFeatureExport(features, dir.filePath(QStringLiteral("x.gpkg")),
                               QStringLiteral("x"), &cancel),
            -1);
}

class JobBuilderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    state.outputFolder = folder.path();
    state.model = QStringLiteral("some-model");
    state.gsd = 0.5;
    state.seed = 7;
    state.regionCrs = QgsCoordinateReferenceSystem(QStringLiteral("EPSG:32631"));
  }
  QTemporaryDir folder{scratchRoot() + QStringLiteral("/jobs-XXXXXX")};
  DockState state;
  QString error;
};

TEST_F(JobBuilderTest, RectangleRegionBecomesAnExtent) {
  state.region = QgsGeometry::fromRect(QgsRectangle(500000, 5000000, 500256, 5000128));
  state.sampler = QStringLiteral("ddim");
  state.steps = 4;
  state.cog = true;
  const auto spec = buildJob(state, &error);
  ASSERT_TRUE(spec) << error.toStdString();
  EXPECT_EQ(spec->kind, JobSpec::Kind::Generate);
  ASSERT_TRUE(spec->generate.extent.has_value());
  EXPECT_EQ(*spec->generate.extent, (std::array<double, 4>{500000, 5000000, 500256, 5000128}));
  EXPECT_EQ(spec->generate.crs, "EPSG:32631");
  EXPECT_TRUE(spec->regionExport.isEmpty());
  EXPECT_EQ(spec->generate.gsd, 0.5);
  EXPECT_EQ(spec->generate.sampling.sampler, "ddim");
  EXPECT_EQ(spec->generate.sampling.steps, 4);
  EXPECT_EQ(spec->generate.sampling.seed, 7u);
  EXPECT_EQ(spec->generate.model, "some-model");
  EXPECT_TRUE(spec->generate.cog);
  const QFileInfo output(QString::fromStdString(spec->generate.output));
  EXPECT_EQ(output.absolutePath(), QFileInfo(folder.path()).absoluteFilePath());
  EXPECT_EQ(output.suffix(), QStringLiteral("tif"));
  EXPECT_FALSE(output.exists());
}

TEST_F(JobBuilderTest, TheTextureBankOfTheSettingsGoesToGeneration) {
  state.region = QgsGeometry::fromRect(QgsRectangle(500000, 5000000, 500256, 5000128));
  state.textureBank = folder.filePath(QStringLiteral("bank"));
  const auto spec = buildJob(state, &error);
  ASSERT_TRUE(spec) << error.toStdString();
  EXPECT_EQ(spec->generate.sampling.texture_bank, state.textureBank.toStdString());
  state.textureBank.clear();
  const auto plain = buildJob(state, &error);
  ASSERT_TRUE(plain) << error.toStdString();
  EXPECT_TRUE(plain->generate.sampling.texture_bank.empty());
}

TEST_F(JobBuilderTest, PolygonRegionBecomesARegionFile) {
  state.region = QgsGeometry::fromPolygonXY(
      {{QgsPointXY(0, 0), QgsPointXY(100, 0), QgsPointXY(50, 80), QgsPointXY(0, 0)}});
  const auto spec = buildJob(state, &error);
  ASSERT_TRUE(spec) << error.toStdString();
  EXPECT_FALSE(spec->generate.extent.has_value());
  ASSERT_EQ(spec->regionExport.geometries.size(), 1);
  EXPECT_EQ(spec->regionExport.crs.authid(), QStringLiteral("EPSG:32631"));
  EXPECT_EQ(spec->generate.crs, "EPSG:32631");
}

TEST_F(JobBuilderTest, MissingInputsAreNamed) {
  EXPECT_FALSE(buildJob(state, &error));
  EXPECT_TRUE(error.contains(QStringLiteral("region"))) << error.toStdString();
  state.mode = JobMode::Layout;
  EXPECT_FALSE(buildJob(state, &error));
  EXPECT_TRUE(error.contains(QStringLiteral("layout"))) << error.toStdString();
  state.mode = JobMode::Osm;
  EXPECT_FALSE(buildJob(state, &error));
  EXPECT_TRUE(error.contains(QStringLiteral("OpenStreetMap"))) << error.toStdString();
  state.mode = JobMode::Inpaint;
  EXPECT_FALSE(buildJob(state, &error));
  EXPECT_TRUE(error.contains(QStringLiteral("raster"))) << error.toStdString();
  state.outputFolder.clear();
  EXPECT_FALSE(buildJob(state, &error));
  EXPECT_TRUE(error.contains(QStringLiteral("output folder"))) << error.toStdString();
}

TEST_F(JobBuilderTest, LayoutLayerWithMappingUsesItsExtent) {
  auto layer = landUseLayer();
  state.mode = JobMode::Layout;
  state.layoutLayer = layer.get();
  state.layoutField = QStringLiteral("landuse");
  state.classMapping = {{QStringLiteral("forest"), QStringLiteral("vegetation")}};
  const auto spec = buildJob(state, &error);
  ASSERT_TRUE(spec) << error.toStdString();
  ASSERT_TRUE(spec->generate.extent.has_value());
  EXPECT_EQ(*spec->generate.extent, (std::array<double, 4>{500000, 5000000, 500115, 5000025}));
  EXPECT_EQ(spec->layoutExport.classField, QStringLiteral("landuse"));
  EXPECT_EQ(spec->layoutExport.classMapping.value(QStringLiteral("forest")),
            QStringLiteral("vegetation"));
  ASSERT_TRUE(spec->layoutExport.source);
}

TEST_F(JobBuilderTest, OsmLayerOfTheProject) {
  const QString pbf = sharedFixture(QStringLiteral("vectors/liechtenstein-2013-08-03.osm.pbf"));
  QgsVectorLayer layer(pbf + QStringLiteral("|layername=multipolygons"), QStringLiteral("osm"),
                       QStringLiteral("ogr"));
  ASSERT_TRUE(layer.isValid());
  EXPECT_EQ(osmSourcePath(&layer), pbf);
  auto memory = landUseLayer();
  EXPECT_TRUE(osmSourcePath(memory.get()).isEmpty());

  state.mode = JobMode::Osm;
  state.osmPath = pbf;
  state.region = QgsGeometry::fromRect(QgsRectangle(9.52, 47.13, 9.53, 47.14));
  state.regionCrs = QgsCoordinateReferenceSystem(QStringLiteral("EPSG:4326"));
  const auto spec = buildJob(state, &error);
  ASSERT_TRUE(spec) << error.toStdString();
  EXPECT_EQ(spec->generate.layout.path, pbf.toStdString());
  EXPECT_TRUE(spec->generate.layout.osm_mapping.empty());
  EXPECT_EQ(spec->generate.crs, "EPSG:4326");
}

TEST_F(JobBuilderTest, InpaintWritesANewFileBesideNothingElse) {
  const QString input = sharedFixture(QStringLiteral("rasters/rotterdam_rgb_utm31n_4.5m.tif"));
  QgsRasterLayer raster(input, QStringLiteral("rotterdam"));
  ASSERT_TRUE(raster.isValid());
  state.mode = JobMode::Inpaint;
  state.inpaintRaster = &raster;
  EXPECT_FALSE(buildJob(state, &error));  // no mask yet
  const QgsPointXY centre = raster.extent().center();
  state.maskShapes = {square(centre.x() - 50, centre.y() - 50, 100)};
  state.maskCrs = raster.crs();
  state.growMetres = 2;
  const auto spec = buildJob(state, &error);
  ASSERT_TRUE(spec) << error.toStdString();
  EXPECT_EQ(spec->kind, JobSpec::Kind::Inpaint);
  EXPECT_EQ(spec->inpaint.raster, input.toStdString());
  EXPECT_NE(spec->inpaint.output, input.toStdString());
  EXPECT_TRUE(QString::fromStdString(spec->inpaint.output).contains(QStringLiteral("rotterdam")));
  EXPECT_EQ(spec->inpaint.grow_m, 2);
  EXPECT_EQ(spec->inpaint.gsd, 0);  // georeferenced: its own resolution
  EXPECT_EQ(spec->maskExport.geometries.size(), 1);
  EXPECT_EQ(spec->sourceLayerId, raster.id());
}

TEST(Dock, ShowsTheModelAndCollectsTheState) {
  engine::ModelInfo model;
  model.name = "unit-model";
  model.dir = "/models/unit-model";
  model.description = "A model described for a test";
  model.licence = "CC-BY-4.0";
  model.classes = {"other", "building", "water"};
  model.palette = {{{1, 2, 3}}, {{200, 10, 10}}, {{10, 10, 200}}};
  model.scenes = {"forest", "harbour"};
  model.styles = {"recife", "dubai"};
  model.native_gsd = 0.75;
  engine::ModelInfo second = model;
  second.name = "second";
  second.dir = "/models/second";
  second.native_gsd = 2.0;

  TerrasynthDock dock;
  dock.setModels({model, second}, QStringLiteral("second"));
  ASSERT_NE(dock.currentModel(), nullptr);
  EXPECT_EQ(dock.currentModel()->name, "second");
  EXPECT_DOUBLE_EQ(dock.gsd(), 2.0);  // the model's native GSD by default
  ASSERT_TRUE(dock.selectModel(QStringLiteral("unit-model")));
  EXPECT_DOUBLE_EQ(dock.gsd(), 0.75);
  dock.setPaintClass(QStringLiteral("water"));
  EXPECT_EQ(dock.paintClass(), QStringLiteral("water"));
  dock.setPaintClass(QStringLiteral("road"));  // not a class of this model
  EXPECT_EQ(dock.paintClass(), QStringLiteral("water"));

  dock.setDeviceInfo(QStringLiteral("CPU, 2 threads"), 1e-4);
  const auto* device = dock.findChild<QLabel*>(QStringLiteral("device"));
  ASSERT_NE(device, nullptr);
  // 1e-4 s per pixel at 0.75 m/px: 1e6 / 0.5625 pixels per km² -> ~178 s = 3 min.
  EXPECT_TRUE(device->text().startsWith(QStringLiteral("CPU, 2 threads: expect ~3 min per km²")))
      << device->text().toStdString();

  dock.setMode(JobMode::Region);
  dock.setScene(QStringLiteral("harbour"));
  dock.setStyle(QStringLiteral("dubai"));
  dock.setSeed(1234);
  dock.setCog(true);
  dock.setRegion(QgsGeometry::fromRect(QgsRectangle(0, 0, 150, 75)),
                 QgsCoordinateReferenceSystem(QStringLiteral("EPSG:32631")));
  const auto* info = dock.findChild<QLabel*>(QStringLiteral("regionInfo"));
  ASSERT_NE(info, nullptr);
  EXPECT_TRUE(info->text().contains(QStringLiteral("200 × 100 px"))) << info->text().toStdString();

  const DockState state = dock.state(QStringLiteral("/some/folder"));
  EXPECT_EQ(state.mode, JobMode::Region);
  EXPECT_EQ(state.model, QStringLiteral("/models/unit-model"));
  EXPECT_EQ(state.scene, QStringLiteral("harbour"));
  EXPECT_EQ(state.style, QStringLiteral("dubai"));
  EXPECT_EQ(state.seed, 1234u);
  EXPECT_TRUE(state.cog);
  EXPECT_EQ(state.outputFolder, QStringLiteral("/some/folder"));
  EXPECT_NEAR(state.region.area(), 150 * 75, 1e-9);
  dock.setOutputFolder(QStringLiteral("/chosen"));
  EXPECT_EQ(dock.state(QStringLiteral("/some/folder")).outputFolder, QStringLiteral("/chosen"));
}

}  // namespace
}  // namespace terrasynth::plugin
