#pragma once
// A minimal writer of stored zip archives laid out like torch.save output, for the fuzz targets.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "weights/zip_reader.h"

namespace terrasynth::fuzz {

inline std::string little_endian(uint64_t value, int bytes) {
  std::string out;
  for (int i = 0; i < bytes; ++i) out += static_cast<char>((value >> (8 * i)) & 0xff);
  return out;
}

inline std::string stored_zip(const std::vector<std::pair<std::string, std::string>>& entries) {
  std::string out, directory;
  for (const auto& [name, data] : entries) {
    const uint32_t crc =
        engine::weights::crc32(reinterpret_cast<const uint8_t*>(data.data()), data.size());
    const uint64_t offset = out.size();
    out += little_endian(0x04034b50, 4) + little_endian(20, 2) + little_endian(0, 2) +
           little_endian(0, 2) + little_endian(0, 4) + little_endian(crc, 4) +
           little_endian(data.size(), 4) + little_endian(data.size(), 4) +
           little_endian(name.size(), 2) + little_endian(0, 2) + name + data;
    directory += little_endian(0x02014b50, 4) + little_endian(20, 2) + little_endian(20, 2) +
                 little_endian(0, 2) + little_endian(0, 2) + little_endian(0, 4) +
                 little_endian(crc, 4) + little_endian(data.size(), 4) +
                 little_endian(data.size(), 4) + little_endian(name.size(), 2) +
                 little_endian(0, 2) + little_endian(0, 2) + little_endian(0, 2) +
                 little_endian(0, 2) + little_endian(0, 4) + little_endian(offset, 4) + name;
  }
  const uint64_t directory_offset = out.size();
  out += directory;
  out += little_endian(0x06054b50, 4) + little_endian(0, 2) + little_endian(0, 2) +
         little_endian(entries.size(), 2) + little_endian(entries.size(), 2) +
         little_endian(directory.size(), 4) + little_endian(directory_offset, 4) +
         little_endian(0, 2);
  return out;
}

}  // namespace terrasynth::fuzz
