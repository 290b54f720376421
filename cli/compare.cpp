// Comparing implementations by training the same network with each (see compare.hpp).
#include "cli/compare.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <system_error>

#include "common/conv/conv_registry.hpp"
#include "common/io/atomic_file.hpp"
#include "common/nn/metrics.hpp"

namespace convlab {
namespace {

std::string fixed(double value, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

std::string scientific(double value) {
  char text[64];
  std::snprintf(text, sizeof text, "%.2e", value);
  return text;
}

std::string joined(std::span<const std::string> names) {
  std::string list;
  for (const std::string& name : names) list += (list.empty() ? "" : ", ") + name;
  return list;
}

std::string pad(const std::string& text, std::size_t width, bool right_align) {
  if (text.size() >= width) return text;
  const std::string fill(width - text.size(), ' ');
  return right_align ? fill + text : text + fill;
}

}  // namespace

std::vector<std::string> comparison_order(std::string_view comma_list, std::span<const std::string> known) {
  const std::string& reference_name = reference_implementation().name;
  if (comma_list.empty()) {
    std::vector<std::string> all(known.begin(), known.end());
    const auto reference = std::find(all.begin(), all.end(), reference_name);
    if (reference != all.end()) std::rotate(all.begin(), reference, reference + 1);
    return all;
  }
  std::vector<std::string> names;
  for (std::size_t start = 0;;) {
    const std::size_t comma = std::min(comma_list.find(',', start), comma_list.size());
    const std::string name(comma_list.substr(start, comma - start));
    if (name.empty()) throw std::invalid_argument("--impls '" + std::string(comma_list) + "' has an empty entry");
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      throw std::invalid_argument("unknown implementation '" + name + "' in --impls (known: " + joined(known) + ")");
    }
    if (std::find(names.begin(), names.end(), name) != names.end()) {
      throw std::invalid_argument("--impls lists '" + name + "' twice");
    }
    names.push_back(name);
    if (comma == comma_list.size()) break;
    start = comma + 1;
  }
  const auto reference = std::find(names.begin(), names.end(), reference_name);
  if (reference != names.end()) std::rotate(names.begin(), reference, reference + 1);
  return names;
}

template <typename T>
std::vector<CompareRow> compare_implementations(std::span<const CompareCandidate> candidates,
                                                const Architecture& architecture, std::uint64_t seed,
                                                const TrainingPlan& plan, std::span<const T> train_inputs,
                                                std::span<const std::uint8_t> train_labels,
                                                std::span<const T> test_inputs,
                                                std::span<const std::uint8_t> test_labels, std::ostream* progress) {
  if (candidates.empty()) throw std::invalid_argument("compare_implementations: no implementations to compare");
  std::vector<CompareRow> rows;
  std::vector<T> reference_probabilities;
  std::vector<std::uint8_t> reference_classes;
  for (const CompareCandidate& candidate : candidates) {
    if (progress) {
      *progress << "\n== " << candidate.name << (rows.empty() ? " (reference)" : "") << " ==\n" << std::flush;
    }
    Network<T> network(architecture, candidate.make, seed);
    const TrainingOutcome outcome =
        train_network<T>(network, plan, train_inputs, train_labels, test_inputs, test_labels, progress);
    CompareRow row;
    row.impl = candidate.name;
    row.build_flags = candidate.build_flags;
    row.training_seconds = outcome.training_seconds;
    row.history_csv = outcome.history_csv;
    row.train_percent = percent_correct(network.classify(train_inputs), train_labels);
    typename Network<T>::Outputs test_outputs = network.use(test_inputs, /*want_probabilities=*/true);
    row.test_percent = percent_correct(test_outputs.classes, test_labels);
    if (rows.empty()) {
      reference_probabilities = std::move(test_outputs.probabilities);
      reference_classes = std::move(test_outputs.classes);
    } else {
      double deviation = 0;
      for (std::size_t i = 0; i < reference_probabilities.size(); ++i) {
        deviation = std::max(deviation, std::abs(double(test_outputs.probabilities[i]) -
                                                 double(reference_probabilities[i])));
      }
      row.max_probability_deviation = deviation;
      for (std::size_t i = 0; i < reference_classes.size(); ++i) {
        row.differing_predictions += test_outputs.classes[i] != reference_classes[i];
      }
    }
    const double reference_seconds = rows.empty() ? row.training_seconds : rows.front().training_seconds;
    row.speedup = row.training_seconds > 0 ? reference_seconds / row.training_seconds : 0;
    if (progress) {
      *progress << candidate.name << ": " << fixed(row.training_seconds, 2) << " s, test "
                << fixed(row.test_percent, 2) << "%\n" << std::flush;
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

template std::vector<CompareRow> compare_implementations<float>(
    std::span<const CompareCandidate>, const Architecture&, std::uint64_t, const TrainingPlan&,
    std::span<const float>, std::span<const std::uint8_t>, std::span<const float>, std::span<const std::uint8_t>,
    std::ostream*);
template std::vector<CompareRow> compare_implementations<double>(
    std::span<const CompareCandidate>, const Architecture&, std::uint64_t, const TrainingPlan&,
    std::span<const double>, std::span<const std::uint8_t>, std::span<const double>,
    std::span<const std::uint8_t>, std::ostream*);

namespace {
// The table's first line, and compare.json's context.description (what the report quotes).
std::string context_sentence(const CompareContext& c) {
  std::ostringstream out;
  out << "Compared on " << c.dataset << ": " << c.train_examples << " training and " << c.test_examples
      << " test images; network " << c.architecture << ", " << c.precision << "; " << c.optimizer << "; "
      << c.threads << " OpenMP threads, seed " << c.seed;
  return out.str();
}
}  // namespace

std::string format_compare_table(const CompareReport& report) {
  const CompareContext& c = report.context;
  const std::string& reference = report.reference();
  std::ostringstream out;
  out << context_sentence(c) << "\n";
  const std::string& registry_reference = reference_implementation().name;
  if (reference != registry_reference) {
    out << "Reference: " << reference << " (" << registry_reference
        << " was not run: speed-ups and deviations are relative to " << reference << ")\n";
  }
  const std::vector<std::string> header = {"implementation", "train s", "speed-up vs " + reference, "train %",
                                           "test %", "max |p - p_" + reference + "|",
                                           "predictions differing"};
  std::vector<std::vector<std::string>> cells;
  for (const CompareRow& row : report.rows) {
    cells.push_back({row.impl + (row.impl == reference ? " (ref)" : ""), fixed(row.training_seconds, 2),
                     fixed(row.speedup, 2), fixed(row.train_percent, 2), fixed(row.test_percent, 2),
                     scientific(row.max_probability_deviation),
                     std::to_string(row.differing_predictions) + " / " + std::to_string(c.test_examples)});
  }
  std::vector<std::size_t> widths(header.size());
  for (std::size_t j = 0; j < header.size(); ++j) {
    widths[j] = header[j].size();
    for (const auto& line : cells) widths[j] = std::max(widths[j], line[j].size());
  }
  const auto print_line = [&](const std::vector<std::string>& line) {
    for (std::size_t j = 0; j < line.size(); ++j) out << (j ? "  " : "") << pad(line[j], widths[j], j > 0);
    out << "\n";
  };
  print_line(header);
  for (const auto& line : cells) print_line(line);
  out << "Training time excludes the per-epoch test evaluation. Build flags:\n";
  for (const CompareRow& row : report.rows) out << "  " << row.impl << ": " << row.build_flags << "\n";
  return out.str();
}

std::string compare_json(const CompareReport& report) {
  const CompareContext& c = report.context;
  nlohmann::ordered_json json;
  json["context"] = {{"dataset", c.dataset},
                     {"precision", c.precision},
                     {"architecture", c.architecture},
                     {"optimizer", c.optimizer},
                     {"train_examples", c.train_examples},
                     {"test_examples", c.test_examples},
                     {"threads", c.threads},
                     {"seed", c.seed},
                     {"description", context_sentence(c)}};
  json["reference"] = report.reference();
  json["rows"] = nlohmann::ordered_json::array();
  for (const CompareRow& row : report.rows) {
    json["rows"].push_back({{"impl", row.impl},
                            {"reference", row.impl == report.reference()},
                            {"training_seconds", row.training_seconds},
                            {"speedup", row.speedup},
                            {"train_percent", row.train_percent},
                            {"test_percent", row.test_percent},
                            {"max_probability_deviation", row.max_probability_deviation},
                            {"differing_predictions", row.differing_predictions},
                            {"build_flags", row.build_flags}});
  }
  return json.dump(2) + "\n";
}

std::string compare_csv(const CompareReport& report) {
  std::ostringstream out;
  out.precision(17);
  out << "impl,reference,training_seconds,speedup,train_percent,test_percent,max_probability_deviation,"
         "differing_predictions\n";
  for (const CompareRow& row : report.rows) {
    out << row.impl << "," << (row.impl == report.reference() ? 1 : 0) << "," << row.training_seconds << ","
        << row.speedup << "," << row.train_percent << "," << row.test_percent << ","
        << row.max_probability_deviation << "," << row.differing_predictions << "\n";
  }
  return out.str();
}

void prepare_compare_folder(const std::filesystem::path& folder, bool with_history) {
  const std::filesystem::path target = with_history ? folder / "history" : folder;
  std::error_code error;
  std::filesystem::create_directories(target, error);
  if (error) {
    throw OutputFileError("cannot save comparison to '" + target.string() + "': " + error.message());
  }
  check_output_writable(target / "compare.json", "comparison");
  if (with_history) check_output_writable(folder / "compare.json", "comparison");
}

std::vector<std::filesystem::path> write_compare_files(const std::filesystem::path& folder,
                                                       const CompareReport& report, bool with_history) {
  const auto write = [](const std::filesystem::path& path, const std::string& text, std::string_view what) {
    write_file_atomically(path, std::as_bytes(std::span<const char>(text)), what);
    return path;
  };
  std::vector<std::filesystem::path> written;
  written.push_back(write(folder / "compare.json", compare_json(report), "comparison"));
  written.push_back(write(folder / "compare.csv", compare_csv(report), "comparison"));
  if (with_history) {
    std::error_code error;
    std::filesystem::create_directories(folder / "history", error);  // prepare_compare_folder made it; cheap
    for (const CompareRow& row : report.rows) {
      written.push_back(write(folder / "history" / (row.impl + ".csv"), row.history_csv, "history"));
    }
  }
  return written;
}

}  // namespace convlab
