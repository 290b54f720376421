// Chapter 9: convolution by the convolution theorem on one row. Transform the padded input and the window
// (a DFT of L points each), multiply point by point, transform back: the L outputs of a circular
// correlation. With L >= input + padding (and >= window and output sizes) the wrap-around only ever reads
// zeros, and the first outputs are the layer's; with L too small, data wraps onto the edges.
#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdio>
#include <vector>

// Radix-2 FFT, recursive (L a power of two); sign -1 forward, +1 inverse (unnormalised).
template <typename T>
std::vector<std::complex<T>> fft(const std::vector<std::complex<T>>& a, int sign) {
  const std::size_t n = a.size();
  if (n == 1) return a;
  std::vector<std::complex<T>> even(n / 2), odd(n / 2);
  for (std::size_t i = 0; i < n / 2; ++i) even[i] = a[2 * i], odd[i] = a[2 * i + 1];
  const auto e = fft(even, sign), o = fft(odd, sign);
  std::vector<std::complex<T>> out(n);
  for (std::size_t k = 0; k < n / 2; ++k) {
    const std::complex<T> t = std::polar(T(1), T(sign * 2 * M_PI * double(k) / double(n))) * o[k];
    out[k] = e[k] + t;
    out[k + n / 2] = e[k] - t;
  }
  return out;
}

// The correlation y[o] = sum_k w[k] x[o + k - pad] (zeros outside x) by DFTs of `size` points (not
// necessarily a power of two here: a plain DFT when it is not, so that a too-small size can be shown).
template <typename T>
std::vector<T> by_transform(const std::vector<T>& x, const std::vector<T>& w, int pad, std::size_t size,
                            std::size_t outputs) {
  std::vector<std::complex<T>> xs(size), ws(size);
  for (std::size_t i = 0; i < x.size(); ++i) xs[(i + std::size_t(pad)) % size] += x[i];  // padded input
  for (std::size_t k = 0; k < w.size(); ++k) ws[k % size] += w[k];
  const bool power_of_two = (size & (size - 1)) == 0;
  const auto dft = [&](const std::vector<std::complex<T>>& a, int sign) {
    if (power_of_two) return fft(a, sign);
    std::vector<std::complex<T>> out(size);
    for (std::size_t k = 0; k < size; ++k)
      for (std::size_t j = 0; j < size; ++j)
        out[k] += a[j] * std::polar(T(1), T(sign * 2 * M_PI * double(j * k % size) / double(size)));
    return out;
  };
  const auto X = dft(xs, -1), W = dft(ws, -1);
  std::vector<std::complex<T>> Y(size);
  for (std::size_t k = 0; k < size; ++k) Y[k] = std::conj(W[k]) * X[k];  // correlation: conj of the window's
  const auto y = dft(Y, +1);
  std::vector<T> out(outputs);
  for (std::size_t o = 0; o < outputs; ++o) out[o] = y[o].real() / T(size);
  return out;
}

void print(const char* label, const std::vector<double>& y) {
  std::printf("%-28s", label);
  for (double v : y) std::printf(" %6.2f", std::abs(v) < 5e-13 ? 0.0 : v);
  std::printf("\n");
}

int main() {
  const std::vector<double> x = {1, 2, 3, 4, 5, 6};  // 6 inputs
  const std::vector<double> w = {1, 10, 100};        // a 3-tap window, padding 1: 6 outputs
  const int pad = 1;
  std::vector<double> direct(6);
  for (int o = 0; o < 6; ++o)
    for (int k = 0; k < 3; ++k) {
      const int i = o + k - pad;
      if (i >= 0 && i < 6) direct[std::size_t(o)] += w[std::size_t(k)] * x[std::size_t(i)];
    }
  print("direct:", direct);
  print("fft, L = 8 (>= 6 + 1):", by_transform(x, w, pad, 8, 6));
  print("dft, L = 6 (too small):", by_transform(x, w, pad, 6, 6));

  // Float: the FFT's error is spread over the whole row. A spike and ones under a second difference: every
  // output away from the spike is exactly 0, and the direct sums (of small integers) get them exactly.
  std::vector<float> spike(14, 1.0f);
  spike[3] = 1000.0f;
  const std::vector<float> second = {1, -2, 1};
  const std::vector<float> y = by_transform(spike, second, 0, 16, 12);
  float far = 0;  // the largest |error| among the outputs that do not see the spike (exactly 0)
  for (std::size_t o = 6; o < 12; ++o) far = std::max(far, std::abs(y[o]));
  std::printf("float fft, outputs that are exactly 0: largest |computed| nonzero: %s, below 1e-3: %s\n",
              far > 0 ? "yes" : "no", far < 1e-3f ? "yes" : "no");

  // The multiply-adds per (image, filter, channel) of a 28x28 plane with 'same' padding: direct k^2 per
  // output; the FFT's pointwise complex products, 4 real multiply-adds per point of the transform plane
  // (whose transforms are paid per plane, not per channel pair).
  std::printf("28x28, same padding:  window  plane    direct  pointwise\n");
  for (int k : {3, 5, 7, 11}) {
    int plane = 1;
    while (plane < 28 + (k - 1) / 2) plane *= 2;
    std::printf("                      %2dx%-2d   %2dx%-2d  %7d  %9d\n", k, k, plane, plane, 28 * 28 * k * k,
                4 * plane * plane);
  }
}
