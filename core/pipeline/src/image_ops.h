#pragma once
// Small in-memory raster operations of the inpainting pipeline: resampling planes between the
// raster's resolution and the working resolution, distances to a mask (growing and feathering),
// robust percentiles and the per-band linear regression that predicts extra bands from RGB.
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

namespace terrasynth::pipeline::detail {

// A row-major plane of floats.
struct Plane {
  int width = 0;
  int height = 0;
  std::vector<float> data;

  Plane() = default;
  Plane(int w, int h, float fill = 0.f)
      : width(w), height(h), data(static_cast<size_t>(w) * h, fill) {}
  float& at(int x, int y) { return data[static_cast<size_t>(y) * width + x]; }
  float at(int x, int y) const { return data[static_cast<size_t>(y) * width + x]; }
};

// Resamples to width x height: area average along an axis that shrinks, linear interpolation
// (pixel centres aligned, edges clamped) along an axis that grows; same size is a copy.
Plane resample(const Plane& source, int width, int height);
// The largest value each target pixel's footprint touches (a conservative mask resampling):
// along a growing axis the two nearest source pixels, along a shrinking one the covered ones.
Plane resample_max(const Plane& source, int width, int height);

// Euclidean-like (chamfer 1, sqrt 2) distance in pixels from every pixel to the nearest pixel
// where `inside` is non-zero; 0 there, a large value when nothing is inside.
Plane distance_to(const std::vector<uint8_t>& inside, int width, int height);

// The soft inpainting mask: 1 where inside, a linear ramp 1 - d / (feather + 1) over `feather`
// pixels outside, 0 beyond.
Plane feathered(const Plane& distance, double feather);

// Replaces the values where `unknown` is non-zero by the harmonic interpolation of the others:
// the solution of Laplace's equation with the known values as boundary conditions, smooth inside
// and equal to the known values across the border of every unknown region (a linear ramp stays
// a linear ramp). Solved coarse to fine: 2 x 2 averages down to a few dozen pixels, then
// over-relaxed Gauss-Seidel sweeps at every level. With no known value the plane is unchanged.
void harmonic_fill(Plane& plane, const std::vector<uint8_t>& unknown);

// Continues a class map into the pixels where `unknown` is non-zero (and over pixels whose class
// is >= num_classes): each class's indicator is interpolated harmonically from the known pixels
// and, relative to the class's share of the holes' border (plus 0.1), the largest wins, so a
// forest edge or a road that enters a hole goes on across it. Known pixels keep their class.
// All-unknown input gives all-unknown (255) output.
std::vector<uint8_t> continue_classes(const std::vector<uint8_t>& classes,
                                      const std::vector<uint8_t>& unknown, int width, int height,
                                      int num_classes);

// Structure bridging for inpainting, independent of any class map: the real pixels (usable,
// mask 0) are averaged on blocks of `block` pixels and grouped by colour (k-means, `clusters`
// groups); where a group forms a thin band that meets the masked area on two sides pointing at
// each other (a road, path, wall or pier), or runs through it to the edge, the band is drawn
// across in the group's mean colour (as continue_classes bridges thin classes), blended by the
// mask. Only pixels with mask > 0 change; returns the number of pixels painted.
int bridge_structures(std::array<Plane, 3>& image, const Plane& mask, const std::vector<uint8_t>& usable,
                      int block = 4, int clusters = 6);

// Mean over a (2 radius + 1)^2 box counting only pixels whose weight is > 0; `valid` (if given)
// is set to 1 where the box held any such pixel.
Plane masked_box_mean(const Plane& plane, const Plane& weight, int radius,
                      std::vector<uint8_t>* valid = nullptr);

// Harmonises regenerated pixels with their surroundings before they are blended in (the
// compositing step of seamless cloning):
// - tone: the local mean colour of the generated pixels along the inner border of the fully
//   regenerated area (mask == 1) is brought to that of the real pixels across it (boxes of
//   `radius` pixels); the correction is continued harmonically inside, so it fades smoothly
//   into the area, and across the feather down to 0 at the real pixels;
// - variation: detail below a box of 2 radius, in luma and two colour-difference channels, is
//   scaled down (never up, at most to 20 %) where the generated area varies more than the real
//   pixels near it;
// - grain: when the generated pixels carry more fine variation than the real ones around them,
//   it is reduced to the surroundings' level, first the finest (the residual of a 3 x 3 box
//   blur), then all below 5 x 5 pixels.
// Only pixels with mask > 0 change. Returns the fraction of the generated grain below 5 x 5
// pixels that was removed (0 - 1).
double harmonise(std::array<Plane, 3>& generated, const std::array<Plane, 3>& known,
                 const Plane& mask, int radius);

// Options of transfer_texture.
struct TextureOptions {
  int patch_radius = 3;       // patches of (2 r + 1)^2 pixels
  int iterations = 4;         // match-and-copy rounds
  double guide_weight = 1.0;  // weight of the low-pass guide against the patch itself
  int guide_radius = 8;       // box radius of the guide's low pass
  double guide_tolerance = 0.05;  // low-pass differences up to this much (0 - 1) are free
  uint64_t seed = 0;          // the random search (same seed, same pixels)
  bool centre_copy = true;    // rounds before the last copy only the patch centres; else vote
  int final_vote_radius = 1;  // the last round averages the matches of patches this close
  double coherence = 0.1;     // discount of a match that continues a neighbour's (0 - 1)
  double class_weight = 0.05; // texture_by_example: cost of a patch pixel of another class
  bool match_guide_detail = false;  // the first round also matches the guide's own detail
};

// Guided texture synthesis (patch-based completion as in Wexler et al., with PatchMatch search
// and the regenerated pixels as the guide): every pixel where mask > 0 is rebuilt from patches
// of the pixels where `usable` is non-zero and mask is 0 (real, valid pixels), chosen so that
// their low pass (a box of guide_radius) stays within guide_tolerance of the regenerated
// content's (which keeps its structure: the road, tree line or shore the model drew, but not
// its exact tone) and their detail continues the real pixels across the border and the
// already rebuilt neighbours. Coarse to fine: a large area is first solved at half size and its
// matches start the finer level. Each round searches the nearest patches (propagation from
// neighbours, with a small bonus for continuing a neighbour's match, and random search at
// halving radii) and copies the matched pixels; the last round averages the matches of the
// patches within final_vote_radius, which softens the joins between copied pieces. Only
// pixels with mask > 0 change. Returns the mean squared difference per pixel and band between
// the result and the guide's low pass there, or -1 (nothing changed) when the surroundings
// hold fewer than 16 whole usable patches. `cancelled` (if given) is polled per round; a
// cancelled call leaves `image` unchanged and returns -1.
double transfer_texture(std::array<Plane, 3>& image, const Plane& mask,
                        const std::vector<uint8_t>& usable, const TextureOptions& options,
                        const std::function<bool()>& cancelled = {});

// A real photo with its class map (same size), a source of texture_by_example.
struct Example {
  std::array<Plane, 3> rgb;
  std::vector<uint8_t> classes;
};

// Texture by numbers (as in Hertzmann et al., Image Analogies) guided by a generated image: every
// pixel where mask > 0 is rebuilt, as transfer_texture does, from patches of the examples and of
// the image's own pixels where mask is 0 (which stay as they are), now also matching classes: a
// patch pixel whose class differs from the one `classes` asks for there costs
// options.class_weight (255 or an empty map: any class). So the road the layout draws is built
// from real road patches even where the generated guide shows none, and a forest from real
// crowns with their shadows; the guide's low pass keeps the generated tones and structure.
// Returns as transfer_texture does (-1: fewer than 16 whole patches, or cancelled; image
// unchanged).
double texture_by_example(std::array<Plane, 3>& image, const Plane& mask,
                          const std::vector<uint8_t>& classes, const std::vector<Example>& examples,
                          const TextureOptions& options, const std::function<bool()>& cancelled = {});

// The p-th percentile (p in [0, 100]) of the values, by nearest rank; values are reordered.
double percentile(std::vector<float>& values, double p);

// Least squares y = c0 + c1 r + c2 g + c3 b accumulated sample by sample.
class LinearFit {
 public:
  void add(double r, double g, double b, double y);
  size_t samples() const { return samples_; }
  // The coefficients; a constant fit (the mean) when the colours do not span the space.
  std::array<double, 4> solve() const;
  static double predict(const std::array<double, 4>& c, double r, double g, double b) {
    return c[0] + c[1] * r + c[2] * g + c[3] * b;
  }

 private:
  std::array<std::array<double, 4>, 4> xtx_{};
  std::array<double, 4> xty_{};
  size_t samples_ = 0;
};

}  // namespace terrasynth::pipeline::detail
