#include "runtime/sample_grid.h"

#include "runtime/generation.h"

namespace terrasynth::engine {

namespace {
void paste(Image& canvas, const Image& tile, int x0, int y0) {
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < tile.height; ++y)
      for (int x = 0; x < tile.width; ++x) canvas.at(c, y0 + y, x0 + x) = tile.at(c, y, x);
}
}  // namespace

Image render_preview_grid(DenoiserNetwork& network, const Manifest& manifest,
                          const sched::NoiseSchedule& schedule, const std::vector<TrainSample>& samples,
                          uint64_t seed) {
  if (samples.empty()) return Image();
  const int size = samples[0].image.height, gap = 2;
  Image canvas(3, static_cast<int>(samples.size()) * (size + gap) - gap, 3 * (size + gap) - gap, 1.f);
  const bool was_training = network.module().is_training();
  network.module().eval();
  GenerationContext context;
  context.network = &network;
  context.manifest = &manifest;
  context.schedule = &schedule;
  context.device = network.module().parameters().front().device();
  for (size_t i = 0; i < samples.size(); ++i) {
    const TrainSample& sample = samples[i];
    Image layout(3, size, size, 0.f);
    if (!sample.layout.empty())
      for (int y = 0; y < size; ++y)
        for (int x = 0; x < size; ++x) {
          const uint8_t id = sample.layout.at(y, x);
          if (id < manifest.info.palette.size())
            for (int c = 0; c < 3; ++c) layout.at(c, y, x) = manifest.info.palette[id][c] / 255.f;
        }
    GenerateRequest request;
    request.width = request.height = size;
    request.layout = sample.layout;
    if (sample.style >= 0 && sample.style < static_cast<int>(manifest.info.styles.size()))
      request.style = manifest.info.styles[sample.style];
    if (sample.scene >= 0 && sample.scene < static_cast<int>(manifest.info.scenes.size()))
      request.scene = manifest.info.scenes[sample.scene];
    request.gsd = sample.gsd;
    request.sampler.seed = seed + i;
    const GenerateResult result = run_generation(context, request, {}, nullptr);
    const int y0 = static_cast<int>(i) * (size + gap);
    paste(canvas, layout, 0, y0);
    paste(canvas, sample.image, size + gap, y0);
    paste(canvas, result.image, 2 * (size + gap), y0);
  }
  if (was_training) network.module().train();
  return canvas;
}

}  // namespace terrasynth::engine
