#include <gtest/gtest.h>

#include <atomic>
#include <cmath>

#include "chunk_runner.h"
#include "job_test_support.h"

namespace terrasynth::pipeline::detail {
namespace {

using testing::kTinyModel;

TEST(ChunkLayout, ChunksTileTheCanvasWithMarginsOverFinishedNeighbours) {
  for (auto [w, h] : std::vector<std::pair<int, int>>{{1, 1}, {100, 37}, {257, 640}, {1000, 1000}}) {
    const ChunkLayout layout = make_chunk_layout(w, h, 128, 32, 16, 8);
    std::vector<int> covered(static_cast<size_t>(w) * h, 0);
    for (int row = 0; row < layout.rows(); ++row)
      for (int column = 0; column < layout.columns(); ++column) {
        const geo::Window area = layout.area(column, row);
        const geo::Window canvas = layout.canvas(column, row);
        ASSERT_FALSE(area.is_empty());
        for (int y = area.y; y < area.y + area.height; ++y)
          for (int x = area.x; x < area.x + area.width; ++x) ++covered[static_cast<size_t>(y) * w + x];
        EXPECT_EQ(canvas.x, column ? area.x - 32 : 0);
        EXPECT_EQ(canvas.y, row ? area.y - 32 : 0);
        EXPECT_EQ(canvas.x + canvas.width, area.x + area.width);
        if (column + 1 < layout.columns()) {
          EXPECT_EQ(area.width % 8, 0);
        }
        EXPECT_LE(area.width, 128);
      }
    for (int count : covered) ASSERT_EQ(count, 1) << w << "x" << h;
  }
  // Chunks are balanced: 300 px at most 128 a side is 3 chunks of 104, 104, 92.
  const ChunkLayout balanced = make_chunk_layout(300, 10, 128, 8, 4, 8);
  EXPECT_EQ(balanced.xs, (std::vector<int>{0, 104, 208, 300}));
  // Never smaller than twice the margin.
  EXPECT_GE(make_chunk_layout(500, 500, 16, 64, 32, 8).area(0, 0).width, 128);
}

TEST(ChunkLayout, MarginRampBlendsTowardsTheChunk) {
  EXPECT_EQ(margin_ramp(0, 4), 1.f);
  EXPECT_NEAR(margin_ramp(1, 4), 0.8f, 1e-6);
  EXPECT_NEAR(margin_ramp(4, 4), 0.2f, 1e-6);
  EXPECT_EQ(margin_ramp(5, 4), 0.f);
  EXPECT_EQ(margin_ramp(3, 0), 0.f);
}

TEST(ChunkLayout, WindowsPerStepFollowTheFusedGeometry) {
  EXPECT_EQ(windows_per_step(64, 64, 64, 16), 1);
  EXPECT_EQ(windows_per_step(65, 64, 64, 16), 2);
  EXPECT_EQ(windows_per_step(160, 112, 64, 16), 3 * 2);
}

class Source : public ChunkSource {
 public:
  engine::ClassMap layout(const geo::Window&) override { return {}; }
  bool known(const geo::Window& window, engine::Image& known, engine::Mask& mask) override {
    if (!inpaint) return false;
    known = engine::Image(3, window.height, window.width);
    mask = engine::Mask(window.height, window.width);
    for (int y = 0; y < window.height; ++y)
      for (int x = 0; x < window.width; ++x) {
        for (int c = 0; c < 3; ++c) known.at(c, y, x) = pattern(window.x + x, window.y + y, c) / 255.f;
        mask.at(y, x) = in_hole(window.x + x, window.y + y) ? 1.f : 0.f;
      }
    return true;
  }
  bool wanted(const geo::Window& area) override {
    if (skip_first_column && area.x == 0) return false;
    if (!inpaint) return true;
    for (int y = area.y; y < area.y + area.height; ++y)
      for (int x = area.x; x < area.x + area.width; ++x)
        if (in_hole(x, y)) return true;
    return false;
  }
  static uint8_t pattern(int x, int y, int c) { return static_cast<uint8_t>((x * 7 + y * 3 + c * 50) % 256); }
  static bool in_hole(int x, int y) { return x >= 70 && x < 90 && y >= 20 && y < 44; }
  bool inpaint = false;
  bool skip_first_column = false;
};

struct Recorded {
  int next_row = 0;
  bool ordered = true;
  std::vector<uint8_t> image;
};

RowSink recorder(Recorded& recorded, int width) {
  return [&recorded, width](int y, int count, const uint8_t* rgb) {
    if (y != recorded.next_row) recorded.ordered = false;
    recorded.next_row = y + count;
    recorded.image.insert(recorded.image.end(), rgb, rgb + static_cast<size_t>(count) * width * 3);
  };
}

class ChunkRunner : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    engine::DeviceOptions device;
    device.device = engine::DeviceKind::Cpu;
    device.threads = 1;
    model_ = engine::Model::load(kTinyModel, device);
  }
  static void TearDownTestSuite() { model_.reset(); }
  ChunkRun run() const {
    ChunkRun run;
    run.model = model_.get();
    run.request.sampler.steps = 2;
    run.request.tiling.tile = 64;
    run.request.tiling.overlap = 16;
    run.request.gsd = 0.5;
    return run;
  }
  static std::shared_ptr<engine::Model> model_;
};
std::shared_ptr<engine::Model> ChunkRunner::model_;

TEST_F(ChunkRunner, StreamsRowsInOrderHoldingOneChunkRow) {
  const ChunkLayout layout = make_chunk_layout(160, 136, 64, 16, 8, 8);
  ASSERT_EQ(layout.rows(), 3);
  Source source;
  Recorded recorded;
  ChunkRun chunk_run = run();
  std::vector<std::string> labels;
  chunk_run.progress = [&](double, const std::string& label) { labels.push_back(label); };
  int previews = 0;
  chunk_run.preview = [&](int w, int h, const std::vector<uint8_t>& rgb) {
    ++previews;
    EXPECT_EQ(rgb.size(), static_cast<size_t>(w) * h * 3);
    EXPECT_LE(std::max(w, h), 64);
  };
  chunk_run.preview_size = 64;
  const ChunkStats stats = run_chunks(chunk_run, layout, source, recorder(recorded, 160));
  EXPECT_EQ(stats.status, engine::Status::Ok);
  EXPECT_EQ(stats.generated, layout.count());
  EXPECT_TRUE(recorded.ordered);
  EXPECT_EQ(recorded.next_row, 136);
  EXPECT_EQ(recorded.image.size(), 160u * 136 * 3);
  // One chunk row plus the margin of the row above, never the whole canvas.
  EXPECT_LE(stats.peak_rows, 48 + 16);
  EXPECT_LT(stats.peak_rows, 136);
  EXPECT_EQ(previews, layout.count());
  EXPECT_TRUE(testing::any_contains(labels, "chunk 9/9"));
  // Every chunk produced an image (the tiny model's pixels are not all black).
  for (int row = 0; row < layout.rows(); ++row)
    for (int column = 0; column < layout.columns(); ++column) {
      const geo::Window area = layout.area(column, row);
      int lit = 0;
      for (int y = area.y; y < area.y + area.height; ++y)
        for (int x = area.x; x < area.x + area.width; ++x)
          lit += recorded.image[(static_cast<size_t>(y) * 160 + x) * 3] > 0;
      EXPECT_GT(lit, area.pixels() / 2) << column << "," << row;
    }
}

TEST_F(ChunkRunner, KnownPixelsOutsideTheMaskComeBackExactly) {
  const ChunkLayout layout = make_chunk_layout(128, 96, 48, 16, 8, 8);
  Source source;
  source.inpaint = true;
  Recorded recorded;
  const ChunkStats stats = run_chunks(run(), layout, source, recorder(recorded, 128));
  ASSERT_EQ(stats.status, engine::Status::Ok);
  EXPECT_GT(stats.skipped, 0);   // chunks away from the hole are not generated
  EXPECT_GT(stats.generated, 0);
  int changed_in_hole = 0;
  for (int y = 0; y < 96; ++y)
    for (int x = 0; x < 128; ++x)
      for (int c = 0; c < 3; ++c) {
        const uint8_t value = recorded.image[(static_cast<size_t>(y) * 128 + x) * 3 + c];
        if (Source::in_hole(x, y))
          changed_in_hole += value != Source::pattern(x, y, c);
        else
          ASSERT_EQ(value, Source::pattern(x, y, c)) << x << "," << y << " band " << c;
      }
  EXPECT_GT(changed_in_hole, 20 * 24 * 3 / 2);
}

TEST_F(ChunkRunner, UnwantedChunksStayEmptyAndCancelStops) {
  const ChunkLayout layout = make_chunk_layout(128, 64, 64, 16, 8, 8);
  Source source;
  source.skip_first_column = true;
  Recorded recorded;
  const ChunkStats stats = run_chunks(run(), layout, source, recorder(recorded, 128));
  EXPECT_EQ(stats.skipped, 1);
  for (int y = 0; y < 64; ++y)
    for (int x = 0; x < 64; ++x) ASSERT_EQ(recorded.image[(static_cast<size_t>(y) * 128 + x) * 3], 0);

  std::atomic<bool> cancel{false};
  ChunkRun cancelled = run();
  cancelled.cancel = &cancel;
  cancelled.progress = [&](double, const std::string& label) {
    if (testing::contains(label, "step 1/")) cancel = true;
  };
  Recorded nothing;
  Source plain;
  const ChunkStats stopped =
      run_chunks(cancelled, make_chunk_layout(256, 256, 64, 16, 8, 8), plain, recorder(nothing, 256));
  EXPECT_EQ(stopped.status, engine::Status::Cancelled);
  EXPECT_EQ(stopped.generated, 0);
  EXPECT_TRUE(nothing.image.empty());
}

}  // namespace
}  // namespace terrasynth::pipeline::detail
