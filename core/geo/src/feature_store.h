#pragma once
// Internal: features of vector layers reprojected to a grid's CRS, buffered, ordered by
// priority, and burnt into windows of the grid. Shared by class layouts and polygon masks.
#include <ogrsf_frmts.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gdal_util.h"
#include "terrasynth/geo/control.h"
#include "terrasynth/geo/grid.h"
#include "terrasynth/geo/layout.h"
#include "terrasynth/geo/osm_mapping.h"

namespace terrasynth::geo::detail {

struct Burn {
  uint8_t value = 0;
  int priority = 0;
  double buffer_m = 0;  // buffer distance (half a line width, or a polygon's growth); 0 = none
  bool fill = false;    // a closed line filled as a polygon
};

// Decides what a feature burns; nullopt skips it (the classifier counts why in the stats).
using Classifier = std::function<std::optional<Burn>(OGRFeature& feature, GeometryKind kind)>;

struct StoredFeature {
  std::unique_ptr<OGRGeometry> geometry;  // in the grid's CRS
  uint8_t value = 0;
  int priority = 0;
  double area = 0;
  Extent envelope;
};

struct LayerRequest {
  OGRLayer* layer = nullptr;
  Classifier classify;
};

class FeatureStore {
 public:
  explicit FeatureStore(const Grid& grid);

  // Reads `layers` (all of one dataset), keeping the features that overlap the grid grown by
  // `margin_m` metres. `interleaved` reads through the dataset (OSM). Returns Cancelled when
  // the control's flag is set.
  Status load(GDALDataset& dataset, const std::string& path, std::vector<LayerRequest> layers,
              double margin_m, bool interleaved, const Control& control, LayoutStats& stats);
  // Values of `window`, `background` where no feature is.
  std::vector<uint8_t> render(const Window& window, bool all_touched, uint8_t background) const;
  size_t size() const { return features_.size(); }

 private:
  struct Transforms;
  std::unique_ptr<OGRGeometry> prepare(const OGRGeometry& source, GeometryKind kind,
                                       const Burn& burn, Transforms& transforms) const;
  Grid grid_;
  Extent extent_;
  std::string metric_crs_;
  double metric_units_per_metre_ = 1;  // in the metric CRS
  double grid_units_per_metre_ = 1;    // in the grid CRS (along x)
  std::vector<StoredFeature> features_;
};

// The kind of a (linear) geometry; false for collections and empty geometries.
bool geometry_kind(const OGRGeometry& geometry, GeometryKind& kind);

}  // namespace terrasynth::geo::detail
