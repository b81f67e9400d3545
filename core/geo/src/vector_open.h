#pragma once
// Opening vector files and finding layers, with typed errors (internal).
#include <string>
#include <vector>

#include "gdal_util.h"

namespace terrasynth::geo::detail {

DatasetPtr open_vector(const std::string& path);
std::vector<std::string> layer_names(GDALDataset& dataset);
// The named layer (empty = the first). Throws LayerNotFound listing the layers.
OGRLayer* find_layer(GDALDataset& dataset, const std::string& path, const std::string& name);
std::string join(const std::vector<std::string>& items, const std::string& separator = ", ");

}  // namespace terrasynth::geo::detail
