// The torch-free safetensors reader: valid layouts and every malformed case, one test each.
#include <gtest/gtest.h>

#include <string>

#include "terrasynth/engine/safetensors.h"
#include "weights/dtype.h"
#include "weights/safetensors_format.h"
#include "weights_test_util.h"

namespace terrasynth::engine {
namespace {

using testing::expect_engine_error;
using testing::little_endian_u64;
using testing::safetensors_bytes;
constexpr auto kFormat = EngineError::Kind::ModelFormat;
const std::string kLabel = "weights/broken.safetensors";

SafetensorsInfo parse(const std::string& bytes) {
  return parse_safetensors(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), kLabel);
}

// Expects the bytes to be refused with a message naming the file and containing `fragments`.
void expect_refused(const std::string& bytes, std::initializer_list<std::string> fragments) {
  std::initializer_list<std::string> with_label = {kLabel};
  expect_engine_error([&] { parse(bytes); }, kFormat, with_label);
  expect_engine_error([&] { parse(bytes); }, kFormat, fragments);
}

const std::string kOneTensor = R"({"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}})";

TEST(SafetensorsParse, ReadsOneTensor) {
  const SafetensorsInfo info = parse(safetensors_bytes(kOneTensor, std::string(24, '\1')));
  ASSERT_EQ(info.tensors.size(), 1u);
  EXPECT_EQ(info.tensors[0].name, "w");
  EXPECT_EQ(info.tensors[0].dtype, "F32");
  EXPECT_EQ(info.tensors[0].shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(info.tensors[0].data_begin, 0u);
  EXPECT_EQ(info.tensors[0].data_end, 24u);
  EXPECT_EQ(info.header_size, kOneTensor.size());
  EXPECT_EQ(info.data_offset(), 8 + kOneTensor.size());
  EXPECT_EQ(info.file_size, 8 + kOneTensor.size() + 24);
  EXPECT_EQ(info.parameter_count(), 6u);
  EXPECT_EQ(info.path, kLabel);
}

TEST(SafetensorsParse, OrdersTensorsByOffsetAndReadsMetadata) {
  const std::string header =
      R"({"b":{"dtype":"U8","shape":[3],"data_offsets":[8,11]},)"
      R"("__metadata__":{"format":"pt","note":"x"},)"
      R"("a":{"dtype":"I64","shape":[],"data_offsets":[0,8]},)"
      R"("empty":{"dtype":"BF16","shape":[0,4],"data_offsets":[11,11]}}    )";
  const SafetensorsInfo info = parse(safetensors_bytes(header, std::string(11, '\0')));
  ASSERT_EQ(info.tensors.size(), 3u);
  EXPECT_EQ(info.tensors[0].name, "a");
  EXPECT_TRUE(info.tensors[0].shape.empty());
  EXPECT_EQ(info.tensors[1].name, "b");
  EXPECT_EQ(info.tensors[2].name, "empty");
  EXPECT_EQ(info.tensors[2].element_count(), 0u);
  EXPECT_EQ(info.metadata.at("format"), "pt");
  EXPECT_EQ(info.metadata.at("note"), "x");
  EXPECT_EQ(info.parameter_count(), 4u);
}

TEST(SafetensorsParse, AcceptsAnEmptyFileHeaderAndNullMetadataAndUnknownFields) {
  EXPECT_TRUE(parse(safetensors_bytes("{}")).tensors.empty());
  EXPECT_TRUE(parse(safetensors_bytes(R"({"__metadata__":null})")).metadata.empty());
  const auto info = parse(
      safetensors_bytes(R"({"w":{"dtype":"BOOL","shape":[2],"data_offsets":[0,2],"extra":[1,2]}})",
                        std::string("\1\0", 2)));
  EXPECT_EQ(info.tensors.at(0).dtype, "BOOL");
}

TEST(SafetensorsParse, KnowsEveryReferenceDtype) {
  for (const char* dtype : {"BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "I16", "U16", "F16", "BF16",
                            "I32", "U32", "F32", "F64", "I64", "U64"}) {
    std::vector<TensorInfo> tensors(1);
    tensors[0].name = "t";
    tensors[0].dtype = dtype;
    tensors[0].shape = {3};
    const std::string header = weights::build_safetensors_header(tensors, {});
    const size_t bytes = tensors[0].data_end;
    const SafetensorsInfo info = parse(header + std::string(bytes, '\0'));
    EXPECT_EQ(info.tensors.at(0).dtype, dtype);
    EXPECT_EQ(bytes % 3, 0u) << dtype;
  }
}

TEST(SafetensorsParse, BuiltHeaderIsPaddedAndRoundTrips) {
  std::vector<TensorInfo> tensors(3);
  tensors[0] = {"small", "U8", {5}, 0, 0};
  tensors[1] = {"big", "F64", {2, 2}, 0, 0};
  tensors[2] = {"half", "F16", {3}, 0, 0};
  std::vector<TensorInfo> ordered;
  for (size_t index : weights::safetensors_write_order(tensors)) ordered.push_back(tensors[index]);
  EXPECT_EQ(ordered[0].name, "big");  // larger elements first keep every tensor aligned
  EXPECT_EQ(ordered[1].name, "half");
  EXPECT_EQ(ordered[2].name, "small");
  const std::string header = weights::build_safetensors_header(ordered, {{"format", "pt"}});
  EXPECT_EQ(header.size() % 8, 0u);
  const SafetensorsInfo info = parse(header + std::string(32 + 6 + 5, '\0'));
  ASSERT_EQ(info.tensors.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(info.tensors[i].name, ordered[i].name);
    EXPECT_EQ(info.tensors[i].shape, ordered[i].shape);
    EXPECT_EQ(info.tensors[i].data_begin, ordered[i].data_begin);
    EXPECT_EQ(info.tensors[i].data_begin % 8 % weights::find_dtype(ordered[i].dtype)->bytes, 0u);
  }
  EXPECT_EQ(info.metadata.at("format"), "pt");
}

TEST(SafetensorsParse, HeaderBuilderRefusesReservedAndDuplicateNames) {
  std::vector<TensorInfo> reserved = {{"__metadata__", "F32", {1}, 0, 0}};
  expect_engine_error([&] { weights::build_safetensors_header(reserved, {}); },
                      EngineError::Kind::InvalidArgument, {"reserved"});
  std::vector<TensorInfo> twice = {{"a", "F32", {1}, 0, 0}, {"a", "F32", {1}, 0, 0}};
  expect_engine_error([&] { weights::build_safetensors_header(twice, {}); },
                      EngineError::Kind::InvalidArgument, {"'a'", "duplicate"});
}

// --- malformed files ---

TEST(SafetensorsMalformed, FileShorterThanTheLengthField) {
  expect_refused(std::string(5, '\0'), {"too small", "5 bytes"});
}

TEST(SafetensorsMalformed, EmptyFile) {
  expect_refused("", {"too small", "0 bytes"});
}

TEST(SafetensorsMalformed, HeaderLengthPastTheEnd) {
  expect_refused(little_endian_u64(1000) + "{}",
                 {"header length 1000", "past the end", "(10 bytes)"});
}

TEST(SafetensorsMalformed, HugeHeaderLength) {
  expect_refused(little_endian_u64(200'000'000) + "{}", {"header length 200000000", "limit"});
}

TEST(SafetensorsMalformed, HeaderLengthOverflowingSizeT) {
  expect_refused(little_endian_u64(~uint64_t{0}) + "{}", {"header length", "limit"});
}

TEST(SafetensorsMalformed, NonUtf8Header) {
  expect_refused(safetensors_bytes("{\"w\xff\":{}}"), {"not valid UTF-8", "byte 3"});
}

TEST(SafetensorsMalformed, OverlongUtf8Header) {
  expect_refused(safetensors_bytes("{\"\xc0\xaf\":1}"), {"not valid UTF-8", "byte 2"});
}

TEST(SafetensorsMalformed, SurrogateInUtf8Header) {
  expect_refused(safetensors_bytes("{\"\xed\xa0\x80\":1}"), {"not valid UTF-8"});
}

TEST(SafetensorsMalformed, EmptyHeader) {
  expect_refused(safetensors_bytes(""), {"not a JSON object"});
}

TEST(SafetensorsMalformed, NonObjectJson) {
  expect_refused(safetensors_bytes("[1, 2, 3]"), {"not a JSON object"});
}

TEST(SafetensorsMalformed, LeadingWhitespaceBeforeTheObject) {
  expect_refused(safetensors_bytes("  {}"), {"must start with '{'"});
}

TEST(SafetensorsMalformed, InvalidJson) {
  expect_refused(safetensors_bytes(R"({"w": {"dtype": "F32",)"), {"not valid JSON"});
}

TEST(SafetensorsMalformed, TrailingTextAfterTheObject) {
  expect_refused(safetensors_bytes("{} x"), {"not valid JSON"});
}

TEST(SafetensorsMalformed, DuplicateTensorNames) {
  expect_refused(safetensors_bytes(R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
                                   R"("w":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})",
                                   "ab"),
                 {"duplicate tensor name 'w'"});
}

TEST(SafetensorsMalformed, DuplicateFieldInsideAnEntry) {
  expect_refused(safetensors_bytes(
                     R"({"w":{"dtype":"U8","dtype":"F32","shape":[1],"data_offsets":[0,1]}})", "a"),
                 {"duplicate key 'dtype'"});
}

TEST(SafetensorsMalformed, DeeplyNestedHeader) {
  expect_refused(safetensors_bytes(std::string(5000, '[')), {"not a JSON object"});
  expect_refused(
      safetensors_bytes("{\"w\":" + std::string(100000, '[') + std::string(100000, ']') + "}"),
      {"nests deeper"});
}

TEST(SafetensorsMalformed, EntryNotAnObject) {
  expect_refused(safetensors_bytes(R"({"w":[1,2]})"), {"tensor 'w'", "not an object"});
}

TEST(SafetensorsMalformed, MissingDataOffsets) {
  expect_refused(safetensors_bytes(R"({"w":{"dtype":"U8","shape":[1]}})", "a"),
                 {"tensor 'w'", "missing 'data_offsets'"});
}

TEST(SafetensorsMalformed, MissingDtype) {
  expect_refused(safetensors_bytes(R"({"w":{"shape":[1],"data_offsets":[0,1]}})", "a"),
                 {"tensor 'w'", "missing 'dtype'"});
}

TEST(SafetensorsMalformed, UnknownDtypeName) {
  expect_refused(safetensors_bytes(R"({"w":{"dtype":"F128","shape":[1],"data_offsets":[0,16]}})",
                                   std::string(16, '\0')),
                 {"tensor 'w'", "unknown dtype 'F128'"});
}

TEST(SafetensorsMalformed, LowercaseDtypeName) {
  expect_refused(safetensors_bytes(R"({"w":{"dtype":"f32","shape":[1],"data_offsets":[0,4]}})",
                                   std::string(4, '\0')),
                 {"tensor 'w'", "unknown dtype 'f32'"});
}

TEST(SafetensorsMalformed, DtypeNotAString) {
  expect_refused(safetensors_bytes(R"({"w":{"dtype":4,"shape":[1],"data_offsets":[0,4]}})",
                                   std::string(4, '\0')),
                 {"tensor 'w'", "'dtype' is not a string"});
}

TEST(SafetensorsMalformed, NegativeDimension) {
  expect_refused(safetensors_bytes(R"({"w":{"dtype":"U8","shape":[2,-3],"data_offsets":[0,6]}})",
                                   std::string(6, '\0')),
                 {"tensor 'w'", "negative dimension -3"});
}

TEST(SafetensorsMalformed, FractionalDimension) {
  expect_refused(safetensors_bytes(R"({"w":{"dtype":"U8","shape":[2.5],"data_offsets":[0,2]}})",
                                   std::string(2, '\0')),
                 {"tensor 'w'", "dimension 2.5 is not an integer"});
}

TEST(SafetensorsMalformed, DimensionBeyondInt64) {
  expect_refused(
      safetensors_bytes(
          R"({"w":{"dtype":"U8","shape":[9223372036854775808],"data_offsets":[0,1]}})", "a"),
      {"tensor 'w'", "overflows int64"});
}

TEST(SafetensorsMalformed, DimensionBeyondUint64) {
  expect_refused(
      safetensors_bytes(
          R"({"w":{"dtype":"U8","shape":[99999999999999999999],"data_offsets":[0,1]}})", "a"),
      {"tensor 'w'", "not an integer"});
}

TEST(SafetensorsMalformed, ShapeWithTooManyElements) {
  expect_refused(
      safetensors_bytes(
          R"({"w":{"dtype":"U8","shape":[4294967296,4294967296,16],"data_offsets":[0,1]}})", "a"),
      {"tensor 'w'", "more than 2^64 elements"});
}

TEST(SafetensorsMalformed, ShapeWithTooManyBytes) {
  expect_refused(safetensors_bytes(
                     R"({"w":{"dtype":"F64","shape":[2305843009213693952],"data_offsets":[0,8]}})",
                     std::string(8, '\0')),
                 {"tensor 'w'", "more than 2^64 bytes"});
}

TEST(SafetensorsMalformed, ShapeNotAnArray) {
  expect_refused(safetensors_bytes(R"({"w":{"dtype":"U8","shape":3,"data_offsets":[0,3]}})",
                                   std::string(3, '\0')),
                 {"tensor 'w'", "'shape' is not an array"});
}

TEST(SafetensorsMalformed, OffsetsNotAPair) {
  expect_refused(
      safetensors_bytes(R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1,2]}})", "a"),
      {"tensor 'w'", "array of two offsets"});
}

TEST(SafetensorsMalformed, NegativeOffset) {
  expect_refused(
      safetensors_bytes(R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[-1,0]}})", "a"),
      {"tensor 'w'", "negative offset -1"});
}

TEST(SafetensorsMalformed, OffsetsEndingBeforeTheyBegin) {
  expect_refused(safetensors_bytes(R"({"w":{"dtype":"U8","shape":[0],"data_offsets":[4,2]}})",
                                   std::string(4, '\0')),
                 {"tensor 'w'", "data_offsets [4, 2]", "end before"});
}

TEST(SafetensorsMalformed, OffsetsPastTheEndOfTheData) {
  expect_refused(
      safetensors_bytes(R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})",
                        std::string(12, '\0')),
      {"tensor 'w'", "data_offsets [0, 16]", "past the end of the data section (12 bytes)"});
}

TEST(SafetensorsMalformed, HugeOffsetsPastTheEnd) {
  expect_refused(
      safetensors_bytes(
          R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[18446744073709551614,18446744073709551615]}})",
          "a"),
      {"tensor 'w'", "past the end"});
}

TEST(SafetensorsMalformed, OverlappingTensors) {
  expect_refused(safetensors_bytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                                   R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                                   std::string(12, '\0')),
                 {"tensor 'b'", "overlap tensor 'a'"});
}

TEST(SafetensorsMalformed, TwoTensorsOnTheSameBytes) {
  expect_refused(safetensors_bytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                                   R"("b":{"dtype":"I32","shape":[2],"data_offsets":[0,8]}})",
                                   std::string(8, '\0')),
                 {"overlap tensor"});
}

TEST(SafetensorsMalformed, GapBetweenTensors) {
  expect_refused(safetensors_bytes(R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},)"
                                   R"("b":{"dtype":"U8","shape":[2],"data_offsets":[4,6]}})",
                                   std::string(6, '\0')),
                 {"tensor 'b'", "gap of 2 bytes"});
}

TEST(SafetensorsMalformed, FirstTensorNotAtTheStart) {
  expect_refused(safetensors_bytes(R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[2,4]}})",
                                   std::string(4, '\0')),
                 {"tensor 'a'", "gap of 2 bytes"});
}

TEST(SafetensorsMalformed, ByteCountDisagreesWithShapeAndDtype) {
  expect_refused(safetensors_bytes(R"({"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}})",
                                   std::string(20, '\0')),
                 {"tensor 'w'", "need 24 bytes", "span 20"});
}

TEST(SafetensorsMalformed, TrailingBytesAfterTheLastTensor) {
  expect_refused(safetensors_bytes(kOneTensor, std::string(24 + 5, '\0')),
                 {"5 bytes of unexpected data after the last tensor"});
}

TEST(SafetensorsMalformed, DataWithoutTensors) {
  expect_refused(safetensors_bytes("{}", "junk"), {"4 bytes of unexpected data"});
}

TEST(SafetensorsMalformed, MetadataNotAnObject) {
  expect_refused(safetensors_bytes(R"({"__metadata__":"pt"})"), {"__metadata__ is not an object"});
}

TEST(SafetensorsMalformed, MetadataValueNotAString) {
  expect_refused(safetensors_bytes(R"({"__metadata__":{"step":5}})"),
                 {"__metadata__ entry 'step' is not a string"});
}

TEST(SafetensorsMalformed, ControlCharactersInNamesStayOnOneLine) {
  expect_refused(
      safetensors_bytes("{\"a\\nb\":{\"dtype\":\"X\",\"shape\":[],\"data_offsets\":[0,0]}}"),
      {"tensor 'a\\x0ab'", "unknown dtype 'X'"});
}

TEST(SafetensorsInspect, MissingFileIsAnIoError) {
  testing::ScratchDir dir;
  expect_engine_error([&] { inspect_safetensors(dir.file("absent.safetensors")); },
                      EngineError::Kind::Io, {"absent.safetensors", "cannot open"});
}

TEST(SafetensorsInspect, FolderIsAnIoError) {
  testing::ScratchDir dir;
  expect_engine_error([&] { inspect_safetensors(dir.path().string()); }, EngineError::Kind::Io,
                      {"not a regular file"});
}

TEST(SafetensorsInspect, MapsAFile) {
  testing::ScratchDir dir;
  testing::write_bytes(dir.file("one.safetensors"),
                       safetensors_bytes(kOneTensor, std::string(24, '\0')));
  const SafetensorsInfo info = inspect_safetensors(dir.file("one.safetensors"));
  EXPECT_EQ(info.path, dir.file("one.safetensors"));
  EXPECT_EQ(info.tensors.at(0).name, "w");
  testing::write_bytes(dir.file("short.safetensors"),
                       safetensors_bytes(kOneTensor, std::string(20, '\0')));
  expect_engine_error([&] { inspect_safetensors(dir.file("short.safetensors")); }, kFormat,
                      {"short.safetensors", "tensor 'w'", "past the end"});
}

}  // namespace
}  // namespace terrasynth::engine
