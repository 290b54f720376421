// What the lecture's notebook (../shared/lecture) printed for its trained network, so that
// `convlab lecture` can set its own results beside them. Values are copied from the notebook's output.
#pragma once

#include <array>

namespace convlab::cli::lecture_printed {

inline constexpr int kErrorsRecorded = 101;            // "trained for 101 iterations" after train(..., 100)
inline constexpr double kTrainingSeconds = 9799.2786;  // "that took 9799.2786 seconds" (2.72 hours)
inline constexpr const char* kFinalError = "0.002036432373258122";
inline constexpr double kTrainPercent = 100.00;
inline constexpr double kTestPercent = 98.24;
inline constexpr const char* kFilterShape = "(26, 20)";     // nnet.Vs[0].shape
inline constexpr const char* kHiddenShape = "(10000, 11520)";  // Z[0].shape for the test set

// Its test-set confusion matrix, percent of each true class (rows) predicted as each class (columns).
inline constexpr std::array<std::array<double, 10>, 10> kTestConfusion{{
    {99.2, 0, 0.2, 0, 0, 0.2, 0.2, 0.1, 0.1, 0},
    {0, 99.4, 0.3, 0, 0, 0.1, 0.1, 0.1, 0.1, 0},
    {0.2, 0.3, 98.2, 0.3, 0, 0.1, 0, 0.5, 0.4, 0.1},
    {0, 0, 0.6, 98.3, 0, 0.7, 0, 0.2, 0.1, 0.1},
    {0, 0, 0.2, 0.1, 97.7, 0, 0.5, 0.1, 0.1, 1.3},
    {0.1, 0, 0.2, 0.4, 0.1, 98.3, 0.2, 0, 0.2, 0.3},
    {0.4, 0.2, 0.3, 0.1, 0.1, 0.2, 98.6, 0, 0, 0},
    {0, 0.1, 0.9, 0.4, 0.2, 0, 0, 98.2, 0.1, 0.2},
    {0.5, 0, 0.2, 0.2, 0.3, 0.3, 0, 0.6, 97.5, 0.3},
    {0.3, 0.4, 0.1, 0.2, 0.6, 0.5, 0, 0.7, 0.3, 96.9},
}};

}  // namespace convlab::cli::lecture_printed
