#pragma once
// Named tensors in and out of files, and into torch::nn modules whose parameter names equal the
// checkpoint keys (diffusers naming), so weights load without renaming tables.
#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

namespace terrasynth::engine {

using StateDict = torch::OrderedDict<std::string, torch::Tensor>;

// Tensors keep their stored dtype and live on the CPU.
StateDict load_safetensors(const std::string& path);
// Written atomically (temporary file beside the target, then rename). Tensors are converted
// to contiguous CPU tensors; F32, F16, BF16, I64, I32, U8 and BOOL are supported.
void save_safetensors(const std::string& path, const StateDict& tensors,
                      const std::map<std::string, std::string>& metadata = {});
// PyTorch .pth / .pt state dicts (zip archive with data.pkl), e.g. the TAEF2 weights.
StateDict load_pth(const std::string& path);
// Chooses the reader by extension (.safetensors, .pth, .pt, .bin).
StateDict load_weights(const std::string& path);

struct LoadReport {
  std::vector<std::string> missing;     // module parameters/buffers without a tensor in the file
  std::vector<std::string> unexpected;  // file tensors the module does not have
  std::vector<std::string> mismatched;  // "name: file [a,b] vs module [c,d]"
  bool ok() const { return missing.empty() && unexpected.empty() && mismatched.empty(); }
};

// Copies tensors into the module's parameters and buffers, converting dtype and device.
// With strict = true any problem throws EngineError(ModelFormat) naming `label` and the keys.
LoadReport load_state_dict(torch::nn::Module& module, const StateDict& tensors, bool strict = true,
                           const std::string& label = "weights");
// The module's parameters and buffers under their names, e.g. to save a checkpoint.
StateDict module_state_dict(const torch::nn::Module& module);

}  // namespace terrasynth::engine
