#pragma once
// Typed engine errors. The CLI and the plugin turn them into user messages at the edge.
#include <stdexcept>
#include <string>

namespace terrasynth::engine {

class EngineError : public std::runtime_error {
 public:
  enum class Kind {
    InvalidArgument,  // a request or option the caller got wrong
    ModelFormat,      // a malformed or incompatible weights file, config or manifest
    Io,               // a file that cannot be opened, read or written
    Unsupported,      // a valid request this build or device cannot serve
    OutOfMemory,      // the device ran out of memory (the message suggests a smaller tile)
    Internal,         // a bug: a broken invariant inside the engine
  };
  EngineError(Kind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  Kind kind() const noexcept { return kind_; }

 private:
  Kind kind_;
};

}  // namespace terrasynth::engine
