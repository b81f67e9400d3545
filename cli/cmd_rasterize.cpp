// terrasynth rasterize: a vector layout or an OpenStreetMap extract -> a class raster.
#include <cmath>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "commands.h"
#include "terrasynth/geo/classes.h"
#include "terrasynth/geo/error.h"
#include "terrasynth/geo/layout.h"
#include "terrasynth/geo/raster.h"
#include "terrasynth/geo/vector.h"

namespace terrasynth::cli {

namespace {

std::string crs_label(const std::string& wkt) {
  if (auto code = geo::crs_authority_code(wkt)) return *code;
  return geo::crs_name(wkt);
}

int run_rasterize(const Args& args, const Output& out) {
  const auto [layout_path, layer] = split_path_layer(args.require("layout"));
  const std::string output = args.require("out");
  const bool like = args.has("like");
  const bool by_extent = args.has("extent") || args.has("crs") || args.has("gsd");
  if (like && by_extent)
    throw UsageError("give either --like RASTER or --extent/--crs/--gsd, not both");
  if (!like && !by_extent)
    throw UsageError(
        "give the target grid: --like RASTER, or --extent X1,Y1,X2,Y2 --crs CRS --gsd M");
  std::vector<double> corners;
  if (by_extent) {
    corners = parse_number_list("extent", args.require("extent"), 4);
    args.require("crs");
    if (!(args.get_double("gsd", 0) > 0))
      throw UsageError("--gsd must be a positive number of metres");
  }

  geo::LayoutSource source;
  source.path = layout_path;
  source.layer = layer;
  const bool osm = source.is_osm();
  if (osm && args.has("class-field"))
    throw UsageError("--class-field is for vector layouts; an OSM extract uses --osm-classes");
  if (!osm && args.has("osm-classes"))
    throw UsageError("--osm-classes is for OSM extracts (.osm, .pbf)");
  source.class_field = args.get("class-field");
  source.default_class = args.get("default-class", source.default_class);
  source.osm_mapping = args.get("osm-classes");
  source.line_width_m = args.get_double("line-width", source.line_width_m);
  if (!(source.line_width_m > 0))
    throw UsageError("--line-width must be a positive number of metres");

  // The layout is checked first so that a missing file is the one error reported.
  (void)geo::read_vector_info(source.path, osm ? std::string() : source.layer);

  geo::RasterizeOptions options;
  options.all_touched = args.flag("all-touched");
  if (args.flag("cog")) options.write.format = geo::RasterFormat::COG;
  geo::Grid grid;
  if (like) {
    const std::string reference = args.get("like");
    const geo::RasterInfo info = geo::read_raster_info(reference);
    if (!info.georeferenced || info.grid.crs.empty())
      throw geo::GeoError(geo::GeoError::Kind::BadCrs,
                          "reference raster " + reference + " has no CRS or geotransform");
    grid = info.grid;
    options.inputs.push_back(reference);
  } else {
    const geo::Extent extent =
        geo::extent_from_corners(corners[0], corners[1], corners[2], corners[3]);
    grid = geo::grid_for_request(extent, geo::crs_wkt(args.get("crs")), args.get_double("gsd", 0));
  }

  ProgressPrinter printer(out.json());
  geo::Control control;
  control.progress = [&](double fraction, const std::string& label) {
    printer.update(fraction, label);
  };
  control.cancel = &interrupt_flag();
  const geo::RasterizeResult result = geo::rasterize_layout(source, grid, output, options, control);
  printer.finish();
  if (result.status == geo::Status::Cancelled) {
    std::cerr << "terrasynth rasterize: cancelled; no output written" << std::endl;
    return kExitCancelled;
  }
  for (const auto& warning : result.stats.warnings) out.warning(warning);

  const geo::GroundResolution ground = geo::ground_resolution(grid);
  const uint64_t total = static_cast<uint64_t>(grid.width) * grid.height;
  nlohmann::json counts = nlohmann::json::object();
  std::ostringstream text;
  text << std::fixed << std::setprecision(3);
  text << "wrote " << output << ": " << grid.width << " x " << grid.height << " px, "
       << crs_label(grid.crs) << ", " << ground.mean() << " m/px\n";
  auto add = [&](const std::string& name, uint64_t pixels) {
    counts[name] = pixels;
    text << "  " << std::left << std::setw(12) << name << std::right << std::setw(12) << pixels
         << "  " << std::setprecision(2) << std::setw(6) << (100.0 * pixels / total) << " %\n"
         << std::setprecision(3);
  };
  for (size_t id = 0; id < geo::class_names().size(); ++id)
    add(geo::class_names()[id], result.stats.class_pixels[id]);
  add("unknown", result.stats.class_pixels[geo::kUnknownClass]);
  text << "  features: " << result.stats.features_used << " used, " << result.stats.features_skipped
       << " skipped";

  nlohmann::json document{{"ok", true},
                          {"output", output},
                          {"crs", crs_label(grid.crs)},
                          {"crs_wkt", grid.crs},
                          {"geotransform", grid.geotransform},
                          {"width", grid.width},
                          {"height", grid.height},
                          {"ground_resolution_m", {ground.x, ground.y}},
                          {"class_pixels", counts},
                          {"features_used", result.stats.features_used},
                          {"features_skipped", result.stats.features_skipped},
                          {"warnings", result.stats.warnings}};
  out.result(document, text.str());
  return kExitOk;
}

}  // namespace

Command rasterize_command() {
  CommandSpec spec;
  spec.name = "rasterize";
  spec.summary = "burn a vector layout or an OSM extract into a class raster";
  spec.usage =
      "--layout FILE[:LAYER] (--like RASTER | --extent X1,Y1,X2,Y2 --crs CRS --gsd M)\n"
      "         [--class-field NAME | --osm-classes MAPPING.json] [--all-touched] --out "
      "CLASSES.tif";
  spec.description =
      "Rasterises a layout (GeoJSON, GeoPackage, Shapefile, or an OpenStreetMap .osm/.pbf\n"
      "extract) into a UInt8 class raster: 0 other, 1 building, 2 road, 3 vegetation, 4 water,\n"
      "5 bare, 6 sand, 255 unknown (nodata). Features are reprojected to the output grid; lines\n"
      "are buffered to widths in metres; buildings win over roads over water over vegetation/\n"
      "bare/sand over other. With --extent in a geographic CRS the output is in the local UTM\n"
      "zone at --gsd metres; in a projected CRS it stays in that CRS. --like copies the CRS,\n"
      "geotransform and size of a reference raster. OSM extracts use the tag mapping\n"
      "resources/osm_classes.json unless --osm-classes names another.";
  spec.options = {
      {"layout", "FILE[:LAYER]", "vector layout or OSM extract (.osm, .pbf)"},
      {"like", "RASTER", "copy the grid (CRS, geotransform, size) of this raster"},
      {"extent", "X1,Y1,X2,Y2", "area to cover, in --crs"},
      {"crs", "CRS", "CRS of --extent, e.g. EPSG:4326 or EPSG:32633"},
      {"gsd", "M", "ground resolution in metres per pixel"},
      {"class-field", "NAME", "attribute holding class names or ids (default: 'class' if present)"},
      {"default-class", "NAME", "class of features without a class field (default: building)"},
      {"osm-classes", "MAPPING.json", "OSM tag-to-class mapping (default: the shipped one)"},
      {"line-width", "M", "width of line features in vector layouts (default: 6)"},
      {"all-touched", "", "burn every pixel a feature touches"},
      {"cog", "", "write a Cloud Optimized GeoTIFF with overviews"},
      {"out", "CLASSES.tif", "output class raster (GeoTIFF)"},
  };
  return {spec, run_rasterize};
}

}  // namespace terrasynth::cli
