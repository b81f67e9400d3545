#include <gdal_utils.h>
#include <gtest/gtest.h>
#include <ogrsf_frmts.h>

#include <atomic>
#include <cmath>
#include <memory>

#include "geo_test_support.h"
#include "terrasynth/geo/layout.h"
#include "terrasynth/geo/vector.h"

using namespace terrasynth::geo;
using namespace terrasynth::geo::testing;

namespace {

constexpr uint8_t kOther = 0, kBuilding = 1, kRoad = 2, kVegetation = 3, kWater = 4, kBare = 5;

// Area (m^2) of the union of a layer's polygons, computed with OGR (the reference).
double union_area(const std::string& path) {
  GDALAllRegister();
  std::unique_ptr<GDALDataset> dataset(
      GDALDataset::Open(path.c_str(), GDAL_OF_VECTOR | GDAL_OF_READONLY));
  OGRLayer* layer = dataset->GetLayer(0);
  OGRMultiPolygon all;
  for (auto& feature : *layer) {
    const OGRGeometry* geometry = feature->GetGeometryRef();
    if (wkbFlatten(geometry->getGeometryType()) == wkbPolygon)
      all.addGeometry(geometry);
    else
      for (const auto* part : *geometry->toMultiPolygon()) all.addGeometry(part);
  }
  std::unique_ptr<OGRGeometry> merged(all.UnionCascaded());
  return OGR_G_Area(OGRGeometry::ToHandle(merged.get()));
}

uint64_t count(const std::vector<uint8_t>& values, uint8_t value) {
  return static_cast<uint64_t>(std::count(values.begin(), values.end(), value));
}

std::vector<uint8_t> read_all(const std::string& path) {
  RasterReader reader(path);
  return reader.read<uint8_t>(reader.info().grid.full_window());
}

// A GeoJSON layout in UTM 32N around (500000, 5200000) with a class and a width field.
std::string write_layout(const TempDir& dir, const std::string& features) {
  return dir.write("layout.geojson",
                   R"({"type": "FeatureCollection",
                       "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32632"}},
                       "features": [)" +
                       features + "]}");
}

std::string polygon(const std::string& cls, double x0, double y0, double x1, double y1) {
  char text[512];
  std::snprintf(
      text, sizeof(text),
      R"({"type": "Feature", "properties": {"class": "%s"}, "geometry": {"type": "Polygon",
                   "coordinates": [[[%f, %f], [%f, %f], [%f, %f], [%f, %f], [%f, %f]]]}})",
      cls.c_str(), x0, y0, x1, y0, x1, y1, x0, y1, x0, y0);
  return text;
}

std::string line(const std::string& cls, double width, double x0, double y0, double x1, double y1) {
  char text[512];
  std::snprintf(text, sizeof(text),
                R"({"type": "Feature", "properties": {"class": "%s", "width": %f}, "geometry":
                   {"type": "LineString", "coordinates": [[%f, %f], [%f, %f]]}})",
                cls.c_str(), width, x0, y0, x1, y1);
  return text;
}

Grid local_grid(double size, double pixel) {
  return make_grid({500000, 5200000, 500000 + size, 5200000 + size}, "EPSG:32632", pixel);
}

uint8_t at(const std::vector<uint8_t>& values, const Grid& grid, double x, double y) {
  const Point p = grid.world_to_pixel(x, y);
  return values[static_cast<size_t>(std::floor(p[1])) * grid.width +
                static_cast<size_t>(std::floor(p[0]))];
}

}  // namespace

TEST(Layout, SpacenetBuildingsCoverTheirPolygonAreaOnTheImageGrid) {
  TempDir dir;
  const Grid grid = read_raster_info(kSpacenetRaster).grid;
  LayoutSource source;
  source.path = kSpacenetBuildings;
  const RasterizeResult result = rasterize_layout(source, grid, dir.file("b.tif"));
  ASSERT_EQ(result.status, Status::Ok);
  EXPECT_EQ(result.stats.features_used, 43u);
  ASSERT_FALSE(result.stats.warnings.empty());  // no class field: every feature is a building
  EXPECT_TRUE(contains(result.stats.warnings[0], "'building'")) << result.stats.warnings[0];

  const auto values = read_all(dir.file("b.tif"));
  const double pixel_area = 0.25;
  const double burnt = count(values, kBuilding) * pixel_area;
  const double reference = union_area(kSpacenetBuildings);
  EXPECT_NEAR(burnt / reference, 1.0, 0.01) << burnt << " m2 vs " << reference << " m2";
  EXPECT_EQ(count(values, kBuilding) + count(values, kUnknownClass), values.size());
  EXPECT_EQ(result.stats.class_pixels[kBuilding], count(values, kBuilding));
  EXPECT_TRUE(read_raster_info(dir.file("b.tif")).grid.same_as(grid));
}

TEST(Layout, AllTouchedBurnsMorePixelsThanCentres) {
  const Grid grid = read_raster_info(kSpacenetRaster).grid;
  LayoutSource source;
  source.path = kSpacenetBuildings;
  LayoutRasterizer centres(source, grid);
  ASSERT_EQ(centres.load(), Status::Ok);
  RasterizeOptions options;
  options.all_touched = true;
  LayoutRasterizer touched(source, grid, options);
  ASSERT_EQ(touched.load(), Status::Ok);
  const auto a = centres.render(grid.full_window());
  const auto b = touched.render(grid.full_window());
  EXPECT_GT(count(b, kBuilding), count(a, kBuilding));
  EXPECT_GT(count(b, kBuilding) * 0.25, union_area(kSpacenetBuildings));
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] == kBuilding) {
      ASSERT_EQ(b[i], kBuilding);
    }
  }
}

TEST(Layout, GeoPackageAndShapefileGiveTheSameRasterAsGeoJson) {
  TempDir dir;
  GDALAllRegister();
  GDALDatasetH source =
      GDALOpenEx(kSpacenetBuildings.c_str(), GDAL_OF_VECTOR, nullptr, nullptr, nullptr);
  for (const char* driver_name : {"GPKG", "ESRI Shapefile"}) {
    const std::string path =
        dir.file(std::string("buildings.") + (std::string(driver_name) == "GPKG" ? "gpkg" : "shp"));
    char* arguments[] = {const_cast<char*>("-f"), const_cast<char*>(driver_name), nullptr};
    GDALVectorTranslateOptions* options = GDALVectorTranslateOptionsNew(arguments, nullptr);
    GDALDatasetH copy = GDALVectorTranslate(path.c_str(), nullptr, 1, &source, options, nullptr);
    GDALVectorTranslateOptionsFree(options);
    ASSERT_TRUE(copy) << driver_name;
    GDALClose(copy);
  }
  GDALClose(source);
  const Grid grid = read_raster_info(kSpacenetRaster).grid;
  std::vector<std::vector<uint8_t>> rasters;
  for (const std::string& path :
       {kSpacenetBuildings, dir.file("buildings.gpkg"), dir.file("buildings.shp")}) {
    LayoutSource layout;
    layout.path = path;
    LayoutRasterizer rasterizer(layout, grid);
    ASSERT_EQ(rasterizer.load(), Status::Ok) << path;
    rasters.push_back(rasterizer.render(grid.full_window()));
  }
  EXPECT_EQ(rasters[0], rasters[1]);
  EXPECT_EQ(rasters[0], rasters[2]);
}

TEST(Layout, ReprojectsWgs84LayoutOntoAGeographicAndAUtmGrid) {
  // Alexandria buildings are in EPSG:4326; burn them on a UTM 18N grid and on a lon/lat grid:
  // the ground area agrees with the polygons' UTM area.
  const VectorLayerInfo info = read_vector_info(kAlexandria);
  const std::string utm = local_metric_crs(info.extent, info.crs);
  EXPECT_TRUE(crs_equivalent(utm, "EPSG:32618"));
  const Grid metric = make_grid(transform_extent(info.extent, info.crs, utm), utm, 0.5);
  LayoutSource source;
  source.path = kAlexandria;
  LayoutRasterizer on_utm(source, metric);
  ASSERT_EQ(on_utm.load(), Status::Ok);
  const double utm_area = count(on_utm.render(metric.full_window()), kBuilding) * 0.25;

  const Grid geographic = make_grid(info.extent, info.crs, 5e-6, 4e-6);
  LayoutRasterizer on_lonlat(source, geographic);
  ASSERT_EQ(on_lonlat.load(), Status::Ok);
  const GroundResolution ground = ground_resolution(geographic);
  const double lonlat_area =
      count(on_lonlat.render(geographic.full_window()), kBuilding) * ground.x * ground.y;
  EXPECT_GT(utm_area, 1000.0);
  EXPECT_NEAR(lonlat_area / utm_area, 1.0, 0.02);
}

TEST(Layout, LiechtensteinOsmGivesRoadsBuildingsWaterAndVegetation) {
  TempDir dir;
  const Grid grid = grid_for_request({9.49, 47.12, 9.54, 47.15}, "EPSG:4326", 2.0);
  LayoutSource source;
  source.path = kLiechtenstein;
  const RasterizeResult result = rasterize_layout(source, grid, dir.file("li.tif"));
  ASSERT_EQ(result.status, Status::Ok);
  const auto& pixels = result.stats.class_pixels;
  const double total = static_cast<double>(grid.width) * grid.height;
  EXPECT_GT(pixels[kBuilding] / total, 0.002);
  EXPECT_GT(pixels[kRoad] / total, 0.01);
  EXPECT_GT(pixels[kWater] / total, 0.01);  // the Rhine and its banks
  EXPECT_GT(pixels[kVegetation] / total, 0.01);
  EXPECT_GT(pixels[kUnknownClass] / total, 0.2);
  EXPECT_GT(result.stats.features_used, 300u);
  const RasterInfo info = read_raster_info(dir.file("li.tif"));
  EXPECT_TRUE(contains(info.metadata.at("TERRASYNTH_LAYOUT"), "liechtenstein"));
}

TEST(Layout, OsmFeaturesLandWhereTheExtractPutsThem) {
  // Independent check with OGR: every building's interior point and every residential road's
  // midpoint falls on a pixel of its class (all-touched: also the smallest features).
  const Grid grid = grid_for_request({9.515, 47.125, 9.535, 47.145}, "EPSG:4326", 1.0);
  LayoutSource source;
  source.path = kLiechtenstein;
  RasterizeOptions options;
  options.all_touched = true;
  LayoutRasterizer rasterizer(source, grid, options);
  ASSERT_EQ(rasterizer.load(), Status::Ok);
  const auto values = rasterizer.render(grid.full_window());

  GDALAllRegister();
  std::unique_ptr<GDALDataset> osm(
      GDALDataset::Open(kLiechtenstein.c_str(), GDAL_OF_VECTOR | GDAL_OF_READONLY));
  OGRSpatialReference wgs84, target;
  wgs84.importFromEPSG(4326);
  wgs84.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  target.importFromWkt(grid.crs.c_str());
  target.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  std::unique_ptr<OGRCoordinateTransformation> transform(
      OGRCreateCoordinateTransformation(&wgs84, &target));
  auto check = [&](const char* layer_name, const char* filter, uint8_t expected, double share) {
    OGRLayer* layer = osm->GetLayerByName(layer_name);
    layer->SetAttributeFilter(filter);
    layer->SetSpatialFilterRect(9.516, 47.126, 9.534, 47.144);
    size_t checked = 0, hits = 0;
    for (auto& feature : *layer) {
      std::unique_ptr<OGRPoint> point(new OGRPoint());
      const OGRGeometry* geometry = feature->GetGeometryRef();
      if (expected == kBuilding) {
        OGRGeometryH inside =
            OGR_G_PointOnSurface(OGRGeometry::ToHandle(const_cast<OGRGeometry*>(geometry)));
        if (!inside) continue;
        point.reset(OGRGeometry::FromHandle(inside)->toPoint());
      } else {
        const OGRLineString* line = geometry->toLineString();
        line->Value(line->get_Length() / 2, point.get());
      }
      point->transform(transform.get());
      const Point pixel = grid.world_to_pixel(point->getX(), point->getY());
      if (pixel[0] < 0 || pixel[1] < 0 || pixel[0] >= grid.width || pixel[1] >= grid.height)
        continue;
      ++checked;
      hits += at(values, grid, point->getX(), point->getY()) == expected;
    }
    EXPECT_GT(checked, 10u) << layer_name << " " << filter;
    EXPECT_GE(static_cast<double>(hits) / checked, share) << layer_name << " " << filter;
  };
  check("multipolygons", "building IS NOT NULL", kBuilding, 1.0);
  // Roads may pass under a building (building passages, covered yards).
  check("lines", "highway = 'residential'", kRoad, 0.95);
}

TEST(Layout, HigherPriorityWinsAndSmallerFeaturesLieOnLargerOnes) {
  TempDir dir;
  const std::string path =
      write_layout(dir, polygon("vegetation", 500000, 5200000, 500100, 5200100) + "," +
                            polygon("bare", 500010, 5200010, 500030, 5200030) + "," +
                            polygon("water", 500060, 5200000, 500080, 5200100) + "," +
                            line("road", 6, 500000, 5200050, 500100, 5200050) + "," +
                            polygon("building", 500040, 5200040, 500050, 5200060) + "," +
                            polygon("other", 500085, 5200085, 500100, 5200100));
  const Grid grid = local_grid(100, 1.0);
  LayoutSource source;
  source.path = path;
  source.width_field = "width";
  LayoutRasterizer rasterizer(source, grid);
  ASSERT_EQ(rasterizer.load(), Status::Ok);
  const auto values = rasterizer.render(grid.full_window());
  EXPECT_EQ(at(values, grid, 500005.5, 5200005.5), kVegetation);
  EXPECT_EQ(at(values, grid, 500020.5, 5200020.5), kBare);        // smaller, same priority
  EXPECT_EQ(at(values, grid, 500070.5, 5200020.5), kWater);       // water over vegetation
  EXPECT_EQ(at(values, grid, 500070.5, 5200050.5), kRoad);        // road over water (bridge)
  EXPECT_EQ(at(values, grid, 500020.5, 5200050.5), kRoad);        // road over vegetation
  EXPECT_EQ(at(values, grid, 500045.5, 5200050.5), kBuilding);    // building over road
  EXPECT_EQ(at(values, grid, 500090.5, 5200090.5), kVegetation);  // other loses to vegetation
}

TEST(Layout, ClassFieldTakesNamesAndIdsAndLinesAreBufferedInMetres) {
  TempDir dir;
  const std::string path =
      write_layout(dir, polygon("Water", 500000, 5200000, 500020, 5200020) + "," +
                            polygon("5", 500030, 5200000, 500050, 5200020) + "," +
                            line("2", 10, 500000, 5200100, 500200, 5200100));
  const Grid grid = local_grid(200, 0.5);
  LayoutSource source;
  source.path = path;
  source.class_field = "class";
  source.width_field = "width";
  LayoutRasterizer rasterizer(source, grid);
  ASSERT_EQ(rasterizer.load(), Status::Ok);
  const auto values = rasterizer.render(grid.full_window());
  EXPECT_EQ(count(values, kWater), 40u * 40u);
  EXPECT_EQ(count(values, kBare), 40u * 40u);
  // A 200 m line buffered to 10 m and clipped to the grid: 200 x 10 m (the caps are outside).
  EXPECT_NEAR(count(values, kRoad) * 0.25, 2000.0, 2000.0 * 0.01);
  EXPECT_TRUE(rasterizer.stats().warnings.empty());
}

TEST(Layout, LineWidthIsGroundMetresInWebMercator) {
  // EPSG:3857 stretches distances by 1/cos(latitude): at 47 N a 10 m road is ~14.7 units wide.
  TempDir dir;
  const std::string path = write_layout(dir, line("road", 10, 500000, 5200100, 500300, 5200100));
  const Extent utm{500050, 5200050, 500250, 5200150};
  const Grid grid = make_grid(transform_extent(utm, "EPSG:32632", "EPSG:3857"), "EPSG:3857", 0.5);
  LayoutSource source;
  source.path = path;
  source.width_field = "width";
  LayoutRasterizer rasterizer(source, grid);
  ASSERT_EQ(rasterizer.load(), Status::Ok);
  const auto values = rasterizer.render(grid.full_window());
  const GroundResolution ground = ground_resolution(grid);
  // Ground width of the burnt band = pixels across the line in the middle column * ground.y.
  const int column = grid.width / 2;
  int across = 0;
  for (int row = 0; row < grid.height; ++row) across += values[row * grid.width + column] == kRoad;
  EXPECT_NEAR(across * ground.y, 10.0, 1.0);
}

TEST(Layout, UnknownClassNamesListTheValidClasses) {
  TempDir dir;
  const std::string path = write_layout(dir, polygon("forest", 500000, 5200000, 500010, 5200010));
  LayoutSource source;
  source.path = path;
  LayoutRasterizer rasterizer(source, local_grid(20, 1));
  const GeoError error = expect_geo_error([&] { rasterizer.load(); }, GeoError::Kind::UnknownClass);
  const std::string message = error.what();
  EXPECT_TRUE(contains(message, "layout.geojson")) << message;
  EXPECT_TRUE(contains(message, "'forest'")) << message;
  EXPECT_TRUE(contains(message, "vegetation")) << message;
  EXPECT_TRUE(contains(message, "field 'class'")) << message;
}

TEST(Layout, MissingClassFieldLayerAndFileAreTypedErrors) {
  LayoutSource source;
  source.path = kSpacenetBuildings;
  source.class_field = "landcover";
  const Grid grid = read_raster_info(kSpacenetRaster).grid;
  const GeoError field =
      expect_geo_error([&] { LayoutRasterizer r(source, grid); }, GeoError::Kind::FieldNotFound);
  EXPECT_TRUE(contains(field.what(), "'landcover'")) << field.what();
  EXPECT_TRUE(contains(field.what(), "spacenet_atlanta_buildings")) << field.what();
  EXPECT_TRUE(contains(field.what(), "building")) << field.what();  // lists the fields

  source.class_field.clear();
  source.layer = "roads";
  const GeoError layer =
      expect_geo_error([&] { LayoutRasterizer r(source, grid); }, GeoError::Kind::LayerNotFound);
  EXPECT_TRUE(contains(layer.what(), "spacenet_atlanta_buildings")) << layer.what();

  source.layer.clear();
  source.path = "/nonexistent.gpkg";
  const GeoError file =
      expect_geo_error([&] { LayoutRasterizer r(source, grid); }, GeoError::Kind::NotFound);
  EXPECT_TRUE(contains(file.what(), "/nonexistent.gpkg")) << file.what();

  source.path = kSpacenetBuildings;
  Grid no_crs = grid;
  no_crs.crs.clear();
  expect_geo_error([&] { LayoutRasterizer r(source, no_crs); }, GeoError::Kind::BadCrs);
}

TEST(Layout, CustomOsmMappingReplacesTheDefault) {
  TempDir dir;
  const std::string mapping = dir.write("roads_only.json", R"({
    "format": "terrasynth-osm-classes", "version": 1,
    "rules": [{"tags": {"highway": "*"}, "class": "road", "width": 4}]})");
  LayoutSource source;
  source.path = kLiechtenstein;
  source.osm_mapping = mapping;
  const Grid grid = grid_for_request({9.515, 47.125, 9.535, 47.145}, "EPSG:4326", 4.0);
  LayoutRasterizer rasterizer(source, grid);
  ASSERT_EQ(rasterizer.load(), Status::Ok);
  const auto values = rasterizer.render(grid.full_window());
  EXPECT_GT(count(values, kRoad), 0u);
  EXPECT_EQ(count(values, kRoad) + count(values, kUnknownClass), values.size());
  source.osm_mapping = dir.file("missing.json");
  expect_geo_error([&] { LayoutRasterizer r(source, grid); }, GeoError::Kind::NotFound);
}

TEST(Layout, WindowsRenderedSeparatelyEqualTheWholeGrid) {
  const Grid grid = grid_for_request({9.515, 47.125, 9.535, 47.145}, "EPSG:4326", 4.0);
  LayoutSource source;
  source.path = kLiechtenstein;
  LayoutRasterizer rasterizer(source, grid);
  ASSERT_EQ(rasterizer.load(), Status::Ok);
  const auto whole = rasterizer.render(grid.full_window());
  for (const Window& w : block_windows(grid.width, grid.height, 97, 61)) {
    const auto part = rasterizer.render(w);
    for (int y = 0; y < w.height; ++y)
      for (int x = 0; x < w.width; ++x)
        ASSERT_EQ(part[y * w.width + x], whole[(w.y + y) * grid.width + w.x + x])
            << w.x + x << "," << w.y + y;
  }
  expect_geo_error(
      [&] {
        rasterizer.render({grid.width - 5, 0, 10, 10});
      },
      GeoError::Kind::InvalidArgument);
}

TEST(Layout, CancelledRasterisationLeavesNoFile) {
  TempDir dir;
  const Grid grid = grid_for_request({9.515, 47.125, 9.535, 47.145}, "EPSG:4326", 1.0);
  LayoutSource source;
  source.path = kLiechtenstein;
  std::atomic<bool> cancel{true};
  Control control;
  control.cancel = &cancel;
  EXPECT_EQ(rasterize_layout(source, grid, dir.file("a.tif"), {}, control).status,
            Status::Cancelled);
  EXPECT_TRUE(dir.entries().empty());

  // Cancelled half-way through the windows.
  cancel = false;
  bool writing_seen = false;
  control.progress = [&](double fraction, const std::string& label) {
    if (label == "rasterising") writing_seen = true;
    if (label == "rasterising" && fraction > 0.5) cancel = true;
  };
  RasterizeOptions options;
  options.window_blocks = 1;
  EXPECT_EQ(rasterize_layout(source, grid, dir.file("b.tif"), options, control).status,
            Status::Cancelled);
  EXPECT_TRUE(writing_seen);
  EXPECT_TRUE(dir.entries().empty());
}

TEST(Layout, ExceptionDuringRasterisationLeavesNoFile) {
  TempDir dir;
  const Grid grid = read_raster_info(kSpacenetRaster).grid;
  LayoutSource source;
  source.path = kSpacenetBuildings;
  Control control;
  control.progress = [](double, const std::string& label) {
    if (label == "rasterising") throw std::runtime_error("disk full (simulated)");
  };
  RasterizeOptions options;
  options.write.block_size = 256;
  EXPECT_THROW(rasterize_layout(source, grid, dir.file("c.tif"), options, control),
               std::runtime_error);
  EXPECT_TRUE(dir.entries().empty());
}

TEST(Layout, OutputEqualToTheLayoutOrReferenceIsRefused) {
  TempDir dir;
  const std::string copy = dir.file("buildings.geojson");
  std::filesystem::copy_file(kSpacenetBuildings, copy);
  LayoutSource source;
  source.path = copy;
  const Grid grid = read_raster_info(kSpacenetRaster).grid;
  expect_geo_error([&] { rasterize_layout(source, grid, copy); }, GeoError::Kind::OutputIsInput);
  RasterizeOptions options;
  options.inputs = {dir.file("reference.tif")};
  std::ofstream(dir.file("reference.tif")) << "x";
  expect_geo_error([&] { rasterize_layout(source, grid, dir.file("reference.tif"), options); },
                   GeoError::Kind::OutputIsInput);
  EXPECT_EQ(std::filesystem::file_size(copy), std::filesystem::file_size(kSpacenetBuildings));
}

TEST(Layout, CogClassRasterKeepsClassesInItsOverviews) {
  TempDir dir;
  const Grid grid = read_raster_info(kSpacenetRaster).grid;
  LayoutSource source;
  source.path = kSpacenetBuildings;
  RasterizeOptions options;
  options.write.format = RasterFormat::COG;
  options.write.block_size = 256;
  ASSERT_EQ(rasterize_layout(source, grid, dir.file("cog.tif"), options).status, Status::Ok);
  RasterReader reader(dir.file("cog.tif"));
  EXPECT_EQ(reader.info().layout, "COG");
  EXPECT_GE(reader.info().overviews, 1);
  // A reduced read goes through the overviews: nearest resampling keeps pure class ids.
  std::vector<uint8_t> small(225 * 225);
  reader.read(grid.full_window(), DataType::Byte, small.data(), {}, 225, 225);
  for (uint8_t value : small) ASSERT_TRUE(value == kBuilding || value == kUnknownClass);
  EXPECT_GT(count(small, kBuilding), 0u);
}

TEST(Layout, PolygonMaskCoversThePolygonAndGrows) {
  const Grid grid = read_raster_info(kDroneRaster).grid;
  const VectorLayerInfo info = read_vector_info(kDroneArea);
  const auto mask = rasterize_mask(kDroneArea, grid);
  const double pixel_area = grid.pixel_width() * grid.pixel_height();
  const double area = count(mask, 1) * pixel_area;
  EXPECT_EQ(count(mask, 1) + count(mask, 0), mask.size());
  EXPECT_NEAR(area / union_area(kDroneArea), 1.0, 0.01);
  MaskOptions grow;
  grow.grow_m = 0.5;
  const double grown = count(rasterize_mask(kDroneArea, grid, grow), 1) * pixel_area;
  EXPECT_GT(grown, area + 0.4 * 0.5 * 2 * (info.extent.width() + info.extent.height()) * 0.5);
}

TEST(Layout, LoadAfterACancelledLoadStartsOver) {
  const Grid grid = grid_for_request({9.515, 47.125, 9.535, 47.145}, "EPSG:4326", 4.0);
  LayoutSource source;
  source.path = kLiechtenstein;
  LayoutRasterizer fresh(source, grid);
  ASSERT_EQ(fresh.load(), Status::Ok);

  LayoutRasterizer retried(source, grid);
  std::atomic<bool> cancel{false};
  Control control;
  control.cancel = &cancel;
  control.progress = [&](double fraction, const std::string&) { cancel = fraction > 0.2; };
  EXPECT_EQ(retried.load(control), Status::Cancelled);
  expect_geo_error([&] { retried.render(grid.full_window()); }, GeoError::Kind::InvalidArgument);
  cancel = false;
  ASSERT_EQ(retried.load(), Status::Ok);
  EXPECT_EQ(retried.stats().features_used, fresh.stats().features_used);
  EXPECT_EQ(retried.render(grid.full_window()), fresh.render(grid.full_window()));
}
