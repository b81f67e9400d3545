#pragma once
// Internal helpers shared by geo's sources: GDAL registration, owning handles, quiet error
// capture, SRS parsing and type conversions. GDAL types never leave core/geo/src.
#include <gdal_priv.h>
#include <gdalwarper.h>
#include <ogr_spatialref.h>

#include <memory>
#include <string>

#include "terrasynth/geo/error.h"
#include "terrasynth/geo/raster.h"

namespace terrasynth::geo::detail {

// Registers GDAL's drivers once (thread-safe).
void ensure_gdal();

struct DatasetCloser {
  void operator()(GDALDataset* dataset) const {
    if (dataset) GDALClose(GDALDataset::ToHandle(dataset));
  }
};
using DatasetPtr = std::unique_ptr<GDALDataset, DatasetCloser>;

// Silences GDAL's stderr output for its lifetime and keeps the last error message, so errors
// reach the user once, through a typed exception.
class QuietErrors {
 public:
  QuietErrors();
  ~QuietErrors();
  QuietErrors(const QuietErrors&) = delete;
  QuietErrors& operator=(const QuietErrors&) = delete;
  // GDAL's last error message, or "" when none.
  std::string message() const;
  // ": <message>" when there is one, for appending to an error text.
  std::string suffix() const;
};

// A spatial reference in traditional GIS axis order (x = longitude/easting). Throws
// GeoError::BadCrs naming `definition`.
OGRSpatialReference make_srs(const std::string& definition);

GDALDataType to_gdal(DataType type);
DataType from_gdal(GDALDataType type, const std::string& what);
GDALRIOResampleAlg to_gdal_rio(Resampling resampling);
GDALResampleAlg to_gdal_warp(Resampling resampling);
const char* overview_resampling_name(Resampling resampling);

std::string single_quoted(const std::string& text);  // 'text'

// Raises GeoError::NotFound when `path` does not exist (VSI paths like /vsizip/ are not checked).
void require_existing_file(const std::string& path, const std::string& what);

}  // namespace terrasynth::geo::detail
