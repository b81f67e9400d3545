#include "terrasynth/geo/vector.h"

#include <ogrsf_frmts.h>

#include <algorithm>
#include <cctype>

#include "vector_open.h"

namespace terrasynth::geo {

namespace detail {

DatasetPtr open_vector(const std::string& path) {
  ensure_gdal();
  require_existing_file(path, "layout file");
  QuietErrors quiet;
  DatasetPtr dataset(GDALDataset::Open(path.c_str(), GDAL_OF_VECTOR | GDAL_OF_READONLY));
  if (!dataset)
    throw GeoError(
        GeoError::Kind::Io,
        "cannot open vector file " + path + quiet.suffix() +
            " (expected GeoJSON, GeoPackage, Shapefile, .osm/.pbf or another OGR format)");
  if (dataset->GetLayerCount() == 0)
    throw GeoError(GeoError::Kind::Io, "vector file " + path + " has no layers");
  return dataset;
}

std::vector<std::string> layer_names(GDALDataset& dataset) {
  std::vector<std::string> names;
  for (int i = 0; i < dataset.GetLayerCount(); ++i)
    names.emplace_back(dataset.GetLayer(i)->GetName());
  return names;
}

std::string join(const std::vector<std::string>& items, const std::string& separator) {
  std::string text;
  for (const auto& item : items) text += (text.empty() ? "" : separator) + item;
  return text;
}

OGRLayer* find_layer(GDALDataset& dataset, const std::string& path, const std::string& name) {
  if (name.empty()) return dataset.GetLayer(0);
  if (OGRLayer* layer = dataset.GetLayerByName(name.c_str())) return layer;
  throw GeoError(GeoError::Kind::LayerNotFound, "layer '" + name + "' not found in " + path +
                                                    " (layers: " + join(layer_names(dataset)) +
                                                    ")");
}

}  // namespace detail

bool is_osm_path(const std::string& path) {
  std::string lower = path;
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto ends_with = [&](const std::string& suffix) {
    return lower.size() >= suffix.size() &&
           lower.compare(lower.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  return ends_with(".osm") || ends_with(".pbf") || ends_with(".osm.bz2");
}

std::vector<std::string> list_layers(const std::string& path) {
  detail::DatasetPtr dataset = detail::open_vector(path);
  return detail::layer_names(*dataset);
}

VectorLayerInfo read_vector_info(const std::string& path, const std::string& layer_name) {
  detail::DatasetPtr dataset = detail::open_vector(path);
  OGRLayer* layer = detail::find_layer(*dataset, path, layer_name);
  VectorLayerInfo info;
  info.path = path;
  info.layer = layer->GetName();
  if (const OGRSpatialReference* srs = layer->GetSpatialRef()) {
    char* wkt = nullptr;
    const char* options[] = {"FORMAT=WKT2_2019", "MULTILINE=NO", nullptr};
    if (srs->exportToWkt(&wkt, options) == OGRERR_NONE && wkt) info.crs = wkt;
    CPLFree(wkt);
  }
  const bool osm = is_osm_path(path);
  info.feature_count = layer->GetFeatureCount(osm ? FALSE : TRUE);
  OGREnvelope envelope;
  detail::QuietErrors quiet;
  if (!osm && layer->GetExtent(&envelope, TRUE) == OGRERR_NONE)
    info.extent = {envelope.MinX, envelope.MinY, envelope.MaxX, envelope.MaxY};
  info.geometry_type = OGRGeometryTypeToName(layer->GetGeomType());
  OGRFeatureDefn* definition = layer->GetLayerDefn();
  for (int i = 0; i < definition->GetFieldCount(); ++i)
    info.fields.emplace_back(definition->GetFieldDefn(i)->GetNameRef());
  return info;
}

}  // namespace terrasynth::geo
