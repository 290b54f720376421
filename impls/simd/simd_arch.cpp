// Arch names, CPU detection (via xsimd's cpuid) and the forced/env/auto selection rule.
#include "impls/simd/simd_arch.hpp"

#include <atomic>
#include <cstdlib>
#include <xsimd/config/xsimd_config.hpp>
#include <xsimd/config/xsimd_cpuid.hpp>

namespace convlab::simd {

namespace {
// -1: not forced; otherwise the Arch value.
std::atomic<int> g_forced_arch{-1};

std::string list_names(const std::vector<Arch>& archs) {
  std::string names;
  for (Arch arch : archs) names += (names.empty() ? "" : ", ") + std::string(arch_name(arch));
  return names.empty() ? "none" : names;
}
}  // namespace

std::string_view arch_name(Arch arch) {
  switch (arch) {
    case Arch::sse2: return "sse2";
    case Arch::avx2: return "avx2";
    case Arch::avx512f: return "avx512f";
  }
  return "unknown";
}

Arch parse_arch(std::string_view name) {
  if (name == "sse2") return Arch::sse2;
  if (name == "avx2") return Arch::avx2;
  if (name == "avx512f") return Arch::avx512f;
  throw ArchError("impls/simd: unknown arch '" + std::string(name) + "' (expected sse2, avx2, avx512f or auto)");
}

const CpuFeatures& detected_cpu_features() {
  static const CpuFeatures features = [] {
    const auto cpu = xsimd::available_architectures();
    CpuFeatures detected;
    detected.sse2 = cpu.sse2;
    detected.fma3_avx2 = cpu.fma3_avx2;
    detected.avx512f = cpu.avx512f;
    detected.avx512dq = cpu.avx512dq;
    return detected;
  }();
  return features;
}

std::vector<Arch> available_archs(const CpuFeatures& cpu) {
  std::vector<Arch> archs;
  // The avx512f kernels are compiled with -mavx512dq (xsimd 8.1 uses a DQ instruction there).
  if (cpu.avx512f && cpu.avx512dq) archs.push_back(Arch::avx512f);
  if (cpu.fma3_avx2) archs.push_back(Arch::avx2);
  if (cpu.sse2) archs.push_back(Arch::sse2);
  return archs;
}

bool arch_available(Arch arch, const CpuFeatures& cpu) {
  for (Arch candidate : available_archs(cpu)) {
    if (candidate == arch) return true;
  }
  return false;
}

void set_forced_arch(std::optional<Arch> arch, const CpuFeatures& cpu) {
  if (arch && !arch_available(*arch, cpu)) {
    throw ArchError("impls/simd: cannot force arch " + std::string(arch_name(*arch)) +
                    ": this CPU lacks it (available: " + list_names(available_archs(cpu)) + ")");
  }
  g_forced_arch.store(arch ? int(*arch) : -1);
}

std::optional<Arch> forced_arch() {
  const int value = g_forced_arch.load();
  if (value < 0) return std::nullopt;
  return Arch(value);
}

Arch resolve_arch(std::string_view request, const std::vector<Arch>& available) {
  if (available.empty()) throw ArchError("impls/simd: this CPU supports none of sse2, avx2, avx512f");
  if (request.empty() || request == "auto") return available.front();
  const Arch wanted = parse_arch(request);
  for (Arch arch : available) {
    if (arch == wanted) return arch;
  }
  throw ArchError("impls/simd: " + std::string(kArchEnvVar) + "=" + std::string(request) +
                  " asks for an arch this CPU lacks (available: " + list_names(available) + ")");
}

Arch selected_arch(const CpuFeatures& cpu) {
  if (const auto forced = forced_arch()) return *forced;
  const char* request = std::getenv(kArchEnvVar);
  return resolve_arch(request ? std::string_view(request) : std::string_view(), available_archs(cpu));
}

}  // namespace convlab::simd
