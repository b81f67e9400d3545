#include "terrasynth/geo/layout.h"

#include <algorithm>
#include <map>

#include "feature_store.h"
#include "terrasynth/geo/osm_mapping.h"
#include "terrasynth/geo/vector.h"
#include "vector_open.h"

namespace terrasynth::geo {

using detail::Burn;
using detail::DatasetPtr;
using detail::FeatureStore;
using detail::LayerRequest;

namespace {

std::string trimmed(const std::string& text) {
  const auto begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string::npos) return "";
  return text.substr(begin, text.find_last_not_of(" \t\r\n") - begin + 1);
}

std::vector<std::string> field_names(OGRLayer& layer) {
  std::vector<std::string> names;
  OGRFeatureDefn* definition = layer.GetLayerDefn();
  for (int i = 0; i < definition->GetFieldCount(); ++i)
    names.emplace_back(definition->GetFieldDefn(i)->GetNameRef());
  return names;
}

int require_field(OGRLayer& layer, const std::string& path, const std::string& field,
                  const std::string& role) {
  const int index = layer.GetLayerDefn()->GetFieldIndex(field.c_str());
  if (index < 0) {
    const auto names = field_names(layer);
    throw GeoError(
        GeoError::Kind::FieldNotFound,
        "layout " + path + " layer '" + layer.GetName() + "' has no " + role + " field '" + field +
            "' (fields: " + (names.empty() ? std::string("none") : detail::join(names)) + ")");
  }
  return index;
}

// Tags of an OSM feature: its columns plus the parsed other_tags column.
class OsmTagReader {
 public:
  Tags tags(OGRFeature& feature) {
    OGRFeatureDefn* definition = feature.GetDefnRef();
    auto [it, added] = columns_.try_emplace(definition);
    if (added) {
      for (int i = 0; i < definition->GetFieldCount(); ++i) {
        const std::string name = definition->GetFieldDefn(i)->GetNameRef();
        if (name == "osm_id" || name == "osm_way_id" || name == "z_order") continue;
        it->second.emplace_back(i, name);
      }
    }
    Tags result;
    for (const auto& [index, name] : it->second) {
      if (!feature.IsFieldSetAndNotNull(index)) continue;
      const char* value = feature.GetFieldAsString(index);
      if (!value || !*value) continue;
      if (name == "other_tags")
        parse_osm_other_tags(value, result);
      else
        result[name] = value;
    }
    return result;
  }

 private:
  std::map<const OGRFeatureDefn*, std::vector<std::pair<int, std::string>>> columns_;
};

}  // namespace

bool LayoutSource::is_osm() const {
  return is_osm_path(path);
}

struct LayoutRasterizer::Impl {
  LayoutSource source;
  Grid grid;
  RasterizeOptions options;
  DatasetPtr dataset;
  bool osm = false;
  std::optional<OsmMapping> mapping;
  std::vector<OGRLayer*> layers;
  int class_field = -1;
  int width_field = -1;
  uint8_t default_class = 0;
  std::unique_ptr<FeatureStore> store;
  LayoutStats stats;
  bool loaded = false;
};

LayoutRasterizer::LayoutRasterizer(const LayoutSource& source, const Grid& grid,
                                   const RasterizeOptions& options)
    : impl_(std::make_unique<Impl>()) {
  Impl& self = *impl_;
  self.source = source;
  self.grid = grid;
  self.options = options;
  self.osm = source.is_osm();
  self.dataset = detail::open_vector(source.path);
  self.store = std::make_unique<FeatureStore>(grid);
  if (self.osm) {
    self.mapping = source.osm_mapping.empty() ? OsmMapping::load_default()
                                              : OsmMapping::load(source.osm_mapping);
    if (!source.layer.empty()) {
      self.layers.push_back(detail::find_layer(*self.dataset, source.path, source.layer));
    } else {
      std::vector<std::string> names{"lines", "multipolygons"};
      if (self.mapping->uses_points()) names.push_back("points");
      for (const auto& name : names)
        self.layers.push_back(detail::find_layer(*self.dataset, source.path, name));
    }
    std::string interest;
    for (OGRLayer* layer : self.layers)
      interest += (interest.empty() ? "" : ",") + std::string(layer->GetName());
    self.dataset->ExecuteSQL(("SET interest_layers = " + interest).c_str(), nullptr, nullptr);
    return;
  }
  OGRLayer* layer = detail::find_layer(*self.dataset, source.path, source.layer);
  self.layers.push_back(layer);
  const std::string context = "layout " + source.path + " layer '" + layer->GetName() + "'";
  if (!source.class_field.empty()) {
    self.class_field = require_field(*layer, source.path, source.class_field, "class");
  } else {
    self.class_field = layer->GetLayerDefn()->GetFieldIndex("class");
  }
  if (self.class_field < 0)
    self.default_class = parse_class(source.default_class, context + ", default class");
  if (!source.width_field.empty())
    self.width_field = require_field(*layer, source.path, source.width_field, "width");
  if (!(source.line_width_m > 0))
    throw GeoError(GeoError::Kind::InvalidArgument,
                   context + ": line width must be a positive number of metres");
}

LayoutRasterizer::~LayoutRasterizer() = default;
LayoutRasterizer::LayoutRasterizer(LayoutRasterizer&&) noexcept = default;
LayoutRasterizer& LayoutRasterizer::operator=(LayoutRasterizer&&) noexcept = default;

Status LayoutRasterizer::load(const Control& control) {
  Impl& self = *impl_;
  if (self.loaded) return Status::Ok;
  self.stats = {};
  std::vector<LayerRequest> requests;
  double margin_m = 0;
  uint64_t points_ignored = 0, without_class = 0;
  OsmTagReader tag_reader;
  // Captured by reference by the classifiers below, which run inside store->load().
  std::string context;
  std::string field_name;
  if (self.osm) {
    const OsmMapping* mapping = &*self.mapping;
    margin_m = mapping->max_width_m() / 2;
    for (OGRLayer* layer : self.layers)
      requests.push_back(
          {layer, [&, mapping](OGRFeature& feature, GeometryKind kind) -> std::optional<Burn> {
             const auto match = mapping->match(tag_reader.tags(feature), kind);
             if (!match) return std::nullopt;
             return Burn{match->class_id, match->priority, match->fill ? 0.0 : match->width_m / 2,
                         match->fill};
           }});
  } else {
    OGRLayer* layer = self.layers.front();
    context = "layout " + self.source.path + " layer '" + layer->GetName() + "'";
    if (self.class_field >= 0)
      field_name = layer->GetLayerDefn()->GetFieldDefn(self.class_field)->GetNameRef();
    margin_m = self.width_field >= 0 ? 100.0 : self.source.line_width_m / 2;
    requests.push_back(
        {layer, [&](OGRFeature& feature, GeometryKind kind) -> std::optional<Burn> {
           uint8_t id = self.default_class;
           if (self.class_field >= 0) {
             const std::string value = feature.IsFieldSetAndNotNull(self.class_field)
                                           ? trimmed(feature.GetFieldAsString(self.class_field))
                                           : std::string();
             if (value.empty()) {
               ++without_class;
               return std::nullopt;
             }
             id = parse_class(value, context + " feature " + std::to_string(feature.GetFID()) +
                                         " (field '" + field_name + "')");
           }
           Burn burn{id, class_priority(id), 0.0, false};
           if (kind == GeometryKind::Point) {
             ++points_ignored;
             return std::nullopt;
           }
           if (kind != GeometryKind::Area) {
             double width = self.source.line_width_m;
             if (self.width_field >= 0 && feature.IsFieldSetAndNotNull(self.width_field)) {
               const double value = feature.GetFieldAsDouble(self.width_field);
               if (value > 0) width = value;
             }
             burn.buffer_m = width / 2;
           }
           return burn;
         }});
  }
  const Status status = self.store->load(*self.dataset, self.source.path, std::move(requests),
                                         margin_m, self.osm, control, self.stats);
  if (status == Status::Cancelled) return status;
  if (!self.osm && self.class_field < 0)
    self.stats.warnings.push_back(
        "layout " + self.source.path + " layer '" + self.layers.front()->GetName() +
        "' has no 'class' field: every feature is '" + class_names()[self.default_class] +
        "' (name a class field to use other classes)");
  if (without_class > 0)
    self.stats.warnings.push_back(std::to_string(without_class) +
                                  " features without a class value were skipped");
  if (points_ignored > 0)
    self.stats.warnings.push_back(std::to_string(points_ignored) +
                                  " point features were ignored (points have no area)");
  self.loaded = true;
  return Status::Ok;
}

std::vector<uint8_t> LayoutRasterizer::render(const Window& window) const {
  if (!impl_->loaded)
    throw GeoError(GeoError::Kind::InvalidArgument,
                   "layout " + impl_->source.path + " rendered before load()");
  return impl_->store->render(window, impl_->options.all_touched, kUnknownClass);
}

const LayoutStats& LayoutRasterizer::stats() const {
  return impl_->stats;
}
const Grid& LayoutRasterizer::grid() const {
  return impl_->grid;
}

RasterizeResult rasterize_layout(const LayoutSource& source, const Grid& grid,
                                 const std::string& output, const RasterizeOptions& options,
                                 const Control& control) {
  RasterizeResult result;
  result.output = output;
  result.grid = grid;
  WriteOptions write = options.write;
  write.inputs = options.inputs;
  write.inputs.push_back(source.path);
  if (!source.osm_mapping.empty()) write.inputs.push_back(source.osm_mapping);
  check_output_path(output, write.inputs);

  LayoutRasterizer rasterizer(source, grid, options);
  if (rasterizer.load(control.stage(0, 0.25)) == Status::Cancelled) {
    result.status = Status::Cancelled;
    return result;
  }
  result.stats = rasterizer.stats();
  result.stats.class_pixels.fill(0);

  RasterSpec spec = class_raster_spec(grid);
  spec.metadata["TERRASYNTH_LAYOUT"] =
      source.path + (source.layer.empty() ? std::string() : ":" + source.layer);
  if (source.is_osm())
    spec.metadata["TERRASYNTH_OSM_MAPPING"] =
        source.osm_mapping.empty() ? "osm_classes.json (default)" : source.osm_mapping;
  RasterWriter writer(output, spec, write);
  const std::vector<Window> windows = writer.windows(options.window_blocks);
  for (size_t i = 0; i < windows.size(); ++i) {
    if (control.cancelled()) {
      writer.abort();
      result.status = Status::Cancelled;
      return result;
    }
    const std::vector<uint8_t> values = rasterizer.render(windows[i]);
    for (uint8_t value : values) ++result.stats.class_pixels[value];
    writer.write(windows[i], values);
    control.report(0.25 + 0.7 * static_cast<double>(i + 1) / windows.size(), "rasterising");
  }
  result.status = writer.commit(control.stage(0.95, 1.0));
  return result;
}

struct PolygonMask::Impl {
  std::string path;
  MaskOptions options;
  DatasetPtr dataset;
  OGRLayer* layer = nullptr;
  std::unique_ptr<FeatureStore> store;
  LayoutStats stats;
  bool loaded = false;
};

PolygonMask::PolygonMask(const std::string& path, const Grid& grid, const MaskOptions& options)
    : impl_(std::make_unique<Impl>()) {
  impl_->path = path;
  impl_->options = options;
  impl_->dataset = detail::open_vector(path);
  impl_->layer = detail::find_layer(*impl_->dataset, path, options.layer);
  impl_->store = std::make_unique<FeatureStore>(grid);
}

PolygonMask::~PolygonMask() = default;

Status PolygonMask::load(const Control& control) {
  Impl& self = *impl_;
  if (self.loaded) return Status::Ok;
  self.stats = {};
  const MaskOptions& options = self.options;
  std::vector<LayerRequest> requests;
  requests.push_back(
      {self.layer, [&](OGRFeature&, GeometryKind kind) -> std::optional<Burn> {
         if (kind == GeometryKind::Area) return Burn{1, 0, options.grow_m, true};
         if ((kind == GeometryKind::Line || kind == GeometryKind::ClosedLine) &&
             options.line_width_m > 0)
           return Burn{1, 0, options.line_width_m / 2 + std::max(0.0, options.grow_m), false};
         return std::nullopt;
       }});
  const double margin = std::max(0.0, options.grow_m) + options.line_width_m / 2;
  const Status status = self.store->load(*self.dataset, self.path, std::move(requests), margin,
                                         is_osm_path(self.path), control, self.stats);
  self.loaded = status == Status::Ok;
  return status;
}

std::vector<uint8_t> PolygonMask::render(const Window& window) const {
  if (!impl_->loaded)
    throw GeoError(GeoError::Kind::InvalidArgument,
                   "mask " + impl_->path + " rendered before load()");
  return impl_->store->render(window, impl_->options.all_touched, 0);
}

std::vector<uint8_t> rasterize_mask(const std::string& path, const Grid& grid,
                                    const MaskOptions& options) {
  PolygonMask mask(path, grid, options);
  mask.load();
  return mask.render(grid.full_window());
}

}  // namespace terrasynth::geo
