// plan_inpaint / run_inpaint: regenerates the masked part of a raster, conditioned on the real
// pixels around it, and writes a copy of the raster in which only the masked (and feathered)
// pixels differ.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <iomanip>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <sstream>

#include "chunk_runner.h"
#include "image_ops.h"
#include "job_support.h"
#include "stac.h"
#include "terrasynth/engine/error.h"
#include "terrasynth/engine/segmenter.h"
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

using detail::Plane;

[[noreturn]] void invalid(const std::string& message) {
  throw JobError(JobError::Kind::InvalidArgument, message);
}

bool has_tif_extension(const std::string& path) {
  std::string extension = fs::path(path).extension().string();
  for (auto& c : extension) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return extension == ".tif" || extension == ".tiff";
}

std::string lower(std::string text) {
  for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// A mask file is a raster when GDAL opens it as one and it has no vector layers.
bool is_raster_mask(const std::string& path, const std::string& layer) {
  if (!layer.empty()) return false;
  const std::string extension = lower(fs::path(path).extension().string());
  for (const char* raster : {".tif", ".tiff", ".png", ".jpg", ".jpeg", ".bmp", ".gif", ".vrt", ".img"})
    if (extension == raster) return true;
  for (const char* vector : {".gpkg", ".geojson", ".json", ".shp", ".kml", ".gml", ".fgb", ".sqlite"})
    if (extension == vector) return false;
  try {
    if (!geo::list_layers(path).empty()) return false;
  } catch (const geo::GeoError&) {
  }
  return true;
}

struct InpaintPlan {
  JobPlan plan;
  std::string model_dir;
  engine::ModelInfo info;
  geo::RasterInfo raster;
  std::array<int, 3> rgb{1, 2, 3};  // 1-based bands
  std::vector<int> extra;           // other bands, alpha excluded
  double gsd_x = 0, gsd_y = 0;      // metres per raster pixel
  double gsd = 0;
  double work_gsd = 0;
  bool raster_mask = false;
  geo::Window bbox;                 // of the mask (grown) in raster pixels
  geo::Window crop;                 // bbox plus feather and context
  int feather_px = 0;
  int grow_px = 0;                  // raster masks: dilation in pixels
  int work_width = 0, work_height = 0;
  detail::ChunkLayout chunks;
  detail::ResolvedSampling sampling;
  int tile = 0, overlap = 0;
  std::vector<std::string> inputs;
};

// Non-zero mask pixels of `window` (raster masks: the mask raster; vector masks: the polygons).
std::vector<uint8_t> read_mask(const InpaintJob& job, const geo::PolygonMask* polygons,
                               const geo::Window& window) {
  if (polygons) return polygons->render(window);
  const geo::RasterReader reader(job.mask_path);
  std::vector<float> values(static_cast<size_t>(window.pixels()));
  reader.read(window, geo::DataType::Float32, values.data(), {1});
  std::vector<uint8_t> inside(values.size());
  for (size_t i = 0; i < values.size(); ++i) inside[i] = values[i] != 0 ? 1 : 0;
  return inside;
}

geo::Window bounding_box(const std::vector<uint8_t>& inside, const geo::Window& window) {
  int x0 = INT32_MAX, y0 = INT32_MAX, x1 = -1, y1 = -1;
  for (int y = 0; y < window.height; ++y)
    for (int x = 0; x < window.width; ++x)
      if (inside[static_cast<size_t>(y) * window.width + x]) {
        x0 = std::min(x0, x);
        x1 = std::max(x1, x);
        y0 = std::min(y0, y);
        y1 = std::max(y1, y);
      }
  if (x1 < 0) return {};
  return {window.x + x0, window.y + y0, x1 - x0 + 1, y1 - y0 + 1};
}

geo::Window united(const geo::Window& a, const geo::Window& b) {
  if (a.is_empty()) return b;
  if (b.is_empty()) return a;
  const int x0 = std::min(a.x, b.x), y0 = std::min(a.y, b.y);
  const int x1 = std::max(a.x + a.width, b.x + b.width), y1 = std::max(a.y + a.height, b.y + b.height);
  return {x0, y0, x1 - x0, y1 - y0};
}

geo::Window grown_clipped(const geo::Window& w, int dx, int dy, int width, int height) {
  const int x0 = std::max(0, w.x - dx), y0 = std::max(0, w.y - dy);
  const int x1 = std::min(width, w.x + w.width + dx), y1 = std::min(height, w.y + w.height + dy);
  return {x0, y0, x1 - x0, y1 - y0};
}

std::unique_ptr<geo::PolygonMask> polygon_mask(const InpaintJob& job, const InpaintPlan& p) {
  geo::MaskOptions options;
  options.layer = job.mask_layer;
  options.grow_m = job.grow_m;
  auto mask = std::make_unique<geo::PolygonMask>(job.mask_path, p.raster.grid, options);
  mask->load();
  return mask;
}

InpaintPlan make_plan(const InpaintJob& job) {
  InpaintPlan p;
  if (job.raster.empty()) invalid("no input raster given (--raster IN.tif)");
  if (job.mask_path.empty()) invalid("no mask given (--mask FILE[:LAYER] or MASK.tif)");
  if (job.output.empty()) invalid("no output path given (--out OUT.tif)");
  if (!has_tif_extension(job.output))
    invalid("output " + job.output + " must be a GeoTIFF file name ending in .tif");
  p.inputs = {job.raster, job.mask_path};
  if (!job.layout.path.empty()) p.inputs.push_back(job.layout.path);
  geo::check_output_path(job.output, p.inputs);
  if (job.write_stac) geo::check_output_path(detail::stac_path_for(job.output), p.inputs);

  p.raster = geo::read_raster_info(job.raster);
  const geo::RasterInfo& r = p.raster;
  // Three visible bands: red, green and blue by colour interpretation, else the first three
  // bands that are neither alpha nor palette.
  int red = 0, green = 0, blue = 0;
  std::vector<int> candidates;
  for (int b = 1; b <= r.bands; ++b) {
    const geo::ColorInterp colour = r.band[b - 1].color;
    if (colour == geo::ColorInterp::Red && !red) red = b;
    if (colour == geo::ColorInterp::Green && !green) green = b;
    if (colour == geo::ColorInterp::Blue && !blue) blue = b;
    if (colour != geo::ColorInterp::Alpha && colour != geo::ColorInterp::Palette &&
        b != r.alpha_band)
      candidates.push_back(b);
  }
  if (red && green && blue)
    p.rgb = {red, green, blue};
  else if (candidates.size() >= 3)
    p.rgb = {candidates[0], candidates[1], candidates[2]};
  else
    invalid("raster " + job.raster + " has " + std::to_string(r.bands) + " band(s)" +
            (r.band.empty() || r.band[0].color != geo::ColorInterp::Palette ? "" : " with a palette") +
            " and no three visible bands: inpainting needs red, green and blue bands");
  for (int b : candidates)
    if (std::find(p.rgb.begin(), p.rgb.end(), b) == p.rgb.end()) p.extra.push_back(b);

  // Ground resolution.
  if (r.georeferenced && !r.grid.crs.empty()) {
    if (!r.grid.is_north_up())
      invalid("raster " + job.raster + " has a rotated geotransform, which inpainting does not support");
    const geo::GroundResolution ground = geo::ground_resolution(r.grid);
    p.gsd_x = ground.x;
    p.gsd_y = ground.y;
  } else {
    if (!(job.gsd > 0))
      invalid("raster " + job.raster + " has no georeferencing: give its ground resolution in "
              "metres per pixel (--gsd M)");
    p.gsd_x = p.gsd_y = job.gsd;
  }
  p.gsd = std::sqrt(p.gsd_x * p.gsd_y);

  p.model_dir = detail::resolve_model_dir(job.model);
  p.info = engine::read_model_info(p.model_dir);
  if (!p.info.supports_inpaint) invalid("model '" + p.info.name + "' does not support inpainting");
  if (!job.layout.path.empty() && !p.info.supports_layout)
    invalid("model '" + p.info.name + "' does not take a layout");
  if (!job.layout.path.empty() && (!r.georeferenced || r.grid.crs.empty()))
    invalid("a layout needs a georeferenced raster; " + job.raster + " has no CRS");
  detail::check_style_and_scene(p.info, job.style, job.scene);
  (void)detail::osm_background_id(job.layout, p.info);
  p.sampling = detail::resolve_sampling(job.sampling, p.info);
  (void)detail::sampler_options(job.sampling);
  (void)detail::tiling_options(job.tiles);
  (void)detail::device_options(job.device);
  if (job.grow_m < 0 || !std::isfinite(job.grow_m)) invalid("grow must be 0 or more metres");
  if (!std::isfinite(job.feather_m)) invalid("feather must be a number of metres");

  const detail::WorkGsd work = detail::working_gsd(p.gsd, p.info, "raster");
  if (!work.warning.empty()) p.plan.warnings.push_back(work.warning);
  p.work_gsd = work.gsd;

  // The mask's bounding box (grown) in raster pixels.
  const int width = r.grid.width, height = r.grid.height;
  p.raster_mask = is_raster_mask(job.mask_path, job.mask_layer);
  if (p.raster_mask) {
    const geo::RasterInfo mask = geo::read_raster_info(job.mask_path);
    if (mask.grid.width != width || mask.grid.height != height)
      invalid("mask " + job.mask_path + " is " + std::to_string(mask.grid.width) + "x" +
              std::to_string(mask.grid.height) + " px but raster " + job.raster + " is " +
              std::to_string(width) + "x" + std::to_string(height) +
              " px: a raster mask must have the raster's size (or give a vector mask)");
    p.grow_px = static_cast<int>(std::ceil(job.grow_m / std::min(p.gsd_x, p.gsd_y) - 1e-9));
    for (const geo::Window& rows : geo::block_windows(width, height, width, 512))
      p.bbox = united(p.bbox, bounding_box(read_mask(job, nullptr, rows), rows));
    if (p.bbox.is_empty())
      invalid("mask " + job.mask_path + " has no non-zero pixel: nothing to regenerate");
    p.bbox = grown_clipped(p.bbox, p.grow_px, p.grow_px, width, height);
  } else {
    if (!r.georeferenced || r.grid.crs.empty())
      invalid("a vector mask needs a georeferenced raster; " + job.raster +
              " has no CRS: give a raster mask of the same size instead");
    const geo::VectorLayerInfo layer = geo::read_vector_info(job.mask_path, job.mask_layer);
    const std::string layer_crs = layer.crs.empty() ? r.grid.crs : layer.crs;
    geo::Window window;
    if (!layer.extent.is_empty()) {
      geo::Extent extent = geo::transform_extent(layer.extent, layer_crs, r.grid.crs);
      const double slack = std::max(std::abs(r.grid.pixel_width()), std::abs(r.grid.pixel_height()));
      const double grow_units = job.grow_m * std::abs(r.grid.pixel_width()) / p.gsd_x;
      window = r.grid.window_covering(extent.grown(grow_units + 2 * slack));
    }
    if (window.is_empty())
      invalid("mask " + job.mask_path + " (layer '" + layer.layer + "') does not overlap raster " +
              job.raster);
    const auto polygons = polygon_mask(job, p);
    p.bbox = bounding_box(polygons->render(window), window);
    if (p.bbox.is_empty())
      invalid("mask " + job.mask_path + " (layer '" + layer.layer +
              "') has no polygon over raster " + job.raster + ": nothing to regenerate");
  }

  // Feather (raster pixels) and context around the mask.
  const double feather_m = job.feather_m >= 0 ? job.feather_m : 2 * p.work_gsd;
  p.feather_px = static_cast<int>(std::ceil(feather_m / std::min(p.gsd_x, p.gsd_y) - 1e-9));
  const double to_raster_x = p.work_gsd / p.gsd_x, to_raster_y = p.work_gsd / p.gsd_y;
  const int context_work = std::max(64, 2 * std::max(p.info.tile_overlap, 16));
  const int cx = p.feather_px + static_cast<int>(std::ceil(std::max<double>(context_work, 0.25 * p.bbox.width / to_raster_x) * to_raster_x));
  const int cy = p.feather_px + static_cast<int>(std::ceil(std::max<double>(context_work, 0.25 * p.bbox.height / to_raster_y) * to_raster_y));
  p.crop = grown_clipped(p.bbox, cx, cy, width, height);

  const bool same_scale = std::abs(p.work_gsd / p.gsd_x - 1) < 0.01 && std::abs(p.work_gsd / p.gsd_y - 1) < 0.01;
  p.work_width = same_scale ? p.crop.width : std::max(1, static_cast<int>(std::lround(p.crop.width / to_raster_x)));
  p.work_height = same_scale ? p.crop.height : std::max(1, static_cast<int>(std::lround(p.crop.height / to_raster_y)));

  p.tile = job.tiles.tile > 0 ? job.tiles.tile : p.info.tile_size;
  p.overlap = job.tiles.overlap >= 0 ? job.tiles.overlap : p.info.tile_overlap;
  const int multiple = std::max(8, p.info.pixel_multiple);
  const bool cuda = detail::device_options(job.device).device == engine::DeviceKind::Cuda;
  const int chunk = job.tiles.chunk > 0 ? job.tiles.chunk : std::max(p.tile, cuda ? 2048 : 1024);
  const int margin = std::max(multiple, (2 * std::max(p.overlap, 16) + multiple - 1) / multiple * multiple);
  p.chunks = detail::make_chunk_layout(p.work_width, p.work_height, chunk, margin,
                                       std::max(p.overlap, 16), multiple);

  JobPlan& plan = p.plan;
  plan.width = width;
  plan.height = height;
  plan.crs_wkt = r.grid.crs;
  plan.geotransform = r.grid.geotransform;
  plan.work_width = p.work_width;
  plan.work_height = p.work_height;
  plan.work_gsd = p.work_gsd;
  plan.work_crs = r.grid.crs;
  plan.chunks = p.chunks.count();
  int64_t windows = 0;
  for (int row = 0; row < p.chunks.rows(); ++row)
    for (int column = 0; column < p.chunks.columns(); ++column) {
      const geo::Window canvas = p.chunks.canvas(column, row);
      windows += detail::windows_per_step(canvas.width, canvas.height, p.tile, p.overlap);
    }
  plan.tiles = static_cast<int>(std::min<int64_t>(windows, INT32_MAX));
  return p;
}

double value_at(const uint8_t* data, geo::DataType type, size_t index) {
  switch (type) {
    case geo::DataType::Byte: return data[index];
    case geo::DataType::UInt16: return reinterpret_cast<const uint16_t*>(data)[index];
    case geo::DataType::Int16: return reinterpret_cast<const int16_t*>(data)[index];
    case geo::DataType::UInt32: return reinterpret_cast<const uint32_t*>(data)[index];
    case geo::DataType::Int32: return reinterpret_cast<const int32_t*>(data)[index];
    case geo::DataType::Float32: return reinterpret_cast<const float*>(data)[index];
    case geo::DataType::Float64: return reinterpret_cast<const double*>(data)[index];
  }
  return 0;
}

template <class T>
void store(uint8_t* data, size_t index, double value) {
  if constexpr (std::is_integral_v<T>) {
    value = std::clamp(std::round(value), static_cast<double>(std::numeric_limits<T>::lowest()),
                       static_cast<double>(std::numeric_limits<T>::max()));
  }
  reinterpret_cast<T*>(data)[index] = static_cast<T>(value);
}

void set_value(uint8_t* data, geo::DataType type, size_t index, double value) {
  switch (type) {
    case geo::DataType::Byte: return store<uint8_t>(data, index, value);
    case geo::DataType::UInt16: return store<uint16_t>(data, index, value);
    case geo::DataType::Int16: return store<int16_t>(data, index, value);
    case geo::DataType::UInt32: return store<uint32_t>(data, index, value);
    case geo::DataType::Int32: return store<int32_t>(data, index, value);
    case geo::DataType::Float32: return store<float>(data, index, value);
    case geo::DataType::Float64: return store<double>(data, index, value);
  }
}

class InpaintSource : public detail::ChunkSource {
 public:
  InpaintSource(const std::array<Plane, 3>& known, const Plane& mask,
                const geo::LayoutRasterizer* layout, const std::vector<uint8_t>& table,
                const std::vector<uint8_t>* classes)
      : known_(known), mask_(mask), layout_(layout), table_(table), classes_(classes) {}

  engine::ClassMap layout(const geo::Window& window) override {
    if (classes_) {
      engine::ClassMap map(window.height, window.width);
      for (int y = 0; y < window.height; ++y)
        for (int x = 0; x < window.width; ++x)
          map.at(y, x) = (*classes_)[static_cast<size_t>(window.y + y) * mask_.width + window.x + x];
      return map;
    }
    if (!layout_) return {};
    const std::vector<uint8_t> ids = layout_->render(window);
    engine::ClassMap map(window.height, window.width);
    for (size_t i = 0; i < ids.size(); ++i) map.data[i] = table_[ids[i]];
    return map;
  }
  bool known(const geo::Window& window, engine::Image& known, engine::Mask& mask) override {
    known = engine::Image(3, window.height, window.width);
    mask = engine::Mask(window.height, window.width);
    for (int y = 0; y < window.height; ++y)
      for (int x = 0; x < window.width; ++x) {
        for (int c = 0; c < 3; ++c) known.at(c, y, x) = known_[c].at(window.x + x, window.y + y);
        mask.at(y, x) = mask_.at(window.x + x, window.y + y);
      }
    return true;
  }
  bool wanted(const geo::Window& area) override {
    for (int y = area.y; y < area.y + area.height; ++y)
      for (int x = area.x; x < area.x + area.width; ++x)
        if (mask_.at(x, y) > 0) return true;
    return false;
  }

 private:
  const std::array<Plane, 3>& known_;
  const Plane& mask_;
  const geo::LayoutRasterizer* layout_;
  const std::vector<uint8_t>& table_;
  const std::vector<uint8_t>* classes_;
};

// Class ids of the working image from the segmenter, in windows of at most 512 px (padded by
// repeating the edge to the network's multiple of 16).
std::vector<uint8_t> segment(const engine::Segmenter& segmenter, const std::array<Plane, 3>& image) {
  constexpr int kWindow = 512, kMultiple = 16;
  const int w = image[0].width, h = image[0].height;
  std::vector<uint8_t> classes(static_cast<size_t>(w) * h, engine::ClassMap::kUnknownClass);
  for (int ty = 0; ty < h; ty += kWindow)
    for (int tx = 0; tx < w; tx += kWindow) {
      const int tw = std::min(kWindow, w - tx), th = std::min(kWindow, h - ty);
      const int pw = (tw + kMultiple - 1) / kMultiple * kMultiple;
      const int ph = (th + kMultiple - 1) / kMultiple * kMultiple;
      engine::Image window(3, ph, pw);
      for (int c = 0; c < 3; ++c)
        for (int y = 0; y < ph; ++y)
          for (int x = 0; x < pw; ++x)
            window.at(c, y, x) = image[c].at(tx + std::min(x, tw - 1), ty + std::min(y, th - 1));
      const engine::ClassMap map = segmenter.predict({window}).at(0);
      for (int y = 0; y < th; ++y)
        for (int x = 0; x < tw; ++x)
          classes[static_cast<size_t>(ty + y) * w + tx + x] = map.at(y, x);
    }
  return classes;
}

// The texture step of inpainting (PIPELINES.md): the regenerated pixels of `fresh` (mask `soft`
// > 0, values 0 - 1 at the crop's resolution) are rebuilt from patches of the real pixels of
// `scaled` (where valid and unmasked), with thin structures of the real pixels bridged into the
// guide first. The work runs at the crop's resolution or, for a very large area, on the
// coarsest grid that keeps it under the limits below. Returns the provenance note, "" when the
// surroundings hold too few whole patches (fresh unchanged), nothing when cancelled.
std::optional<std::string> copy_texture(std::array<Plane, 3>& fresh, const std::array<Plane, 3>& scaled,
                                        const Plane& soft, const std::vector<uint8_t>& valid,
                                        uint64_t seed, const JobControl& control) {
  const int cw = soft.width, ch = soft.height;
  const size_t crop_pixels = soft.data.size();
  // At most kTexturePixels masked and kTextureGrid pixels in all (the search keeps about 50
  // bytes per grid pixel).
  constexpr double kTexturePixels = 160000, kTextureGrid = 4e6;
  size_t masked = 0;
  for (float v : soft.data) masked += v > 0 ? 1 : 0;
  const double factor = std::max({1.0, std::sqrt(static_cast<double>(masked) / kTexturePixels),
                                  std::sqrt(static_cast<double>(crop_pixels) / kTextureGrid)});
  const int tw = std::max(1, static_cast<int>(std::lround(cw / factor)));
  const int th = std::max(1, static_cast<int>(std::lround(ch / factor)));
  std::array<Plane, 3> image;
  Plane usable_plane(cw, ch);
  for (size_t i = 0; i < crop_pixels; ++i) usable_plane.data[i] = valid[i] && soft.data[i] == 0 ? 1.f : 0.f;
  for (int c = 0; c < 3; ++c) {
    Plane composite(cw, ch);
    for (size_t i = 0; i < crop_pixels; ++i)
      composite.data[i] = soft.data[i] > 0 ? std::clamp(fresh[c].data[i], 0.f, 1.f) : scaled[c].data[i];
    image[c] = detail::resample(composite, tw, th);
  }
  const Plane texture_mask = detail::resample_max(soft, tw, th);
  const Plane usable_small = detail::resample(usable_plane, tw, th);
  std::vector<uint8_t> usable(usable_small.data.size());
  for (size_t i = 0; i < usable.size(); ++i) usable[i] = usable_small.data[i] >= 0.999f ? 1 : 0;
  // Thin structures of the real pixels (roads, paths, walls) that cross the area are drawn into
  // the guide first, so the copied texture carries them across.
  const int bridged = detail::bridge_structures(image, texture_mask, usable);
  detail::TextureOptions options;
  options.seed = seed;
  const double difference = detail::transfer_texture(
      image, texture_mask, usable, options, [&] { return detail::cancelled(control); });
  if (detail::cancelled(control)) return std::nullopt;
  if (difference < 0) return std::string();
  for (int c = 0; c < 3; ++c) {
    const Plane back = factor > 1 ? detail::resample(image[c], cw, ch) : image[c];
    for (size_t i = 0; i < crop_pixels; ++i)
      if (soft.data[i] > 0) fresh[c].data[i] = back.data[i];
  }
  std::ostringstream note;
  note << std::setprecision(3) << "patches of the surroundings";
  if (factor > 1) note << " at 1/" << factor << " resolution";
  if (bridged > 0) note << ", thin structures bridged (" << bridged << " px)";
  return note.str();
}

}  // namespace

JobPlan plan_inpaint(const InpaintJob& job) {
  InpaintPlan p = make_plan(job);
  const double per_window = detail::seconds_per_window_step(p.model_dir, job.device, p.info, p.tile,
                                                            p.sampling.guidance);
  p.plan.estimated_seconds = per_window * p.plan.tiles * p.sampling.steps;
  return p.plan;
}

JobResult run_inpaint(const InpaintJob& job, const JobControl& control) {
  const auto started = std::chrono::steady_clock::now();
  InpaintPlan p = make_plan(job);
  JobResult result;
  detail::Warnings warnings(control);
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
  const geo::RasterInfo& r = p.raster;
  const geo::Window crop = p.crop;
  const size_t crop_pixels = static_cast<size_t>(crop.pixels());

  report(0, "loading model");
  std::shared_ptr<engine::Model> model = detail::load_model(p.model_dir, job.device);
  if (detail::cancelled(control)) return finish_cancelled();

  // The mask at the raster's resolution over the crop: 1 inside (grown), feathered outside,
  // 0 on nodata or transparent pixels, which are never changed.
  report(0.02, "reading the mask");
  std::unique_ptr<geo::PolygonMask> polygons;
  if (!p.raster_mask) polygons = polygon_mask(job, p);
  std::vector<uint8_t> inside = read_mask(job, polygons.get(), crop);
  const geo::RasterReader reader(job.raster);
  const std::vector<uint8_t> valid = reader.read_valid_mask(crop);
  if (p.grow_px > 0) {
    const Plane distance = detail::distance_to(inside, crop.width, crop.height);
    for (size_t i = 0; i < crop_pixels; ++i) inside[i] = distance.data[i] <= p.grow_px ? 1 : 0;
  }
  Plane soft = detail::feathered(detail::distance_to(inside, crop.width, crop.height), p.feather_px);
  size_t changed = 0;
  for (size_t i = 0; i < crop_pixels; ++i) {
    if (!valid[i]) soft.data[i] = 0;
    if (soft.data[i] > 0) ++changed;
  }
  if (changed == 0)
    invalid("the mask of " + job.mask_path + " covers only nodata pixels of " + job.raster +
            ": nothing to regenerate");

  // The visible bands over the crop, scaled to [0, 1]: Byte by 255, other types by the 1st and
  // 99th percentiles of the unchanged context.
  report(0.04, "reading the raster");
  const std::vector<int> rgb_bands(p.rgb.begin(), p.rgb.end());
  std::vector<float> raw(crop_pixels * 3);
  reader.read(crop, geo::DataType::Float32, raw.data(), rgb_bands);
  std::array<double, 3> low{0, 0, 0}, high{255, 255, 255};
  if (r.type != geo::DataType::Byte) {
    for (int c = 0; c < 3; ++c) {
      std::vector<float> context;
      for (size_t i = 0; i < crop_pixels; ++i)
        if (valid[i] && soft.data[i] == 0) context.push_back(raw[i * 3 + c]);
      if (context.empty())
        for (size_t i = 0; i < crop_pixels; ++i)
          if (valid[i]) context.push_back(raw[i * 3 + c]);
      if (context.empty()) invalid("raster " + job.raster + " has no valid pixel around the mask");
      low[c] = detail::percentile(context, 1);
      high[c] = detail::percentile(context, 99);
      if (!(high[c] > low[c])) high[c] = low[c] + 1;
    }
  }
  std::array<Plane, 3> scaled;
  std::array<double, 3> mean{0, 0, 0};
  size_t valid_count = 0;
  for (int c = 0; c < 3; ++c) {
    scaled[c] = Plane(crop.width, crop.height);
    for (size_t i = 0; i < crop_pixels; ++i) {
      const double v = (raw[i * 3 + c] - low[c]) / (high[c] - low[c]);
      scaled[c].data[i] = static_cast<float>(std::clamp(v, 0.0, 1.0));
      if (valid[i]) mean[c] += scaled[c].data[i];
    }
  }
  for (size_t i = 0; i < crop_pixels; ++i) valid_count += valid[i] ? 1 : 0;
  // Nodata pixels are unknown to the model: the context mean keeps them from darkening the
  // resampled neighbourhood, and the working mask regenerates them.
  Plane valid_plane(crop.width, crop.height);
  for (size_t i = 0; i < crop_pixels; ++i) {
    valid_plane.data[i] = valid[i] ? 1.f : 0.f;
    if (!valid[i])
      for (int c = 0; c < 3; ++c)
        scaled[c].data[i] = valid_count ? static_cast<float>(mean[c] / valid_count) : 0.5f;
  }

  // The working grid: the crop at the working GSD.
  const int ww = p.work_width, wh = p.work_height;
  std::array<Plane, 3> known;
  for (int c = 0; c < 3; ++c) known[c] = detail::resample(scaled[c], ww, wh);
  Plane work_mask = detail::resample_max(soft, ww, wh);
  const Plane work_valid = detail::resample(valid_plane, ww, wh);
  for (size_t i = 0; i < work_mask.data.size(); ++i)
    if (work_valid.data[i] < 0.5f) work_mask.data[i] = 1.f;

  std::unique_ptr<geo::LayoutRasterizer> layout;
  std::vector<uint8_t> table = detail::class_id_table(p.info);
  if (!job.layout.path.empty()) {
    geo::Grid work_grid = r.grid.subgrid(crop);
    auto& gt = work_grid.geotransform;
    gt[1] *= static_cast<double>(crop.width) / ww;
    gt[2] *= static_cast<double>(crop.height) / wh;
    gt[4] *= static_cast<double>(crop.width) / ww;
    gt[5] *= static_cast<double>(crop.height) / wh;
    work_grid.width = ww;
    work_grid.height = wh;
    geo::LayoutSource source;
    source.path = job.layout.path;
    source.layer = job.layout.layer;
    source.class_field = job.layout.class_field;
    source.osm_mapping = job.layout.osm_mapping;
    layout = std::make_unique<geo::LayoutRasterizer>(source, work_grid);
    if (layout->load(geo_control.stage(0.05, 0.08)) == geo::Status::Cancelled)
      return finish_cancelled();
    for (const auto& warning : layout->stats().warnings) warnings.add(warning);
    if (layout->stats().features_used == 0)
      warnings.add("layout " + job.layout.path + " has no features over the masked area: "
                   "inpainting without a layout");
    else
      table[engine::ClassMap::kUnknownClass] = detail::osm_background_id(job.layout, p.info);
  }

  // Without a layout, the surroundings labelled by the model's segmenter and continued into
  // the masked area: the model then draws the road, field or tree line that the real pixels
  // around the area lead into, instead of layout-free texture.
  std::vector<uint8_t> auto_classes;
  std::string layout_note = job.layout.path.empty() ? "none" : job.layout.path;
  const fs::path segmenter_dir = fs::path(p.model_dir) / "eval";
  if (job.layout.path.empty() && job.auto_layout &&
      fs::exists(segmenter_dir / "segmenter.json")) {
    report(0.05, "labelling the surroundings");
    const auto segmenter = engine::Segmenter::load(segmenter_dir.string(), detail::device_options(job.device));
    if (segmenter->classes() != p.info.classes) {
      warnings.add("the segmenter in " + segmenter_dir.string() +
                   " has other classes than the model: inpainting without a layout");
    } else {
      auto_classes = segment(*segmenter, known);
      // Continued on blocks of 4 x 4 working pixels (the model sees the layout as per-block
      // class fractions anyway): a block is known when any of its pixels is, with the class of
      // its first known pixel.
      constexpr int kBlock = 4;
      const int bw = (ww + kBlock - 1) / kBlock, bh = (wh + kBlock - 1) / kBlock;
      std::vector<uint8_t> block_classes(static_cast<size_t>(bw) * bh, engine::ClassMap::kUnknownClass);
      std::vector<uint8_t> block_unknown(block_classes.size(), 1);
      for (int y = 0; y < wh; ++y)
        for (int x = 0; x < ww; ++x) {
          const size_t i = static_cast<size_t>(y) * ww + x;
          const size_t b = static_cast<size_t>(y / kBlock) * bw + x / kBlock;
          if (work_mask.data[i] > 0 || !block_unknown[b]) continue;
          block_unknown[b] = 0;
          block_classes[b] = auto_classes[i];
        }
      const std::vector<uint8_t> continued = detail::continue_classes(
          block_classes, block_unknown, bw, bh, static_cast<int>(p.info.classes.size()));
      for (int y = 0; y < wh; ++y)
        for (int x = 0; x < ww; ++x) {
          const size_t i = static_cast<size_t>(y) * ww + x;
          if (work_mask.data[i] > 0)
            auto_classes[i] = continued[static_cast<size_t>(y / kBlock) * bw + x / kBlock];
        }
      layout_note = "auto (surroundings labelled by the model's segmenter, continued into the mask)";
    }
    if (detail::cancelled(control)) return finish_cancelled();
  }

  // Generation at the working GSD.
  std::vector<uint8_t> generated(static_cast<size_t>(ww) * wh * 3);
  detail::RowSink sink = [&](int y, int count, const uint8_t* rgb) {
    std::memcpy(generated.data() + static_cast<size_t>(y) * ww * 3, rgb,
                static_cast<size_t>(count) * ww * 3);
  };
  InpaintSource source(known, work_mask, layout.get(), table,
                       auto_classes.empty() ? nullptr : &auto_classes);
  detail::ChunkRun run;
  run.model = model.get();
  run.request.style = job.style;
  run.request.scene = job.scene;
  run.request.gsd = p.work_gsd;
  run.request.sampler = detail::sampler_options(job.sampling);
  run.request.tiling = detail::tiling_options(job.tiles);
  run.origin_x = static_cast<int64_t>(std::lround(crop.x * p.gsd_x / p.work_gsd));
  run.origin_y = static_cast<int64_t>(std::lround(crop.y * p.gsd_y / p.work_gsd));
  run.cancel = control.cancel;
  run.progress = [&](double fraction, const std::string& label) { report(0.08 + 0.8 * fraction, label); };
  run.preview = control.preview;
  const detail::ChunkStats stats = detail::run_chunks(run, p.chunks, source, sink);
  result.peak_rows_in_memory = stats.peak_rows;
  if (stats.status == engine::Status::Cancelled) return finish_cancelled();

  // Tone and grain of the regenerated pixels matched to the real ones around them.
  std::array<Plane, 3> working;
  for (int c = 0; c < 3; ++c) {
    working[c] = Plane(ww, wh);
    for (size_t i = 0; i < working[c].data.size(); ++i) working[c].data[i] = generated[i * 3 + c] / 255.f;
  }
  double grain_removed = 0;
  if (job.harmonise) {
    const double work_feather = p.feather_px * std::min(p.gsd_x, p.gsd_y) / p.work_gsd;
    grain_removed = detail::harmonise(working, known, work_mask,
                                      std::max(8, static_cast<int>(std::ceil(work_feather)) + 6));
  }

  // Back at the raster's resolution.
  std::array<Plane, 3> fresh;
  for (int c = 0; c < 3; ++c) fresh[c] = detail::resample(working[c], crop.width, crop.height);

  // Texture: the regenerated pixels rebuilt from patches of the real ones around them.
  std::string texture_note = "no";
  if (job.texture) {
    report(0.885, "copying texture from the surroundings");
    const std::optional<std::string> note = copy_texture(fresh, scaled, soft, valid, p.sampling.seed, control);
    if (!note) return finish_cancelled();
    if (note->empty())
      warnings.add("too few whole patches of real pixels around the masked area to copy texture from");
    else
      texture_note = *note;
  }

  // In the raster's units.
  for (int c = 0; c < 3; ++c)
    for (auto& v : fresh[c].data)
      v = static_cast<float>(low[c] + std::clamp(v, 0.f, 1.f) * (high[c] - low[c]));

  // Extra bands (e.g. near infrared): a linear function of RGB fitted on the unchanged context.
  std::vector<std::array<double, 4>> fits;
  if (!p.extra.empty()) {
    std::vector<float> extra(crop_pixels * p.extra.size());
    reader.read(crop, geo::DataType::Float32, extra.data(), p.extra);
    for (size_t e = 0; e < p.extra.size(); ++e) {
      detail::LinearFit fit;
      for (size_t i = 0; i < crop_pixels; ++i)
        if (valid[i] && soft.data[i] == 0)
          fit.add(raw[i * 3], raw[i * 3 + 1], raw[i * 3 + 2], extra[i * p.extra.size() + e]);
      fits.push_back(fit.solve());
    }
    warnings.add("band(s) beyond red, green and blue are predicted in the regenerated area by a "
                 "linear regression on RGB fitted to the surrounding pixels");
  }

  // The output: a copy of the raster, block by block, with the crop's changed pixels replaced.
  const std::string created = detail::utc_now_iso();
  std::ostringstream number;
  number << std::setprecision(6);
  auto text = [&](double value) {
    number.str("");
    number << value;
    return number.str();
  };
  result.provenance = {
      {"software", std::string("Terrasynth ") + TERRASYNTH_VERSION},
      {"created", created},
      {"operation", "inpaint"},
      {"source", job.raster},
      {"mask", job.mask_path + (job.mask_layer.empty() ? "" : ":" + job.mask_layer)},
      {"grow_m", text(job.grow_m)},
      {"feather_m", text(p.feather_px * std::min(p.gsd_x, p.gsd_y))},
      {"changed_window", std::to_string(crop.x) + "," + std::to_string(crop.y) + "," +
                             std::to_string(crop.width) + "," + std::to_string(crop.height)},
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
      {"layout", layout_note},
      {"harmonised", job.harmonise ? "tone and grain (" + text(grain_removed) + " of the grain removed)" : "no"},
      {"texture", texture_note},
      {"scene", job.scene.empty() ? "none" : job.scene},
      {"style", job.style.empty() ? p.info.default_style : job.style},
      {"gsd_m", text(p.gsd)},
      {"work_gsd_m", text(p.work_gsd)},
      {"device", model->device_description()},
  };
  geo::RasterSpec spec;
  spec.grid = r.grid;
  spec.bands = r.bands;
  spec.type = r.type;
  spec.band = r.band;
  spec.metadata = r.metadata;
  for (const auto& [key, value] : result.provenance) {
    std::string name = "TERRASYNTH_" + key;
    for (auto& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    spec.metadata[name] = value;
  }
  geo::WriteOptions write;
  write.format = job.cog ? geo::RasterFormat::COG : geo::RasterFormat::GTiff;
  write.overviews = true;
  write.inputs = p.inputs;
  // Without it GDAL would declare three or four Byte bands RGB(A), turning e.g. the near
  // infrared band of a raster whose bands are not tagged red, green, blue into alpha.
  const bool tagged_rgb = r.band[0].color == geo::ColorInterp::Red &&
                          r.band[1].color == geo::ColorInterp::Green &&
                          r.band[2].color == geo::ColorInterp::Blue;
  if (!tagged_rgb) write.creation_options.push_back("PHOTOMETRIC=MINISBLACK");
  geo::RasterWriter writer(job.output, spec, write);

  const size_t value_size = geo::data_type_size(r.type);
  const int bands = r.bands;
  const std::vector<geo::Window> windows = writer.windows(2);
  for (size_t w = 0; w < windows.size(); ++w) {
    if (detail::cancelled(control)) return finish_cancelled();
    const geo::Window& window = windows[w];
    std::vector<uint8_t> block(static_cast<size_t>(window.pixels()) * bands * value_size);
    reader.read(window, r.type, block.data());
    const int x0 = std::max(window.x, crop.x), x1 = std::min(window.x + window.width, crop.x + crop.width);
    const int y0 = std::max(window.y, crop.y), y1 = std::min(window.y + window.height, crop.y + crop.height);
    for (int y = y0; y < y1; ++y)
      for (int x = x0; x < x1; ++x) {
        const size_t ci = static_cast<size_t>(y - crop.y) * crop.width + (x - crop.x);
        const float s = soft.data[ci];
        if (s <= 0) continue;
        const size_t pixel = (static_cast<size_t>(y - window.y) * window.width + (x - window.x)) * bands;
        std::array<double, 3> colour{};
        for (int c = 0; c < 3; ++c) {
          const size_t index = pixel + p.rgb[c] - 1;
          colour[c] = s * fresh[c].data[ci] + (1 - s) * value_at(block.data(), r.type, index);
          set_value(block.data(), r.type, index, colour[c]);
        }
        for (size_t e = 0; e < p.extra.size(); ++e) {
          const size_t index = pixel + p.extra[e] - 1;
          const double predicted = detail::LinearFit::predict(fits[e], fresh[0].data[ci],
                                                              fresh[1].data[ci], fresh[2].data[ci]);
          set_value(block.data(), r.type, index,
                    s * predicted + (1 - s) * value_at(block.data(), r.type, index));
        }
      }
    writer.write(window, r.type, block.data());
    report(0.88 + 0.07 * (w + 1) / windows.size(), "writing");
  }
  if (writer.commit(geo_control.stage(0.95, 1.0)) == geo::Status::Cancelled)
    return finish_cancelled();

  std::string stac_path;
  if (job.write_stac) {
    stac_path = detail::stac_path_for(job.output);
    detail::StacItem item;
    item.id = fs::path(job.output).stem().string();
    if (r.georeferenced) item.grid = r.grid;
    else {
      item.grid.width = r.grid.width;
      item.grid.height = r.grid.height;
    }
    item.gsd = p.gsd;
    item.datetime = created;
    item.asset_href = fs::path(job.output).filename().string();
    item.cog = job.cog;
    item.title = "Terrasynth inpainting of " + fs::path(job.raster).filename().string();
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
