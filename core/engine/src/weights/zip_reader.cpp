#include "weights/zip_reader.h"

#include <array>

#include "terrasynth/engine/error.h"
#include "weights/dtype.h"

namespace terrasynth::engine::weights {

namespace {

constexpr uint32_t kLocalHeader = 0x04034b50;
constexpr uint32_t kCentralHeader = 0x02014b50;
constexpr uint32_t kEndOfDirectory = 0x06054b50;
constexpr uint32_t kZip64Locator = 0x07064b50;
constexpr uint32_t kZip64EndOfDirectory = 0x06064b50;
constexpr size_t kEndOfDirectorySize = 22;
constexpr size_t kCentralHeaderSize = 46;
constexpr size_t kLocalHeaderSize = 30;

[[noreturn]] void fail(const std::string& label, const std::string& problem) {
  throw EngineError(EngineError::Kind::ModelFormat, label + ": " + problem);
}

// Little-endian fields at checked offsets of a bounded byte range.
class Bytes {
 public:
  Bytes(const uint8_t* data, size_t size, const std::string& label, const char* what)
      : data_(data), size_(size), label_(label), what_(what) {}
  bool has(uint64_t offset, uint64_t length) const {
    return offset <= size_ && length <= size_ - offset;
  }
  uint64_t read(uint64_t offset, int bytes) const {
    if (!has(offset, static_cast<uint64_t>(bytes)))
      fail(label_, std::string(what_) + " is cut short (the archive is truncated or corrupt)");
    uint64_t value = 0;
    for (int i = bytes - 1; i >= 0; --i) value = (value << 8) | data_[offset + i];
    return value;
  }
  uint16_t u16(uint64_t offset) const { return static_cast<uint16_t>(read(offset, 2)); }
  uint32_t u32(uint64_t offset) const { return static_cast<uint32_t>(read(offset, 4)); }
  uint64_t u64(uint64_t offset) const { return read(offset, 8); }

 private:
  const uint8_t* data_;
  size_t size_;
  const std::string& label_;
  const char* what_;
};

std::array<uint32_t, 256> make_crc_table() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t value = i;
    for (int k = 0; k < 8; ++k) value = (value & 1) ? 0xedb88320u ^ (value >> 1) : value >> 1;
    table[i] = value;
  }
  return table;
}

}  // namespace

uint32_t crc32(const uint8_t* data, size_t size) {
  static const std::array<uint32_t, 256> kTable = make_crc_table();
  uint32_t crc = 0xffffffffu;
  for (size_t i = 0; i < size; ++i) crc = kTable[(crc ^ data[i]) & 0xff] ^ (crc >> 8);
  return crc ^ 0xffffffffu;
}

ZipArchive ZipArchive::parse(const uint8_t* data, size_t size, const std::string& label) {
  const Bytes file(data, size, label, "the zip directory");
  if (size < kEndOfDirectorySize) fail(label, "too small to be a zip archive");

  // The end-of-directory record sits in the last 22 + 65535 bytes (it may carry a comment).
  uint64_t end_record = 0;
  bool found = false;
  const uint64_t lowest =
      size > kEndOfDirectorySize + 0xffff ? size - kEndOfDirectorySize - 0xffff : 0;
  for (uint64_t at = size - kEndOfDirectorySize + 1; at-- > lowest;) {
    if (file.u32(at) == kEndOfDirectory && at + kEndOfDirectorySize + file.u16(at + 20) <= size) {
      end_record = at;
      found = true;
      break;
    }
  }
  if (!found) fail(label, "not a zip archive (no end-of-central-directory record)");

  uint64_t entry_count = file.u16(end_record + 10);
  uint64_t directory_size = file.u32(end_record + 12);
  uint64_t directory_offset = file.u32(end_record + 16);
  if (file.u16(end_record + 4) != 0 || file.u16(end_record + 6) != 0)
    fail(label, "multi-part zip archives are not supported");
  if (entry_count == 0xffff || directory_size == 0xffffffffu || directory_offset == 0xffffffffu) {
    if (end_record < 20 || file.u32(end_record - 20) != kZip64Locator)
      fail(label, "zip64 archive without its zip64 locator");
    const uint64_t zip64_record = file.u64(end_record - 20 + 8);
    if (!file.has(zip64_record, 56) || file.u32(zip64_record) != kZip64EndOfDirectory)
      fail(label, "zip64 end-of-central-directory record missing or out of range");
    entry_count = file.u64(zip64_record + 32);
    directory_size = file.u64(zip64_record + 40);
    directory_offset = file.u64(zip64_record + 48);
  }
  if (!file.has(directory_offset, directory_size))
    fail(label, "central directory [" + std::to_string(directory_offset) + ", +" +
                    std::to_string(directory_size) + ") lies outside the file (" +
                    std::to_string(size) + " bytes)");

  ZipArchive archive;
  archive.label_ = label;
  const Bytes directory(data + directory_offset, directory_size, label,
                        "a central directory entry");
  uint64_t at = 0;
  for (uint64_t index = 0; index < entry_count; ++index) {
    if (directory.u32(at) != kCentralHeader)
      fail(label, "central directory entry " + std::to_string(index) + " has a bad signature");
    const uint16_t flags = directory.u16(at + 8);
    const uint16_t method = directory.u16(at + 10);
    const uint32_t crc = directory.u32(at + 16);
    uint64_t compressed = directory.u32(at + 20);
    uint64_t uncompressed = directory.u32(at + 24);
    const uint16_t name_length = directory.u16(at + 28);
    const uint16_t extra_length = directory.u16(at + 30);
    const uint16_t comment_length = directory.u16(at + 32);
    uint64_t local_offset = directory.u32(at + 42);
    const uint64_t name_at = at + kCentralHeaderSize;
    if (!directory.has(name_at, uint64_t{name_length} + extra_length + comment_length))
      fail(label, "central directory entry " + std::to_string(index) + " is cut short");
    std::string name(reinterpret_cast<const char*>(data + directory_offset + name_at), name_length);
    const std::string what = "entry '" + printable(name) + "'";

    // Zip64 extra field: the 64-bit values of the fields saturated above, in this order.
    for (uint64_t extra = name_at + name_length;
         extra + 4 <= name_at + name_length + extra_length;) {
      const uint16_t id = directory.u16(extra);
      const uint16_t length = directory.u16(extra + 2);
      const uint64_t end = extra + 4 + length;
      if (end > name_at + name_length + extra_length)
        fail(label, what + ": extra field is cut short");
      if (id == 0x0001) {
        uint64_t field = extra + 4;
        auto take = [&](uint64_t& value) {
          if (field + 8 > end) fail(label, what + ": zip64 extra field is cut short");
          value = directory.u64(field);
          field += 8;
        };
        if (uncompressed == 0xffffffffu) take(uncompressed);
        if (compressed == 0xffffffffu) take(compressed);
        if (local_offset == 0xffffffffu) take(local_offset);
      }
      extra = end;
    }
    at = name_at + name_length + extra_length + comment_length;

    if (flags & 0x1) fail(label, what + " is encrypted");
    if (method != 0)
      fail(label, what + " is compressed (method " + std::to_string(method) +
                      "); torch.save writes stored entries only");
    if (compressed != uncompressed)
      fail(label, what + ": stored sizes disagree (" + std::to_string(compressed) + " vs " +
                      std::to_string(uncompressed) + ")");
    if (!file.has(local_offset, kLocalHeaderSize) || file.u32(local_offset) != kLocalHeader)
      fail(label, what + ": local header at offset " + std::to_string(local_offset) +
                      " is missing or out of range");
    const uint64_t data_at =
        local_offset + kLocalHeaderSize + file.u16(local_offset + 26) + file.u16(local_offset + 28);
    if (!file.has(data_at, uncompressed))
      fail(label, what + ": data [" + std::to_string(data_at) + ", +" +
                      std::to_string(uncompressed) + ") run past the end of the file (" +
                      std::to_string(size) + " bytes)");
    if (!archive.index_.emplace(name, archive.entries_.size()).second)
      fail(label, "duplicate " + what);
    archive.entries_.push_back(ZipEntry{std::move(name), data + data_at, uncompressed, crc});
  }
  return archive;
}

const ZipEntry* ZipArchive::find(const std::string& name) const {
  const auto it = index_.find(name);
  return it == index_.end() ? nullptr : &entries_[it->second];
}

void ZipArchive::verify(const ZipEntry& entry) const {
  if (crc32(entry.data, entry.size) != entry.crc32)
    fail(label_, "entry '" + printable(entry.name) + "' is corrupt (CRC-32 mismatch)");
}

}  // namespace terrasynth::engine::weights
