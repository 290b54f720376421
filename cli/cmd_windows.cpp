// `convlab windows`: the lecture's windows walk-through, step by step, with the numbers the lecture
// printed beside convlab's: its 2 x 3 x 4 example of as_strided (shape, byte strides, one window), its
// digit (MNIST training image 15, the first 7, pixels / 256 in float32 as its mnist.pkl.gz stored them),
// the 10 x 10 windows of that digit, its diagonal detector and the response's minimum and maximum.
// --digit, --window, --stride, --dataset and --detector band walk through other cases; the lecture's
// values are then shown only where they still apply.
#include <cstdint>
#include <iostream>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli/numpy_format.hpp"
#include "common/data/datasets.hpp"
#include "cli/lecture_windows.hpp"

namespace convlab::cli {

namespace {

// What the lecture printed (../shared/lecture), for the lines that set convlab's numbers beside it.
constexpr std::size_t kLectureDigit = 15;  // its train_set[0][15]: it printed the label, 7, and the range
constexpr Index kLectureWindow = 10;
constexpr const char* kLectureExampleWindow = "array([[13, 14],\n       [17, 18]])";
constexpr const char* kLecturePixelRange = "(-0.99609375, -0.0)";
constexpr const char* kLectureResponseRange = "(0.0, 0.4244643684778938)";

struct WindowsOptions {
  std::size_t digit = kLectureDigit;
  Index window = kLectureWindow;
  Index stride = 1;
  std::string dataset = std::string(kDefaultDataset);
  std::string detector = "lecture";

  bool is_lectures() const {
    return digit == kLectureDigit && window == kLectureWindow && stride == 1 && dataset == "mnist" &&
           detector == "lecture";
  }
};

// "(96, 32, 8, 32, 8) = (12s, 4s, 1s, 4s, 1s)": byte strides, and the same in units of the item size.
std::string strides_in_items(const std::array<Index, 5>& byte_strides, Index item_size) {
  std::string text = numpy_tuple(byte_strides) + " = (";
  for (std::size_t axis = 0; axis < byte_strides.size(); ++axis) {
    text += (axis ? ", " : "") + std::to_string(byte_strides[axis] / item_size) + "s";
  }
  return text + ")";
}

// "   the lecture printed the same" or the lecture's value when it differs.
std::string beside_lecture(const std::string& ours, const std::string& lectures) {
  return ours == lectures ? "   (the lecture printed the same)" : "   (the lecture printed " + lectures + ")";
}

void walk_example_array(std::ostream& out) {
  std::vector<std::int64_t> a(2 * 3 * 4);
  std::iota(a.begin(), a.end(), 0);
  const std::array<Index, 3> a_shape{2, 3, 4};
  const Index s = Index(sizeof(std::int64_t));
  out << "1. Windows of a small array\n\n"
      << "a = np.arange(2*3*4).reshape((2,3,4))   # int64, itemsize s = " << s << " bytes\n"
      << numpy_array(a, a_shape) << "\n\n";

  // 2 x 2 windows one element apart: 2 windows down and 3 across each 3 x 4 image.
  const StridedView<const std::int64_t, 5> w =
      as_strided(std::span<const std::int64_t>(a), std::array<Index, 5>{2, 2, 3, 2, 2},
                 std::array<Index, 5>{12 * s, 4 * s, 1 * s, 4 * s, s});
  std::vector<std::int64_t> copied;
  for (Index n = 0; n < 2; ++n)
    for (Index r = 0; r < 2; ++r)
      for (Index c = 0; c < 3; ++c)
        for (Index i = 0; i < 2; ++i)
          for (Index j = 0; j < 2; ++j) copied.push_back(w(n, r, c, i, j));
  out << "w = as_strided(a, shape=" << numpy_tuple(w.shape()) << ", strides=" << numpy_tuple(w.byte_strides())
      << ")\n"
      << "    byte strides " << strides_in_items(w.byte_strides(), s) << "\n"
      << "    (the lecture's text gives the shape as (2, 2, 3, 2, 3), a slip: each window is 2 x 2, and its code\n"
      << "    passes (2, 2, 3, 2, 2))\n"
      << numpy_array(copied, w.shape()) << "\n\n";

  const std::vector<std::int64_t> one_window{w(1, 0, 1, 0, 0), w(1, 0, 1, 0, 1), w(1, 0, 1, 1, 0), w(1, 0, 1, 1, 1)};
  const std::array<Index, 2> window_shape{2, 2};
  const std::string window_text = numpy_array(one_window, window_shape);
  out << "w[1, 0, 1, :, :]   # second image, first row of windows, second window\n"
      << window_text << "\n"
      << beside_lecture(window_text, kLectureExampleWindow) << "\n\n";
}

void walk_digit(const WindowsOptions& options, std::ostream& out) {
  const Dataset digits = load_dataset(options.dataset, DatasetSplit::train, options.digit + 1);
  if (options.digit >= digits.count()) {
    throw std::invalid_argument("--digit " + std::to_string(options.digit) + " is out of range: the " +
                                options.dataset + " training split holds " + std::to_string(digits.count()) +
                                " images");
  }
  // The lecture's mnist.pkl.gz held float32 pixels / 256; every such value is exact in float.
  const std::vector<float> inputs = to_inputs<float>(digits, PixelScaling{});
  const Index rows = Index(digits.rows), cols = Index(digits.cols);
  const std::span<const float> image =
      std::span<const float>(inputs).subspan(options.digit * digits.image_size(), digits.image_size());
  const bool lectures = options.is_lectures();

  float darkest = 0.0f, lightest = 0.0f;  // of -digit, as the lecture printed them
  for (std::size_t i = 0; i < image.size(); ++i) {
    const float negated = -image[i];
    if (i == 0 || negated < darkest) darkest = negated;
    if (i == 0 || negated > lightest) lightest = negated;
  }
  const std::string pixel_range = "(" + numpy_scalar(darkest) + ", " + numpy_scalar(lightest) + ")";
  out << "2. Windows of a digit\n\n"
      << options.dataset << " training image " << options.digit << ", label " << unsigned(digits.labels[options.digit])
      << (lectures ? " (the lecture's digit: the first 7 of the training set)" : "") << "\n"
      << "digit = train_set[0][" << options.digit << "]   # float32 pixels / 256, shape (" << digits.image_size()
      << ",), reshaped to (1, " << rows << ", " << cols << ", 1)\n"
      << "np.min(-digit), np.max(-digit)\n"
      << pixel_range << "\n"
      << (lectures ? beside_lecture(pixel_range, kLecturePixelRange) + "\n" : "") << "\n";

  const std::vector<double> weights = make_detector(options.detector, options.window);
  const WindowResponse result = detector_response(image, rows, cols, weights, options.window, options.stride);
  const Index s = Index(sizeof(float));
  out << "Xw = as_strided(digit, shape=" << numpy_tuple(result.windows_shape)
      << ", strides=" << numpy_tuple(result.windows_byte_strides) << ")\n"
      << "    " << result.rows << " x " << result.cols << " windows of " << options.window << " x " << options.window
      << " pixels, " << options.stride << " apart: (" << rows << " - " << options.window << ") / " << options.stride
      << " + 1 = " << result.rows << " per side\n"
      << "    byte strides " << strides_in_items(result.windows_byte_strides, s) << ", s = " << s << "\n\n";

  const std::array<Index, 2> weights_shape{options.window, options.window};
  out << "3. A detector swept over the windows\n\n";
  if (options.detector == "lecture") {
    out << "W = np.zeros((" << options.window << "," << options.window << ")); W[range(" << options.window - 1
        << ", -1, -1), range(" << options.window << ")] = 1; W *= 0.05   # a stroke from lower left to upper right\n";
  } else {
    out << "W = convlab's band detector: +" << numpy_scalar(weights.front() < 0 ? -weights.front() : weights.front())
        << " on the anti-diagonal band |row + col - " << options.window - 1 << "| <= 1, minus that elsewhere\n";
  }
  out << numpy_array(weights, weights_shape) << "\n\n";

  const std::string response_range = "(" + numpy_scalar(result.min) + ", " + numpy_scalar(result.max) + ")";
  const Index windows = result.rows * result.cols, taps = options.window * options.window;
  out << "Y = np.tanh(Xw.reshape((" << windows << ", " << taps << ")) @ W.reshape((-1, 1)))   # shape (" << windows
      << ", 1)\n"
      << "Yw = Y.reshape((" << result.rows << ", " << result.cols << "))\n"
      << "np.min(Yw), np.max(Yw)\n"
      << response_range << "\n"
      << (lectures ? beside_lecture(response_range, kLectureResponseRange) + "\n" : "")
      << "    the strongest window is row " << result.argmax_row << ", column " << result.argmax_col
      << ": its sum is " << numpy_scalar(result.sum_max) << ", added in row-major order in float64\n";
}

void run_windows(const WindowsOptions& options) {
  std::ostringstream out;  // printed whole, so a bad --digit leaves no half-printed walk-through
  out << "The lecture's windows walk-through (numpy's as_strided, as convlab's checked StridedView)\n\n";
  walk_example_array(out);
  walk_digit(options, out);
  std::cout << out.str();
}

}  // namespace

void add_windows_command(CLI::App& app) {
  auto options = std::make_shared<WindowsOptions>();
  CLI::App* command = app.add_subcommand(
      "windows", "The lecture's windows walk-through: as_strided on a small array and on a digit, and a "
                 "diagonal detector swept over the digit's windows, beside the numbers the lecture printed");
  command->add_option("--digit", options->digit, "Index of the training image (the lecture's: 15)")
      ->capture_default_str();
  command->add_option("--window", options->window, "Window side in pixels")
      ->capture_default_str()
      ->check(integer_at_least(1));
  command->add_option("--stride", options->stride, "Step between windows in pixels")
      ->capture_default_str()
      ->check(integer_at_least(1));
  command->add_option("--dataset", options->dataset, "mnist or fashion-mnist")
      ->capture_default_str()
      ->check(CLI::IsMember(dataset_names()));
  command->add_option("--detector", options->detector,
                      "lecture (0.05 on the anti-diagonal) or band (+-1/16 for 10x10, penalising ink off the stroke)")
      ->capture_default_str()
      ->check(CLI::IsMember({"lecture", "band"}));
  command->callback([options] { run_windows(*options); });
}

}  // namespace convlab::cli
