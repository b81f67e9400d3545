// libFuzzer target: the restricted unpickler. The input is data.pkl; it is wrapped in a valid
// archive holding storage records "0" to "3" (64 bytes each), so mutations reach deep into the
// pickle machine instead of stopping at the zip directory.
#include <cstdint>
#include <string>

#include "pth_check.h"
#include "zip_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string pickle(reinterpret_cast<const char*>(data), size);
  const std::string storage(64, '\x3c');
  const std::string archive = terrasynth::fuzz::stored_zip({{"archive/data.pkl", pickle},
                                                            {"archive/byteorder", "little"},
                                                            {"archive/data/0", storage},
                                                            {"archive/data/1", storage},
                                                            {"archive/data/2", storage},
                                                            {"archive/data/3", storage}});
  terrasynth::fuzz::parse_and_check(reinterpret_cast<const uint8_t*>(archive.data()),
                                    archive.size());
  return 0;
}
