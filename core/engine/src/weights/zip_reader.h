#pragma once
// A bounds-checked reader for the uncompressed zip archives written by torch.save (zip64
// included). Torch-free; entries point into the caller's buffer.
#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace terrasynth::engine::weights {

struct ZipEntry {
  std::string name;
  const uint8_t* data = nullptr;  // the stored bytes, inside the archive buffer
  uint64_t size = 0;
  uint32_t crc32 = 0;  // as recorded in the central directory
};

class ZipArchive {
 public:
  // Reads the central directory and locates every entry's data. Throws EngineError(ModelFormat)
  // naming `label` for anything malformed, compressed or encrypted.
  static ZipArchive parse(const uint8_t* data, size_t size, const std::string& label);

  const std::vector<ZipEntry>& entries() const { return entries_; }
  const ZipEntry* find(const std::string& name) const;
  // Throws EngineError(ModelFormat) naming the entry when its bytes do not match its CRC-32.
  void verify(const ZipEntry& entry) const;

 private:
  std::string label_;
  std::vector<ZipEntry> entries_;
  std::unordered_map<std::string, size_t> index_;
};

uint32_t crc32(const uint8_t* data, size_t size);

}  // namespace terrasynth::engine::weights
