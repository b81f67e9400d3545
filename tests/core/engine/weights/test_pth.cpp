// PyTorch .pth state dicts: the real TAEF2 files, hand-built archives shaped like torch.save
// output, and malformed archives (each refused with a message naming the file and the problem).
#include <gtest/gtest.h>

#include <filesystem>

#include "terrasynth/engine/safetensors.h"
#include "terrasynth/test_paths.h"
#include "weights/pth_reader.h"
#include "weights/state_dict.h"
#include "weights/zip_reader.h"
#include "weights_test_util.h"

namespace terrasynth::engine {
namespace {

namespace fs = std::filesystem;
using testing::expect_engine_error;
using testing::ScratchDir;
constexpr auto kFormat = EngineError::Kind::ModelFormat;

const fs::path kTaef2 = fs::path(TERRASYNTH_TEST_SHARED_DIR) / "fixtures" / "weights" / "taef2";

std::string le(uint64_t value, int bytes) {
  std::string out;
  for (int i = 0; i < bytes; ++i) out += static_cast<char>((value >> (8 * i)) & 0xff);
  return out;
}

// A stored (uncompressed) zip archive like the ones torch.save writes.
struct ZipBuilder {
  struct Entry {
    std::string name, data;
    uint16_t method = 0;
  };
  std::vector<Entry> entries;
  void add(const std::string& name, const std::string& data) { entries.push_back({name, data}); }
  std::string build() const {
    std::string out, directory;
    for (const auto& entry : entries) {
      const auto crc =
          weights::crc32(reinterpret_cast<const uint8_t*>(entry.data.data()), entry.data.size());
      const uint64_t offset = out.size();
      out += le(0x04034b50, 4) + le(20, 2) + le(0, 2) + le(entry.method, 2) + le(0, 4) +
             le(crc, 4) + le(entry.data.size(), 4) + le(entry.data.size(), 4) +
             le(entry.name.size(), 2) + le(0, 2) + entry.name + entry.data;
      directory += le(0x02014b50, 4) + le(20, 2) + le(20, 2) + le(0, 2) + le(entry.method, 2) +
                   le(0, 4) + le(crc, 4) + le(entry.data.size(), 4) + le(entry.data.size(), 4) +
                   le(entry.name.size(), 2) + le(0, 2) + le(0, 2) + le(0, 2) + le(0, 2) + le(0, 4) +
                   le(offset, 4) + entry.name;
    }
    const uint64_t directory_offset = out.size();
    out += directory;
    out += le(0x06054b50, 4) + le(0, 2) + le(0, 2) + le(entries.size(), 2) + le(entries.size(), 2) +
           le(directory.size(), 4) + le(directory_offset, 4) + le(0, 2);
    return out;
  }
};

// Protocol-2 pickle opcodes, as torch.save emits them for a state dict.
struct Pickle {
  std::string out = "\x80\x02";
  Pickle& op(char code) {
    out += code;
    return *this;
  }
  Pickle& global(const std::string& module, const std::string& name) {
    out += 'c' + module + '\n' + name + '\n';
    return *this;
  }
  Pickle& text(const std::string& value) {
    out += 'X' + le(value.size(), 4) + value;
    return *this;
  }
  Pickle& integer(int64_t value) {
    if (value >= 0 && value < 256)
      out += 'K' + le(static_cast<uint64_t>(value), 1);
    else
      out += 'J' + le(static_cast<uint64_t>(value), 4);
    return *this;
  }
  Pickle& ints(const std::vector<int64_t>& values) {
    op('(');
    for (int64_t value : values) integer(value);
    return op('t');
  }
  Pickle& ordered_dict() { return global("collections", "OrderedDict").op(')').op('R'); }
  // _rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks)
  Pickle& tensor(const std::string& storage_type, const std::string& key, int64_t storage_size,
                 int64_t offset, const std::vector<int64_t>& size,
                 const std::vector<int64_t>& stride) {
    global("torch._utils", "_rebuild_tensor_v2").op('(');
    op('(')
        .text("storage")
        .global("torch", storage_type)
        .text(key)
        .text("cpu")
        .integer(storage_size)
        .op('t');
    op('Q').integer(offset).ints(size).ints(stride).op('\x89').ordered_dict().op('t');
    return op('R');
  }
  std::string done() { return out + '.'; }
};

std::string floats(const std::vector<float>& values) {
  return std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float));
}

std::string archive(const std::string& pickle,
                    const std::vector<std::pair<std::string, std::string>>& records,
                    const std::string& byteorder = "little") {
  ZipBuilder zip;
  zip.add("model/data.pkl", pickle);
  if (!byteorder.empty()) zip.add("model/byteorder", byteorder);
  for (const auto& [key, data] : records) zip.add("model/data/" + key, data);
  zip.add("model/version", "3\n");
  return zip.build();
}

// A state dict {"w": 2x3 floats, "b": 3 floats at offset 6 of the same storage,
// "nested": {"t": the 3x2 transpose of w}}.
std::string sample_pickle() {
  Pickle p;
  p.ordered_dict().op('(');
  p.text("w").tensor("FloatStorage", "0", 9, 0, {2, 3}, {3, 1});
  p.text("b").tensor("FloatStorage", "0", 9, 6, {3}, {1});
  p.text("epoch").integer(12);
  p.op('u');
  p.text("nested")
      .op('}')
      .text("t")
      .tensor("FloatStorage", "0", 9, 0, {3, 2}, {1, 3})
      .op('s')
      .op('s');
  return p.done();
}

StateDict load_bytes(const ScratchDir& dir, const std::string& bytes,
                     const std::string& name = "m.pth") {
  testing::write_bytes(dir.file(name), bytes);
  return load_pth(dir.file(name));
}

void expect_pth_refused(const std::string& bytes, std::initializer_list<std::string> fragments) {
  ScratchDir dir;
  testing::write_bytes(dir.file("broken.pth"), bytes);
  expect_engine_error([&] { load_pth(dir.file("broken.pth")); }, kFormat, {"broken.pth"});
  expect_engine_error([&] { load_pth(dir.file("broken.pth")); }, kFormat, fragments);
  expect_engine_error([&] { inspect_weights_file(dir.file("broken.pth")); }, kFormat, fragments);
}

TEST(Crc32, MatchesTheStandardCheckValue) {
  const std::string text = "123456789";
  EXPECT_EQ(weights::crc32(reinterpret_cast<const uint8_t*>(text.data()), text.size()),
            0xcbf43926u);
}

TEST(Pth, LoadsTaef2Encoder) {
  const fs::path path = kTaef2 / "taef2_encoder.pth";
  if (!fs::exists(path)) GTEST_SKIP() << "no fixture " << path;
  const StateDict tensors = load_pth(path.string());
  ASSERT_EQ(tensors.size(), 79u);
  EXPECT_EQ(tensors.keys().front(), "0.weight");
  EXPECT_EQ(tensors["0.weight"].sizes().vec(), (std::vector<int64_t>{64, 3, 3, 3}));
  EXPECT_EQ(tensors["1.conv.0.weight"].sizes().vec(), (std::vector<int64_t>{64, 64, 3, 3}));
  EXPECT_EQ(tensors["13.pool.0.weight"].sizes().vec(), (std::vector<int64_t>{256, 64, 1, 1}));
  EXPECT_EQ(tensors.keys().back(), "14.bias");
  EXPECT_EQ(tensors["14.weight"].sizes().vec(),
            (std::vector<int64_t>{32, 64, 3, 3}));  // 32 latent channels
  int64_t elements = 0;
  double magnitude = 0;
  for (const auto& item : tensors) {
    EXPECT_EQ(item.value().scalar_type(), torch::kFloat16) << item.key();
    elements += item.value().numel();
    magnitude += item.value().to(torch::kFloat64).abs().sum().item<double>();
  }
  EXPECT_EQ(elements, 1338528);
  // Reference values from torch.load (PyTorch 1.13) of the same file.
  EXPECT_NEAR(magnitude, 44558.18437963724, 1e-6);
  EXPECT_FLOAT_EQ(tensors["0.weight"].flatten()[0].item<float>(), -0.1405029296875f);
  EXPECT_FLOAT_EQ(tensors["0.weight"].flatten()[3].item<float>(), -0.05450439453125f);
}

TEST(Pth, LoadsTaef2Decoder) {
  const fs::path path = kTaef2 / "taef2_decoder.pth";
  if (!fs::exists(path)) GTEST_SKIP() << "no fixture " << path;
  const StateDict tensors = load_weights(path.string());
  ASSERT_EQ(tensors.size(), 79u);
  EXPECT_EQ(tensors.keys().front(), "1.weight");
  EXPECT_EQ(tensors["1.weight"].sizes().vec(), (std::vector<int64_t>{64, 32, 3, 3}));
  EXPECT_EQ(tensors["19.weight"].sizes().vec(), (std::vector<int64_t>{3, 64, 3, 3}));
  double magnitude = 0;
  for (const auto& item : tensors)
    magnitude += item.value().to(torch::kFloat64).abs().sum().item<double>();
  EXPECT_NEAR(magnitude, 46165.15767836571, 1e-6);
  EXPECT_NEAR(tensors["1.weight"].to(torch::kFloat64).sum().item<double>(), 8.68201744556427, 1e-9);
}

TEST(Pth, InspectionAgreesWithLoading) {
  const fs::path path = kTaef2 / "taef2_encoder.pth";
  if (!fs::exists(path)) GTEST_SKIP() << "no fixture " << path;
  const WeightsFileInfo info = inspect_weights_file(path.string());
  EXPECT_EQ(info.format, "pth");
  EXPECT_EQ(info.tensors.size(), 79u);
  EXPECT_EQ(info.parameter_count(), 1338528u);
  EXPECT_EQ(info.tensors[0].name, "0.weight");
  EXPECT_EQ(info.tensors[0].dtype, "F16");
}

TEST(Pth, ConvertsToSafetensorsBitExactly) {
  const fs::path path = kTaef2 / "taef2_decoder.pth";
  if (!fs::exists(path)) GTEST_SKIP() << "no fixture " << path;
  ScratchDir dir;
  const StateDict original = load_pth(path.string());
  save_safetensors(dir.file("decoder.safetensors"), original);
  const StateDict converted = load_weights(dir.file("decoder.safetensors"));
  ASSERT_EQ(converted.keys(), original.keys());
  for (const auto& item : original)
    EXPECT_TRUE(torch::equal(converted[item.key()], item.value())) << item.key();
}

TEST(Pth, HandBuiltArchiveWithSharedStorageViewsAndNesting) {
  ScratchDir dir;
  const std::vector<float> storage = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  const StateDict tensors = load_bytes(dir, archive(sample_pickle(), {{"0", floats(storage)}}));
  ASSERT_EQ(tensors.keys(), (std::vector<std::string>{"w", "b", "nested.t"}));
  EXPECT_TRUE(
      torch::equal(tensors["w"], torch::tensor({1.f, 2.f, 3.f, 4.f, 5.f, 6.f}).reshape({2, 3})));
  EXPECT_TRUE(torch::equal(tensors["b"], torch::tensor({7.f, 8.f, 9.f})));
  EXPECT_TRUE(torch::equal(tensors["nested.t"], tensors["w"].t()));
  EXPECT_TRUE(tensors["nested.t"].is_contiguous());
}

TEST(Pth, ParametersAndOtherDtypes) {
  ScratchDir dir;
  Pickle p;
  p.ordered_dict().op('(');
  p.text("p").global("torch._utils", "_rebuild_parameter");
  p.op('(').tensor("LongStorage", "a", 2, 0, {2}, {1}).op('\x88').ordered_dict().op('t').op('R');
  p.text("m").tensor("BoolStorage", "b", 3, 0, {3}, {1});
  p.op('u');
  const std::string longs = le(5, 8) + le(static_cast<uint64_t>(-7), 8);
  const StateDict tensors =
      load_bytes(dir, archive(p.done(), {{"a", longs}, {"b", std::string("\1\0\1", 3)}}));
  EXPECT_TRUE(torch::equal(tensors["p"], torch::tensor({int64_t{5}, int64_t{-7}})));
  EXPECT_TRUE(torch::equal(tensors["m"], torch::tensor({true, false, true})));
}

TEST(PthMalformed, NotAnArchive) {
  expect_pth_refused("plain text, not weights", {"not a PyTorch archive"});
}

TEST(PthMalformed, LegacyFormat) {
  expect_pth_refused("\x80\x02\x8a\x0a", {"legacy"});
}

TEST(PthMalformed, TruncatedArchive) {
  const fs::path path = kTaef2 / "taef2_encoder.pth";
  if (!fs::exists(path)) GTEST_SKIP() << "no fixture " << path;
  const std::string bytes = testing::read_bytes(path.string());
  expect_pth_refused(bytes.substr(0, bytes.size() / 2), {"no end-of-central-directory"});
  expect_pth_refused(bytes.substr(0, bytes.size() - 30), {"zip"});
}

TEST(PthMalformed, CorruptStorage) {
  const fs::path path = kTaef2 / "taef2_encoder.pth";
  if (!fs::exists(path)) GTEST_SKIP() << "no fixture " << path;
  std::string bytes = testing::read_bytes(path.string());
  const auto archive = weights::ZipArchive::parse(reinterpret_cast<const uint8_t*>(bytes.data()),
                                                  bytes.size(), "taef2");
  const weights::ZipEntry* record = archive.find("taef2_encoder/data/2");
  ASSERT_NE(record, nullptr);
  bytes[record->data - reinterpret_cast<const uint8_t*>(bytes.data()) + 100] ^= 0x40;
  expect_pth_refused(bytes, {"'taef2_encoder/data/2'", "CRC-32"});
}

TEST(PthMalformed, CorruptPickle) {
  const std::string bytes = archive(sample_pickle(), {{"0", floats({1, 2, 3, 4, 5, 6, 7, 8, 9})}});
  std::string corrupt = bytes;
  corrupt[30 + std::string("model/data.pkl").size() + 5] ^= 1;  // inside data.pkl
  expect_pth_refused(corrupt, {"data.pkl", "CRC-32"});
}

TEST(PthMalformed, MissingDataPkl) {
  ZipBuilder zip;
  zip.add("model/data/0", floats({1}));
  expect_pth_refused(zip.build(), {"no <name>/data.pkl"});
}

TEST(PthMalformed, TorchScriptArchive) {
  ZipBuilder zip;
  zip.add("model/constants.pkl", Pickle().op(')').done());
  zip.add("model/code/__torch__.py", "");
  expect_pth_refused(zip.build(), {"TorchScript"});
}

TEST(PthMalformed, CompressedEntry) {
  ZipBuilder zip;
  zip.add("model/data.pkl", sample_pickle());
  zip.entries.back().method = 8;
  expect_pth_refused(zip.build(), {"'model/data.pkl'", "compressed"});
}

TEST(PthMalformed, DirectoryOutOfRange) {
  std::string bytes = archive(sample_pickle(), {{"0", floats({1, 2, 3, 4, 5, 6, 7, 8, 9})}});
  bytes.replace(bytes.size() - 6, 4, le(0xfffff000u, 4));  // central directory offset
  expect_pth_refused(bytes, {"central directory", "outside the file"});
}

TEST(PthMalformed, BigEndianArchive) {
  expect_pth_refused(archive(sample_pickle(), {{"0", floats({1, 2, 3, 4, 5, 6, 7, 8, 9})}}, "big"),
                     {"byte order 'big'"});
}

TEST(PthMalformed, MissingStorageRecord) {
  expect_pth_refused(archive(sample_pickle(), {}), {"storage record 'data/0' is missing"});
}

TEST(PthMalformed, StorageRecordOfTheWrongSize) {
  expect_pth_refused(archive(sample_pickle(), {{"0", floats({1, 2, 3})}}),
                     {"storage 'data/0' holds 12 bytes", "9 F32 elements need 36"});
}

TEST(PthMalformed, ViewOutsideItsStorage) {
  Pickle p;
  p.ordered_dict().op('(').text("w").tensor("FloatStorage", "0", 4, 2, {2, 2}, {2, 1}).op('u');
  expect_pth_refused(archive(p.done(), {{"0", floats({1, 2, 3, 4})}}),
                     {"tensor 'w'", "view reaches element 5", "holds 4"});
}

TEST(PthMalformed, SizeAndStrideOfDifferentLengths) {
  Pickle p;
  p.ordered_dict().op('(').text("w").tensor("FloatStorage", "0", 4, 0, {2, 2}, {1}).op('u');
  expect_pth_refused(archive(p.done(), {{"0", floats({1, 2, 3, 4})}}), {"size and stride"});
}

TEST(PthMalformed, NegativeSize) {
  Pickle p;
  p.ordered_dict().op('(').text("w").tensor("FloatStorage", "0", 4, 0, {-2}, {1}).op('u');
  expect_pth_refused(archive(p.done(), {{"0", floats({1, 2, 3, 4})}}), {"negative value -2"});
}

TEST(PthMalformed, UnknownStorageType) {
  Pickle p;
  p.ordered_dict().op('(').text("w").tensor("ComplexFloatStorage", "0", 1, 0, {1}, {1}).op('u');
  expect_pth_refused(archive(p.done(), {{"0", floats({1, 2})}}),
                     {"unsupported storage type torch.ComplexFloatStorage"});
}

TEST(PthMalformed, PickleWithoutStop) {
  std::string pickle = sample_pickle();
  pickle.pop_back();
  expect_pth_refused(archive(pickle, {{"0", floats({1, 2, 3, 4, 5, 6, 7, 8, 9})}}),
                     {"before its STOP"});
}

TEST(PthMalformed, UnsupportedOpcode) {
  expect_pth_refused(archive(Pickle().op('S').done(), {}),
                     {"data.pkl byte 2", "unsupported pickle opcode 0x53"});
}

TEST(PthMalformed, StackUnderflow) {
  expect_pth_refused(archive(Pickle().op('R').done(), {}), {"data.pkl byte 2", "stack is empty"});
}

TEST(PthMalformed, UnknownMemoEntry) {
  expect_pth_refused(archive(Pickle().op('h').op('\x07').done(), {}), {"memo entry 7"});
}

TEST(PthMalformed, NotADict) {
  expect_pth_refused(archive(Pickle().op(']').done(), {}),
                     {"data.pkl holds a list, not a state dict"});
}

TEST(PthMalformed, OpaqueObjectIsNeverRun) {
  const std::string pickle =
      Pickle().global("os", "system").text("echo unsafe").op('\x85').op('R').done();
  expect_pth_refused(archive(pickle, {}), {"an object (os.system), not a state dict"});
}

TEST(PthMalformed, DuplicateTensorNames) {
  Pickle p;
  p.ordered_dict().op('(');
  p.text("w").tensor("FloatStorage", "0", 1, 0, {1}, {1});
  p.text("w").tensor("FloatStorage", "0", 1, 0, {1}, {1});
  p.op('u');
  expect_pth_refused(archive(p.done(), {{"0", floats({1})}}), {"tensor 'w' appears twice"});
}

TEST(PthMalformed, DictContainingItself) {
  // d = {}; d["self"] = d
  const std::string pickle =
      Pickle().op('}').op('q').op('\0').text("self").op('h').op('\0').op('s').done();
  expect_pth_refused(archive(pickle, {}), {"contains itself"});
}

}  // namespace
}  // namespace terrasynth::engine
