#pragma once
// Coordinate reference systems as plain strings. Any definition GDAL/PROJ accepts is valid
// input ("EPSG:4326", WKT, PROJJSON, a PROJ string); functions return WKT2 text. Geographic
// coordinates are always longitude, latitude (x, y) order, whatever the CRS's official axis order.
#include <array>
#include <optional>
#include <string>
#include <vector>

namespace terrasynth::geo {

// Parses `definition` and returns its WKT2. Throws GeoError::BadCrs naming the definition.
std::string crs_wkt(const std::string& definition);
bool crs_is_geographic(const std::string& crs);
bool crs_is_projected(const std::string& crs);
// Metres per unit of a projected CRS's axes (1 for metres, 0.3048 for feet); throws for a
// geographic CRS.
double crs_metres_per_unit(const std::string& crs);
std::string crs_name(const std::string& crs);
// "EPSG:32616" when the CRS carries or matches an authority code, else std::nullopt.
std::optional<std::string> crs_authority_code(const std::string& crs);
// Same coordinates for the same numbers (ignores names and axis-order metadata).
bool crs_equivalent(const std::string& a, const std::string& b);

// The UTM zone (WGS 84, EPSG:326xx north / 327xx south) of a longitude/latitude, with the
// Norway and Svalbard exceptions.
std::string utm_crs_for(double lon, double lat);

using Point = std::array<double, 2>;
// Transforms points (x, y) from one CRS to another. Throws GeoError::BadCrs if a point cannot
// be transformed.
std::vector<Point> transform_points(const std::vector<Point>& points, const std::string& from,
                                    const std::string& to);

}  // namespace terrasynth::geo
