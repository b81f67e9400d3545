// The training data pipeline on the real pairs in ../shared/data.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "terrasynth/pipeline/dataset.h"
#include "terrasynth/test_paths.h"

namespace fs = std::filesystem;
using namespace terrasynth::pipeline;

namespace {
const std::string kData = std::string(TERRASYNTH_TEST_SHARED_DIR) + "/data";
}

TEST(Dataset, SharedClassSetIsTheDocumentedOne) {
  EXPECT_EQ(class_names(), (std::vector<std::string>{"other", "building", "road", "vegetation", "water",
                                                     "bare", "sand"}));
  EXPECT_EQ(class_palette().size(), class_names().size());
  EXPECT_THROW(source_info("sentinel"), std::runtime_error);
}

TEST(Dataset, RecifeLabelsDecodeToNearestClassColour) {
  // 00800 is a dense neighbourhood: mostly buildings with some vegetation (see its label PNG).
  int width = 0, height = 0;
  const auto classes = decode_label(kData + "/pairs/recife/00800_label.png", source_info("recife"), width, height);
  ASSERT_EQ(width, 256);
  ASSERT_EQ(height, 256);
  std::vector<int> counts(256);
  for (uint8_t c : classes) ++counts[c];
  EXPECT_GT(counts[1], 256 * 256 / 2) << "buildings dominate this frame";
  EXPECT_GT(counts[3], 500) << "some vegetation";
  EXPECT_EQ(counts[kUnknownClass], 0) << "every recife pixel maps to a class";
}

TEST(Dataset, LandcoverGreyLevelsAndDubaiUnlabeled) {
  int width = 0, height = 0;
  const auto lc = decode_label(kData + "/pairs/landcoverai/00050_label.png", source_info("landcoverai"), width, height);
  std::set<uint8_t> seen(lc.begin(), lc.end());
  for (uint8_t c : seen) EXPECT_TRUE(c == 0 || c == 1 || c == 2 || c == 3 || c == 4) << int(c);
  EXPECT_TRUE(seen.count(2)) << "00050 has a road";
  EXPECT_TRUE(seen.count(1)) << "00050 has buildings";
  const auto dubai = decode_label(kData + "/pairs/dubai/tile1_image_part_003_label.png", source_info("dubai"), width, height);
  std::set<uint8_t> dubai_seen(dubai.begin(), dubai.end());
  EXPECT_TRUE(dubai_seen.count(5)) << "unpaved land maps to bare";
  EXPECT_TRUE(dubai_seen.count(4)) << "water";
}

TEST(Dataset, BlankFramesAreDetected) {
  std::vector<uint8_t> white(64 * 64 * 3, 255), black(64 * 64 * 3, 0), flat(64 * 64 * 3, 120);
  EXPECT_TRUE(is_blank(white));
  EXPECT_TRUE(is_blank(black));
  EXPECT_TRUE(is_blank(flat));
  int width = 0, height = 0;
  EXPECT_FALSE(is_blank(read_rgb(kData + "/pairs/recife/00800.jpg", width, height)));
}

TEST(Dataset, ValidationBlocksAreContiguousAndGuarded) {
  // Validation indices form contiguous blocks, and the index just outside each block edge is in a
  // guard band that belongs to neither split.
  int edges = 0;
  for (int i = 0; i < 1900; ++i) {
    const bool here = is_validation("recife", "", i), next = is_validation("recife", "", i + 1);
    if (here == next) continue;
    ++edges;
    const int outside = here ? i + 1 : i;
    EXPECT_TRUE(in_guard_band("recife", outside)) << "block edge between " << i << " and " << i + 1;
    EXPECT_FALSE(is_validation("recife", "", outside));
  }
  EXPECT_EQ(edges, 6) << "three validation blocks";
}

TEST(Dataset, SplitsOfARealFolderAreDisjointAndSkipBlanks) {
  LoadOptions train;
  train.split = Split::Train;
  LoadOptions val;
  val.split = Split::Validation;
  const auto train_items = load_pairs(kData + "/pairs/landcoverai", "landcoverai", train);
  const auto val_items = load_pairs(kData + "/pairs/landcoverai", "landcoverai", val);
  ASSERT_GT(val_items.size(), 50u);
  ASSERT_GT(train_items.size(), 600u);
  std::set<int> train_index;
  for (const auto& item : train_items) train_index.insert(item.index);
  for (const auto& item : val_items) {
    EXPECT_TRUE(is_validation("landcoverai", item.id, item.index));
    for (int d = -2; d <= 2; ++d) EXPECT_FALSE(train_index.count(item.index + d)) << item.id;
    EXPECT_EQ(item.classes.size(), size_t(item.width) * item.height);
    EXPECT_FALSE(is_blank(item.rgb));
  }
}

TEST(Dataset, CropDownscalesImageAndMajorityClasses) {
  DatasetItem item;
  item.source = "recife";
  item.width = item.height = 8;
  item.rgb.assign(8 * 8 * 3, 0);
  item.classes.assign(8 * 8, 3);
  for (int y = 0; y < 8; ++y)
    for (int x = 0; x < 8; ++x) {
      item.rgb[3 * (y * 8 + x)] = static_cast<uint8_t>(x < 4 ? 0 : 200);
      if (x >= 4 && y >= 4 && !(x == 7 && y == 7)) item.classes[y * 8 + x] = 1;
    }
  const auto sample = crop_item(item, 0, 0, 2, 4);
  EXPECT_FLOAT_EQ(sample.image.at(0, 0, 0), 0.f);
  EXPECT_NEAR(sample.image.at(0, 0, 1), 200.f / 255.f, 1e-6);
  EXPECT_EQ(sample.layout.at(0, 0), 3);
  EXPECT_EQ(sample.layout.at(1, 1), 1) << "15 of 16 pixels are buildings";
}

TEST(Dataset, SamplerAugmentsAndScalesGsd) {
  LoadOptions options;
  options.limit = 6;
  TrainingSampler::Source recife;
  recife.items = load_pairs(kData + "/pairs/recife", "recife", options);
  recife.scales = {2};
  TrainingSampler sampler({recife});
  std::mt19937_64 rng(7);
  std::set<std::vector<float>> distinct;
  for (int i = 0; i < 8; ++i) {
    auto sample = sampler.sample(rng, 64);
    EXPECT_EQ(sample.image.height, 64);
    EXPECT_EQ(sample.layout.width, 64);
    EXPECT_DOUBLE_EQ(sample.gsd, 2 * source_info("recife").gsd);
    EXPECT_EQ(sample.style, style_index("recife"));
    distinct.insert(std::vector<float>(sample.image.data.begin(), sample.image.data.begin() + 64));
  }
  EXPECT_GT(distinct.size(), 4u) << "crops and symmetries vary";
}

TEST(Dataset, SceneFoldersMapToSceneIndices) {
  EXPECT_EQ(scene_index("DenseResidential"), scene_index("dense_residential"));
  EXPECT_GE(scene_index("StorageTanks"), 0);
  EXPECT_EQ(scene_index("Volcano"), -1);
  LoadOptions options;
  options.limit = 5;
  const auto scenes = load_scenes(kData + "/scenes/aid", options);
  ASSERT_EQ(scenes.size(), 5u);
  for (const auto& item : scenes) {
    EXPECT_GE(item.scene, 0);
    EXPECT_TRUE(item.classes.empty());
    EXPECT_EQ(item.width, 150);
  }
}

TEST(Dataset, MissingFolderIsAClearError) {
  LoadOptions options;
  try {
    load_pairs("/nonexistent/pairs", "recife", options);
    FAIL();
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("/nonexistent/pairs"), std::string::npos);
  }
}
