#pragma once
// Memory-mapped reading and atomic writing of weight files. Torch-free.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace terrasynth::engine::weights {

// A whole file mapped into memory. Errors are EngineError(Io) naming the file.
class MappedFile {
 public:
  enum class Access {
    ReadOnly,     // pages are read-only: any write faults
    CopyOnWrite,  // private pages: writes stay in this process and never reach the file
  };
  static std::shared_ptr<const MappedFile> open(const std::string& path,
                                                Access access = Access::ReadOnly);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const std::string& path() const { return path_; }
  // nullptr for an empty file.
  const uint8_t* data() const { return data_; }
  uint8_t* mutable_data() const { return data_; }  // CopyOnWrite mappings only
  size_t size() const { return size_; }

 private:
  MappedFile() = default;
  std::string path_;
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

// Writes a file under a temporary name in the target's folder and renames it over the target
// on commit(), so readers never see a partial file. Without commit() (an error, an exception)
// the temporary file is removed. Errors are EngineError(Io) naming the target.
class AtomicFileWriter {
 public:
  explicit AtomicFileWriter(const std::string& path);
  ~AtomicFileWriter();
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  void write(const void* data, size_t size);
  void commit();
  const std::string& temporary_path() const { return temporary_path_; }

 private:
  void discard() noexcept;
  std::string path_;
  std::string temporary_path_;
  int fd_ = -1;
  bool committed_ = false;
};

}  // namespace terrasynth::engine::weights
