#include "feature_store.h"

#include <gdal_alg.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>

namespace terrasynth::geo::detail {

namespace {

struct TransformDeleter {
  void operator()(OGRCoordinateTransformation* transform) const {
    OGRCoordinateTransformation::DestroyCT(transform);
  }
};
using TransformPtr = std::unique_ptr<OGRCoordinateTransformation, TransformDeleter>;

std::string wkt_of(const OGRSpatialReference& srs) {
  char* text = nullptr;
  const char* options[] = {"FORMAT=WKT2_2019", "MULTILINE=NO", nullptr};
  std::string wkt;
  if (srs.exportToWkt(&text, options) == OGRERR_NONE && text) wkt = text;
  CPLFree(text);
  return wkt;
}

bool overlaps(const Extent& a, const Extent& b) {
  return a.xmin <= b.xmax && b.xmin <= a.xmax && a.ymin <= b.ymax && b.ymin <= a.ymax;
}

}  // namespace

struct FeatureStore::Transforms {
  TransformPtr to_grid;
  TransformPtr to_metric;       // null when the grid's CRS is the metric one
  TransformPtr metric_to_grid;  // idem
};

bool geometry_kind(const OGRGeometry& geometry, GeometryKind& kind) {
  if (geometry.IsEmpty()) return false;
  switch (wkbFlatten(geometry.getGeometryType())) {
    case wkbPoint:
    case wkbMultiPoint:
      kind = GeometryKind::Point;
      return true;
    case wkbLineString: {
      const OGRLineString* line = geometry.toLineString();
      kind = line->getNumPoints() >= 4 && line->get_IsClosed() ? GeometryKind::ClosedLine
                                                               : GeometryKind::Line;
      return true;
    }
    case wkbMultiLineString:
      kind = GeometryKind::Line;
      return true;
    case wkbPolygon:
    case wkbMultiPolygon:
      kind = GeometryKind::Area;
      return true;
    default:
      return false;
  }
}

FeatureStore::FeatureStore(const Grid& grid) : grid_(grid) {
  if (grid.crs.empty())
    throw GeoError(GeoError::Kind::BadCrs,
                   "the target grid has no CRS: layouts cannot be placed on it");
  if (grid.width <= 0 || grid.height <= 0)
    throw GeoError(GeoError::Kind::InvalidArgument, "the target grid is empty");
  extent_ = grid.extent();
  const GroundResolution ground = ground_resolution(grid);
  grid_units_per_metre_ = std::abs(grid.pixel_width()) / ground.x;
  if (crs_is_projected(grid.crs)) {
    metric_crs_ = grid.crs;
    metric_units_per_metre_ = grid_units_per_metre_;
  } else {
    metric_crs_ = local_metric_crs(extent_, grid.crs);
    metric_units_per_metre_ = 1;
  }
}

std::unique_ptr<OGRGeometry> FeatureStore::prepare(const OGRGeometry& source, GeometryKind kind,
                                                   const Burn& burn, Transforms& transforms) const {
  std::unique_ptr<OGRGeometry> geometry(source.clone());
  if (burn.fill && kind == GeometryKind::ClosedLine) {
    auto ring = std::make_unique<OGRLinearRing>();
    ring->addSubLineString(geometry->toLineString());
    auto polygon = std::make_unique<OGRPolygon>();
    polygon->addRingDirectly(ring.release());
    geometry = std::move(polygon);
  }
  if (burn.buffer_m != 0) {
    OGRCoordinateTransformation* to_work =
        transforms.to_metric ? transforms.to_metric.get() : transforms.to_grid.get();
    if (geometry->transform(to_work) != OGRERR_NONE) return nullptr;
    std::unique_ptr<OGRGeometry> buffered(
        geometry->Buffer(burn.buffer_m * metric_units_per_metre_, 4));
    if (!buffered || buffered->IsEmpty()) return nullptr;
    if (transforms.metric_to_grid &&
        buffered->transform(transforms.metric_to_grid.get()) != OGRERR_NONE)
      return nullptr;
    return buffered;
  }
  if (geometry->transform(transforms.to_grid.get()) != OGRERR_NONE) return nullptr;
  return geometry;
}

Status FeatureStore::load(GDALDataset& dataset, const std::string& path,
                          std::vector<LayerRequest> layers, double margin_m, bool interleaved,
                          const Control& control, LayoutStats& stats) {
  features_.clear();  // a load after a cancelled one starts over
  const OGRSpatialReference grid_srs = make_srs(grid_.crs);
  const OGRSpatialReference metric_srs = make_srs(metric_crs_);
  const bool metric_is_grid = metric_crs_ == grid_.crs;
  const Extent search = extent_.grown(std::max(0.0, margin_m) * grid_units_per_metre_);

  struct LayerState {
    LayerRequest request;
    Transforms transforms;
  };
  std::vector<LayerState> states;
  for (auto& request : layers) {
    OGRLayer* layer = request.layer;
    const OGRSpatialReference* layer_srs = layer->GetSpatialRef();
    if (!layer_srs)
      throw GeoError(GeoError::Kind::BadCrs, "layer '" + std::string(layer->GetName()) + "' of " +
                                                 path +
                                                 " has no CRS: it cannot be placed on the grid");
    OGRSpatialReference source = *layer_srs;
    source.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    LayerState state{std::move(request), {}};
    QuietErrors quiet;
    state.transforms.to_grid.reset(OGRCreateCoordinateTransformation(&source, &grid_srs));
    if (!metric_is_grid) {
      state.transforms.to_metric.reset(OGRCreateCoordinateTransformation(&source, &metric_srs));
      state.transforms.metric_to_grid.reset(
          OGRCreateCoordinateTransformation(&metric_srs, &grid_srs));
    }
    if (!state.transforms.to_grid ||
        (!metric_is_grid && (!state.transforms.to_metric || !state.transforms.metric_to_grid)))
      throw GeoError(GeoError::Kind::BadCrs, "layer '" + std::string(layer->GetName()) + "' of " +
                                                 path + ": no transformation to the grid's CRS" +
                                                 quiet.suffix());
    // GDAL's OSM driver truncates ways to the filtered nodes when its points layer carries a
    // spatial filter: OSM points are filtered below, by their envelope, instead.
    const bool osm_points = interleaved && std::string(layer->GetName()) == "points";
    try {
      if (osm_points) {
        layer->SetSpatialFilter(nullptr);
      } else {
        const Extent filter = transform_extent(search, grid_.crs, wkt_of(source));
        layer->SetSpatialFilterRect(filter.xmin, filter.ymin, filter.xmax, filter.ymax);
      }
    } catch (const GeoError&) {
      layer->SetSpatialFilter(nullptr);  // the grid is outside the layer CRS's validity: scan all
    }
    states.push_back(std::move(state));
  }

  uint64_t transform_failures = 0;
  uint64_t collections = 0;
  auto handle = [&](OGRFeature& feature, LayerState& state) {
    const OGRGeometry* geometry = feature.GetGeometryRef();
    if (!geometry || geometry->IsEmpty()) {
      ++stats.features_skipped;
      return;
    }
    std::unique_ptr<OGRGeometry> linear;
    if (OGR_GT_IsNonLinear(geometry->getGeometryType())) {
      linear.reset(geometry->getLinearGeometry());
      geometry = linear.get();
    }
    GeometryKind kind;
    if (!geometry || !geometry_kind(*geometry, kind)) {
      ++collections;
      ++stats.features_skipped;
      return;
    }
    const std::optional<Burn> burn = state.request.classify(feature, kind);
    if (!burn) {
      ++stats.features_skipped;
      return;
    }
    std::unique_ptr<OGRGeometry> prepared = prepare(*geometry, kind, *burn, state.transforms);
    if (!prepared) {
      ++transform_failures;
      ++stats.features_skipped;
      return;
    }
    OGREnvelope envelope;
    prepared->getEnvelope(&envelope);
    const Extent box{envelope.MinX, envelope.MinY, envelope.MaxX, envelope.MaxY};
    if (!overlaps(box, extent_)) return;
    StoredFeature stored;
    stored.area = OGR_G_Area(OGRGeometry::ToHandle(prepared.get()));
    stored.geometry = std::move(prepared);
    stored.value = burn->value;
    stored.priority = burn->priority;
    stored.envelope = box;
    features_.push_back(std::move(stored));
    ++stats.features_used;
  };

  const std::string label = "reading layout";
  QuietErrors quiet;  // OSM extracts cut at a border warn about every unclosed ring
  control.report(0, label);
  if (interleaved) {
    dataset.ResetReading();
    uint64_t count = 0;
    while (true) {
      OGRLayer* from = nullptr;
      double fraction = 0;
      OGRFeatureUniquePtr feature(dataset.GetNextFeature(&from, &fraction, nullptr, nullptr));
      if (!feature) break;
      if (control.cancelled()) return Status::Cancelled;
      for (auto& state : states)
        if (state.request.layer == from) handle(*feature, state);
      if (++count % 512 == 0) control.report(std::clamp(fraction, 0.0, 1.0), label);
    }
  } else {
    for (size_t i = 0; i < states.size(); ++i) {
      OGRLayer* layer = states[i].request.layer;
      const GIntBig total = layer->GetFeatureCount(TRUE);
      layer->ResetReading();
      GIntBig done = 0;
      while (OGRFeatureUniquePtr feature{layer->GetNextFeature()}) {
        if (control.cancelled()) return Status::Cancelled;
        handle(*feature, states[i]);
        if (++done % 512 == 0 && total > 0)
          control.report((i + static_cast<double>(done) / total) / states.size(), label);
      }
    }
  }
  if (control.cancelled()) return Status::Cancelled;
  if (collections > 0)
    stats.warnings.push_back(std::to_string(collections) +
                             " features with geometry collections were ignored");
  if (transform_failures > 0)
    stats.warnings.push_back(std::to_string(transform_failures) +
                             " features could not be reprojected or buffered and were ignored");
  std::stable_sort(features_.begin(), features_.end(),
                   [](const StoredFeature& a, const StoredFeature& b) {
                     if (a.priority != b.priority) return a.priority < b.priority;
                     return a.area > b.area;
                   });
  control.report(1, label);
  return Status::Ok;
}

std::vector<uint8_t> FeatureStore::render(const Window& window, bool all_touched,
                                          uint8_t background) const {
  if (window.is_empty() || window.x < 0 || window.y < 0 || window.x + window.width > grid_.width ||
      window.y + window.height > grid_.height)
    throw GeoError(GeoError::Kind::InvalidArgument,
                   "window (" + std::to_string(window.x) + ", " + std::to_string(window.y) + ", " +
                       std::to_string(window.width) + "x" + std::to_string(window.height) +
                       ") is outside the layout grid (" + std::to_string(grid_.width) + "x" +
                       std::to_string(grid_.height) + ")");
  std::vector<uint8_t> values(static_cast<size_t>(window.pixels()), background);
  const Grid sub = grid_.subgrid(window);
  const Extent box = sub.extent();
  std::vector<OGRGeometryH> geometries;
  std::vector<double> burns;
  for (const auto& feature : features_) {
    if (!overlaps(feature.envelope, box)) continue;
    geometries.push_back(OGRGeometry::ToHandle(feature.geometry.get()));
    burns.push_back(feature.value);
  }
  if (geometries.empty()) return values;

  GDALDriver* mem = GetGDALDriverManager()->GetDriverByName("MEM");
  DatasetPtr dataset(mem->Create("", window.width, window.height, 0, GDT_Byte, nullptr));
  if (!dataset) throw GeoError(GeoError::Kind::Io, "cannot allocate a rasterisation buffer");
  char pointer[64];
  std::snprintf(pointer, sizeof(pointer), "DATAPOINTER=%" PRIuPTR,
                reinterpret_cast<uintptr_t>(values.data()));
  CPLStringList band_options;
  band_options.AddString(pointer);
  if (dataset->AddBand(GDT_Byte, band_options.List()) != CE_None)
    throw GeoError(GeoError::Kind::Io, "cannot wrap the rasterisation buffer");
  double gt[6];
  std::copy(sub.geotransform.begin(), sub.geotransform.end(), gt);
  dataset->SetGeoTransform(gt);
  CPLStringList options;
  if (all_touched) options.SetNameValue("ALL_TOUCHED", "TRUE");
  int band = 1;
  QuietErrors quiet;
  if (GDALRasterizeGeometries(GDALDataset::ToHandle(dataset.get()), 1, &band,
                              static_cast<int>(geometries.size()), geometries.data(), nullptr,
                              nullptr, burns.data(), options.List(), nullptr, nullptr) != CE_None)
    throw GeoError(GeoError::Kind::Io, "rasterising the layout failed" + quiet.suffix());
  dataset.reset();  // flushes into `values`
  return values;
}

}  // namespace terrasynth::geo::detail
