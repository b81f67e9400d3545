#include <gdalwarper.h>

#include <algorithm>
#include <cstring>

#include "gdal_util.h"
#include "terrasynth/geo/raster.h"

namespace terrasynth::geo {

using detail::DatasetPtr;
using detail::QuietErrors;

size_t data_type_size(DataType type) {
  switch (type) {
    case DataType::Byte:
      return 1;
    case DataType::UInt16:
    case DataType::Int16:
      return 2;
    case DataType::UInt32:
    case DataType::Int32:
    case DataType::Float32:
      return 4;
    case DataType::Float64:
      return 8;
  }
  return 0;
}

const char* data_type_name(DataType type) {
  return GDALGetDataTypeName(detail::to_gdal(type));
}

namespace {
std::string lower(std::string text) {
  for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}
}  // namespace

DataType parse_data_type(const std::string& name) {
  for (DataType type : {DataType::Byte, DataType::UInt16, DataType::Int16, DataType::UInt32,
                        DataType::Int32, DataType::Float32, DataType::Float64})
    if (lower(data_type_name(type)) == lower(name)) return type;
  throw GeoError(GeoError::Kind::InvalidArgument,
                 "unknown pixel type '" + name +
                     "' (valid: Byte, UInt16, Int16, UInt32, Int32, Float32, Float64)");
}

Resampling parse_resampling(const std::string& name) {
  const std::string key = lower(name);
  if (key == "nearest") return Resampling::Nearest;
  if (key == "bilinear") return Resampling::Bilinear;
  if (key == "cubic") return Resampling::Cubic;
  if (key == "average") return Resampling::Average;
  if (key == "mode") return Resampling::Mode;
  if (key == "lanczos") return Resampling::Lanczos;
  throw GeoError(GeoError::Kind::InvalidArgument,
                 "unknown resampling '" + name +
                     "' (valid: nearest, bilinear, cubic, average, mode, lanczos)");
}

namespace {

ColorInterp from_gdal_color(GDALColorInterp interp) {
  switch (interp) {
    case GCI_GrayIndex:
      return ColorInterp::Gray;
    case GCI_PaletteIndex:
      return ColorInterp::Palette;
    case GCI_RedBand:
      return ColorInterp::Red;
    case GCI_GreenBand:
      return ColorInterp::Green;
    case GCI_BlueBand:
      return ColorInterp::Blue;
    case GCI_AlphaBand:
      return ColorInterp::Alpha;
    default:
      return ColorInterp::Undefined;
  }
}

std::map<std::string, std::string> metadata_map(GDALMajorObject& object) {
  std::map<std::string, std::string> result;
  char** list = object.GetMetadata();
  for (char** item = list; item && *item; ++item) {
    char* key = nullptr;
    const char* value = CPLParseNameValue(*item, &key);
    if (key && value) result[key] = value;
    CPLFree(key);
  }
  return result;
}

DatasetPtr open_raster(const std::string& path) {
  detail::ensure_gdal();
  detail::require_existing_file(path, "raster file");
  QuietErrors quiet;
  DatasetPtr dataset(GDALDataset::Open(path.c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY));
  if (!dataset) throw GeoError(GeoError::Kind::Io, "cannot open raster " + path + quiet.suffix());
  if (dataset->GetRasterCount() == 0)
    throw GeoError(GeoError::Kind::Io, "raster " + path + " has no bands (is it a vector file?)");
  return dataset;
}

RasterInfo describe(GDALDataset& dataset, const std::string& path) {
  RasterInfo info;
  info.path = path;
  info.driver = dataset.GetDriver() ? dataset.GetDriver()->GetDescription() : "";
  info.grid.width = dataset.GetRasterXSize();
  info.grid.height = dataset.GetRasterYSize();
  double gt[6];
  if (dataset.GetGeoTransform(gt) == CE_None) {
    info.georeferenced = true;
    std::copy(gt, gt + 6, info.grid.geotransform.begin());
  } else {
    info.grid.geotransform = {0, 1, 0, 0, 0, 1};  // GDAL's default pixel space
  }
  if (const OGRSpatialReference* srs = dataset.GetSpatialRef()) {
    char* wkt = nullptr;
    const char* options[] = {"FORMAT=WKT2_2019", "MULTILINE=NO", nullptr};
    if (srs->exportToWkt(&wkt, options) == OGRERR_NONE && wkt) info.grid.crs = wkt;
    CPLFree(wkt);
  }
  info.bands = dataset.GetRasterCount();
  info.type = detail::from_gdal(dataset.GetRasterBand(1)->GetRasterDataType(), "raster " + path);
  for (int b = 1; b <= info.bands; ++b) {
    GDALRasterBand* band = dataset.GetRasterBand(b);
    BandInfo entry;
    entry.description = band->GetDescription() ? band->GetDescription() : "";
    int has_nodata = FALSE;
    const double nodata = band->GetNoDataValue(&has_nodata);
    if (has_nodata) entry.nodata = nodata;
    entry.color = from_gdal_color(band->GetColorInterpretation());
    if (entry.color == ColorInterp::Alpha && info.alpha_band == 0) info.alpha_band = b;
    entry.metadata = metadata_map(*band);
    for (char** name = band->GetCategoryNames(); name && *name; ++name)
      entry.category_names.emplace_back(*name);
    if (const GDALColorTable* table = band->GetColorTable()) {
      for (int i = 0; i < table->GetColorEntryCount(); ++i) {
        const GDALColorEntry* c = table->GetColorEntry(i);
        entry.color_table.push_back({static_cast<uint8_t>(c->c1), static_cast<uint8_t>(c->c2),
                                     static_cast<uint8_t>(c->c3), static_cast<uint8_t>(c->c4)});
      }
    }
    info.band.push_back(std::move(entry));
  }
  GDALRasterBand* first = dataset.GetRasterBand(1);
  first->GetBlockSize(&info.block_width, &info.block_height);
  info.overviews = first->GetOverviewCount();
  info.metadata = metadata_map(dataset);
  if (const char* compression = dataset.GetMetadataItem("COMPRESSION", "IMAGE_STRUCTURE"))
    info.compression = compression;
  if (const char* layout = dataset.GetMetadataItem("LAYOUT", "IMAGE_STRUCTURE"))
    info.layout = layout;
  return info;
}

std::vector<int> resolve_bands(const std::vector<int>& bands, int count, const std::string& path) {
  std::vector<int> list = bands;
  if (list.empty())
    for (int b = 1; b <= count; ++b) list.push_back(b);
  for (int b : list)
    if (b < 1 || b > count)
      throw GeoError(GeoError::Kind::InvalidArgument, "raster " + path + " has no band " +
                                                          std::to_string(b) + " (it has " +
                                                          std::to_string(count) + ")");
  return list;
}

void check_window(const Window& window, int width, int height, const std::string& path) {
  if (window.width <= 0 || window.height <= 0 || window.x < 0 || window.y < 0 ||
      window.x + window.width > width || window.y + window.height > height)
    throw GeoError(GeoError::Kind::InvalidArgument,
                   "window (" + std::to_string(window.x) + ", " + std::to_string(window.y) + ", " +
                       std::to_string(window.width) + "x" + std::to_string(window.height) +
                       ") is outside raster " + path + " (" + std::to_string(width) + "x" +
                       std::to_string(height) + ")");
}

}  // namespace

RasterInfo read_raster_info(const std::string& path) {
  DatasetPtr dataset = open_raster(path);
  QuietErrors quiet;
  return describe(*dataset, path);
}

struct RasterReader::Impl {
  DatasetPtr dataset;
  RasterInfo info;
};

RasterReader::RasterReader(const std::string& path) : impl_(std::make_unique<Impl>()) {
  impl_->dataset = open_raster(path);
  QuietErrors quiet;
  impl_->info = describe(*impl_->dataset, path);
}

RasterReader::~RasterReader() = default;
RasterReader::RasterReader(RasterReader&&) noexcept = default;
RasterReader& RasterReader::operator=(RasterReader&&) noexcept = default;

const RasterInfo& RasterReader::info() const {
  return impl_->info;
}

void RasterReader::read(const Window& window, DataType type, void* out,
                        const std::vector<int>& bands, int out_width, int out_height,
                        Resampling resampling) const {
  const RasterInfo& info = impl_->info;
  check_window(window, info.grid.width, info.grid.height, info.path);
  std::vector<int> list = resolve_bands(bands, info.bands, info.path);
  if (out_width <= 0) out_width = window.width;
  if (out_height <= 0) out_height = window.height;
  const GSpacing value_size = static_cast<GSpacing>(data_type_size(type));
  const GSpacing pixel_space = value_size * static_cast<GSpacing>(list.size());
  GDALRasterIOExtraArg extra;
  INIT_RASTERIO_EXTRA_ARG(extra);
  extra.eResampleAlg = detail::to_gdal_rio(resampling);
  QuietErrors quiet;
  if (impl_->dataset->RasterIO(GF_Read, window.x, window.y, window.width, window.height, out,
                               out_width, out_height, detail::to_gdal(type),
                               static_cast<int>(list.size()), list.data(), pixel_space,
                               pixel_space * out_width, value_size, &extra) != CE_None)
    throw GeoError(GeoError::Kind::Io, "cannot read raster " + info.path + quiet.suffix());
}

std::vector<uint8_t> RasterReader::read_valid_mask(const Window& window) const {
  const RasterInfo& info = impl_->info;
  check_window(window, info.grid.width, info.grid.height, info.path);
  std::vector<uint8_t> mask(static_cast<size_t>(window.pixels()));
  GDALRasterBand* band = impl_->dataset->GetRasterBand(1)->GetMaskBand();
  QuietErrors quiet;
  if (!band || band->RasterIO(GF_Read, window.x, window.y, window.width, window.height, mask.data(),
                              window.width, window.height, GDT_Byte, 0, 0, nullptr) != CE_None)
    throw GeoError(GeoError::Kind::Io,
                   "cannot read the mask of raster " + info.path + quiet.suffix());
  for (auto& value : mask) value = value ? 255 : 0;
  return mask;
}

void RasterReader::read_on_grid(const Grid& target, DataType type, void* out,
                                const std::vector<int>& bands, Resampling resampling,
                                double fill) const {
  const RasterInfo& info = impl_->info;
  if (info.grid.crs.empty() || !info.georeferenced)
    throw GeoError(GeoError::Kind::BadCrs,
                   "raster " + info.path + " has no CRS or geotransform: it cannot be reprojected");
  if (target.crs.empty()) throw GeoError(GeoError::Kind::BadCrs, "target grid has no CRS");
  if (target.width <= 0 || target.height <= 0)
    throw GeoError(GeoError::Kind::InvalidArgument, "target grid is empty");
  std::vector<int> list = resolve_bands(bands, info.bands, info.path);
  const int count = static_cast<int>(list.size());

  GDALDriver* mem = GetGDALDriverManager()->GetDriverByName("MEM");
  DatasetPtr destination(
      mem->Create("", target.width, target.height, count, detail::to_gdal(type), nullptr));
  if (!destination) throw GeoError(GeoError::Kind::Io, "cannot allocate the reprojection buffer");
  double gt[6];
  std::copy(target.geotransform.begin(), target.geotransform.end(), gt);
  destination->SetGeoTransform(gt);
  const OGRSpatialReference target_srs = detail::make_srs(target.crs);
  destination->SetSpatialRef(&target_srs);

  std::vector<int> destination_bands(count);
  for (int i = 0; i < count; ++i) destination_bands[i] = i + 1;
  GDALWarpOptions* options = GDALCreateWarpOptions();
  options->hSrcDS = GDALDataset::ToHandle(impl_->dataset.get());
  options->hDstDS = GDALDataset::ToHandle(destination.get());
  options->nBandCount = count;
  options->panSrcBands = static_cast<int*>(CPLMalloc(sizeof(int) * count));
  options->panDstBands = static_cast<int*>(CPLMalloc(sizeof(int) * count));
  bool has_nodata = false;
  options->padfSrcNoDataReal = static_cast<double*>(CPLMalloc(sizeof(double) * count));
  for (int i = 0; i < count; ++i) {
    options->panSrcBands[i] = list[i];
    options->panDstBands[i] = i + 1;
    const auto& nodata = info.band[list[i] - 1].nodata;
    options->padfSrcNoDataReal[i] = nodata ? *nodata : 0;
    has_nodata = has_nodata || nodata.has_value();
  }
  if (!has_nodata) {
    CPLFree(options->padfSrcNoDataReal);
    options->padfSrcNoDataReal = nullptr;
  }
  if (info.alpha_band > 0 && std::find(list.begin(), list.end(), info.alpha_band) == list.end())
    options->nSrcAlphaBand = info.alpha_band;
  options->eResampleAlg = detail::to_gdal_warp(resampling);
  options->eWorkingDataType = GDT_Float64;
  options->papszWarpOptions =
      CSLSetNameValue(options->papszWarpOptions, "INIT_DEST", std::to_string(fill).c_str());
  QuietErrors quiet;
  options->pTransformerArg =
      GDALCreateGenImgProjTransformer2(options->hSrcDS, options->hDstDS, nullptr);
  if (!options->pTransformerArg) {
    const std::string message = quiet.suffix();
    GDALDestroyWarpOptions(options);
    throw GeoError(GeoError::Kind::BadCrs,
                   "cannot reproject raster " + info.path + " onto the target grid" + message);
  }
  options->pfnTransformer = GDALGenImgProjTransform;
  GDALWarpOperation operation;
  CPLErr result = operation.Initialize(options);
  if (result == CE_None) result = operation.ChunkAndWarpImage(0, 0, target.width, target.height);
  GDALDestroyGenImgProjTransformer(options->pTransformerArg);
  GDALDestroyWarpOptions(options);
  if (result != CE_None)
    throw GeoError(GeoError::Kind::Io, "cannot reproject raster " + info.path + quiet.suffix());

  const GSpacing value_size = static_cast<GSpacing>(data_type_size(type));
  const GSpacing pixel_space = value_size * count;
  if (destination->RasterIO(GF_Read, 0, 0, target.width, target.height, out, target.width,
                            target.height, detail::to_gdal(type), count, destination_bands.data(),
                            pixel_space, pixel_space * target.width, value_size,
                            nullptr) != CE_None)
    throw GeoError(GeoError::Kind::Io, "cannot read the reprojected pixels of " + info.path);
}

}  // namespace terrasynth::geo
