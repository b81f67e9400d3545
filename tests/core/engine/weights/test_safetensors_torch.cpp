// load_safetensors / save_safetensors: bit-exact round trips, metadata, atomic writes.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>

#include <cstring>

#include "terrasynth/engine/safetensors.h"
#include "weights/state_dict.h"
#include "weights_test_util.h"

namespace terrasynth::engine {
namespace {

using testing::expect_engine_error;
using testing::ScratchDir;

// Random bit patterns of the given dtype (NaN payloads and subnormals included for floats).
torch::Tensor random_bits(torch::ScalarType type, std::vector<int64_t> shape, int seed) {
  torch::manual_seed(seed);
  if (type == torch::kBool) return torch::randint(0, 2, shape, torch::kUInt8).to(torch::kBool);
  int64_t count = 1;
  for (int64_t size : shape) count *= size;
  const auto element = c10::elementSize(type);
  torch::Tensor bytes =
      torch::randint(0, 256, {count * static_cast<int64_t>(element)}, torch::kUInt8);
  torch::Tensor out = torch::empty(shape, torch::TensorOptions().dtype(type));
  if (bytes.numel() > 0) std::memcpy(out.data_ptr(), bytes.data_ptr(), bytes.numel());  // empty: no storage
  return out;
}

bool same_bits(const torch::Tensor& a, const torch::Tensor& b) {
  if (a.scalar_type() != b.scalar_type() || a.sizes() != b.sizes()) return false;
  const torch::Tensor ca = a.contiguous(), cb = b.contiguous();
  return ca.numel() == 0 || std::memcmp(ca.data_ptr(), cb.data_ptr(), ca.numel() * ca.element_size()) == 0;
}

struct DtypeCase {
  torch::ScalarType type;
  const char* name;
};

class SafetensorsRoundTrip : public ::testing::TestWithParam<DtypeCase> {};

TEST_P(SafetensorsRoundTrip, IsBitIdentical) {
  ScratchDir dir;
  const auto [type, name] = GetParam();
  StateDict tensors;
  tensors.insert("matrix", random_bits(type, {7, 5}, 1));
  tensors.insert("scalar", random_bits(type, {}, 2));
  tensors.insert("empty", random_bits(type, {0, 3}, 3));
  tensors.insert("transposed", random_bits(type, {4, 6}, 4).t());  // not contiguous
  const std::string path = dir.file("round.safetensors");
  save_safetensors(path, tensors);

  const SafetensorsInfo info = inspect_safetensors(path);
  ASSERT_EQ(info.tensors.size(), 4u);
  for (const auto& tensor : info.tensors) EXPECT_EQ(tensor.dtype, name);

  const StateDict loaded = load_safetensors(path);
  ASSERT_EQ(loaded.size(), 4u);
  for (const auto& item : tensors) {
    ASSERT_TRUE(loaded.contains(item.key())) << item.key();
    EXPECT_TRUE(same_bits(loaded[item.key()], item.value())) << name << " " << item.key();
  }
}

INSTANTIATE_TEST_SUITE_P(
    EveryDtype, SafetensorsRoundTrip,
    ::testing::Values(DtypeCase{torch::kFloat32, "F32"}, DtypeCase{torch::kFloat16, "F16"},
                      DtypeCase{torch::kBFloat16, "BF16"}, DtypeCase{torch::kFloat64, "F64"},
                      DtypeCase{torch::kInt64, "I64"}, DtypeCase{torch::kInt32, "I32"},
                      DtypeCase{torch::kInt16, "I16"}, DtypeCase{torch::kInt8, "I8"},
                      DtypeCase{torch::kUInt8, "U8"}, DtypeCase{torch::kBool, "BOOL"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(SafetensorsTorch, MixedDtypesKeepTheirNamesAndAlignment) {
  ScratchDir dir;
  StateDict tensors;
  tensors.insert("mask", random_bits(torch::kBool, {3}, 1));
  tensors.insert("steps", random_bits(torch::kInt64, {5}, 2));
  tensors.insert("half", random_bits(torch::kFloat16, {3}, 3));
  tensors.insert("weight", torch::randn({4, 4}, torch::requires_grad()));
  save_safetensors(dir.file("mixed.safetensors"), tensors);
  const SafetensorsInfo info = inspect_safetensors(dir.file("mixed.safetensors"));
  EXPECT_EQ(info.data_offset() % 8, 0u);
  for (const auto& tensor : info.tensors) {
    const size_t element = tensor.dtype == "I64"   ? 8
                           : tensor.dtype == "F32" ? 4
                           : tensor.dtype == "F16" ? 2
                                                   : 1;
    EXPECT_EQ((info.data_offset() + tensor.data_begin) % element, 0u) << tensor.name;
  }
  const StateDict loaded = load_safetensors(dir.file("mixed.safetensors"));
  for (const auto& item : tensors)
    EXPECT_TRUE(same_bits(loaded[item.key()], item.value().detach()));
}

TEST(SafetensorsTorch, MetadataRoundTrips) {
  ScratchDir dir;
  StateDict tensors;
  tensors.insert("w", torch::ones({2}));
  const std::map<std::string, std::string> metadata = {
      {"format", "pt"}, {"terrasynth.step", "1200"}, {"note", "ünïcode \"quoted\"\nline"}};
  save_safetensors(dir.file("meta.safetensors"), tensors, metadata);
  EXPECT_EQ(inspect_safetensors(dir.file("meta.safetensors")).metadata, metadata);
}

TEST(SafetensorsTorch, EmptyStateDictRoundTrips) {
  ScratchDir dir;
  save_safetensors(dir.file("empty.safetensors"), StateDict{});
  EXPECT_TRUE(load_safetensors(dir.file("empty.safetensors")).is_empty());
}

TEST(SafetensorsTorch, LoadedTensorsAreWritableWithoutTouchingTheFile) {
  ScratchDir dir;
  StateDict tensors;
  tensors.insert("w", torch::arange(16, torch::kFloat32));
  const std::string path = dir.file("w.safetensors");
  save_safetensors(path, tensors);
  const std::string before = testing::read_bytes(path);
  StateDict loaded = load_safetensors(path);
  loaded["w"].mul_(2);
  EXPECT_EQ(loaded["w"][3].item<float>(), 6.0f);
  EXPECT_EQ(testing::read_bytes(path), before);
  EXPECT_EQ(load_safetensors(path)["w"][3].item<float>(), 3.0f);
}

TEST(SafetensorsTorch, TensorsOutliveTheFileAndItsReplacement) {
  ScratchDir dir;
  const std::string path = dir.file("w.safetensors");
  StateDict first;
  first.insert("w", torch::full({1000}, 1.5f));
  save_safetensors(path, first);
  torch::Tensor kept = load_safetensors(path)["w"];  // the StateDict is gone, the mapping stays
  StateDict second;
  second.insert("w", torch::full({1000}, -2.0f));
  save_safetensors(path, second);  // atomic replacement: the old data stay mapped
  EXPECT_EQ(kept.sum().item<float>(), 1500.0f);
  std::filesystem::remove(path);
  EXPECT_EQ(kept[999].item<float>(), 1.5f);
}

TEST(SafetensorsTorch, MisalignedDataAreCopied) {
  ScratchDir dir;
  // Header padding that puts the data at an offset of 8k + 3: F32 data are misaligned.
  const float values[3] = {1.25f, -3.5f, 7.0f};
  std::string json = R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,12]}})";
  json += std::string((3 + 8 - json.size() % 8) % 8, ' ');
  ASSERT_EQ((8 + json.size()) % 8, 3u);
  const std::string bytes =
      testing::safetensors_bytes(json, std::string(reinterpret_cast<const char*>(values), 12));
  testing::write_bytes(dir.file("odd.safetensors"), bytes);
  const torch::Tensor w = load_safetensors(dir.file("odd.safetensors"))["w"];
  EXPECT_EQ(reinterpret_cast<uintptr_t>(w.data_ptr()) % 4, 0u);
  EXPECT_EQ(w[0].item<float>(), 1.25f);
  EXPECT_EQ(w[1].item<float>(), -3.5f);
  EXPECT_EQ(w[2].item<float>(), 7.0f);
}

TEST(SafetensorsTorch, UnsupportedStoredDtypeIsNamed) {
  ScratchDir dir;
  testing::write_bytes(
      dir.file("u16.safetensors"),
      testing::safetensors_bytes(R"({"counts":{"dtype":"U16","shape":[2],"data_offsets":[0,4]}})",
                                 std::string(4, '\0')));
  expect_engine_error([&] { load_safetensors(dir.file("u16.safetensors")); },
                      EngineError::Kind::Unsupported,
                      {"u16.safetensors", "tensor 'counts'", "U16"});
}

TEST(SafetensorsTorch, BoolDataOtherThanZeroOrOneAreRefused) {
  ScratchDir dir;
  testing::write_bytes(
      dir.file("mask.safetensors"),
      testing::safetensors_bytes(R"({"mask":{"dtype":"BOOL","shape":[3],"data_offsets":[0,3]}})",
                                 std::string("\1\0\2", 3)));
  expect_engine_error([&] { load_safetensors(dir.file("mask.safetensors")); },
                      EngineError::Kind::ModelFormat,
                      {"mask.safetensors", "tensor 'mask'", "element 2 holds 2"});
}

TEST(SafetensorsTorch, MalformedFileErrorsNameTheFile) {
  ScratchDir dir;
  testing::write_bytes(dir.file("bad.safetensors"), testing::safetensors_bytes("{\"w\":", ""));
  expect_engine_error([&] { load_safetensors(dir.file("bad.safetensors")); },
                      EngineError::Kind::ModelFormat, {"bad.safetensors", "not valid JSON"});
}

// --- atomic writes ---

TEST(SafetensorsAtomicWrite, ReplacesTheTargetAndLeavesNothingElse) {
  ScratchDir dir;
  StateDict tensors;
  tensors.insert("w", torch::ones({3}));
  save_safetensors(dir.file("model.safetensors"), tensors);
  tensors.insert("b", torch::zeros({2}));
  save_safetensors(dir.file("model.safetensors"), tensors);
  EXPECT_EQ(dir.listing(), std::vector<std::string>{"model.safetensors"});
  EXPECT_EQ(load_safetensors(dir.file("model.safetensors")).size(), 2u);
}

TEST(SafetensorsAtomicWrite, FailedRenameRemovesTheTemporaryFile) {
  ScratchDir dir;
  std::filesystem::create_directory(dir.file("taken"));
  std::filesystem::create_directory(
      dir.file("taken/inside"));  // a non-empty folder cannot be replaced
  StateDict tensors;
  tensors.insert("w", torch::ones({64}));
  expect_engine_error([&] { save_safetensors(dir.file("taken"), tensors); }, EngineError::Kind::Io,
                      {"taken", "cannot replace"});
  EXPECT_EQ(dir.listing(), std::vector<std::string>{"taken"});
}

TEST(SafetensorsAtomicWrite, FailedWriteRemovesTheTemporaryFileAndKeepsTheOldOne) {
  ScratchDir dir;
  const std::string path = dir.file("model.safetensors");
  StateDict small;
  small.insert("w", torch::ones({4}));
  save_safetensors(path, small);
  const std::string before = testing::read_bytes(path);

  // Cap the file size so that the write fails halfway (EFBIG instead of SIGXFSZ).
  struct rlimit saved {};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &saved), 0);
  struct sigaction ignore {
  }, previous{};
  ignore.sa_handler = SIG_IGN;
  sigaction(SIGXFSZ, &ignore, &previous);
  struct rlimit capped = saved;
  capped.rlim_cur = 64 * 1024;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &capped), 0);
  StateDict large;
  large.insert("w", torch::ones({1 << 20}));
  expect_engine_error([&] { save_safetensors(path, large); }, EngineError::Kind::Io,
                      {"model.safetensors", "cannot write"});
  setrlimit(RLIMIT_FSIZE, &saved);
  sigaction(SIGXFSZ, &previous, nullptr);

  EXPECT_EQ(dir.listing(), std::vector<std::string>{"model.safetensors"});
  EXPECT_EQ(testing::read_bytes(path), before);
}

TEST(SafetensorsAtomicWrite, MissingFolderIsAnIoError) {
  ScratchDir dir;
  StateDict tensors;
  tensors.insert("w", torch::ones({1}));
  expect_engine_error([&] { save_safetensors(dir.file("no/such/folder/w.safetensors"), tensors); },
                      EngineError::Kind::Io, {"no/such/folder/w.safetensors"});
  EXPECT_TRUE(dir.listing().empty());
}

TEST(SafetensorsAtomicWrite, UnsupportedDtypeWritesNothing) {
  ScratchDir dir;
  StateDict tensors;
  tensors.insert("ok", torch::ones({1}));
  tensors.insert("complex", torch::ones({2}, torch::kComplexFloat));
  expect_engine_error([&] { save_safetensors(dir.file("c.safetensors"), tensors); },
                      EngineError::Kind::Unsupported, {"tensor 'complex'"});
  StateDict undefined;
  undefined.insert("nothing", torch::Tensor());
  expect_engine_error([&] { save_safetensors(dir.file("c.safetensors"), undefined); },
                      EngineError::Kind::InvalidArgument, {"tensor 'nothing'", "undefined"});
  EXPECT_TRUE(dir.listing().empty());
}

TEST(SafetensorsAtomicWrite, ReservedNameIsRefused) {
  ScratchDir dir;
  StateDict tensors;
  tensors.insert("__metadata__", torch::ones({1}));
  expect_engine_error([&] { save_safetensors(dir.file("r.safetensors"), tensors); },
                      EngineError::Kind::InvalidArgument, {"r.safetensors", "reserved"});
  EXPECT_TRUE(dir.listing().empty());
}

}  // namespace
}  // namespace terrasynth::engine
