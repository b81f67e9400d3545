// plan_generate / run_generate: an extent (or a region) and a GSD in, a georeferenced RGB raster
// out, generated in chunks on a working grid in a metric CRS and streamed to disk.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <iomanip>
#include <map>
#include <memory>
#include <sstream>

#include "chunk_runner.h"
#include "job_support.h"
#include "stac.h"
#include "texture_step.h"
#include "terrasynth/engine/error.h"
#include "terrasynth/geo/classes.h"
#include "terrasynth/geo/crs.h"
#include "terrasynth/geo/error.h"
#include "terrasynth/geo/layout.h"
#include "terrasynth/geo/raster.h"
#include "terrasynth/geo/vector.h"
#include "terrasynth/pipeline/jobs.h"
#include "terrasynth/version.h"

namespace fs = std::filesystem;

namespace terrasynth::pipeline {

namespace {

using detail::ChunkLayout;

// Outputs (or working grids) above this many pixels need `force`.
constexpr double kForcePixels = 100e6;

[[noreturn]] void invalid(const std::string& message) {
  throw JobError(JobError::Kind::InvalidArgument, message);
}

bool has_tif_extension(const std::string& path) {
  std::string extension = fs::path(path).extension().string();
  for (auto& c : extension) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return extension == ".tif" || extension == ".tiff";
}

struct GeneratePlan {
  JobPlan plan;
  std::string model_dir;
  engine::ModelInfo info;
  geo::Grid output;
  geo::Grid work;
  bool resample = false;  // the working grid differs from the output grid
  double gsd = 0;         // requested metres per pixel
  std::string region_crs;
  detail::ResolvedSampling sampling;
  ChunkLayout chunks;
  int tile = 0;
  int overlap = 0;
  std::vector<std::string> inputs;
  std::shared_ptr<const detail::TextureBank> bank;  // the texture bank, if one is asked for
  std::string texture = "off";  // provenance of the texture step
};

// The output grid of a request in a geographic CRS stays in that CRS: the extent as given
// (snapped outward to whole pixels) and square pixels on the ground at the centre, i.e. a
// degree pixel size along each axis equal to `gsd` metres there.
geo::Grid geographic_grid(const geo::Extent& extent, const std::string& crs, double gsd) {
  if (extent.ymin < -90 || extent.ymax > 90 || extent.xmin < -360 || extent.xmax > 360)
    throw geo::GeoError(geo::GeoError::Kind::BadExtent,
                        "extent is outside longitudes -180..180 / latitudes -90..90 (is the "
                        "order x1,y1,x2,y2 = lon,lat,lon,lat?)");
  if (std::max(std::abs(extent.ymin), std::abs(extent.ymax)) > 85)
    throw geo::GeoError(geo::GeoError::Kind::BadExtent,
                        "extent reaches beyond 85 degrees of latitude: give it in a polar "
                        "projected CRS instead");
  constexpr double kProbe = 1e-5;  // degrees per pixel of the probe grid
  geo::Grid probe;
  probe.crs = crs;
  probe.width = probe.height = 100;
  const double cx = 0.5 * (extent.xmin + extent.xmax), cy = 0.5 * (extent.ymin + extent.ymax);
  probe.geotransform = {cx - 50 * kProbe, kProbe, 0, cy + 50 * kProbe, 0, -kProbe};
  const geo::GroundResolution metres = geo::ground_resolution(probe);
  return geo::make_grid(extent, crs, gsd * kProbe / metres.x, gsd * kProbe / metres.y);
}

GeneratePlan make_plan(const GenerateJob& job) {
  GeneratePlan p;
  // Output first: a bad path should not wait for a model to load.
  if (job.output.empty()) invalid("no output path given (--out OUT.tif)");
  if (!has_tif_extension(job.output))
    invalid("output " + job.output + " must be a GeoTIFF file name ending in .tif");
  if (!job.layout.path.empty()) p.inputs.push_back(job.layout.path);
  if (!job.layout.osm_mapping.empty()) p.inputs.push_back(job.layout.osm_mapping);
  if (!job.region_path.empty()) p.inputs.push_back(job.region_path);
  geo::check_output_path(job.output, p.inputs);
  if (job.write_stac) geo::check_output_path(detail::stac_path_for(job.output), p.inputs);

  p.model_dir = detail::resolve_model_dir(job.model);
  p.info = engine::read_model_info(p.model_dir);
  detail::check_style_and_scene(p.info, job.style, job.scene);
  if (!job.layout.path.empty() && !p.info.supports_layout)
    invalid("model '" + p.info.name + "' does not take a layout");
  if (job.layout.is_osm() && !job.layout.class_field.empty())
    invalid("a class field is for vector layouts; OSM extracts are classified by a tag mapping");
  (void)detail::osm_background_id(job.layout, p.info);
  p.sampling = detail::resolve_sampling(job.sampling, p.info);
  (void)detail::sampler_options(job.sampling);
  (void)detail::tiling_options(job.tiles);
  (void)detail::device_options(job.device);

  if (!(job.gsd >= 0) || !std::isfinite(job.gsd))
    invalid("GSD must be a positive number of metres per pixel, got " + std::to_string(job.gsd));
  p.gsd = job.gsd > 0 ? job.gsd : p.info.native_gsd;

  // Where: an extent in a CRS, or the extent of a region layer.
  geo::Extent extent;
  std::string crs;
  if (job.extent) {
    if (job.crs.empty()) invalid("an extent needs its CRS (e.g. EPSG:4326)");
    crs = geo::crs_wkt(job.crs);
    const auto& e = *job.extent;
    extent = geo::extent_from_corners(e[0], e[1], e[2], e[3]);
  } else if (!job.region_path.empty()) {
    const geo::VectorLayerInfo region = geo::read_vector_info(job.region_path, job.region_layer);
    if (region.crs.empty())
      throw geo::GeoError(geo::GeoError::Kind::BadCrs, "region " + job.region_path + " layer '" +
                                                           region.layer + "' has no CRS");
    if (region.extent.is_empty())
      throw geo::GeoError(geo::GeoError::Kind::BadExtent,
                          "region " + job.region_path + " layer '" + region.layer +
                              "' has no features (or only points or lines): nothing to cover");
    crs = job.crs.empty() ? region.crs : geo::crs_wkt(job.crs);
    extent = job.crs.empty() ? region.extent : geo::transform_extent(region.extent, region.crs, crs);
  } else {
    invalid("give where to generate: an extent and its CRS, or a region file");
  }
  if (!job.region_path.empty()) p.region_crs = crs;

  const bool geographic = geo::crs_is_geographic(crs);
  p.output = geographic ? geographic_grid(extent, crs, p.gsd) : geo::grid_for_request(extent, crs, p.gsd);

  // The working grid: metric, at the GSD the model was trained for.
  const detail::WorkGsd work = detail::working_gsd(p.gsd, p.info, "requested");
  if (!work.warning.empty()) p.plan.warnings.push_back(work.warning);
  const std::string metric = geo::local_metric_crs(p.output.extent(), crs);
  const bool metric_output = !geographic && geo::crs_equivalent(metric, crs);
  if (metric_output && work.gsd == p.gsd) {
    p.work = p.output;
  } else {
    const geo::Extent covered =
        metric_output ? p.output.extent() : geo::transform_extent(p.output.extent(), crs, metric);
    p.work = geo::make_grid(covered, metric, work.gsd);
    p.resample = true;
  }

  // Chunks and the engine's windows.
  p.tile = job.tiles.tile > 0 ? job.tiles.tile : p.info.tile_size;
  p.overlap = job.tiles.overlap >= 0 ? job.tiles.overlap : p.info.tile_overlap;
  const int multiple = std::max(8, p.info.pixel_multiple);
  const bool cuda = detail::device_options(job.device).device == engine::DeviceKind::Cuda;
  const int chunk = job.tiles.chunk > 0 ? job.tiles.chunk : std::max(p.tile, cuda ? 2048 : 1024);
  const int margin = std::max(multiple, (2 * std::max(p.overlap, 16) + multiple - 1) / multiple * multiple);
  p.chunks = detail::make_chunk_layout(p.work.width, p.work.height, chunk, margin,
                                       std::max(p.overlap, 16), multiple);

  JobPlan& plan = p.plan;
  plan.width = p.output.width;
  plan.height = p.output.height;
  plan.crs_wkt = p.output.crs;
  plan.geotransform = p.output.geotransform;
  plan.work_width = p.work.width;
  plan.work_height = p.work.height;
  plan.work_gsd = work.gsd;
  plan.work_crs = p.work.crs;
  plan.chunks = p.chunks.count();
  int64_t windows = 0;
  for (int row = 0; row < p.chunks.rows(); ++row)
    for (int column = 0; column < p.chunks.columns(); ++column) {
      const geo::Window canvas = p.chunks.canvas(column, row);
      windows += detail::windows_per_step(canvas.width, canvas.height, p.tile, p.overlap);
    }
  plan.tiles = static_cast<int>(std::min<int64_t>(windows, INT32_MAX));
  const double pixels = std::max(static_cast<double>(plan.width) * plan.height,
                                 static_cast<double>(plan.work_width) * plan.work_height);
  plan.needs_force = pixels > kForcePixels && !job.force;
  // The texture step: "off" without a bank, "none" when the bank has no photos of the style
  // usable at the working GSD (a warning says so).
  if (!job.sampling.texture_bank.empty()) {
    try {
      p.bank = detail::load_texture_bank(job.sampling.texture_bank, static_cast<int>(p.info.classes.size()));
    } catch (const std::runtime_error& error) {
      invalid(std::string("texture bank: ") + error.what());
    }
    const std::string style = job.style.empty() ? p.info.default_style : job.style;
    const std::string summary = detail::texture_summary(*p.bank, style, p.plan.work_gsd);
    p.texture = summary.empty() ? "none" : summary + " from " + job.sampling.texture_bank;
    if (summary.empty())
      plan.warnings.push_back("texture bank " + job.sampling.texture_bank + " has no photos of style '" + style +
                              "' usable at " + std::to_string(p.plan.work_gsd) +
                              " m per pixel: the texture step does nothing");
  }
  return p;
}

void estimate_time(GeneratePlan& p, const GenerateJob& job) {
  const double per_window = detail::seconds_per_window_step(p.model_dir, job.device, p.info, p.tile,
                                                            p.sampling.guidance);
  p.plan.estimated_seconds = per_window * p.plan.tiles * p.sampling.steps;
  // The texture step: 1.45 - 1.57 x the generation on 2 CPU cores (docs/BENCHMARKS.md).
  if (p.bank && p.texture != "none") p.plan.estimated_seconds *= 1.5;
}

std::vector<std::pair<std::string, std::string>> provenance(const GenerateJob& job,
                                                            const GeneratePlan& p,
                                                            const std::string& device,
                                                            const std::string& created) {
  std::ostringstream number;
  number << std::setprecision(6);
  auto text = [&](double value) {
    number.str("");
    number << value;
    return number.str();
  };
  std::string layout = "none";
  if (!job.layout.path.empty()) {
    layout = job.layout.path + (job.layout.layer.empty() ? "" : ":" + job.layout.layer);
    if (job.layout.is_osm())
      layout += " (OpenStreetMap, mapping " +
                (job.layout.osm_mapping.empty() ? std::string("osm_classes.json (default)")
                                                : job.layout.osm_mapping) +
                ", unmapped land as " +
                (job.layout.osm_background.empty() || job.layout.osm_background == "none"
                     ? std::string("unknown")
                     : "'" + job.layout.osm_background + "'") +
                ")";
    else if (!job.layout.class_field.empty())
      layout += " (class field " + job.layout.class_field + ")";
  }
  return {
      {"software", std::string("Terrasynth ") + TERRASYNTH_VERSION},
      {"created", created},
      {"model", p.info.name},
      {"model_version", p.info.version},
      {"model_licence", p.info.licence},
      {"seed", std::to_string(p.sampling.seed)},
      {"sampler", p.sampling.sampler},
      {"steps", std::to_string(p.sampling.steps)},
      {"guidance", text(p.sampling.guidance)},
      {"coarse_guidance", p.sampling.coarse_guidance},
      {"refiner", p.sampling.refiner},
      {"detail_decoder", p.sampling.detail_decoder},
      {"chroma_smoothing_px", text(p.sampling.chroma_smoothing)},
      {"eta", p.sampling.eta},
      {"texture", p.texture},
      {"tile", std::to_string(p.tile)},
      {"overlap", std::to_string(p.overlap)},
      {"tiling", job.tiles.fast ? "shifted" : "fused"},
      {"layout", layout},
      {"region", job.region_path.empty() ? "none"
                                         : job.region_path +
                                               (job.region_layer.empty() ? "" : ":" + job.region_layer)},
      {"scene", job.scene.empty() ? "none" : job.scene},
      {"style", job.style.empty() ? p.info.default_style : job.style},
      {"gsd_m", text(p.gsd)},
      {"work_gsd_m", text(p.plan.work_gsd)},
      {"work_crs", detail::crs_label(p.work.crs)},
      {"device", device},
  };
}

std::map<std::string, std::string> tiff_tags(
    const std::vector<std::pair<std::string, std::string>>& provenance, const std::string& created,
    const std::string& description) {
  std::map<std::string, std::string> tags;
  for (const auto& [key, value] : provenance) {
    std::string name = "TERRASYNTH_" + key;
    for (auto& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    tags[name] = value;
  }
  std::string datetime = created.substr(0, 19);  // 2024-05-01T12:00:00 -> 2024:05:01 12:00:00
  if (datetime.size() == 19) {
    datetime[4] = datetime[7] = ':';
    datetime[10] = ' ';
  }
  tags["TIFFTAG_DATETIME"] = datetime;
  tags["TIFFTAG_SOFTWARE"] = std::string("Terrasynth ") + TERRASYNTH_VERSION;
  tags["TIFFTAG_IMAGEDESCRIPTION"] = description;
  return tags;
}

class GenerateSource : public detail::ChunkSource {
 public:
  GenerateSource(const geo::LayoutRasterizer* layout, std::vector<uint8_t> table,
                 const geo::PolygonMask* region)
      : layout_(layout), table_(std::move(table)), region_(region) {}

  engine::ClassMap layout(const geo::Window& window) override {
    if (!layout_) return {};
    const std::vector<uint8_t> ids = layout_->render(window);
    engine::ClassMap map(window.height, window.width);
    for (size_t i = 0; i < ids.size(); ++i) map.data[i] = table_[ids[i]];
    return map;
  }
  bool known(const geo::Window&, engine::Image&, engine::Mask&) override { return false; }
  bool wanted(const geo::Window& area) override {
    if (!region_) return true;
    const std::vector<uint8_t> inside = region_->render(area);
    return std::any_of(inside.begin(), inside.end(), [](uint8_t v) { return v != 0; });
  }

 private:
  const geo::LayoutRasterizer* layout_;
  std::vector<uint8_t> table_;
  const geo::PolygonMask* region_;
};

// RGB rows plus the region's alpha (RGB is 0 outside the region), interleaved for the writer.
std::vector<uint8_t> with_alpha(const uint8_t* rgb, size_t pixels, const std::vector<uint8_t>& inside) {
  std::vector<uint8_t> out(pixels * 4);
  for (size_t i = 0; i < pixels; ++i) {
    const bool in = inside[i] != 0;
    for (int c = 0; c < 3; ++c) out[i * 4 + c] = in ? rgb[i * 3 + c] : 0;
    out[i * 4 + 3] = in ? 255 : 0;
  }
  return out;
}

geo::RasterSpec rgb_spec(const geo::Grid& grid, bool alpha) {
  geo::RasterSpec spec;
  spec.grid = grid;
  spec.bands = alpha ? 4 : 3;
  spec.type = geo::DataType::Byte;
  const char* names[] = {"red", "green", "blue", "alpha"};
  const geo::ColorInterp colours[] = {geo::ColorInterp::Red, geo::ColorInterp::Green,
                                      geo::ColorInterp::Blue, geo::ColorInterp::Alpha};
  for (int b = 0; b < spec.bands; ++b) {
    geo::BandInfo band;
    band.description = names[b];
    band.color = colours[b];
    spec.band.push_back(band);
  }
  return spec;
}

}  // namespace

JobPlan plan_generate(const GenerateJob& job) {
  GeneratePlan p = make_plan(job);
  estimate_time(p, job);
  return p.plan;
}

JobResult run_generate(const GenerateJob& job, const JobControl& control) {
  const auto started = std::chrono::steady_clock::now();
  GeneratePlan p = make_plan(job);
  JobResult result;
  detail::Warnings warnings(control);
  if (p.plan.needs_force) {
    estimate_time(p, job);
    std::ostringstream message;
    message << "the output is " << p.plan.width << " x " << p.plan.height << " px (working grid "
            << p.plan.work_width << " x " << p.plan.work_height << " px), about "
            << detail::format_duration(p.plan.estimated_seconds)
            << " to generate: pass force (--force) to generate it";
    throw JobError(JobError::Kind::TooLarge, message.str());
  }
  for (const auto& warning : p.plan.warnings) warnings.add(warning);
  auto report = [&](double fraction, const std::string& label) {
    if (control.progress) control.progress(std::clamp(fraction, 0.0, 1.0), label);
  };
  auto finish_cancelled = [&] {
    result.cancelled = true;
    result.plan = p.plan;
    result.warnings = warnings.all();
    return result;
  };
  geo::Control geo_control;
  geo_control.cancel = control.cancel;
  geo_control.progress = control.progress;

  report(0, "loading model");
  std::shared_ptr<engine::Model> model = detail::load_model(p.model_dir, job.device);
  if (detail::cancelled(control)) return finish_cancelled();

  // Conditions on the working grid.
  std::unique_ptr<geo::LayoutRasterizer> layout;
  std::vector<std::string> missing;
  std::vector<uint8_t> table = detail::class_id_table(p.info, &missing);
  if (!job.layout.path.empty()) {
    geo::LayoutSource source;
    source.path = job.layout.path;
    source.layer = job.layout.layer;
    source.class_field = job.layout.class_field;
    source.osm_mapping = job.layout.osm_mapping;
    layout = std::make_unique<geo::LayoutRasterizer>(source, p.work);
    if (layout->load(geo_control.stage(0.0, 0.05)) == geo::Status::Cancelled)
      return finish_cancelled();
    for (const auto& warning : layout->stats().warnings) warnings.add(warning);
    if (layout->stats().features_used == 0)
      warnings.add("layout " + job.layout.path + " has no features inside the requested extent: "
                   "generating without a layout");
    if (!missing.empty())
      warnings.add("model '" + p.info.name + "' has no class " + detail::join(missing) +
                   ": those layout areas are generated as unknown");
    // Land that no OSM rule maps is generated as the background class (an extract with no
    // feature over the extent says nothing about it and stays unknown).
    if (layout->stats().features_used > 0)
      table[engine::ClassMap::kUnknownClass] = detail::osm_background_id(job.layout, p.info);
  }
  std::unique_ptr<geo::PolygonMask> region_out, region_work;
  if (!job.region_path.empty()) {
    geo::MaskOptions options;
    options.layer = job.region_layer;
    region_out = std::make_unique<geo::PolygonMask>(job.region_path, p.output, options);
    if (region_out->load() == geo::Status::Cancelled) return finish_cancelled();
    // Chunks wholly outside the region are skipped; a few pixels of slack keep the resampling
    // kernels of border pixels on generated content.
    options.grow_m = 4 * p.plan.work_gsd;
    region_work = std::make_unique<geo::PolygonMask>(job.region_path, p.work, options);
    if (region_work->load() == geo::Status::Cancelled) return finish_cancelled();
  }

  const std::string created = detail::utc_now_iso();
  result.provenance = provenance(job, p, model->device_description(), created);
  const bool alpha = region_out != nullptr;
  geo::RasterSpec spec = rgb_spec(p.output, alpha);
  spec.metadata = tiff_tags(result.provenance, created,
                            "Synthetic image generated by Terrasynth (not a photograph)");
  geo::WriteOptions write;
  write.format = job.cog ? geo::RasterFormat::COG : geo::RasterFormat::GTiff;
  write.overviews = true;
  write.inputs = p.inputs;
  geo::RasterWriter writer(job.output, spec, write);

  // Generation streams into the output directly when the working grid is the output grid, else
  // into a scratch raster beside it that is resampled onto the output grid afterwards.
  detail::ScratchFile scratch;
  std::unique_ptr<geo::RasterWriter> work_writer;
  if (p.resample) {
    scratch.reset(detail::scratch_path_beside(job.output, "work"));
    geo::WriteOptions options;
    options.compression = "DEFLATE";
    options.creation_options = {"ZLEVEL=1"};
    work_writer = std::make_unique<geo::RasterWriter>(scratch.path(), rgb_spec(p.work, false), options);
  }
  const double generate_end = p.resample ? 0.8 : 0.92;
  detail::RowSink sink = [&](int y, int count, const uint8_t* rgb) {
    const geo::Window rows{0, y, p.work.width, count};
    if (work_writer) {
      work_writer->write(rows, geo::DataType::Byte, rgb);
    } else if (alpha) {
      const auto rgba = with_alpha(rgb, static_cast<size_t>(rows.pixels()), region_out->render(rows));
      writer.write(rows, rgba);
    } else {
      writer.write(rows, geo::DataType::Byte, rgb);
    }
  };

  GenerateSource source(layout.get(), table, region_work.get());
  detail::ChunkRun run;
  run.model = model.get();
  run.request.style = job.style;
  run.request.scene = job.scene;
  run.request.gsd = p.plan.work_gsd;
  run.request.sampler = detail::sampler_options(job.sampling);
  run.request.tiling = detail::tiling_options(job.tiles);
  run.cancel = control.cancel;
  run.progress = [&](double fraction, const std::string& label) {
    report(0.05 + (generate_end - 0.05) * fraction, label);
  };
  run.preview = control.preview;
  if (p.bank && p.texture != "none") {
    const std::string style = job.style.empty() ? p.info.default_style : job.style;
    run.finish = [&, style](const engine::GenerateRequest& request, engine::Image& image) {
      // Each chunk gets its own seed from its place, so the same place gets the same pixels.
      const uint64_t seed = request.sampler.seed ^ (static_cast<uint64_t>(request.origin_x) * 0x9E3779B97F4A7C15ULL) ^
                            (static_cast<uint64_t>(request.origin_y) * 0xC2B2AE3D27D4EB4FULL);
      const auto note = detail::apply_texture(*p.bank, style, request.gsd, image, request.layout,
                                              request.mask.empty() ? nullptr : &request.mask, seed,
                                              [&] { return detail::cancelled(control); });
      return note.has_value();
    };
  }
  const detail::ChunkStats stats = detail::run_chunks(run, p.chunks, source, sink);
  result.peak_rows_in_memory = stats.peak_rows;
  if (stats.status == engine::Status::Cancelled) return finish_cancelled();

  if (work_writer) {
    if (work_writer->commit(geo_control.stage(generate_end, generate_end + 0.02)) ==
        geo::Status::Cancelled)
      return finish_cancelled();
    work_writer.reset();
    // Upsampling and reprojection use cubic convolution; downsampling averages.
    const bool downsampling = p.plan.work_gsd < 0.67 * p.gsd;
    const geo::Resampling resampling = downsampling ? geo::Resampling::Average : geo::Resampling::Cubic;
    const geo::RasterReader reader(scratch.path());
    const std::vector<geo::Window> windows = writer.windows(2);
    for (size_t i = 0; i < windows.size(); ++i) {
      if (detail::cancelled(control)) return finish_cancelled();
      const geo::Window& window = windows[i];
      std::vector<uint8_t> rgb(static_cast<size_t>(window.pixels()) * 3);
      reader.read_on_grid(p.output.subgrid(window), geo::DataType::Byte, rgb.data(), {1, 2, 3},
                          resampling);
      if (alpha)
        writer.write(window, with_alpha(rgb.data(), static_cast<size_t>(window.pixels()),
                                        region_out->render(window)));
      else
        writer.write(window, geo::DataType::Byte, rgb.data());
      report(generate_end + 0.02 + 0.1 * (i + 1) / windows.size(), "resampling to the output grid");
    }
  }

  if (writer.commit(geo_control.stage(0.93, 1.0)) == geo::Status::Cancelled)
    return finish_cancelled();
  std::string stac_path;
  if (job.write_stac) {
    stac_path = detail::stac_path_for(job.output);
    detail::StacItem item;
    item.id = fs::path(job.output).stem().string();
    item.grid = p.output;
    item.gsd = p.gsd;
    item.datetime = created;
    item.asset_href = fs::path(job.output).filename().string();
    item.cog = job.cog;
    item.title = "Terrasynth synthetic image " + item.id;
    item.properties = result.provenance;
    detail::write_stac_item(stac_path, item);
  }
  report(1.0, "done");
  result.output = job.output;
  result.stac = stac_path;
  result.plan = p.plan;
  result.warnings = warnings.all();
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

}  // namespace terrasynth::pipeline
