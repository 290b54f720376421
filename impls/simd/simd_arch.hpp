// Which instruction set the simd (and openmp) convolution kernels run with, and how to force one.
//
// Each arch's kernels live in their own translation unit built with only that arch's flags, so the
// choice is made at run time: the best one this CPU supports, unless the environment variable
// CONVLAB_SIMD_ARCH (sse2 | avx2 | avx512f | auto) or set_forced_arch() asks for another. The choice is
// read when an implementation object is created. Asking for an arch the CPU lacks throws.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace convlab::simd {

enum class Arch { sse2, avx2, avx512f };  // avx2 means AVX2 + FMA; avx512f means AVX-512 F + DQ

class ArchError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

inline constexpr const char* kArchEnvVar = "CONVLAB_SIMD_ARCH";

std::string_view arch_name(Arch arch);
// "sse2", "avx2", "avx512f"; throws ArchError naming the accepted spellings otherwise.
Arch parse_arch(std::string_view name);

// The CPU features the archs need. Every function below that asks "does the CPU have it" takes them as a
// parameter defaulting to this CPU's, so tests can pose as a CPU without AVX-512 on any machine.
struct CpuFeatures {
  bool sse2 = false;
  bool fma3_avx2 = false;  // AVX2 and FMA3
  bool avx512f = false;
  bool avx512dq = false;
};
// This CPU's features (xsimd's cpuid), read once.
const CpuFeatures& detected_cpu_features();

// Archs `cpu` can run, best first (always ends with sse2 on x86-64).
std::vector<Arch> available_archs(const CpuFeatures& cpu = detected_cpu_features());
bool arch_available(Arch arch, const CpuFeatures& cpu = detected_cpu_features());

// Process-wide override used by objects created afterwards; std::nullopt restores env/auto selection.
// Throws ArchError (and changes nothing) if `cpu` (this CPU unless a test says otherwise) lacks `arch`.
void set_forced_arch(std::optional<Arch> arch, const CpuFeatures& cpu = detected_cpu_features());
std::optional<Arch> forced_arch();

// The pure selection rule, exposed for tests: `request` is an env value ("" or "auto" = best of
// `available`), failure names the request and what is available.
Arch resolve_arch(std::string_view request, const std::vector<Arch>& available);

// What a new object uses: the forced arch if set, else CONVLAB_SIMD_ARCH, else the best `cpu` has.
Arch selected_arch(const CpuFeatures& cpu = detected_cpu_features());

}  // namespace convlab::simd
