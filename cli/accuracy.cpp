// `convlab accuracy`'s engine (see accuracy.hpp; compiled with -ffp-contract=off, cli/CMakeLists.txt).
#include "cli/accuracy.hpp"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iomanip>
#include <limits>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>

#include "common/conv/conv_registry.hpp"
#include "common/data/datasets.hpp"
#include "common/machine/parallel_for.hpp"
#include "impls/fft/fft_bound.hpp"
#include "impls/winograd/winograd_bound.hpp"
#include "impls/winograd/winograd_conv.hpp"

namespace convlab {

namespace {

template <typename T>
constexpr double unit_roundoff() {
  return std::ldexp(1.0, -std::numeric_limits<T>::digits);  // 2^-24, 2^-53
}

template <typename T>
const char* type_name() {
  return sizeof(T) == sizeof(float) ? "float32" : "float64";
}

// Exact-enough sums (see the header): long double for float operands, double-double for double ones.
struct LongDoubleSum {
  long double sum = 0;
  void add(double a, double b) { sum += static_cast<long double>(a) * static_cast<long double>(b); }
  void add(double a) { sum += a; }
  long double value() const { return sum; }
};

struct DoubleDoubleSum {
  double hi = 0, lo = 0;
  void add_exact(double p) {  // TwoSum: hi + p = s + e exactly
    const double s = hi + p;
    const double z = s - hi;
    const double e = (hi - (s - z)) + (p - z);
    hi = s;
    lo += e;
  }
  void add(double a, double b) {
    const double p = a * b;
    const double pe = std::fma(a, b, -p);  // TwoProduct: a b = p + pe exactly
    add_exact(p);
    lo += pe;
  }
  void add(double a) { add_exact(a); }
  long double value() const { return static_cast<long double>(hi) + static_cast<long double>(lo); }
};

template <typename T>
using ExactSum = std::conditional_t<sizeof(T) == sizeof(float), LongDoubleSum, DoubleDoubleSum>;

// The channels (of the output of `pass`) whose outputs are measured: at most kAccuracyReferenceChannels,
// spread evenly.
std::vector<Index> reference_channels(Index count) {
  const Index taken = std::min(count, kAccuracyReferenceChannels);
  std::vector<Index> channels;
  for (Index i = 0; i < taken; ++i) channels.push_back(i * count / taken);
  return channels;
}

// Exact outputs and magnitudes S for the measured outputs, by flat output index.
struct ExactOutputs {
  std::vector<Index> index;
  std::vector<long double> exact;
  std::vector<double> magnitude;
};

template <typename T>
ExactOutputs exact_outputs(const ConvShape& s, ConvPass pass, const AccuracyData<T>& d, int threads) {
  const Index N = s.batch, C = s.in_channels, H = s.in_height, W = s.in_width, F = s.out_channels;
  const Index KH = s.kernel_height, KW = s.kernel_width, OH = s.out_height(), OW = s.out_width();
  const bool forward = pass == ConvPass::forward;
  const Index planes = forward ? F : C, ph = forward ? OH : H, pw = forward ? OW : W;
  const std::vector<Index> channels = reference_channels(planes);
  const Index per_plane = ph * pw;
  const Index jobs = N * Index(channels.size());
  ExactOutputs out;
  out.index.resize(std::size_t(jobs * per_plane));
  out.exact.resize(out.index.size());
  out.magnitude.resize(out.index.size());
  parallel_for(jobs, threads, Schedule::dynamic, [&](Index job, Index) {
    const Index n = job / Index(channels.size()), k = channels[std::size_t(job % Index(channels.size()))];
    for (Index py = 0; py < ph; ++py)
      for (Index px = 0; px < pw; ++px) {
        ExactSum<T> sum;
        double magnitude = 0;
        if (forward) {
          const Index f = k;
          for (Index c = 0; c < C; ++c)
            for (Index ky = 0; ky < KH; ++ky) {
              const Index iy = py * s.stride_height - s.pad_height + ky;
              if (iy < 0 || iy >= H) continue;
              for (Index kx = 0; kx < KW; ++kx) {
                const Index ix = px * s.stride_width - s.pad_width + kx;
                if (ix < 0 || ix >= W) continue;
                const double w = d.w[std::size_t(((f * C + c) * KH + ky) * KW + kx)];
                const double x = d.x[std::size_t(((n * C + c) * H + iy) * W + ix)];
                sum.add(w, x);
                magnitude += std::abs(w * x);
              }
            }
          if (!d.b.empty()) {
            sum.add(double(d.b[std::size_t(f)]));
            magnitude += std::abs(double(d.b[std::size_t(f)]));
          }
        } else {
          const Index c = k;
          for (Index f = 0; f < F; ++f)
            for (Index ky = 0; ky < KH; ++ky) {
              const Index ty = py + s.pad_height - ky;
              if (ty < 0 || ty % s.stride_height != 0 || ty / s.stride_height >= OH) continue;
              const Index oy = ty / s.stride_height;
              for (Index kx = 0; kx < KW; ++kx) {
                const Index tx = px + s.pad_width - kx;
                if (tx < 0 || tx % s.stride_width != 0 || tx / s.stride_width >= OW) continue;
                const Index ox = tx / s.stride_width;
                const double w = d.w[std::size_t(((f * C + c) * KH + ky) * KW + kx)];
                const double dy = d.dy[std::size_t(((n * F + f) * OH + oy) * OW + ox)];
                sum.add(dy, w);
                magnitude += std::abs(w * dy);
              }
            }
        }
        const std::size_t slot = std::size_t(job * per_plane + py * pw + px);
        out.index[slot] = ((n * planes + k) * ph + py) * pw + px;
        out.exact[slot] = sum.value();
        out.magnitude[slot] = magnitude;
      }
  });
  return out;
}

// `scale`: Winograd's E for every output (empty: not Winograd).
template <typename T>
ErrorStats errors_against(const std::vector<T>& computed, const ExactOutputs& exact,
                          const std::vector<double>& scale = {}) {
  ErrorStats stats;
  long double squares = 0;
  const long double u = unit_roundoff<T>();
  for (std::size_t i = 0; i < exact.index.size(); ++i) {
    if (exact.magnitude[i] == 0) continue;
    const long double got = computed[std::size_t(exact.index[i])];
    const long double relative = std::abs(got - exact.exact[i]) / exact.magnitude[i] / u;
    stats.max_u = std::max(stats.max_u, double(relative));  // NaN never wins: caught below
    if (!(relative == relative)) stats.max_u = std::numeric_limits<double>::infinity();
    squares += relative * relative;
    ++stats.outputs;
    if (!scale.empty()) {
      const double e = scale[std::size_t(exact.index[i])];
      stats.max_e_over_s = std::max(stats.max_e_over_s, e / exact.magnitude[i]);
      stats.max_u_of_e = std::max(stats.max_u_of_e, double(std::abs(got - exact.exact[i]) / e / u));
    }
  }
  if (stats.outputs > 0) stats.rms_u = double(std::sqrt(squares / stats.outputs));
  return stats;
}

// The largest ||computed - exact||_2 / bound over the output planes measured (whole planes: every position of
// a reference channel is measured), `bound` per plane of the pass's output (fft_plane_error_bound).
template <typename T>
double fft_bound_ratio(const std::vector<T>& computed, const ExactOutputs& exact, const std::vector<double>& bound,
                       Index plane_size) {
  std::map<Index, long double> squares;  // by plane
  for (std::size_t i = 0; i < exact.index.size(); ++i) {
    const long double d = static_cast<long double>(computed[std::size_t(exact.index[i])]) - exact.exact[i];
    squares[exact.index[i] / plane_size] += d * d;
  }
  double worst = 0;
  for (const auto& [plane, sum] : squares) {
    const double ratio = double(std::sqrt(sum)) / bound[std::size_t(plane)];
    worst = ratio == ratio ? std::max(worst, ratio) : std::numeric_limits<double>::infinity();
  }
  return worst;
}

template <typename T>
std::vector<T> run_pass(ConvImpl& impl, const ConvShape& s, ConvPass pass, const AccuracyData<T>& d) {
  if (pass == ConvPass::forward) {
    std::vector<T> y(std::size_t(s.output_size()), std::numeric_limits<T>::quiet_NaN());
    impl.forward(s, d.x.data(), d.w.data(), d.b.empty() ? nullptr : d.b.data(), y.data());
    return y;
  }
  std::vector<T> dx(std::size_t(s.input_size()), std::numeric_limits<T>::quiet_NaN());
  impl.backward_input(s, d.dy.data(), d.w.data(), dx.data());
  return dx;
}

// The seed of one (layer, input kind, type): every implementation and pass sees the same operands, and a
// layer the same ones in the default and the --quick set.
std::uint64_t case_seed(std::uint64_t seed, const AccuracyLayer& layer, AccuracyInput input, bool is_double) {
  return seed * 1000003u + std::uint64_t(layer.window * 1000 + layer.channels) * 16u + std::uint64_t(input) * 2u +
         (is_double ? 1u : 0u);
}

std::string fixed(double value, int places) {
  std::ostringstream text;
  text << std::fixed << std::setprecision(places) << value;
  return text.str();
}

std::string cell(double value) {
  if (std::isinf(value)) return "inf";
  if (value >= 1e5) {
    std::ostringstream text;
    text << std::scientific << std::setprecision(1) << value;
    return text.str();
  }
  if (value >= 1000) return fixed(value, 0);
  if (value >= 10) return fixed(value, 1);
  return fixed(value, 2);
}

// A ratio that may be far below 1: two significant digits, scientific.
std::string ratio_cell(double value) {
  if (std::isinf(value)) return "inf";
  std::ostringstream text;
  text << std::scientific << std::setprecision(1) << value;
  return text.str();
}

std::string pad(const std::string& text, std::size_t width, bool right_align = true) {
  if (text.size() >= width) return text;
  const std::string fill(width - text.size(), ' ');
  return right_align ? fill + text : text + fill;
}

std::string csv_quoted(const std::string& text) {
  std::string quoted = "\"";
  for (char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

}  // namespace

std::string_view accuracy_input_name(AccuracyInput input) {
  switch (input) {
    case AccuracyInput::uniform: return "uniform";
    case AccuracyInput::positive: return "positive";
    case AccuracyInput::wide: return "wide";
    case AccuracyInput::mnist: return "mnist";
  }
  return "?";
}

AccuracyInput parse_accuracy_input(std::string_view name) {
  for (AccuracyInput input : kAccuracyInputs)
    if (accuracy_input_name(input) == name) return input;
  std::string known;
  for (AccuracyInput input : kAccuracyInputs) {
    known += (known.empty() ? "" : ", ") + std::string(accuracy_input_name(input));
  }
  throw std::invalid_argument("unknown input kind '" + std::string(name) + "' (known: " + known + ")");
}

namespace {

// The MNIST test split, loaded once (throws DatasetError, saying where it looked, without the files; a later
// call tries again).
const Dataset& mnist_test_images() {
  static const Dataset images = load_dataset("mnist", DatasetSplit::test);
  return images;
}

}  // namespace

std::string accuracy_input_unavailable(AccuracyInput input) {
  if (input != AccuracyInput::mnist) return {};
  try {
    if (mnist_test_images().count() == 0) return "the MNIST test split holds no images";
  } catch (const std::exception& error) {
    return error.what();
  }
  return {};
}

std::vector<AccuracyLayer> accuracy_layers(bool quick) {
  std::vector<AccuracyLayer> layers;
  const std::vector<Index> windows = quick ? std::vector<Index>{3, 5} : std::vector<Index>{3, 5, 7};
  const std::vector<Index> counts = quick ? std::vector<Index>{1, 16, 64} : std::vector<Index>{1, 4, 16, 64, 256};
  for (Index window : windows)
    for (Index channels : counts) {
      ConvShape s;
      s.batch = channels >= 64 ? 1 : 2;
      s.in_channels = s.out_channels = channels;
      s.in_height = s.in_width = channels >= 256 ? 6 : channels >= 64 ? 12 : 16;
      s.kernel_height = s.kernel_width = window;
      s.pad_height = s.pad_width = (window - 1) / 2;
      s.validate();
      layers.push_back({std::to_string(window) + "x" + std::to_string(window) + " C=" + std::to_string(channels),
                        window, channels, s});
    }
  return layers;
}

template <typename T>
AccuracyData<T> accuracy_data(const ConvShape& s, AccuracyInput input, std::uint64_t seed) {
  std::mt19937_64 engine(seed);
  const auto draw = [&]() -> T {
    const double unit = double(engine() >> 11) * 0x1p-53;  // [0, 1)
    switch (input) {
      case AccuracyInput::uniform: return T(2 * unit - 1);
      case AccuracyInput::positive: return T(unit);
      case AccuracyInput::wide: {
        const int k = int(engine() % 41) - 20;
        return T(std::ldexp(unit < 0.5 ? -1.0 : 1.0, k));
      }
      case AccuracyInput::mnist: return T(2 * unit - 1);  // the weights and the bias (the images: below)
    }
    return T(0);
  };
  const auto values = [&](Index count) {
    std::vector<T> result(static_cast<std::size_t>(count));
    for (T& value : result) value = draw();
    return result;
  };
  AccuracyData<T> d;
  if (input == AccuracyInput::mnist) {
    // Real images in the image operand (see AccuracyInput): plane after plane, the next test image, cropped
    // to the plane at an offset drawn from the seed (centred where the plane is larger than the image, its
    // border zero), scaled like the network's inputs (the lecture's byte / 256, PixelScaling's default).
    const Dataset& images = mnist_test_images();
    const PixelScaling scaling{};
    std::size_t next = std::size_t(engine() % images.count());
    const auto windows = [&](Index planes, Index height, Index width) {
      const Index rows = Index(images.rows), cols = Index(images.cols);
      std::vector<T> result(std::size_t(planes * height * width), T(0));
      for (Index p = 0; p < planes; ++p) {
        const std::span<const std::uint8_t> image = images.image(next);
        next = (next + 1) % images.count();
        const Index oy = height <= rows ? Index(engine() % std::uint64_t(rows - height + 1)) : -(height - rows) / 2;
        const Index ox = width <= cols ? Index(engine() % std::uint64_t(cols - width + 1)) : -(width - cols) / 2;
        for (Index y = 0; y < height; ++y)
          for (Index x = 0; x < width; ++x) {
            const Index iy = oy + y, ix = ox + x;
            if (iy < 0 || iy >= rows || ix < 0 || ix >= cols) continue;
            result[std::size_t((p * height + y) * width + x)] =
                scaling.apply<T>(image[std::size_t(iy * cols + ix)]);
          }
      }
      return result;
    };
    d.x = windows(s.batch * s.in_channels, s.in_height, s.in_width);
    d.w = values(s.weight_size());
    d.b = values(s.out_channels);
    d.dy = windows(s.batch * s.out_channels, s.out_height(), s.out_width());
    return d;
  }
  d.x = values(s.input_size());
  d.w = values(s.weight_size());
  d.b = values(s.out_channels);
  d.dy = values(s.output_size());
  return d;
}

template AccuracyData<float> accuracy_data<float>(const ConvShape&, AccuracyInput, std::uint64_t);
template AccuracyData<double> accuracy_data<double>(const ConvShape&, AccuracyInput, std::uint64_t);

template <typename T>
ErrorStats measure_accuracy(ConvImpl& impl, const ConvShape& s, ConvPass pass, const AccuracyData<T>& data) {
  const ExactOutputs exact = exact_outputs<T>(s, pass, data, omp_get_max_threads());
  return errors_against(run_pass(impl, s, pass, data), exact);
}

template ErrorStats measure_accuracy<float>(ConvImpl&, const ConvShape&, ConvPass, const AccuracyData<float>&);
template ErrorStats measure_accuracy<double>(ConvImpl&, const ConvShape&, ConvPass, const AccuracyData<double>&);

Index direct_sum_terms(const ConvShape& s, ConvPass pass) {
  const Index window = s.kernel_height * s.kernel_width;
  return pass == ConvPass::forward ? s.in_channels * window + 1 : s.out_channels * window;
}

namespace {

// Winograd's E (winograd_bound.hpp) for every output of `pass`; backward_input runs as the forward algorithm
// on the transposed layer and flipped weights, with no bias (and dy cropped where the layer pads more than 2).
template <typename T>
std::vector<double> winograd_scale(int tile, const ConvShape& s, ConvPass pass, const AccuracyData<T>& d) {
  const auto in_double = [](const std::vector<T>& v) { return std::vector<double>(v.begin(), v.end()); };
  if (pass == ConvPass::forward) return winograd_error_scale(tile, s, in_double(d.x), in_double(d.w), in_double(d.b));
  return winograd_error_scale(tile, winograd_transposed_layer(s), winograd_cropped_output_gradient(s, in_double(d.dy)),
                              winograd_flipped_transposed(s, in_double(d.w)), {});
}

template <typename T>
void measure_type(AccuracyReport& report, std::size_t layer, AccuracyInput input,
                  const std::vector<std::unique_ptr<ConvImpl>>& objects, int threads) {
  const ConvShape& s = report.layers[layer].shape;
  const AccuracyData<T> data = accuracy_data<T>(s, input, case_seed(report.seed, report.layers[layer], input, sizeof(T) == 8));
  for (ConvPass pass : kAccuracyPasses) {
    std::optional<ExactOutputs> exact;  // computed once, for the first implementation that runs the pass
    for (std::size_t i = 0; i < report.impls.size(); ++i) {
      AccuracyImpl& impl = report.impls[i];
      const ConvImplInfo& info = conv_implementation(impl.name);
      AccuracyRow row;
      row.layer = layer;
      row.input = input;
      row.type = type_name<T>();
      row.pass = pass;
      row.bound_n = direct_sum_terms(s, pass);
      if (impl.winograd_tile) {
        row.winograd_k = winograd_rounding_count(impl.winograd_tile,
                                                 pass == ConvPass::forward ? s.in_channels : s.out_channels,
                                                 pass == ConvPass::forward);
      }
      row.skipped = info.why_unsupported(s, pass);
      if (row.skipped.empty()) {
        if (!exact) exact = exact_outputs<T>(s, pass, data, threads);
        const std::vector<double> scale = impl.winograd_tile ? winograd_scale(impl.winograd_tile, s, pass, data)
                                                             : std::vector<double>();
        const std::vector<T> computed = run_pass(*objects[i], s, pass, data);
        row.error = errors_against(computed, *exact, scale);
        if (impl.fft) {
          const auto in_double = [](const std::vector<T>& v) { return std::vector<double>(v.begin(), v.end()); };
          const bool forward = pass == ConvPass::forward;
          const std::vector<double> bound =
              fft_plane_error_bound(s, pass, unit_roundoff<T>(), in_double(forward ? data.x : data.dy),
                                    in_double(data.w), forward ? in_double(data.b) : std::vector<double>());
          const Index plane_size = forward ? s.out_height() * s.out_width() : s.in_height * s.in_width;
          row.error.max_of_fft_bound = fft_bound_ratio(computed, *exact, bound, plane_size);
        }
      }
      impl.rows.push_back(std::move(row));
    }
  }
}

}  // namespace

AccuracyReport run_accuracy(std::span<const std::string> impls, bool quick, std::uint64_t seed, int threads,
                            std::ostream* progress, std::span<const AccuracyInput> inputs) {
  if (impls.empty()) throw std::invalid_argument("run_accuracy: no implementations to measure");
  const auto start = std::chrono::steady_clock::now();
  AccuracyReport report;
  report.threads = threads;
  report.seed = seed;
  report.quick = quick;
  report.layers = accuracy_layers(quick);
  std::vector<std::unique_ptr<ConvImpl>> objects;
  for (const std::string& name : impls) {
    const ConvImplInfo& info = conv_implementation(name);
    AccuracyImpl impl;
    impl.name = info.name;
    impl.role = std::string(info.role_name());
    impl.direct_sums = info.direct_sums;
    // What it is measured against: the bound its registration declares.
    impl.error_bound = info.error_bound;
    if (info.error_bound.kind == ConvErrorBoundKind::winograd) {
      if (info.error_bound.tile <= 0) {
        throw std::logic_error("run_accuracy: " + info.name + " registers a Winograd bound without its tile size");
      }
      impl.winograd_tile = info.error_bound.tile;
    }
    impl.fft = info.error_bound.kind == ConvErrorBoundKind::fft_plane;
    objects.push_back(info.make());
    report.impls.push_back(std::move(impl));
  }
  for (AccuracyInput input : inputs) {
    if (std::find(report.inputs.begin(), report.inputs.end(), input) != report.inputs.end()) continue;
    if (std::string why = accuracy_input_unavailable(input); !why.empty()) {
      if (progress) {
        *progress << "accuracy: " << accuracy_input_name(input) << " inputs skipped: " << why << "\n" << std::flush;
      }
      report.skipped_inputs.push_back({input, std::move(why)});
      continue;
    }
    report.inputs.push_back(input);
  }
  if (report.inputs.empty()) {
    throw std::invalid_argument(
        "accuracy: no input kind left to measure (every kind asked for is unavailable: see above)");
  }
  for (std::size_t layer = 0; layer < report.layers.size(); ++layer) {
    if (progress) {
      *progress << "accuracy: layer " << layer + 1 << "/" << report.layers.size() << " "
                << report.layers[layer].name << " (" << report.layers[layer].shape.describe() << ")\n"
                << std::flush;
    }
    for (AccuracyInput input : report.inputs) {
      measure_type<float>(report, layer, input, objects, threads);
      measure_type<double>(report, layer, input, objects, threads);
    }
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

std::string format_accuracy_table(const AccuracyReport& report) {
  std::ostringstream out;
  std::size_t name_width = 4, layer_width = 5;
  for (const AccuracyImpl& impl : report.impls) name_width = std::max(name_width, impl.name.size());
  for (const AccuracyLayer& layer : report.layers) layer_width = std::max(layer_width, layer.name.size());
  const std::size_t width = 10;
  out << "Max error per output, |computed - exact| / sum|w x|, in units of u (float32: 2^-24, float64: 2^-53);\n"
         "n: the direct-sum bound's term count (error <= ~n u); K: Winograd's rounding count (its bound is K u\n"
         "times E >= sum|w x|). Inputs: uniform [-1,1], positive [0,1], wide +-2^[-20,20], mnist: MNIST test-image\n"
         "windows (byte/256), one image per channel, weights uniform [-1,1].\n";
  for (const char* type : {"float32", "float64"}) {
    out << "\n" << type << "\n"
        << pad("impl", name_width, false) << "  " << pad("layer", layer_width, false);
    for (const char* pass : {"fwd", "bwd"})
      for (AccuracyInput input : report.inputs) {
        out << pad(std::string(pass) + " " + std::string(accuracy_input_name(input)).substr(0, 4), width);
      }
    out << pad("n fwd", 7) << pad("K fwd", 7) << "\n";
    for (const AccuracyImpl& impl : report.impls) {
      for (std::size_t layer = 0; layer < report.layers.size(); ++layer) {
        out << pad(impl.name, name_width, false) << "  " << pad(report.layers[layer].name, layer_width, false);
        Index n = 0;
        int k = 0;
        for (ConvPass pass : kAccuracyPasses)
          for (AccuracyInput input : report.inputs)
            for (const AccuracyRow& row : impl.rows) {
              if (row.layer != layer || row.input != input || row.type != type || row.pass != pass) continue;
              out << pad(row.skipped.empty() ? cell(row.error.max_u) : "-", width);
              if (pass == ConvPass::forward) n = row.bound_n, k = row.winograd_k;
            }
        out << pad(std::to_string(n), 7) << pad(k ? std::to_string(k) : "-", 7) << "\n";
      }
    }
  }
  // The root mean square over the same outputs, float32.
  out << "\nfloat32 RMS: root mean square of |computed - exact| / sum|w x| over the outputs measured, in u\n"
      << pad("impl", name_width, false) << "  " << pad("layer", layer_width, false);
  for (const char* pass : {"fwd", "bwd"})
    for (AccuracyInput input : report.inputs) {
      out << pad(std::string(pass) + " " + std::string(accuracy_input_name(input)).substr(0, 4), width);
    }
  out << "\n";
  for (const AccuracyImpl& impl : report.impls) {
    for (std::size_t layer = 0; layer < report.layers.size(); ++layer) {
      out << pad(impl.name, name_width, false) << "  " << pad(report.layers[layer].name, layer_width, false);
      for (ConvPass pass : kAccuracyPasses)
        for (AccuracyInput input : report.inputs)
          for (const AccuracyRow& row : impl.rows) {
            if (row.layer != layer || row.input != input || row.type != "float32" || row.pass != pass) continue;
            out << pad(row.skipped.empty() ? cell(row.error.rms_u) : "-", width);
          }
      out << "\n";
    }
  }
  // Winograd against its own bound's scale E.
  bool any_winograd = false;
  for (const AccuracyImpl& impl : report.impls) any_winograd = any_winograd || impl.winograd_tile;
  if (any_winograd) {
    out << "\nWinograd against its own scale E >= sum|w x| (float32 forward): max E / sum|w x|, and max error / E in\n"
           "u (its bound: below K)\n"
        << pad("impl", name_width, false) << "  " << pad("layer", layer_width, false);
    for (AccuracyInput input : report.inputs) {
      const std::string name(accuracy_input_name(input).substr(0, 4));
      out << pad("E/S " + name, width) << pad("err/E " + name, width + 1);
    }
    out << pad("K fwd", 7) << "\n";
    for (const AccuracyImpl& impl : report.impls) {
      if (!impl.winograd_tile) continue;
      for (std::size_t layer = 0; layer < report.layers.size(); ++layer) {
        std::string cells;
        int k = 0;
        for (AccuracyInput input : report.inputs)
          for (const AccuracyRow& row : impl.rows) {
            if (row.layer != layer || row.input != input || row.type != "float32" || row.pass != ConvPass::forward ||
                !row.skipped.empty())
              continue;
            cells += pad(cell(row.error.max_e_over_s), width) + pad(cell(row.error.max_u_of_e), width + 1);
            k = row.winograd_k;
          }
        if (cells.empty()) continue;
        out << pad(impl.name, name_width, false) << "  " << pad(report.layers[layer].name, layer_width, false) << cells
            << pad(std::to_string(k), 7) << "\n";
      }
    }
  }
  // FFT against its own normwise bound.
  for (const AccuracyImpl& impl : report.impls) {
    if (!impl.fft) continue;
    out << "\n" << impl.name << " against its own bound, per output plane (impls/fft/fft_bound.hpp): max ||error||_2 /"
        << " bound\n(below 1 by the bound)\n"
        << pad("type", 8, false) << "  " << pad("layer", layer_width, false);
    for (const char* pass : {"fwd", "bwd"})
      for (AccuracyInput input : report.inputs) {
        out << pad(std::string(pass) + " " + std::string(accuracy_input_name(input)).substr(0, 4), width);
      }
    out << "\n";
    for (const char* type : {"float32", "float64"})
      for (std::size_t layer = 0; layer < report.layers.size(); ++layer) {
        out << pad(type, 8, false) << "  " << pad(report.layers[layer].name, layer_width, false);
        for (ConvPass pass : kAccuracyPasses)
          for (AccuracyInput input : report.inputs)
            for (const AccuracyRow& row : impl.rows) {
              if (row.layer != layer || row.input != input || row.type != type || row.pass != pass) continue;
              out << pad(row.skipped.empty() ? ratio_cell(row.error.max_of_fft_bound) : "-", width);
            }
        out << "\n";
      }
  }
  // Each distinct reason once, with the implementation.
  std::vector<std::string> reasons;
  for (const AccuracyImpl& impl : report.impls)
    for (const AccuracyRow& row : impl.rows) {
      if (row.skipped.empty()) continue;
      const std::string line = impl.name + " " + report.layers[row.layer].name + " " +
                               std::string(pass_name(row.pass)) + ": " + row.skipped;
      if (std::find(reasons.begin(), reasons.end(), line) == reasons.end()) reasons.push_back(line);
    }
  if (!reasons.empty()) {
    out << "\nSkipped (-):\n";
    for (const std::string& line : reasons) out << "  " << line << "\n";
  }
  for (const AccuracyReport::SkippedInput& skipped : report.skipped_inputs) {
    out << "\n" << accuracy_input_name(skipped.input) << " inputs not measured: " << skipped.reason << "\n";
  }
  out << "\n" << report.impls.size() << " implementations, " << report.layers.size() << " layers, seed "
      << report.seed << ", " << report.threads << " threads, " << fixed(report.seconds, 1) << " s\n";
  return out.str();
}

std::string accuracy_json(const AccuracyReport& report) {
  nlohmann::ordered_json json;
  json["context"] = {{"threads", report.threads},
                     {"seed", report.seed},
                     {"quick", report.quick},
                     {"seconds", report.seconds},
                     {"reference_channels", kAccuracyReferenceChannels},
                     {"inputs", nlohmann::ordered_json::array()},
                     {"skipped_inputs", nlohmann::ordered_json::array()},
                     {"unit_roundoff", {{"float32", unit_roundoff<float>()}, {"float64", unit_roundoff<double>()}}}};
  for (AccuracyInput input : report.inputs) json["context"]["inputs"].push_back(accuracy_input_name(input));
  for (const AccuracyReport::SkippedInput& skipped : report.skipped_inputs) {
    json["context"]["skipped_inputs"].push_back(
        {{"input", accuracy_input_name(skipped.input)}, {"reason", skipped.reason}});
  }
  json["layers"] = nlohmann::ordered_json::array();
  for (const AccuracyLayer& layer : report.layers) {
    const ConvShape& s = layer.shape;
    json["layers"].push_back({{"name", layer.name},
                              {"window", layer.window},
                              {"channels", layer.channels},
                              {"padding", s.pad_height},
                              {"batch", s.batch},
                              {"height", s.in_height},
                              {"width", s.in_width},
                              {"shape", s.describe()}});
  }
  json["implementations"] = nlohmann::ordered_json::array();
  for (const AccuracyImpl& impl : report.impls) {
    nlohmann::ordered_json rows = nlohmann::ordered_json::array();
    for (const AccuracyRow& row : impl.rows) {
      const AccuracyLayer& layer = report.layers[row.layer];
      nlohmann::ordered_json entry = {{"layer", layer.name},
                                      {"window", layer.window},
                                      {"channels", layer.channels},
                                      {"input", accuracy_input_name(row.input)},
                                      {"type", row.type},
                                      {"pass", pass_name(row.pass)},
                                      {"skipped", !row.skipped.empty()},
                                      {"reason", row.skipped}};
      if (row.skipped.empty()) {
        entry["max_error_u"] = row.error.max_u;
        entry["rms_error_u"] = row.error.rms_u;
        entry["outputs"] = row.error.outputs;
        if (impl.winograd_tile) {
          entry["max_e_over_s"] = row.error.max_e_over_s;
          entry["max_error_of_e_u"] = row.error.max_u_of_e;
        }
        if (impl.fft) entry["max_error_of_fft_bound"] = row.error.max_of_fft_bound;
      }
      entry["bound_n"] = row.bound_n;
      entry["winograd_k"] = row.winograd_k ? nlohmann::ordered_json(row.winograd_k) : nlohmann::ordered_json();
      rows.push_back(std::move(entry));
    }
    json["implementations"].push_back({{"name", impl.name},
                                       {"role", impl.role},
                                       {"direct_sums", impl.direct_sums},
                                       {"error_bound", error_bound_name(impl.error_bound.kind)},
                                       {"error_bound_tile", impl.error_bound.tile},
                                       {"winograd_tile", impl.winograd_tile},
                                       {"fft", impl.fft},
                                       {"rows", std::move(rows)}});
  }
  return json.dump(1) + "\n";
}

std::string accuracy_csv(const AccuracyReport& report) {
  std::ostringstream out;
  out.precision(9);
  out << "impl,layer,window,channels,input,type,pass,skipped,max_error_u,rms_error_u,outputs,bound_n,winograd_k,"
         "max_e_over_s,max_error_of_e_u,max_error_of_fft_bound,reason\n";
  for (const AccuracyImpl& impl : report.impls)
    for (const AccuracyRow& row : impl.rows) {
      const AccuracyLayer& layer = report.layers[row.layer];
      out << impl.name << "," << layer.name << "," << layer.window << "," << layer.channels << ","
          << accuracy_input_name(row.input) << "," << row.type << "," << pass_name(row.pass) << ","
          << (row.skipped.empty() ? 0 : 1) << ",";
      if (row.skipped.empty()) {
        out << row.error.max_u << "," << row.error.rms_u << "," << row.error.outputs;
      } else {
        out << ",,";
      }
      out << "," << row.bound_n << "," << (row.winograd_k ? std::to_string(row.winograd_k) : "") << ",";
      if (impl.winograd_tile && row.skipped.empty()) out << row.error.max_e_over_s << "," << row.error.max_u_of_e;
      else out << ",";
      out << ",";
      if (impl.fft && row.skipped.empty()) out << row.error.max_of_fft_bound;
      out << "," << (row.skipped.empty() ? "" : csv_quoted(row.skipped)) << "\n";
    }
  return out.str();
}

std::vector<AccuracyCurveData> accuracy_curves(const AccuracyReport& report, Index window) {
  std::vector<AccuracyCurveData> curves;
  for (const AccuracyImpl& impl : report.impls) {
    AccuracyCurveData curve{impl.name, {}, {}};
    for (const AccuracyRow& row : impl.rows) {
      const AccuracyLayer& layer = report.layers[row.layer];
      if (layer.window != window || row.input != AccuracyInput::uniform || row.type != "float32" ||
          row.pass != ConvPass::forward || !row.skipped.empty())
        continue;
      curve.channels.push_back(double(layer.channels));
      curve.max_error_u.push_back(row.error.max_u);
    }
    if (!curve.channels.empty()) curves.push_back(std::move(curve));
  }
  return curves;
}

std::vector<AccuracyTileCurveData> accuracy_tile_curves(const AccuracyReport& report, Index window) {
  std::vector<AccuracyTileCurveData> curves;
  for (std::size_t layer = 0; layer < report.layers.size(); ++layer) {
    if (report.layers[layer].window != window) continue;
    AccuracyTileCurveData curve{report.layers[layer].channels, {}, {}};
    for (const AccuracyImpl& impl : report.impls) {
      if (impl.error_bound.kind != ConvErrorBoundKind::winograd) continue;
      for (const AccuracyRow& row : impl.rows) {
        if (row.layer != layer || row.input != AccuracyInput::uniform || row.type != "float32" ||
            row.pass != ConvPass::forward || !row.skipped.empty())
          continue;
        // In tile order, whatever the order of the implementations.
        const auto at = std::upper_bound(curve.tile.begin(), curve.tile.end(), double(impl.error_bound.tile));
        curve.max_error_u.insert(curve.max_error_u.begin() + (at - curve.tile.begin()), row.error.max_u);
        curve.tile.insert(at, double(impl.error_bound.tile));
      }
    }
    if (!curve.tile.empty()) curves.push_back(std::move(curve));
  }
  return curves;
}

}  // namespace convlab
