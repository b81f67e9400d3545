#pragma once
// Raster reading and writing by windows, for rasters larger than memory. Buffers are
// pixel-interleaved: value of (row r, column c, band b) at ((r * width) + c) * bands + b.
// Writes are atomic: pixels go to a temporary file in the target folder, which commit()
// renames over the target; an abandoned, cancelled or failed write leaves no file behind.
#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "terrasynth/geo/control.h"
#include "terrasynth/geo/grid.h"

namespace terrasynth::geo {

enum class DataType { Byte, UInt16, Int16, UInt32, Int32, Float32, Float64 };
size_t data_type_size(DataType type);
const char* data_type_name(DataType type);
DataType parse_data_type(const std::string& name);  // "Byte", "UInt16", ... (case-insensitive)

template <class T>
constexpr DataType data_type_of();
template <>
constexpr DataType data_type_of<uint8_t>() {
  return DataType::Byte;
}
template <>
constexpr DataType data_type_of<uint16_t>() {
  return DataType::UInt16;
}
template <>
constexpr DataType data_type_of<int16_t>() {
  return DataType::Int16;
}
template <>
constexpr DataType data_type_of<uint32_t>() {
  return DataType::UInt32;
}
template <>
constexpr DataType data_type_of<int32_t>() {
  return DataType::Int32;
}
template <>
constexpr DataType data_type_of<float>() {
  return DataType::Float32;
}
template <>
constexpr DataType data_type_of<double>() {
  return DataType::Float64;
}

enum class ColorInterp { Undefined, Gray, Palette, Red, Green, Blue, Alpha };
enum class Resampling { Nearest, Bilinear, Cubic, Average, Mode, Lanczos };
Resampling parse_resampling(const std::string& name);  // "nearest", "bilinear", ...

using Rgba = std::array<uint8_t, 4>;

struct BandInfo {
  std::string description;
  std::optional<double> nodata;
  ColorInterp color = ColorInterp::Undefined;
  std::map<std::string, std::string> metadata;  // band tags (default domain)
  std::vector<std::string> category_names;      // index = pixel value (class rasters)
  std::vector<Rgba> color_table;                // index = pixel value; empty = none
};

struct RasterInfo {
  std::string path;
  std::string driver;          // "GTiff", "PNG", ...
  Grid grid;                   // grid.crs empty when the raster has no CRS
  bool georeferenced = false;  // has a geotransform
  int bands = 0;
  DataType type = DataType::Byte;  // of band 1
  std::vector<BandInfo> band;      // one per band
  int alpha_band = 0;              // 1-based index of the alpha band, 0 when none
  int block_width = 0;             // natural block of band 1
  int block_height = 0;
  int overviews = 0;                            // overview levels of band 1
  std::map<std::string, std::string> metadata;  // dataset tags (default domain)
  std::string compression;                      // IMAGE_STRUCTURE COMPRESSION, "" when none
  std::string layout;                           // IMAGE_STRUCTURE LAYOUT ("COG" for a COG)

  std::optional<double> nodata() const { return band.empty() ? std::nullopt : band[0].nodata; }
};

// Reads the description of a raster. Throws GeoError::NotFound / Io naming the file.
RasterInfo read_raster_info(const std::string& path);

// Random access to windows of one raster. Not thread-safe: use one reader per thread.
class RasterReader {
 public:
  explicit RasterReader(const std::string& path);
  ~RasterReader();
  RasterReader(RasterReader&&) noexcept;
  RasterReader& operator=(RasterReader&&) noexcept;

  const RasterInfo& info() const;

  // Reads `window` of `bands` (1-based; empty = all) converted to `type` into `out`
  // (out_width * out_height * band count values), resampled to out_width x out_height
  // (0 = the window's size). Throws GeoError::InvalidArgument for a window outside the raster.
  void read(const Window& window, DataType type, void* out, const std::vector<int>& bands = {},
            int out_width = 0, int out_height = 0,
            Resampling resampling = Resampling::Nearest) const;
  template <class T>
  std::vector<T> read(const Window& window, const std::vector<int>& bands = {}) const {
    const size_t count = static_cast<size_t>(window.width) * window.height *
                         (bands.empty() ? static_cast<size_t>(info().bands) : bands.size());
    std::vector<T> values(count);
    read(window, data_type_of<T>(), values.data(), bands);
    return values;
  }

  // 255 where the pixels of `window` are valid, 0 where they are nodata or transparent (the
  // dataset's mask: alpha band, nodata values or an internal mask), one value per pixel.
  std::vector<uint8_t> read_valid_mask(const Window& window) const;

  // Reprojects the raster onto `target` (any CRS, any grid) and returns its pixels there:
  // target.width * target.height * band count values of `type`; pixels the raster does not
  // cover get `fill`.
  void read_on_grid(const Grid& target, DataType type, void* out,
                    const std::vector<int>& bands = {},
                    Resampling resampling = Resampling::Bilinear, double fill = 0) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

enum class RasterFormat { GTiff, COG };

struct WriteOptions {
  RasterFormat format = RasterFormat::GTiff;  // tiled GeoTIFF, or Cloud Optimized GeoTIFF
  std::string compression = "DEFLATE";        // NONE, LZW, DEFLATE, ZSTD, JPEG, WEBP
  int quality = 90;                           // JPEG/WEBP quality
  int block_size = 512;                       // tile size (pixels, a multiple of 16)
  bool overviews = false;                     // GTiff: internal overviews (COG: always)
  Resampling overview_resampling = Resampling::Average;
  // Paths this write must never replace (the inputs of the operation): OutputIsInput.
  std::vector<std::string> inputs;
  std::vector<std::string> creation_options;  // extra GDAL KEY=VALUE creation options
  // Written pixels are pushed to disk (and dropped from memory) after this many megabytes, so
  // rasters larger than memory stream through a bounded buffer.
  int flush_every_mb = 64;
};

struct RasterSpec {
  Grid grid;
  int bands = 1;
  DataType type = DataType::Byte;
  std::vector<BandInfo> band;                   // optional, per band
  std::map<std::string, std::string> metadata;  // dataset tags
};

// Checks an output path before any work: its folder exists and is writable (Unwritable), it
// is not a folder, and it names none of `inputs` (OutputIsInput).
void check_output_path(const std::string& output, const std::vector<std::string>& inputs = {});

// Streams a raster to disk window by window. Pixels never written hold the band's nodata (0
// without nodata). Not thread-safe.
class RasterWriter {
 public:
  RasterWriter(const std::string& path, const RasterSpec& spec, const WriteOptions& options = {});
  ~RasterWriter();  // without a successful commit(), removes the temporary file
  RasterWriter(const RasterWriter&) = delete;
  RasterWriter& operator=(const RasterWriter&) = delete;

  const std::string& path() const;
  const std::string& temporary_path() const;
  const RasterSpec& spec() const;
  int block_width() const;
  int block_height() const;
  // Block-aligned windows covering the raster, each about blocks_per_side^2 blocks.
  std::vector<Window> windows(int blocks_per_side = 2) const;

  // Writes `data` (window.width * window.height * band count values of `type`,
  // pixel-interleaved) into `bands` (1-based; empty = all).
  void write(const Window& window, DataType type, const void* data,
             const std::vector<int>& bands = {});
  template <class T>
  void write(const Window& window, const std::vector<T>& data, const std::vector<int>& bands = {}) {
    const size_t count = static_cast<size_t>(window.width) * window.height *
                         (bands.empty() ? static_cast<size_t>(spec().bands) : bands.size());
    if (data.size() != count) throw_size_mismatch(count, data.size());
    write(window, data_type_of<T>(), data.data(), bands);
  }
  void set_metadata(const std::string& key, const std::string& value);

  // Flushes, builds overviews (or the COG), and renames the temporary file over the target.
  // Cancelled: nothing is left on disk and the target, if it existed, is untouched.
  Status commit(const Control& control = {});
  // Drops the temporary file now.
  void abort();

 private:
  [[noreturn]] void throw_size_mismatch(size_t expected, size_t got) const;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace terrasynth::geo
