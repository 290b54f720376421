// `convlab compare`'s engine: trains the same network from the same seed with several convolution
// implementations, one after the other in one process, and measures each against the first (the
// reference, naive when it takes part): training time and speed-up, train and test accuracy, the largest
// deviation of its test probabilities from the reference's and how many test predictions differ.
// Implementations come in as factories (common/ cannot see the registry in impls/).
#pragma once

#include <cstdint>
#include <filesystem>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/nn/architecture.hpp"
#include "common/nn/network.hpp"
#include "common/nn/training_run.hpp"

namespace convlab {


struct CompareCandidate {
  std::string name;
  std::string build_flags;  // printed under the table
  ConvImplFactory make;
};

// The names to compare, in running order: every name of `known` when `comma_list` is empty, else the
// listed ones with the registry's reference implementation moved to the front when listed. Throws std::invalid_argument naming
// an unknown, empty or repeated entry.
std::vector<std::string> comparison_order(std::string_view comma_list, std::span<const std::string> known);

struct CompareRow {
  std::string impl;
  std::string build_flags;
  double training_seconds = 0;
  double speedup = 0;                    // reference's training time / this one's
  double train_percent = 0, test_percent = 0;
  double max_probability_deviation = 0;  // max over test examples and classes of |p - p_reference|
  Index differing_predictions = 0;       // test examples whose predicted class differs from the reference's
  std::string history_csv;               // the training curve (training_run.hpp's format)
};

// What the runs shared, for the table's heading and the JSON.
struct CompareContext {
  std::string dataset, precision, architecture, optimizer;
  Index train_examples = 0, test_examples = 0;
  int threads = 0;
  std::uint64_t seed = 0;
};

struct CompareReport {
  CompareContext context;
  std::vector<CompareRow> rows;  // rows[0] is the reference
  const std::string& reference() const { return rows.front().impl; }
};

// Trains a fresh Network(architecture, candidate.make, seed) with `plan` for each candidate in order.
// `progress` (may be null) gets a heading per candidate and train_network's progress lines.
// Throws std::invalid_argument when `candidates` is empty.
template <typename T>
std::vector<CompareRow> compare_implementations(std::span<const CompareCandidate> candidates,
                                                const Architecture& architecture, std::uint64_t seed,
                                                const TrainingPlan& plan, std::span<const T> train_inputs,
                                                std::span<const std::uint8_t> train_labels,
                                                std::span<const T> test_inputs,
                                                std::span<const std::uint8_t> test_labels, std::ostream* progress);

extern template std::vector<CompareRow> compare_implementations<float>(
    std::span<const CompareCandidate>, const Architecture&, std::uint64_t, const TrainingPlan&,
    std::span<const float>, std::span<const std::uint8_t>, std::span<const float>, std::span<const std::uint8_t>,
    std::ostream*);
extern template std::vector<CompareRow> compare_implementations<double>(
    std::span<const CompareCandidate>, const Architecture&, std::uint64_t, const TrainingPlan&,
    std::span<const double>, std::span<const std::uint8_t>, std::span<const double>,
    std::span<const std::uint8_t>, std::ostream*);

// The table as printed: heading, one line per implementation, the reference named, build flags under it.
std::string format_compare_table(const CompareReport& report);
// {"context": {...}, "reference": name, "rows": [{...}, ...]}
std::string compare_json(const CompareReport& report);
// Header then one line per implementation: impl,reference,training_seconds,speedup,train_percent,
// test_percent,max_probability_deviation,differing_predictions
std::string compare_csv(const CompareReport& report);

// Creates `folder` (and parents; with `with_history` also its history/ subfolder) if needed and checks a
// file can be written there; throws OutputFileError "cannot save comparison to '<path>': <why>"
// otherwise. Call before training.
void prepare_compare_folder(const std::filesystem::path& folder, bool with_history);

// Writes <folder>/compare.json and compare.csv atomically and, with `with_history`, each implementation's
// training curve as <folder>/history/<impl>.csv (file stems become `convlab plot curve`'s labels).
// Returns the paths written.
std::vector<std::filesystem::path> write_compare_files(const std::filesystem::path& folder,
                                                       const CompareReport& report, bool with_history);

}  // namespace convlab
