#include "sched/noise.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "terrasynth/engine/error.h"

namespace terrasynth::engine::sched {
namespace {

constexpr uint64_t kGolden = 0x9E3779B97F4A7C15ull;

// splitmix64's finaliser (Steele, Lea & Flood 2014): a bijective 64-bit mixer.
inline uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

inline uint64_t row_key(uint64_t seed, uint64_t stream, int channel, int64_t y) {
  uint64_t k = mix64(seed + kGolden);
  k = mix64(k ^ mix64(stream + 0x632BE59BD9B4E019ull));
  k = mix64(k ^ mix64(static_cast<uint64_t>(channel) + 0x8CB92BA72F3D8DD7ull));
  return mix64(k ^ mix64(static_cast<uint64_t>(y) + 0xD6E8FEB86659FD93ull));
}

// Floor division by 2 for negative coordinates too.
inline int64_t pair_of(int64_t x) { return (x - (x < 0 ? 1 : 0)) / 2; }

// Box-Muller on 4 pairs. `radius_bits` are 31-bit integers k giving u1 = (k + 0.5) 2^-31, the
// `angle_bits` 32-bit integers giving the angle 2 pi a / 2^32. Both paths below perform the same
// IEEE single-precision operations in the same order (no fused multiply-add), so they agree
// bit for bit. ln uses the Cephes logf polynomial, sin/cos the Cephes sinf/cosf polynomials on
// [-pi/4, pi/4] with an exact quadrant reduction of the angle bits. (Builds that let the compiler
// contract a * b + c into fused multiply-adds, e.g. -mfma, would change the last bits.)
constexpr float kLogP[9] = {7.0376836292E-2f,  -1.1514610310E-1f, 1.1676998740E-1f,
                            -1.2420140846E-1f, 1.4249322787E-1f,  -1.6668057665E-1f,
                            2.0000714765E-1f,  -2.4999993993E-1f, 3.3333331174E-1f};

#if defined(__SSE2__)
inline __m128 madd(__m128 a, __m128 b, float c) { return _mm_add_ps(_mm_mul_ps(a, b), _mm_set1_ps(c)); }

void box_muller4(const int32_t* radius_bits, const int32_t* angle_bits, float* z_cos,
                 float* z_sin) {
  const __m128i k = _mm_loadu_si128(reinterpret_cast<const __m128i*>(radius_bits));
  const __m128 u = _mm_mul_ps(_mm_add_ps(_mm_cvtepi32_ps(k), _mm_set1_ps(0.5f)),
                              _mm_set1_ps(4.656612873077392578125e-10f));
  // ln(u) = ln(m) + e ln 2 with m in [sqrt(1/2), sqrt(2)).
  const __m128i b = _mm_castps_si128(u);
  __m128i e = _mm_sub_epi32(_mm_srli_epi32(b, 23), _mm_set1_epi32(126));
  __m128i mb = _mm_or_si128(_mm_and_si128(b, _mm_set1_epi32(0x007fffff)), _mm_set1_epi32(0x3f000000));
  const __m128i small = _mm_cmplt_epi32(mb, _mm_set1_epi32(0x3f3504f3));
  e = _mm_add_epi32(e, small);
  mb = _mm_add_epi32(mb, _mm_and_si128(small, _mm_set1_epi32(1 << 23)));
  const __m128 m = _mm_sub_ps(_mm_castsi128_ps(mb), _mm_set1_ps(1.0f));
  const __m128 z = _mm_mul_ps(m, m);
  __m128 y = _mm_set1_ps(kLogP[0]);
  for (int i = 1; i < 9; ++i) y = madd(y, m, kLogP[i]);
  y = _mm_mul_ps(_mm_mul_ps(y, m), z);
  const __m128 fe = _mm_cvtepi32_ps(e);
  y = _mm_add_ps(y, _mm_mul_ps(_mm_set1_ps(-2.12194440e-4f), fe));
  y = _mm_add_ps(y, _mm_mul_ps(_mm_set1_ps(-0.5f), z));
  __m128 ln = _mm_add_ps(m, y);
  ln = _mm_add_ps(ln, _mm_mul_ps(_mm_set1_ps(0.693359375f), fe));
  const __m128 r = _mm_sqrt_ps(_mm_mul_ps(_mm_set1_ps(-2.0f), ln));

  const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(angle_bits));
  const __m128i q = _mm_srli_epi32(h, 30);
  const __m128i frac = _mm_srli_epi32(_mm_and_si128(h, _mm_set1_epi32(0x3fffffff)), 6);
  const __m128 f = _mm_sub_ps(_mm_mul_ps(_mm_cvtepi32_ps(frac), _mm_set1_ps(5.9604644775390625e-08f)),
                              _mm_set1_ps(0.5f));
  const __m128 a = _mm_mul_ps(f, _mm_set1_ps(1.57079632679489661923f));
  const __m128 a2 = _mm_mul_ps(a, a);
  __m128 sp = madd(_mm_set1_ps(-1.9515295891E-4f), a2, 8.3321608736E-3f);
  sp = madd(sp, a2, -1.6666654611E-1f);
  const __m128 sa = _mm_add_ps(_mm_mul_ps(_mm_mul_ps(sp, a2), a), a);
  __m128 cp = madd(_mm_set1_ps(2.443315711809948E-5f), a2, -1.388731625493765E-3f);
  cp = madd(cp, a2, 4.166664568298827E-2f);
  const __m128 ca = _mm_add_ps(
      _mm_sub_ps(_mm_mul_ps(_mm_mul_ps(cp, a2), a2), _mm_mul_ps(_mm_set1_ps(0.5f), a2)),
      _mm_set1_ps(1.0f));
  const __m128 odd =
      _mm_castsi128_ps(_mm_cmpeq_epi32(_mm_and_si128(q, _mm_set1_epi32(1)), _mm_set1_epi32(1)));
  __m128 s = _mm_or_ps(_mm_and_ps(odd, ca), _mm_andnot_ps(odd, sa));
  __m128 c = _mm_or_ps(_mm_and_ps(odd, sa), _mm_andnot_ps(odd, ca));
  s = _mm_xor_ps(s, _mm_castsi128_ps(_mm_slli_epi32(_mm_and_si128(q, _mm_set1_epi32(2)), 30)));
  c = _mm_xor_ps(c, _mm_castsi128_ps(_mm_slli_epi32(
                        _mm_and_si128(_mm_add_epi32(q, _mm_set1_epi32(1)), _mm_set1_epi32(2)), 30)));
  _mm_storeu_ps(z_cos, _mm_mul_ps(r, c));
  _mm_storeu_ps(z_sin, _mm_mul_ps(r, s));
}
#else
inline float bits_to_float(uint32_t b) {
  float f;
  std::memcpy(&f, &b, 4);
  return f;
}
inline uint32_t float_to_bits(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}

void box_muller4(const int32_t* radius_bits, const int32_t* angle_bits, float* z_cos,
                 float* z_sin) {
  for (int lane = 0; lane < 4; ++lane) {
    const float u = (static_cast<float>(radius_bits[lane]) + 0.5f) * 4.656612873077392578125e-10f;
    const uint32_t b = float_to_bits(u);
    int32_t e = static_cast<int32_t>(b >> 23) - 126;
    uint32_t mb = (b & 0x007fffffu) | 0x3f000000u;
    const uint32_t small = mb < 0x3f3504f3u ? 1u : 0u;
    e -= static_cast<int32_t>(small);
    mb += small << 23;
    const float m = bits_to_float(mb) - 1.0f;
    const float z = m * m;
    float y = kLogP[0];
    for (int i = 1; i < 9; ++i) y = y * m + kLogP[i];
    y = y * m * z;
    const float fe = static_cast<float>(e);
    y = y + -2.12194440e-4f * fe;
    y = y + -0.5f * z;
    float ln = m + y;
    ln = ln + 0.693359375f * fe;
    const float r = std::sqrt(-2.0f * ln);

    const uint32_t h = static_cast<uint32_t>(angle_bits[lane]);
    const uint32_t q = h >> 30;
    const float f = static_cast<float>((h & 0x3fffffffu) >> 6) * 5.9604644775390625e-08f - 0.5f;
    const float a = f * 1.57079632679489661923f;
    const float a2 = a * a;
    const float sa = ((-1.9515295891E-4f * a2 + 8.3321608736E-3f) * a2 - 1.6666654611E-1f) * a2 * a + a;
    const float ca = ((2.443315711809948E-5f * a2 - 1.388731625493765E-3f) * a2 +
                      4.166664568298827E-2f) * a2 * a2 - 0.5f * a2 + 1.0f;
    uint32_t sb = (q & 1u) ? float_to_bits(ca) : float_to_bits(sa);
    uint32_t cb = (q & 1u) ? float_to_bits(sa) : float_to_bits(ca);
    sb ^= (q & 2u) << 30;
    cb ^= ((q + 1u) & 2u) << 30;
    z_cos[lane] = r * bits_to_float(cb);
    z_sin[lane] = r * bits_to_float(sb);
  }
}
#endif

void fill_row(float* out, uint64_t key, int64_t x0, int64_t width) {
  constexpr int kBlock = 64;  // pairs per block, a multiple of 4
  alignas(16) int32_t radius_bits[kBlock];
  alignas(16) int32_t angle_bits[kBlock];
  alignas(16) float z_cos[kBlock];
  alignas(16) float z_sin[kBlock];
  const int64_t x_end = x0 + width;
  const int64_t first_pair = pair_of(x0);
  const int64_t last_pair = pair_of(x_end - 1);
  for (int64_t p0 = first_pair; p0 <= last_pair; p0 += kBlock) {
    const int n = static_cast<int>(std::min<int64_t>(kBlock, last_pair - p0 + 1));
    const int padded = (n + 3) & ~3;
    for (int j = 0; j < padded; ++j) {
      const uint64_t h = mix64(key + static_cast<uint64_t>(p0 + j) * kGolden);
      radius_bits[j] = static_cast<int32_t>(h >> 33);
      angle_bits[j] = static_cast<int32_t>(static_cast<uint32_t>(h));
    }
    for (int j = 0; j < padded; j += 4)
      box_muller4(radius_bits + j, angle_bits + j, z_cos + j, z_sin + j);
    for (int j = 0; j < n; ++j) {
      const int64_t x_even = 2 * (p0 + j);
      if (x_even >= x0 && x_even < x_end) out[x_even - x0] = z_cos[j];
      if (x_even + 1 >= x0 && x_even + 1 < x_end) out[x_even + 1 - x0] = z_sin[j];
    }
  }
}

}  // namespace

uint64_t noise_stream(NoiseUse use, int step, int pass) {
  return (static_cast<uint64_t>(use) << 56) ^ (static_cast<uint64_t>(static_cast<uint32_t>(pass)) << 32) ^
         static_cast<uint64_t>(static_cast<uint32_t>(step));
}

void CounterNoise::fill(float* out, int64_t x0, int64_t y0, int64_t width, int64_t height,
                        int channels, uint64_t stream) const {
  if (width < 0 || height < 0 || channels < 0)
    throw EngineError(EngineError::Kind::InvalidArgument,
                      "noise window " + std::to_string(width) + "x" + std::to_string(height) +
                          "x" + std::to_string(channels) + " has a negative size");
  if (width == 0 || height == 0 || channels == 0) return;
  const int64_t rows = static_cast<int64_t>(channels) * height;
  const int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(width, 1));
  const uint64_t seed = seed_;
  at::parallel_for(0, rows, grain, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const int channel = static_cast<int>(r / height);
      const int64_t y = y0 + r % height;
      fill_row(out + r * width, row_key(seed, stream, channel, y), x0, width);
    }
  });
}

torch::Tensor CounterNoise::window(int64_t x0, int64_t y0, int64_t width, int64_t height,
                                   int channels, uint64_t stream) const {
  torch::Tensor t = torch::empty({1, channels, height, width}, torch::kFloat32);
  fill(t.data_ptr<float>(), x0, y0, width, height, channels, stream);
  return t;
}

float CounterNoise::at(int64_t x, int64_t y, int channel, uint64_t stream) const {
  float v = 0;
  fill_row(&v, row_key(seed_, stream, channel, y), x, 1);
  return v;
}

NoiseFn canvas_noise(const CounterNoise& generator, int64_t x0, int64_t y0, int64_t width,
                     int64_t height, int channels, torch::Device device, torch::ScalarType dtype) {
  return [generator, x0, y0, width, height, channels, device, dtype](NoiseUse use, int step,
                                                                    int pass) {
    torch::Tensor n =
        generator.window(x0, y0, width, height, channels, noise_stream(use, step, pass));
    if (device.is_cpu() && dtype == torch::kFloat32) return n;
    return n.to(device, dtype);
  };
}

}  // namespace terrasynth::engine::sched
