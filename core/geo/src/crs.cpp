#include "terrasynth/geo/crs.h"

#include <cmath>
#include <memory>

#include "gdal_util.h"

namespace terrasynth::geo {

using detail::make_srs;
using detail::QuietErrors;
using detail::single_quoted;

std::string crs_wkt(const std::string& definition) {
  const OGRSpatialReference srs = make_srs(definition);
  char* text = nullptr;
  const char* options[] = {"FORMAT=WKT2_2019", "MULTILINE=NO", nullptr};
  if (srs.exportToWkt(&text, options) != OGRERR_NONE || text == nullptr) {
    CPLFree(text);
    throw GeoError(GeoError::Kind::BadCrs,
                   "CRS " + single_quoted(definition) + " cannot be written as WKT");
  }
  std::string wkt(text);
  CPLFree(text);
  return wkt;
}

bool crs_is_geographic(const std::string& crs) {
  return make_srs(crs).IsGeographic() != 0;
}

bool crs_is_projected(const std::string& crs) {
  return make_srs(crs).IsProjected() != 0;
}

double crs_metres_per_unit(const std::string& crs) {
  const OGRSpatialReference srs = make_srs(crs);
  if (!srs.IsProjected())
    throw GeoError(GeoError::Kind::BadCrs, "CRS " +
                                               single_quoted(srs.GetName() ? srs.GetName() : crs) +
                                               " is not projected: its units are not lengths");
  return srs.GetLinearUnits(nullptr);
}

std::string crs_name(const std::string& crs) {
  const OGRSpatialReference srs = make_srs(crs);
  const char* name = srs.GetName();
  return name ? name : "";
}

std::optional<std::string> crs_authority_code(const std::string& crs) {
  OGRSpatialReference srs = make_srs(crs);
  auto from = [](const OGRSpatialReference& candidate) -> std::optional<std::string> {
    const char* authority = candidate.GetAuthorityName(nullptr);
    const char* code = candidate.GetAuthorityCode(nullptr);
    if (authority && code) return std::string(authority) + ":" + code;
    return std::nullopt;
  };
  if (auto direct = from(srs)) return direct;
  QuietErrors quiet;
  std::unique_ptr<OGRSpatialReference> match(srs.FindBestMatch(90, "EPSG"));
  if (match) return from(*match);
  return std::nullopt;
}

bool crs_equivalent(const std::string& a, const std::string& b) {
  if (a.empty() || b.empty()) return a.empty() && b.empty();
  const OGRSpatialReference first = make_srs(a);
  const OGRSpatialReference second = make_srs(b);
  const char* options[] = {"IGNORE_DATA_AXIS_TO_SRS_AXIS_MAPPING=YES",
                           "CRITERION=EQUIVALENT_EXCEPT_AXIS_ORDER_GEOGCRS", nullptr};
  return first.IsSame(&second, options) != 0;
}

std::string utm_crs_for(double lon, double lat) {
  if (!std::isfinite(lon) || !std::isfinite(lat) || lat < -90 || lat > 90)
    throw GeoError(GeoError::Kind::BadExtent, "no UTM zone for longitude " + std::to_string(lon) +
                                                  ", latitude " + std::to_string(lat));
  double wrapped = std::fmod(lon + 180.0, 360.0);
  if (wrapped < 0) wrapped += 360.0;
  int zone = static_cast<int>(std::floor(wrapped / 6.0)) + 1;
  if (zone > 60) zone = 60;
  const double normalised = wrapped - 180.0;
  // Norway (south-west coast) and Svalbard use widened zones.
  if (lat >= 56 && lat < 64 && normalised >= 3 && normalised < 12) zone = 32;
  if (lat >= 72 && lat < 84) {
    if (normalised >= 0 && normalised < 9)
      zone = 31;
    else if (normalised >= 9 && normalised < 21)
      zone = 33;
    else if (normalised >= 21 && normalised < 33)
      zone = 35;
    else if (normalised >= 33 && normalised < 42)
      zone = 37;
  }
  return "EPSG:" + std::to_string(lat >= 0 ? 32600 + zone : 32700 + zone);
}

std::vector<Point> transform_points(const std::vector<Point>& points, const std::string& from,
                                    const std::string& to) {
  const OGRSpatialReference source = make_srs(from);
  const OGRSpatialReference target = make_srs(to);
  QuietErrors quiet;
  std::unique_ptr<OGRCoordinateTransformation> transform(
      OGRCreateCoordinateTransformation(&source, &target));
  if (!transform)
    throw GeoError(GeoError::Kind::BadCrs, "no transformation from " +
                                               single_quoted(source.GetName()) + " to " +
                                               single_quoted(target.GetName()) + quiet.suffix());
  std::vector<double> xs(points.size()), ys(points.size());
  for (size_t i = 0; i < points.size(); ++i) {
    xs[i] = points[i][0];
    ys[i] = points[i][1];
  }
  std::vector<int> ok(points.size(), 0);
  if (!points.empty() &&
      !transform->Transform(points.size(), xs.data(), ys.data(), nullptr, ok.data())) {
    for (size_t i = 0; i < points.size(); ++i)
      if (!ok[i])
        throw GeoError(GeoError::Kind::BadCrs, "point (" + std::to_string(points[i][0]) + ", " +
                                                   std::to_string(points[i][1]) +
                                                   ") cannot be transformed from " +
                                                   single_quoted(source.GetName()) + " to " +
                                                   single_quoted(target.GetName()));
  }
  std::vector<Point> result(points.size());
  for (size_t i = 0; i < points.size(); ++i) result[i] = {xs[i], ys[i]};
  return result;
}

}  // namespace terrasynth::geo
