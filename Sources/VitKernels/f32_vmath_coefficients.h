// The coefficients of the exp and GELU approximations, in one place for every ISA
// (f32_vmath_xsimd.h for SSE2/NEON, f32_rowops__avx2.cpp, f32_rowops__avx512f.cpp), so
// the routes cannot drift apart. Each evaluates the same Horner steps. Private header.
#pragma once

namespace vk {
namespace coef {

// Cephes' expf: x = n·ln2 + r with ln2 split in two, then
// exp(r) ≈ 1 + r + r²·(c0·r⁵ + ... + c5), Horner from kExp[0].
constexpr float kLog2e = 1.44269504088896341f;
constexpr float kLn2Hi = 0.693359375f, kLn2Lo = -2.12194440e-4f;
constexpr float kExp[6] = {1.9875691500e-4f, 1.3981999507e-3f, 8.3334519073e-3f,
                           4.1665795894e-2f, 1.6666665459e-1f, 5.0000001201e-1f};

// GELU (erf form): erf(t) = t·P(t²)/Q(t²) on |t| ≤ kErfClamp, a 6/5 rational fitted by
// tools/fit_gelu.py; Horner from index 0.
constexpr float kInvSqrt2 = 0.70710678118654752f;
constexpr float kErfClamp = 3.92f;
constexpr float kErfP[6] = {2.090952420985559e-06f, 0.00028652598848566413f, 0.00372931151650846f,
                            0.05264107137918472f, 0.18923436105251312f, 1.1283791065216064f};
constexpr float kErfQ[6] = {3.86016872653272e-05f, 0.0011583977611735463f, 0.014893033541738987f,
                            0.11366835981607437f, 0.5010368227958679f, 1.0f};

// GELU (tanh form): x · sigmoid(2·√(2/π)·(x + 0.044715·x³)).
constexpr float kSqrt2OverPi = 0.79788456080286536f;
constexpr float kGeluCubic = 0.044715f;

}  // namespace coef
}  // namespace vk
