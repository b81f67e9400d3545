#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <filesystem>

#include "gdal_util.h"
#include "terrasynth/geo/raster.h"

namespace terrasynth::geo {

namespace fs = std::filesystem;
using detail::DatasetPtr;
using detail::QuietErrors;

namespace {

const char* const kSidecars[] = {".aux.xml", ".ovr", ".msk"};

GDALColorInterp to_gdal_color(ColorInterp color) {
  switch (color) {
    case ColorInterp::Gray:
      return GCI_GrayIndex;
    case ColorInterp::Palette:
      return GCI_PaletteIndex;
    case ColorInterp::Red:
      return GCI_RedBand;
    case ColorInterp::Green:
      return GCI_GreenBand;
    case ColorInterp::Blue:
      return GCI_BlueBand;
    case ColorInterp::Alpha:
      return GCI_AlphaBand;
    case ColorInterp::Undefined:
      break;
  }
  return GCI_Undefined;
}

bool is_integer(DataType type) {
  return type != DataType::Float32 && type != DataType::Float64;
}

std::string upper(std::string text) {
  for (auto& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

void remove_quietly(const std::string& path) {
  std::error_code ignored;
  fs::remove(path, ignored);
}

void remove_with_sidecars(const std::string& path) {
  if (path.empty()) return;
  remove_quietly(path);
  for (const char* suffix : kSidecars) remove_quietly(path + suffix);
}

std::string temporary_name(const std::string& target, const std::string& tag) {
  static std::atomic<unsigned> counter{0};
  const fs::path path(target);
  const std::string name = "." + path.filename().string() + ".tmp-" +
                           std::to_string(static_cast<long>(getpid())) + "-" +
                           std::to_string(counter.fetch_add(1)) + tag + ".tif";
  return (path.parent_path() / name).string();
}

// Bridges GDAL's progress callbacks to a Control; an exception thrown by the caller's callback
// is kept and rethrown once GDAL has returned.
struct ProgressBridge {
  const Control* control;
  std::string label;
  std::exception_ptr error;

  static int CPL_STDCALL callback(double fraction, const char*, void* data) {
    auto* self = static_cast<ProgressBridge*>(data);
    try {
      self->control->report(fraction, self->label);
    } catch (...) {
      self->error = std::current_exception();
      return FALSE;
    }
    return self->control->cancelled() ? FALSE : TRUE;
  }
};

}  // namespace

void check_output_path(const std::string& output, const std::vector<std::string>& inputs) {
  if (output.empty()) throw GeoError(GeoError::Kind::InvalidArgument, "no output path given");
  const fs::path path(output);
  std::error_code error;
  if (fs::is_directory(path, error))
    throw GeoError(GeoError::Kind::InvalidArgument,
                   "output " + output + " is a folder: give a file name like out.tif");
  const fs::path folder = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  if (!fs::exists(folder, error))
    throw GeoError(GeoError::Kind::Unwritable, "output folder " + folder.string() +
                                                   " does not exist (for output " + output + ")");
  if (!fs::is_directory(folder, error))
    throw GeoError(GeoError::Kind::Unwritable, "output folder " + folder.string() +
                                                   " is not a folder (for output " + output + ")");
  if (access(folder.c_str(), W_OK) != 0)
    throw GeoError(GeoError::Kind::Unwritable, "output folder " + folder.string() +
                                                   " is not writable (for output " + output + ")");
  for (const auto& input : inputs) {
    if (input.empty()) continue;
    bool same = false;
    if (fs::exists(path, error) && fs::exists(input, error))
      same = fs::equivalent(path, input, error);
    if (!same) same = fs::weakly_canonical(path, error) == fs::weakly_canonical(input, error);
    if (same)
      throw GeoError(GeoError::Kind::OutputIsInput,
                     "output " + output + " is the input " + input +
                         ": choose another output path (inputs are never overwritten)");
  }
}

struct RasterWriter::Impl {
  std::string path;
  std::string temporary;
  std::string temporary_cog;
  RasterSpec spec;
  WriteOptions options;
  DatasetPtr dataset;
  int block = 512;
  bool done = false;
  size_t unflushed_bytes = 0;

  void discard() {
    dataset.reset();
    remove_with_sidecars(temporary);
    remove_with_sidecars(temporary_cog);
    done = true;
  }
};

RasterWriter::RasterWriter(const std::string& path, const RasterSpec& spec,
                           const WriteOptions& options)
    : impl_(std::make_unique<Impl>()) {
  detail::ensure_gdal();
  check_output_path(path, options.inputs);
  if (spec.grid.width <= 0 || spec.grid.height <= 0 || spec.bands <= 0)
    throw GeoError(GeoError::Kind::InvalidArgument, "cannot write " + path + ": empty raster (" +
                                                        std::to_string(spec.grid.width) + "x" +
                                                        std::to_string(spec.grid.height) + ", " +
                                                        std::to_string(spec.bands) + " bands)");
  if (spec.band.size() > static_cast<size_t>(spec.bands))
    throw GeoError(GeoError::Kind::InvalidArgument,
                   "cannot write " + path + ": " + std::to_string(spec.band.size()) +
                       " band descriptions for " + std::to_string(spec.bands) + " bands");
  if (options.block_size < 16 || options.block_size % 16 != 0)
    throw GeoError(
        GeoError::Kind::InvalidArgument,
        "block size must be a positive multiple of 16, got " + std::to_string(options.block_size));
  Impl& self = *impl_;
  self.path = path;
  self.spec = spec;
  self.options = options;
  self.block = options.block_size;
  self.temporary = temporary_name(path, "");

  const bool cog = options.format == RasterFormat::COG;
  const std::string compression = upper(options.compression.empty() ? "NONE" : options.compression);
  // The intermediate of a COG stays lossless; the COG driver applies the final compression.
  const std::string file_compression =
      cog && (compression == "JPEG" || compression == "WEBP") ? "DEFLATE" : compression;
  CPLStringList creation;
  creation.SetNameValue("TILED", "YES");
  creation.SetNameValue("BLOCKXSIZE", std::to_string(self.block).c_str());
  creation.SetNameValue("BLOCKYSIZE", std::to_string(self.block).c_str());
  creation.SetNameValue("BIGTIFF", "IF_SAFER");
  creation.SetNameValue("COMPRESS", file_compression.c_str());
  if (file_compression == "DEFLATE" || file_compression == "LZW" || file_compression == "ZSTD")
    creation.SetNameValue("PREDICTOR", is_integer(spec.type) ? "2" : "3");
  if (cog && file_compression == "DEFLATE") creation.SetNameValue("ZLEVEL", "1");
  if (file_compression == "JPEG") {
    creation.SetNameValue("JPEG_QUALITY", std::to_string(options.quality).c_str());
    if (spec.bands == 3 && spec.type == DataType::Byte)
      creation.SetNameValue("PHOTOMETRIC", "YCBCR");
  }
  if (file_compression == "WEBP")
    creation.SetNameValue("WEBP_LEVEL", std::to_string(options.quality).c_str());
  auto color_of = [&](int band) {
    return band < static_cast<int>(spec.band.size()) ? spec.band[band].color
                                                     : ColorInterp::Undefined;
  };
  if (spec.bands >= 3 && color_of(0) == ColorInterp::Red && color_of(1) == ColorInterp::Green &&
      color_of(2) == ColorInterp::Blue && creation.FetchNameValue("PHOTOMETRIC") == nullptr)
    creation.SetNameValue("PHOTOMETRIC", "RGB");
  if (spec.bands >= 2 && color_of(spec.bands - 1) == ColorInterp::Alpha)
    creation.SetNameValue("ALPHA", "UNASSOCIATED");
  for (const auto& option : options.creation_options) creation.AddString(option.c_str());

  GDALDriver* driver = GetGDALDriverManager()->GetDriverByName("GTiff");
  QuietErrors quiet;
  self.dataset.reset(driver->Create(self.temporary.c_str(), spec.grid.width, spec.grid.height,
                                    spec.bands, detail::to_gdal(spec.type), creation.List()));
  if (!self.dataset) throw GeoError(GeoError::Kind::Io, "cannot create " + path + quiet.suffix());
  try {
    double gt[6];
    std::copy(spec.grid.geotransform.begin(), spec.grid.geotransform.end(), gt);
    // GDAL's pixel-space default (no CRS, identity) stays unwritten: the output of an image
    // without georeferencing has none either.
    const bool pixel_space = spec.grid.crs.empty() &&
                             spec.grid.geotransform == std::array<double, 6>{0, 1, 0, 0, 0, 1};
    if (!pixel_space) self.dataset->SetGeoTransform(gt);
    if (!spec.grid.crs.empty()) {
      const OGRSpatialReference srs = detail::make_srs(spec.grid.crs);
      self.dataset->SetSpatialRef(&srs);
    }
    for (const auto& [key, value] : spec.metadata)
      self.dataset->SetMetadataItem(key.c_str(), value.c_str());
    for (size_t b = 0; b < spec.band.size(); ++b) {
      const BandInfo& info = spec.band[b];
      GDALRasterBand* band = self.dataset->GetRasterBand(static_cast<int>(b) + 1);
      if (!info.description.empty()) band->SetDescription(info.description.c_str());
      if (info.nodata) band->SetNoDataValue(*info.nodata);
      for (const auto& [key, value] : info.metadata)
        band->SetMetadataItem(key.c_str(), value.c_str());
      if (!info.color_table.empty()) {
        GDALColorTable table;
        for (size_t i = 0; i < info.color_table.size(); ++i) {
          const Rgba& c = info.color_table[i];
          const GDALColorEntry entry{c[0], c[1], c[2], c[3]};
          table.SetColorEntry(static_cast<int>(i), &entry);
        }
        band->SetColorTable(&table);
      }
      if (!info.category_names.empty()) {
        CPLStringList names;
        for (const auto& name : info.category_names) names.AddString(name.c_str());
        band->SetCategoryNames(names.List());
      }
      if (info.color != ColorInterp::Undefined)
        band->SetColorInterpretation(to_gdal_color(info.color));
    }
  } catch (...) {
    self.discard();
    throw;
  }
}

RasterWriter::~RasterWriter() {
  if (impl_ && !impl_->done) impl_->discard();
}

const std::string& RasterWriter::path() const {
  return impl_->path;
}
const std::string& RasterWriter::temporary_path() const {
  return impl_->temporary;
}
const RasterSpec& RasterWriter::spec() const {
  return impl_->spec;
}
int RasterWriter::block_width() const {
  return impl_->block;
}
int RasterWriter::block_height() const {
  return impl_->block;
}

std::vector<Window> RasterWriter::windows(int blocks_per_side) const {
  const int side = impl_->block * std::max(1, blocks_per_side);
  return block_windows(impl_->spec.grid.width, impl_->spec.grid.height, side, side);
}

void RasterWriter::throw_size_mismatch(size_t expected, size_t got) const {
  throw GeoError(GeoError::Kind::InvalidArgument,
                 "write to " + impl_->path + ": buffer holds " + std::to_string(got) +
                     " values, the window needs " + std::to_string(expected));
}

void RasterWriter::write(const Window& window, DataType type, const void* data,
                         const std::vector<int>& bands) {
  Impl& self = *impl_;
  if (self.done || !self.dataset)
    throw GeoError(GeoError::Kind::InvalidArgument,
                   "write to " + self.path + " after commit() or abort()");
  const Grid& grid = self.spec.grid;
  if (window.width <= 0 || window.height <= 0 || window.x < 0 || window.y < 0 ||
      window.x + window.width > grid.width || window.y + window.height > grid.height)
    throw GeoError(GeoError::Kind::InvalidArgument,
                   "window (" + std::to_string(window.x) + ", " + std::to_string(window.y) + ", " +
                       std::to_string(window.width) + "x" + std::to_string(window.height) +
                       ") is outside output " + self.path + " (" + std::to_string(grid.width) +
                       "x" + std::to_string(grid.height) + ")");
  std::vector<int> list = bands;
  if (list.empty())
    for (int b = 1; b <= self.spec.bands; ++b) list.push_back(b);
  for (int b : list)
    if (b < 1 || b > self.spec.bands)
      throw GeoError(GeoError::Kind::InvalidArgument,
                     "output " + self.path + " has no band " + std::to_string(b));
  const GSpacing value_size = static_cast<GSpacing>(data_type_size(type));
  const GSpacing pixel_space = value_size * static_cast<GSpacing>(list.size());
  QuietErrors quiet;
  if (self.dataset->RasterIO(
          GF_Write, window.x, window.y, window.width, window.height, const_cast<void*>(data),
          window.width, window.height, detail::to_gdal(type), static_cast<int>(list.size()),
          list.data(), pixel_space, pixel_space * window.width, value_size, nullptr) != CE_None)
    throw GeoError(GeoError::Kind::Io, "cannot write to " + self.path + quiet.suffix());
  self.unflushed_bytes += static_cast<size_t>(window.pixels()) * static_cast<size_t>(pixel_space);
  if (self.unflushed_bytes > static_cast<size_t>(std::max(1, self.options.flush_every_mb)) << 20) {
    self.dataset->FlushCache(false);  // writes the dirty blocks and drops them from the cache
    self.unflushed_bytes = 0;
    if (CPLGetLastErrorType() >= CE_Failure)
      throw GeoError(GeoError::Kind::Io, "cannot write to " + self.path + quiet.suffix());
  }
}

void RasterWriter::set_metadata(const std::string& key, const std::string& value) {
  if (impl_->done || !impl_->dataset)
    throw GeoError(GeoError::Kind::InvalidArgument,
                   "metadata for " + impl_->path + " set after commit() or abort()");
  impl_->spec.metadata[key] = value;
  impl_->dataset->SetMetadataItem(key.c_str(), value.c_str());
}

void RasterWriter::abort() {
  if (!impl_->done) impl_->discard();
}

Status RasterWriter::commit(const Control& control) {
  Impl& self = *impl_;
  if (self.done)
    throw GeoError(GeoError::Kind::InvalidArgument, "commit() of " + self.path + " called twice");
  try {
    if (control.cancelled()) {
      self.discard();
      return Status::Cancelled;
    }
    const bool cog = self.options.format == RasterFormat::COG;
    const Grid& grid = self.spec.grid;
    ProgressBridge bridge{&control, "overviews", nullptr};
    if (!cog && self.options.overviews) {
      std::vector<int> levels;
      for (int level = 2; std::max(grid.width, grid.height) / level >= 256; level *= 2)
        levels.push_back(level);
      if (levels.empty() && std::max(grid.width, grid.height) > 32) levels.push_back(2);
      QuietErrors quiet;
      const CPLErr result = self.dataset->BuildOverviews(
          detail::overview_resampling_name(self.options.overview_resampling),
          static_cast<int>(levels.size()), levels.data(), 0, nullptr, ProgressBridge::callback,
          &bridge, nullptr);
      if (bridge.error) std::rethrow_exception(bridge.error);
      if (control.cancelled()) {
        self.discard();
        return Status::Cancelled;
      }
      if (result != CE_None)
        throw GeoError(GeoError::Kind::Io,
                       "cannot build overviews of " + self.path + quiet.suffix());
    }
    {
      QuietErrors quiet;
      CPLErrorReset();
      self.dataset.reset();  // closes and flushes
      if (CPLGetLastErrorType() >= CE_Failure)
        throw GeoError(GeoError::Kind::Io, "cannot write " + self.path + quiet.suffix());
    }
    std::string finished = self.temporary;
    if (cog) {
      self.temporary_cog = temporary_name(self.path, "-cog");
      QuietErrors quiet;
      DatasetPtr source(
          GDALDataset::Open(self.temporary.c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY));
      if (!source)
        throw GeoError(GeoError::Kind::Io, "cannot reopen " + self.path + quiet.suffix());
      const std::string compression =
          upper(self.options.compression.empty() ? "NONE" : self.options.compression);
      CPLStringList options;
      options.SetNameValue("COMPRESS", compression.c_str());
      options.SetNameValue("BLOCKSIZE", std::to_string(self.block).c_str());
      options.SetNameValue("BIGTIFF", "IF_SAFER");
      options.SetNameValue("OVERVIEWS", "AUTO");
      options.SetNameValue("OVERVIEW_RESAMPLING",
                           detail::overview_resampling_name(self.options.overview_resampling));
      if (compression == "JPEG" || compression == "WEBP")
        options.SetNameValue("QUALITY", std::to_string(self.options.quality).c_str());
      else if (compression != "NONE")
        options.SetNameValue("PREDICTOR", "YES");
      bridge.label = "cloud optimized GeoTIFF";
      GDALDriver* driver = GetGDALDriverManager()->GetDriverByName("COG");
      if (!driver) throw GeoError(GeoError::Kind::Unsupported, "GDAL has no COG driver");
      DatasetPtr output(driver->CreateCopy(self.temporary_cog.c_str(), source.get(), FALSE,
                                           options.List(), ProgressBridge::callback, &bridge));
      if (bridge.error) std::rethrow_exception(bridge.error);
      if (control.cancelled()) {
        output.reset();
        source.reset();
        self.discard();
        return Status::Cancelled;
      }
      if (!output)
        throw GeoError(GeoError::Kind::Io, "cannot write COG " + self.path + quiet.suffix());
      output.reset();
      source.reset();
      remove_with_sidecars(self.temporary);
      finished = self.temporary_cog;
    }
    // Sidecars first (or stale ones removed), then the raster itself in one rename.
    std::error_code error;
    for (const char* suffix : kSidecars) {
      if (fs::exists(finished + suffix, error))
        fs::rename(finished + suffix, self.path + suffix, error);
      else
        remove_quietly(self.path + suffix);
      if (error)
        throw GeoError(GeoError::Kind::Io,
                       "cannot move " + self.path + suffix + " into place: " + error.message());
    }
    fs::rename(finished, self.path, error);
    if (error)
      throw GeoError(GeoError::Kind::Io,
                     "cannot move " + self.path + " into place: " + error.message());
    self.done = true;
    control.report(1.0, "written");
    return Status::Ok;
  } catch (...) {
    self.discard();
    throw;
  }
}

}  // namespace terrasynth::geo
