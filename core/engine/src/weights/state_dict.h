#pragma once
// Named tensors in and out of files, and into torch::nn modules whose parameter names equal the
// checkpoint keys (diffusers naming), so weights load without renaming tables.
#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

namespace terrasynth::engine {

using StateDict = torch::OrderedDict<std::string, torch::Tensor>;

// Tensors keep their stored dtype and live on the CPU. They are created on a copy-on-write
// mapping of the file, without copying; the mapping lives as long as any tensor refers to it,
// and writing into a tensor never changes the file. Errors: EngineError(Io) when the file
// cannot be read, (ModelFormat) for a malformed file, (Unsupported) for a dtype libtorch 1.13
// lacks (U16, U32, U64, F8_*).
StateDict load_safetensors(const std::string& path);
// Written atomically (temporary file beside the target, then rename; a failure leaves the old
// file and no temporary). Tensors are converted to contiguous CPU tensors one at a time;
// F32, F16, BF16, F64, I64, I32, I16, I8, U8 and BOOL are supported (others: Unsupported).
void save_safetensors(const std::string& path, const StateDict& tensors,
                      const std::map<std::string, std::string>& metadata = {});
// PyTorch .pth / .pt state dicts (zip archive with data.pkl), e.g. the TAEF2 weights, read
// without executing pickle code. Names as in the file; nested dicts are joined with '.', and
// non-tensor entries are skipped. Whole storages are used in place like load_safetensors;
// strided or partial views are copied.
StateDict load_pth(const std::string& path);
// Chooses the reader by extension (.safetensors; .pth, .pt, .bin, .ckpt), else by content.
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
