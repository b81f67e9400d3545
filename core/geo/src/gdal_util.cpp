#include "gdal_util.h"

#include <cpl_error.h>

#include <filesystem>
#include <mutex>

namespace terrasynth::geo::detail {

void ensure_gdal() {
  static std::once_flag once;
  std::call_once(once, [] { GDALAllRegister(); });
}

QuietErrors::QuietErrors() {
  CPLPushErrorHandler(CPLQuietErrorHandler);
  CPLErrorReset();
}

QuietErrors::~QuietErrors() {
  CPLPopErrorHandler();
}

std::string QuietErrors::message() const {
  const char* text = CPLGetLastErrorMsg();
  return text ? std::string(text) : std::string();
}

std::string QuietErrors::suffix() const {
  const std::string text = message();
  return text.empty() ? std::string() : ": " + text;
}

OGRSpatialReference make_srs(const std::string& definition) {
  ensure_gdal();
  if (definition.empty()) throw GeoError(GeoError::Kind::BadCrs, "no CRS given (empty definition)");
  OGRSpatialReference srs;
  QuietErrors quiet;
  if (srs.SetFromUserInput(definition.c_str()) != OGRERR_NONE || srs.IsEmpty()) {
    std::string shown = definition.size() > 80 ? definition.substr(0, 77) + "..." : definition;
    throw GeoError(GeoError::Kind::BadCrs,
                   "invalid CRS " + single_quoted(shown) + quiet.suffix() +
                       " (expected e.g. EPSG:4326, EPSG:32633, WKT or a PROJ string)");
  }
  srs.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  return srs;
}

GDALDataType to_gdal(DataType type) {
  switch (type) {
    case DataType::Byte:
      return GDT_Byte;
    case DataType::UInt16:
      return GDT_UInt16;
    case DataType::Int16:
      return GDT_Int16;
    case DataType::UInt32:
      return GDT_UInt32;
    case DataType::Int32:
      return GDT_Int32;
    case DataType::Float32:
      return GDT_Float32;
    case DataType::Float64:
      return GDT_Float64;
  }
  return GDT_Unknown;
}

DataType from_gdal(GDALDataType type, const std::string& what) {
  switch (type) {
    case GDT_Byte:
      return DataType::Byte;
    case GDT_UInt16:
      return DataType::UInt16;
    case GDT_Int16:
      return DataType::Int16;
    case GDT_UInt32:
      return DataType::UInt32;
    case GDT_Int32:
      return DataType::Int32;
    case GDT_Float32:
      return DataType::Float32;
    case GDT_Float64:
      return DataType::Float64;
    default:
      break;
  }
  throw GeoError(GeoError::Kind::Unsupported,
                 what + ": unsupported pixel type " + GDALGetDataTypeName(type) +
                     " (supported: Byte, UInt16, Int16, UInt32, Int32, Float32, Float64)");
}

GDALRIOResampleAlg to_gdal_rio(Resampling resampling) {
  switch (resampling) {
    case Resampling::Nearest:
      return GRIORA_NearestNeighbour;
    case Resampling::Bilinear:
      return GRIORA_Bilinear;
    case Resampling::Cubic:
      return GRIORA_Cubic;
    case Resampling::Average:
      return GRIORA_Average;
    case Resampling::Mode:
      return GRIORA_Mode;
    case Resampling::Lanczos:
      return GRIORA_Lanczos;
  }
  return GRIORA_NearestNeighbour;
}

GDALResampleAlg to_gdal_warp(Resampling resampling) {
  switch (resampling) {
    case Resampling::Nearest:
      return GRA_NearestNeighbour;
    case Resampling::Bilinear:
      return GRA_Bilinear;
    case Resampling::Cubic:
      return GRA_Cubic;
    case Resampling::Average:
      return GRA_Average;
    case Resampling::Mode:
      return GRA_Mode;
    case Resampling::Lanczos:
      return GRA_Lanczos;
  }
  return GRA_NearestNeighbour;
}

const char* overview_resampling_name(Resampling resampling) {
  switch (resampling) {
    case Resampling::Nearest:
      return "NEAREST";
    case Resampling::Bilinear:
      return "BILINEAR";
    case Resampling::Cubic:
      return "CUBIC";
    case Resampling::Average:
      return "AVERAGE";
    case Resampling::Mode:
      return "MODE";
    case Resampling::Lanczos:
      return "LANCZOS";
  }
  return "NEAREST";
}

std::string single_quoted(const std::string& text) {
  return "'" + text + "'";
}

void require_existing_file(const std::string& path, const std::string& what) {
  if (path.empty()) throw GeoError(GeoError::Kind::InvalidArgument, what + ": no path given");
  if (path.rfind("/vsi", 0) == 0) return;
  std::error_code error;
  if (!std::filesystem::exists(path, error))
    throw GeoError(GeoError::Kind::NotFound, what + " not found: " + path);
}

}  // namespace terrasynth::geo::detail
