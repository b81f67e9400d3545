#pragma once
// Typed errors of the geo core. Every message names the file, layer, CRS or option concerned
// and the problem; the CLI prints it as one line, the plugin shows it in the message bar.
#include <stdexcept>
#include <string>

namespace terrasynth::geo {

class GeoError : public std::runtime_error {
 public:
  enum class Kind {
    NotFound,         // a file that does not exist
    Io,               // a file that cannot be opened, read or written (not a raster, corrupt...)
    BadCrs,           // a CRS definition that GDAL/PROJ cannot interpret, or a missing CRS
    BadExtent,        // an empty, inverted or out-of-range extent
    InvalidArgument,  // any other wrong parameter (pixel size, window, band...)
    LayerNotFound,    // a vector layer name that is not in the file
    FieldNotFound,    // a class or width field that is not in the layer
    UnknownClass,     // a class name or id outside the class set
    BadMapping,       // a malformed OSM class mapping file
    OutputIsInput,    // an output path that names one of the inputs
    Unwritable,       // an output folder that does not exist or cannot be written
    Unsupported,      // a valid request this build cannot serve
  };
  GeoError(Kind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  Kind kind() const noexcept { return kind_; }

 private:
  Kind kind_;
};

}  // namespace terrasynth::geo
