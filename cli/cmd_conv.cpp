// `convlab conv`: one convolution (and, given dL/dy, its gradients) on .npy files, so any implementation
// can be checked from outside, e.g. against PyTorch by scripts/check_conv_against_torch.py.
#include <charconv>
#include <filesystem>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "cli/commands.hpp"
#include "common/io/atomic_file.hpp"
#include "common/conv/conv_registry.hpp"
#include "common/io/npy.hpp"

namespace convlab::cli {

namespace {

struct ConvOptions {
  std::string impl = std::string(kDefaultConvImpl);
  std::string input, weights, bias, output_grad, out_dir;
  std::string stride = "1", padding = "0";
};

// "3" -> (3, 3); "2,1" -> (2, 1).
std::pair<Index, Index> parse_pair(const std::string& text, const char* option, Index minimum) {
  const auto number = [&](std::string_view part) {
    Index value = -1;
    const auto [end, error] = std::from_chars(part.data(), part.data() + part.size(), value);
    if (error != std::errc() || end != part.data() + part.size() || value < minimum) {
      throw std::invalid_argument(std::string(option) + ": expected N or ROWS,COLS with integers of at least " +
                                  std::to_string(minimum) + ", got '" + text + "'");
    }
    return value;
  };
  const std::size_t comma = text.find(',');
  if (comma == std::string::npos) {
    const Index both = number(text);
    return {both, both};
  }
  return {number(std::string_view(text).substr(0, comma)), number(std::string_view(text).substr(comma + 1))};
}

std::string shape_text(const std::vector<Index>& shape) {
  NpyArray described;
  described.shape = shape;
  return described.shape_text();
}

void require_rank(const NpyArray& array, const std::string& file, std::size_t rank, const char* meaning) {
  if (array.shape.size() != rank) {
    throw std::invalid_argument(file + ": " + meaning + " must be " + std::to_string(rank) + "-D " + "but has shape " +
                                array.shape_text());
  }
}

void require_same_dtype(const NpyArray& array, const std::string& file, const NpyArray& input,
                        const std::string& input_file) {
  if (array.dtype() != input.dtype()) {
    throw std::invalid_argument(file + " holds '" + npy_descr(array.dtype()) + "' but " + input_file + " holds '" +
                                npy_descr(input.dtype()) + "': all arrays must have the same dtype");
  }
}

template <typename T>
void run_conv(const ConvOptions& options, const ConvShape& shape, const NpyArray& x, const NpyArray& w,
              const std::optional<NpyArray>& b, const std::optional<NpyArray>& dy) {
  std::unique_ptr<ConvImpl> conv = make_conv_impl(options.impl);
  const std::filesystem::path out_dir(options.out_dir);
  std::error_code error;
  std::filesystem::create_directories(out_dir, error);
  if (error) throw OutputFileError("cannot save results to '" + out_dir.string() + "': " + error.message());
  check_output_writable(out_dir / "y.npy", "results");
  const std::vector<Index> y_shape = {shape.batch, shape.out_channels, shape.out_height(), shape.out_width()};

  std::vector<T> y(std::size_t(shape.output_size()));
  conv->forward(shape, x.as<T>().data(), w.as<T>().data(), b ? b->as<T>().data() : nullptr, y.data());
  write_npy<T>(out_dir / "y.npy", y_shape, y);
  std::cout << "wrote " << (out_dir / "y.npy").string() << " " << shape_text(y_shape) << "\n";
  if (!dy) return;

  std::vector<T> dx(std::size_t(shape.input_size())), dw(std::size_t(shape.weight_size())),
      db(std::size_t(shape.out_channels));
  conv->backward_input(shape, dy->as<T>().data(), w.as<T>().data(), dx.data());
  conv->backward_weights(shape, x.as<T>().data(), dy->as<T>().data(), dw.data(), db.data());
  write_npy<T>(out_dir / "dx.npy", x.shape, dx);
  write_npy<T>(out_dir / "dw.npy", w.shape, dw);
  write_npy<T>(out_dir / "db.npy", std::vector<Index>{shape.out_channels}, db);
  std::cout << "wrote " << (out_dir / "dx.npy").string() << ", dw.npy, db.npy\n";
}

void run_conv_command(const ConvOptions& options) {
  const NpyArray x = read_npy(options.input);
  const NpyArray w = read_npy(options.weights);
  require_rank(x, options.input, 4, "the input (N, C, H, W)");
  require_rank(w, options.weights, 4, "the weights (F, C, kh, kw)");
  require_same_dtype(w, options.weights, x, options.input);
  if (w.shape[1] != x.shape[1]) {
    throw std::invalid_argument(options.weights + ": weights of shape " + w.shape_text() + " expect " +
                                std::to_string(w.shape[1]) + " input channels but " + options.input + " has " +
                                std::to_string(x.shape[1]));
  }
  const auto [stride_rows, stride_cols] = parse_pair(options.stride, "--stride", 1);
  const auto [pad_rows, pad_cols] = parse_pair(options.padding, "--padding", 0);
  ConvShape shape;
  shape.batch = x.shape[0];
  shape.in_channels = x.shape[1];
  shape.in_height = x.shape[2];
  shape.in_width = x.shape[3];
  shape.out_channels = w.shape[0];
  shape.kernel_height = w.shape[2];
  shape.kernel_width = w.shape[3];
  shape.stride_height = stride_rows;
  shape.stride_width = stride_cols;
  shape.pad_height = pad_rows;
  shape.pad_width = pad_cols;
  try {
    shape.validate();
  } catch (const ConvShapeError& error) {
    throw ConvShapeError("input " + x.shape_text() + " with weights " + w.shape_text() + ": " + error.what());
  }

  std::optional<NpyArray> b, dy;
  if (!options.bias.empty()) {
    b = read_npy(options.bias);
    require_same_dtype(*b, options.bias, x, options.input);
    if (b->shape != std::vector<Index>{shape.out_channels}) {
      throw std::invalid_argument(options.bias + ": the bias must have shape (" + std::to_string(shape.out_channels) +
                                  ",), one per output channel, but has shape " + b->shape_text());
    }
  }
  if (!options.output_grad.empty()) {
    dy = read_npy(options.output_grad);
    require_same_dtype(*dy, options.output_grad, x, options.input);
    const std::vector<Index> y_shape = {shape.batch, shape.out_channels, shape.out_height(), shape.out_width()};
    if (dy->shape != y_shape) {
      throw std::invalid_argument(options.output_grad + ": the output gradient must have the output's shape " +
                                  shape_text(y_shape) + " but has shape " + dy->shape_text());
    }
  }
  // Refused before anything is written: the passes this call needs, as the registry describes them.
  const ConvImplInfo& info = conv_implementation(options.impl);
  for (ConvPass pass : kConvPasses) {
    if (pass != ConvPass::forward && !dy) break;
    if (const std::string why = info.why_unsupported(shape, pass); !why.empty()) {
      throw std::invalid_argument("--impl " + info.name + " cannot compute " + std::string(pass_name(pass)) +
                                  " of input " + x.shape_text() + " with weights " + w.shape_text() + ": " + why);
    }
  }
  if (x.dtype() == NpyDtype::Float32) {
    run_conv<float>(options, shape, x, w, b, dy);
  } else {
    run_conv<double>(options, shape, x, w, b, dy);
  }
}

}  // namespace

void add_conv_command(CLI::App& app) {
  auto options = std::make_shared<ConvOptions>();
  CLI::App* command = app.add_subcommand(
      "conv", "Convolve .npy arrays with one implementation: writes y.npy, and dx/dw/db.npy given --output-grad");
  command->add_option("--impl", options->impl, "Implementation (see `convlab impls`)")->capture_default_str();
  command->add_option("--input", options->input, "Input x.npy, shape (N, C, H, W), <f4 or <f8")->required();
  command->add_option("--weights", options->weights, "Weights w.npy, shape (F, C, kh, kw)")->required();
  command->add_option("--bias", options->bias, "Bias b.npy, shape (F,) (default: no bias)");
  command->add_option("--output-grad", options->output_grad, "dL/dy, shape (N, F, oh, ow): also write gradients");
  command->add_option("--stride", options->stride, "Stride S or SH,SW")->capture_default_str();
  command->add_option("--padding", options->padding, "Zero padding P or PH,PW")->capture_default_str();
  command->add_option("--out-dir", options->out_dir, "Directory for y.npy (and dx.npy, dw.npy, db.npy)")->required();
  command->callback([options] { run_conv_command(*options); });
}

}  // namespace convlab::cli
