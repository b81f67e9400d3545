// The safetensors reader (validation rules of the reference implementation) and header writer.
// Torch-free: fuzzed on its own (fuzz/fuzz_safetensors.cpp).
#include "terrasynth/engine/safetensors.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <numeric>
#include <string_view>

#include "terrasynth/engine/error.h"
#include "weights/dtype.h"
#include "weights/file_io.h"
#include "weights/safetensors_format.h"

namespace terrasynth::engine {

namespace {

using weights::printable;
using json = nlohmann::json;

constexpr const char* kMetadataKey = "__metadata__";
// A valid header nests three levels: {"name": {"shape": [..]}}.
constexpr size_t kMaxHeaderDepth = 3;

[[noreturn]] void fail(const std::string& label, const std::string& problem) {
  throw EngineError(EngineError::Kind::ModelFormat, label + ": " + problem);
}

[[noreturn]] void fail_tensor(const std::string& label, const std::string& name,
                              const std::string& problem) {
  fail(label, "tensor '" + printable(name) + "': " + problem);
}

// Builds the header DOM, refusing duplicate keys and deep nesting (nlohmann's own parser keeps
// the last duplicate silently).
class HeaderBuilder {
 public:
  explicit HeaderBuilder(json& root) : root_(root) {}
  const std::string& error() const { return error_; }

  bool null() { return put(json(nullptr)) != nullptr; }
  bool boolean(bool value) { return put(json(value)) != nullptr; }
  bool number_integer(json::number_integer_t value) { return put(json(value)) != nullptr; }
  bool number_unsigned(json::number_unsigned_t value) { return put(json(value)) != nullptr; }
  bool number_float(json::number_float_t value, const json::string_t&) {
    return put(json(value)) != nullptr;
  }
  bool string(json::string_t& value) { return put(json(std::move(value))) != nullptr; }
  bool binary(json::binary_t&) {
    error_ = "binary values are not JSON";
    return false;
  }
  bool start_object(std::size_t) { return open(json::object()); }
  bool start_array(std::size_t) { return open(json::array()); }
  bool end_object() { return close(); }
  bool end_array() { return close(); }
  bool key(json::string_t& name) {
    json& object = *stack_.back();
    if (object.contains(name)) {
      error_ = stack_.size() == 1 ? "duplicate tensor name '" + printable(name) + "'"
                                  : "duplicate key '" + printable(name) + "' in the header";
      return false;
    }
    key_ = std::move(name);
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& error) {
    error_ = std::string("header is not valid JSON: ") + error.what();
    return false;
  }

 private:
  json* put(json&& value) {
    if (stack_.empty()) {
      root_ = std::move(value);
      return &root_;
    }
    json& parent = *stack_.back();
    if (parent.is_array()) {
      parent.push_back(std::move(value));
      return &parent.back();
    }
    json& slot = parent[key_];
    slot = std::move(value);
    return &slot;
  }
  bool open(json&& container) {
    if (stack_.size() >= kMaxHeaderDepth) {
      error_ = "header nests deeper than a safetensors header can (" +
               std::to_string(kMaxHeaderDepth) + " levels)";
      return false;
    }
    stack_.push_back(put(std::move(container)));
    return true;
  }
  bool close() {
    stack_.pop_back();
    return true;
  }

  json& root_;
  std::vector<json*> stack_;
  std::string key_;
  std::string error_;
};

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

std::string offsets_text(uint64_t begin, uint64_t end) {
  return "data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) + "]";
}

std::string dtype_list() {
  std::string names;
  for (const auto& spec : weights::known_dtypes())
    names += (names.empty() ? "" : ", ") + std::string(spec.name);
  return names;
}

// One unsigned integer of a shape or an offset pair.
uint64_t read_unsigned(const json& value, const std::string& label, const std::string& name,
                       const char* what) {
  if (value.is_number_unsigned()) return value.get<uint64_t>();
  if (value.is_number_integer())
    fail_tensor(label, name, std::string("negative ") + what + " " + value.dump());
  if (value.is_number_float())
    fail_tensor(label, name,
                std::string(what) + " " + printable(value.dump()) +
                    " is not an integer (or does not fit in 64 bits)");
  fail_tensor(label, name, std::string(what) + " " + printable(value.dump()) + " is not a number");
}

TensorInfo read_tensor_entry(const std::string& name, const json& entry, const std::string& label) {
  if (!entry.is_object())
    fail_tensor(label, name, "entry is not an object with dtype, shape and data_offsets");
  TensorInfo info;
  info.name = name;

  const auto dtype = entry.find("dtype");
  if (dtype == entry.end()) fail_tensor(label, name, "missing 'dtype'");
  if (!dtype->is_string()) fail_tensor(label, name, "'dtype' is not a string");
  const auto& dtype_name = dtype->get_ref<const std::string&>();
  if (!weights::find_dtype(dtype_name))
    fail_tensor(label, name,
                "unknown dtype '" + printable(dtype_name) + "' (known: " + dtype_list() + ")");
  info.dtype = dtype_name;

  const auto shape = entry.find("shape");
  if (shape == entry.end()) fail_tensor(label, name, "missing 'shape'");
  if (!shape->is_array()) fail_tensor(label, name, "'shape' is not an array");
  for (const auto& dimension : *shape) {
    const uint64_t value = read_unsigned(dimension, label, name, "dimension");
    if (value > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      fail_tensor(label, name, "dimension " + std::to_string(value) + " overflows int64");
    info.shape.push_back(static_cast<int64_t>(value));
  }

  const auto offsets = entry.find("data_offsets");
  if (offsets == entry.end()) fail_tensor(label, name, "missing 'data_offsets'");
  if (!offsets->is_array() || offsets->size() != 2)
    fail_tensor(label, name, "'data_offsets' is not an array of two offsets");
  info.data_begin = read_unsigned((*offsets)[0], label, name, "offset");
  info.data_end = read_unsigned((*offsets)[1], label, name, "offset");
  if (info.data_end < info.data_begin)
    fail_tensor(label, name,
                offsets_text(info.data_begin, info.data_end) + " end before they begin");
  return info;
}

std::map<std::string, std::string> read_metadata(const json& entry, const std::string& label) {
  std::map<std::string, std::string> metadata;
  if (entry.is_null()) return metadata;
  if (!entry.is_object()) fail(label, "__metadata__ is not an object mapping strings to strings");
  for (const auto& [key, value] : entry.items()) {
    if (!value.is_string())
      fail(label, "__metadata__ entry '" + printable(key) + "' is not a string");
    metadata[key] = value.get<std::string>();
  }
  return metadata;
}

uint64_t byte_count(const TensorInfo& tensor, const std::string& label) {
  const uint64_t elements = weights::checked_element_count(
      tensor.shape, label + ": tensor '" + printable(tensor.name) + "'");
  const uint64_t element_bytes = weights::find_dtype(tensor.dtype)->bytes;
  if (elements > std::numeric_limits<uint64_t>::max() / element_bytes)
    fail_tensor(label, tensor.name,
                "shape " + shape_text(tensor.shape) + " of " + tensor.dtype +
                    " needs more than 2^64 bytes");
  return elements * element_bytes;
}

}  // namespace

namespace weights {

uint64_t checked_element_count(const std::vector<int64_t>& shape, const std::string& what) {
  uint64_t count = 1;
  for (const int64_t dimension : shape) {
    if (dimension < 0)
      throw EngineError(EngineError::Kind::ModelFormat,
                        what + ": negative dimension in shape " + shape_text(shape));
    const auto value = static_cast<uint64_t>(dimension);
    if (value != 0 && count > std::numeric_limits<uint64_t>::max() / value)
      throw EngineError(EngineError::Kind::ModelFormat,
                        what + ": shape " + shape_text(shape) + " has more than 2^64 elements");
    count *= value;
  }
  return count;
}

std::vector<size_t> safetensors_write_order(const std::vector<TensorInfo>& tensors) {
  std::vector<size_t> order(tensors.size());
  std::iota(order.begin(), order.end(), size_t{0});
  auto element_bytes = [&](size_t i) {
    const auto* spec = find_dtype(tensors[i].dtype);
    return spec ? spec->bytes : 0;
  };
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return element_bytes(a) > element_bytes(b); });
  return order;
}

std::string build_safetensors_header(std::vector<TensorInfo>& tensors,
                                     const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header[kMetadataKey] = metadata;
  uint64_t offset = 0;
  for (auto& tensor : tensors) {
    const std::string what = "tensor '" + printable(tensor.name) + "'";
    if (tensor.name == kMetadataKey)
      throw EngineError(EngineError::Kind::InvalidArgument,
                        what + ": the name is reserved for the file's metadata");
    if (header.contains(tensor.name))
      throw EngineError(EngineError::Kind::InvalidArgument, what + ": duplicate name");
    const auto* spec = find_dtype(tensor.dtype);
    if (!spec)
      throw EngineError(EngineError::Kind::InvalidArgument,
                        what + ": unknown dtype '" + printable(tensor.dtype) + "'");
    uint64_t bytes = 0;
    try {
      bytes = byte_count(tensor, "safetensors writer");
    } catch (const EngineError& error) {
      throw EngineError(EngineError::Kind::InvalidArgument, error.what());
    }
    tensor.data_begin = offset;
    tensor.data_end = offset + bytes;
    offset = tensor.data_end;
    header[tensor.name] = {{"dtype", tensor.dtype},
                           {"shape", tensor.shape},
                           {"data_offsets", {tensor.data_begin, tensor.data_end}}};
  }
  std::string text;
  try {
    text = header.dump();
  } catch (const nlohmann::json::exception&) {
    throw EngineError(EngineError::Kind::InvalidArgument,
                      "a tensor name or metadata entry is not valid UTF-8");
  }
  text.append((8 - text.size() % 8) % 8, ' ');
  std::string block(8, '\0');
  uint64_t length = text.size();
  for (int i = 0; i < 8; ++i) block[i] = static_cast<char>((length >> (8 * i)) & 0xff);
  return block + text;
}

}  // namespace weights

uint64_t TensorInfo::element_count() const {
  return weights::checked_element_count(shape, "tensor '" + printable(name) + "'");
}

uint64_t parameter_count(const std::vector<TensorInfo>& tensors) {
  uint64_t total = 0;
  for (const auto& tensor : tensors) total += tensor.element_count();
  return total;
}

uint64_t SafetensorsInfo::parameter_count() const {
  return engine::parameter_count(tensors);
}

SafetensorsInfo parse_safetensors(const uint8_t* data, size_t size, const std::string& label) {
  if (size < 8 || data == nullptr)
    fail(label, "file is too small for a safetensors header (" + std::to_string(size) +
                    " bytes, the length field alone takes 8)");
  uint64_t header_size = 0;
  for (int i = 7; i >= 0; --i) header_size = (header_size << 8) | data[i];
  if (header_size > weights::kMaxSafetensorsHeaderSize)
    fail(label, "header length " + std::to_string(header_size) + " exceeds the limit of " +
                    std::to_string(weights::kMaxSafetensorsHeaderSize) + " bytes");
  if (header_size > size - 8)
    fail(label, "header length " + std::to_string(header_size) +
                    " runs past the end of the file (" + std::to_string(size) + " bytes)");
  const uint8_t* header = data + 8;
  if (const size_t bad = weights::first_invalid_utf8(header, header_size); bad != header_size)
    fail(label, "header is not valid UTF-8 (byte " + std::to_string(bad) + " of the header)");
  if (header_size == 0 || header[0] != '{')
    fail(label, "header is not a JSON object (it must start with '{')");

  json root;
  HeaderBuilder builder(root);
  const auto* text = reinterpret_cast<const char*>(header);
  if (!json::sax_parse(text, text + header_size, &builder))
    fail(label,
         printable(builder.error().empty() ? "header is not valid JSON" : builder.error(), 400));
  if (!root.is_object()) fail(label, "header is not a JSON object");

  SafetensorsInfo info;
  info.path = label;
  info.file_size = size;
  info.header_size = header_size;
  for (const auto& [name, entry] : root.items()) {
    if (name == kMetadataKey) {
      info.metadata = read_metadata(entry, label);
      continue;
    }
    info.tensors.push_back(read_tensor_entry(name, entry, label));
  }

  std::stable_sort(info.tensors.begin(), info.tensors.end(), [](const auto& a, const auto& b) {
    return a.data_begin != b.data_begin ? a.data_begin < b.data_begin : a.data_end < b.data_end;
  });
  const uint64_t data_size = size - 8 - header_size;
  uint64_t expected_begin = 0;
  const TensorInfo* previous = nullptr;
  for (const auto& tensor : info.tensors) {
    if (tensor.data_end > data_size)
      fail_tensor(label, tensor.name,
                  offsets_text(tensor.data_begin, tensor.data_end) +
                      " run past the end of the data section (" + std::to_string(data_size) +
                      " bytes)");
    if (tensor.data_begin < expected_begin)
      fail_tensor(label, tensor.name,
                  offsets_text(tensor.data_begin, tensor.data_end) + " overlap tensor '" +
                      printable(previous->name) + "' " +
                      offsets_text(previous->data_begin, previous->data_end));
    if (tensor.data_begin > expected_begin)
      fail_tensor(label, tensor.name,
                  offsets_text(tensor.data_begin, tensor.data_end) + " leave a gap of " +
                      std::to_string(tensor.data_begin - expected_begin) + " bytes before them");
    const uint64_t bytes = byte_count(tensor, label);
    if (tensor.data_end - tensor.data_begin != bytes)
      fail_tensor(label, tensor.name,
                  "dtype " + tensor.dtype + " and shape " + shape_text(tensor.shape) + " need " +
                      std::to_string(bytes) + " bytes but " +
                      offsets_text(tensor.data_begin, tensor.data_end) + " span " +
                      std::to_string(tensor.data_end - tensor.data_begin));
    expected_begin = tensor.data_end;
    previous = &tensor;
  }
  if (expected_begin != data_size)
    fail(label, std::to_string(data_size - expected_begin) +
                    " bytes of unexpected data after the last tensor (the data section must end "
                    "where the last tensor ends)");
  return info;
}

SafetensorsInfo inspect_safetensors(const std::string& path) {
  const auto file = weights::MappedFile::open(path);
  return parse_safetensors(file->data(), file->size(), path);
}

}  // namespace terrasynth::engine
