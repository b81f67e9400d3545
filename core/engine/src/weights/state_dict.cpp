// The torch layer over the torch-free readers: named tensors in and out of files and modules.
//
// Memory: load_safetensors maps the file copy-on-write and creates each tensor directly on the
// mapping (no copy); the mapping stays alive as long as any tensor refers to it, and writing
// into a tensor touches private pages only, never the file. A tensor whose data are not
// aligned to its element size is copied instead. load_pth does the same for storages used
// whole and copies strided or partial views. Replacing a file atomically while its tensors are
// alive is safe (the old inode stays mapped); truncating it in place is not.
#include "weights/state_dict.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <optional>
#include <set>
#include <string_view>

#include "terrasynth/engine/error.h"
#include "terrasynth/engine/safetensors.h"
#include "weights/dtype.h"
#include "weights/file_io.h"
#include "weights/pth_reader.h"
#include "weights/safetensors_format.h"

namespace terrasynth::engine {

namespace {

using weights::printable;

std::optional<torch::ScalarType> torch_type(std::string_view dtype) {
  static const std::pair<const char*, torch::ScalarType> kTypes[] = {
      {"F32", torch::kFloat32}, {"F16", torch::kFloat16}, {"BF16", torch::kBFloat16},
      {"F64", torch::kFloat64}, {"I64", torch::kInt64},   {"I32", torch::kInt32},
      {"I16", torch::kInt16},   {"I8", torch::kInt8},     {"U8", torch::kUInt8},
      {"BOOL", torch::kBool},
  };
  for (const auto& [name, type] : kTypes)
    if (dtype == name) return type;
  return std::nullopt;
}

std::string dtype_name(torch::ScalarType type) {
  switch (type) {
    case torch::kFloat32:
      return "F32";
    case torch::kFloat16:
      return "F16";
    case torch::kBFloat16:
      return "BF16";
    case torch::kFloat64:
      return "F64";
    case torch::kInt64:
      return "I64";
    case torch::kInt32:
      return "I32";
    case torch::kInt16:
      return "I16";
    case torch::kInt8:
      return "I8";
    case torch::kUInt8:
      return "U8";
    case torch::kBool:
      return "BOOL";
    default:
      return "";
  }
}

torch::ScalarType require_torch_type(const std::string& dtype, const std::string& label,
                                     const std::string& name) {
  const auto type = torch_type(dtype);
  if (!type)
    throw EngineError(EngineError::Kind::Unsupported,
                      label + ": tensor '" + printable(name) + "' has dtype " + dtype +
                          ", which this libtorch build cannot hold");
  return *type;
}

// torch reads a bool byte other than 0 or 1 as undefined behaviour: refuse such data.
void check_bool_bytes(const uint8_t* bytes, uint64_t count, const std::string& label,
                      const std::string& name) {
  for (uint64_t i = 0; i < count; ++i)
    if (bytes[i] > 1)
      throw EngineError(EngineError::Kind::ModelFormat, label + ": tensor '" + printable(name) +
                                                            "': BOOL element " + std::to_string(i) +
                                                            " holds " + std::to_string(bytes[i]) +
                                                            " instead of 0 or 1");
}

// A tensor over `bytes` inside the mapping, or a copy when the bytes are misaligned.
torch::Tensor tensor_on_mapping(const std::shared_ptr<const weights::MappedFile>& file,
                                const uint8_t* bytes, const std::vector<int64_t>& shape,
                                torch::ScalarType type) {
  const auto options = torch::TensorOptions().dtype(type).device(torch::kCPU);
  const auto element_bytes = static_cast<size_t>(c10::elementSize(type));
  int64_t elements = 1;
  for (const int64_t size : shape) elements *= size;
  if (elements == 0) return torch::empty(shape, options);
  // The mapping is copy-on-write, so handing out writable memory is safe.
  auto* address = file->mutable_data() + (bytes - file->data());
  if (reinterpret_cast<uintptr_t>(address) % element_bytes == 0) {
    return torch::from_blob(
        address, shape, [file](void*) {}, options);
  }
  torch::Tensor copy = torch::empty(shape, options);
  std::memcpy(copy.data_ptr(), bytes, static_cast<size_t>(elements) * element_bytes);
  return copy;
}

std::string shape_text(c10::IntArrayRef shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) text += (i ? "," : "") + std::to_string(shape[i]);
  return text + "]";
}

std::string join_limited(const std::vector<std::string>& names, size_t limit = 8) {
  std::string text;
  for (size_t i = 0; i < names.size() && i < limit; ++i) text += (i ? ", " : "") + names[i];
  if (names.size() > limit) text += ", ... (" + std::to_string(names.size() - limit) + " more)";
  return text;
}

std::string lower_extension(const std::string& path) {
  const auto slash = path.find_last_of('/');
  const auto dot = path.find_last_of('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return "";
  std::string extension = path.substr(dot);
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return extension;
}

void collect_module_tensors(const torch::nn::Module& module, const std::string& prefix,
                            StateDict& out) {
  for (const auto& item : module.named_parameters(/*recurse=*/false))
    if (item.value().defined()) out.insert(prefix + item.key(), item.value());
  for (const auto& item : module.named_buffers(/*recurse=*/false))
    if (item.value().defined()) out.insert(prefix + item.key(), item.value());
  for (const auto& child : module.named_children())
    collect_module_tensors(*child.value(), prefix + child.key() + ".", out);
}

}  // namespace

StateDict load_safetensors(const std::string& path) {
  const auto file = weights::MappedFile::open(path, weights::MappedFile::Access::CopyOnWrite);
  const SafetensorsInfo info = parse_safetensors(file->data(), file->size(), path);
  const uint8_t* data_section = file->data() + info.data_offset();
  StateDict tensors;
  tensors.reserve(info.tensors.size());
  for (const auto& tensor : info.tensors) {
    const auto type = require_torch_type(tensor.dtype, path, tensor.name);
    if (type == torch::kBool)
      check_bool_bytes(data_section + tensor.data_begin, tensor.data_end - tensor.data_begin, path,
                       tensor.name);
    tensors.insert(tensor.name,
                   tensor_on_mapping(file, data_section + tensor.data_begin, tensor.shape, type));
  }
  return tensors;
}

void save_safetensors(const std::string& path, const StateDict& tensors,
                      const std::map<std::string, std::string>& metadata) {
  std::vector<TensorInfo> infos;
  for (const auto& item : tensors) {
    const std::string what = path + ": tensor '" + printable(item.key()) + "'";
    const torch::Tensor& tensor = item.value();
    if (!tensor.defined())
      throw EngineError(EngineError::Kind::InvalidArgument, what + " is undefined");
    const std::string dtype = dtype_name(tensor.scalar_type());
    if (dtype.empty())
      throw EngineError(EngineError::Kind::Unsupported,
                        what + " has dtype " + std::string(c10::toString(tensor.scalar_type())) +
                            ", which safetensors files written here cannot hold");
    TensorInfo info;
    info.name = item.key();
    info.dtype = dtype;
    info.shape = tensor.sizes().vec();
    infos.push_back(std::move(info));
  }
  const std::vector<size_t> order = weights::safetensors_write_order(infos);
  std::vector<TensorInfo> ordered;
  for (const size_t index : order) ordered.push_back(infos[index]);
  std::string header;
  try {
    header = weights::build_safetensors_header(ordered, metadata);
  } catch (const EngineError& error) {
    throw EngineError(error.kind(), path + ": " + error.what());
  }

  weights::AtomicFileWriter writer(path);
  writer.write(header.data(), header.size());
  for (const size_t index : order) {  // one tensor at a time on the CPU, whatever the device
    const torch::Tensor tensor = tensors[index].value().detach().to(torch::kCPU).contiguous();
    writer.write(tensor.data_ptr(), tensor.numel() * tensor.element_size());
  }
  writer.commit();
}

StateDict load_pth(const std::string& path) {
  const auto file = weights::MappedFile::open(path, weights::MappedFile::Access::CopyOnWrite);
  const weights::PthArchive archive = weights::parse_pth(file->data(), file->size(), path);
  StateDict tensors;
  tensors.reserve(archive.tensors.size());
  for (const auto& tensor : archive.tensors) {
    const weights::PthStorage& storage = archive.storages[tensor.storage];
    const auto type = require_torch_type(tensor.dtype, path, tensor.name);
    if (type == torch::kBool)
      check_bool_bytes(storage.data, storage.element_count, path, tensor.name);
    const torch::Tensor whole =
        tensor_on_mapping(file, storage.data, {static_cast<int64_t>(storage.element_count)}, type);
    torch::Tensor view = whole.as_strided(tensor.shape, tensor.stride, tensor.storage_offset);
    // A view of part of a storage would keep the whole storage alive: copy it.
    if (!view.is_contiguous() || view.numel() != whole.numel()) view = view.contiguous().clone();
    tensors.insert(tensor.name, view);
  }
  return tensors;
}

StateDict load_weights(const std::string& path) {
  const std::string extension = lower_extension(path);
  if (extension == ".safetensors") return load_safetensors(path);
  if (extension == ".pth" || extension == ".pt" || extension == ".bin" || extension == ".ckpt")
    return load_pth(path);
  const auto file = weights::MappedFile::open(path);
  if (weights::looks_like_zip(file->data(), file->size())) return load_pth(path);
  return load_safetensors(path);
}

LoadReport load_state_dict(torch::nn::Module& module, const StateDict& tensors, bool strict,
                           const std::string& label) {
  const StateDict targets = module_state_dict(module);
  LoadReport report;
  std::vector<std::pair<torch::Tensor, torch::Tensor>> copies;  // (target, source)
  for (const auto& target : targets) {
    const torch::Tensor* source = tensors.find(target.key());
    if (!source || !source->defined()) {
      report.missing.push_back(target.key());
      continue;
    }
    if (source->sizes() != target.value().sizes()) {
      report.mismatched.push_back(target.key() + ": file " + shape_text(source->sizes()) +
                                  " vs module " + shape_text(target.value().sizes()));
      continue;
    }
    copies.emplace_back(target.value(), *source);
  }
  for (const auto& item : tensors)
    if (!targets.contains(item.key())) report.unexpected.push_back(item.key());

  if (strict && !report.ok()) {
    std::string message = label + ": weights do not match the network:";
    if (!report.missing.empty())
      message += " missing " + std::to_string(report.missing.size()) + " (" +
                 join_limited(report.missing) + ");";
    if (!report.unexpected.empty())
      message += " unexpected " + std::to_string(report.unexpected.size()) + " (" +
                 join_limited(report.unexpected) + ");";
    if (!report.mismatched.empty())
      message += " shape mismatch " + std::to_string(report.mismatched.size()) + " (" +
                 join_limited(report.mismatched) + ");";
    message.pop_back();
    throw EngineError(EngineError::Kind::ModelFormat, message);
  }
  torch::NoGradGuard no_grad;
  for (auto& [target, source] : copies) target.copy_(source);
  return report;
}

StateDict module_state_dict(const torch::nn::Module& module) {
  StateDict out;
  collect_module_tensors(module, "", out);
  return out;
}

}  // namespace terrasynth::engine
