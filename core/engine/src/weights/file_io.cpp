#include "weights/file_io.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "terrasynth/engine/error.h"

namespace terrasynth::engine::weights {

namespace {

[[noreturn]] void throw_io(const std::string& path, const std::string& what, int error_number) {
  throw EngineError(EngineError::Kind::Io,
                    path + ": " + what + " (" + std::strerror(error_number) + ")");
}

std::string folder_of(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

std::shared_ptr<const MappedFile> MappedFile::open(const std::string& path, Access access) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw_io(path, "cannot open", errno);
  struct stat info {};
  if (::fstat(fd, &info) != 0) {
    const int error_number = errno;
    ::close(fd);
    throw_io(path, "cannot read the file size", error_number);
  }
  if (!S_ISREG(info.st_mode)) {
    ::close(fd);
    throw EngineError(EngineError::Kind::Io, path + ": not a regular file");
  }
  std::shared_ptr<MappedFile> file(new MappedFile());
  file->path_ = path;
  file->size_ = static_cast<size_t>(info.st_size);
  if (file->size_ > 0) {
    const int protection = access == Access::ReadOnly ? PROT_READ : PROT_READ | PROT_WRITE;
    void* address = ::mmap(nullptr, file->size_, protection, MAP_PRIVATE, fd, 0);
    if (address == MAP_FAILED) {
      const int error_number = errno;
      ::close(fd);
      throw_io(path, "cannot map the file into memory", error_number);
    }
    file->data_ = static_cast<uint8_t*>(address);
  }
  ::close(fd);  // the mapping keeps the file alive
  return file;
}

MappedFile::~MappedFile() {
  if (data_) ::munmap(data_, size_);
}

AtomicFileWriter::AtomicFileWriter(const std::string& path) : path_(path) {
  const auto slash = path.find_last_of('/');
  const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  std::string pattern = folder_of(path) + "/." + base + ".tmp-XXXXXX";
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  fd_ = ::mkstemp(buffer.data());
  if (fd_ < 0) throw_io(path, "cannot create a temporary file in " + folder_of(path), errno);
  temporary_path_ = buffer.data();
  ::fchmod(fd_, 0644);  // mkstemp makes 0600; weights are ordinary shared files
}

AtomicFileWriter::~AtomicFileWriter() {
  if (!committed_) discard();
}

void AtomicFileWriter::discard() noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  if (!temporary_path_.empty()) ::unlink(temporary_path_.c_str());
  temporary_path_.clear();
}

void AtomicFileWriter::write(const void* data, size_t size) {
  if (fd_ < 0) throw EngineError(EngineError::Kind::Internal, path_ + ": write after close");
  const auto* bytes = static_cast<const uint8_t*>(data);
  while (size > 0) {
    const ssize_t written = ::write(fd_, bytes, size);
    if (written < 0) {
      if (errno == EINTR) continue;
      const int error_number = errno;
      discard();
      throw_io(path_, "cannot write", error_number);
    }
    bytes += written;
    size -= static_cast<size_t>(written);
  }
}

void AtomicFileWriter::commit() {
  if (fd_ < 0) throw EngineError(EngineError::Kind::Internal, path_ + ": commit after close");
  int error_number = ::fsync(fd_) == 0 ? 0 : errno;
  if (::close(fd_) != 0 && error_number == 0) error_number = errno;
  fd_ = -1;
  if (error_number != 0) {
    discard();
    throw_io(path_, "cannot write", error_number);
  }
  if (::rename(temporary_path_.c_str(), path_.c_str()) != 0) {
    const int error_number = errno;
    discard();
    throw_io(path_, "cannot replace the file", error_number);
  }
  committed_ = true;
}

}  // namespace terrasynth::engine::weights
