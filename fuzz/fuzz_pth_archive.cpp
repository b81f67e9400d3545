// libFuzzer target: whole .pth archives (zip directory, records, data.pkl).
#include "pth_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  terrasynth::fuzz::parse_and_check(data, size);
  return 0;
}
