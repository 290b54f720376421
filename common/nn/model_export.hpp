// A saved model as a numpy .npz (`convlab export`), for programs that read numpy rather than convlab's
// model format: per layer i, "layer<i>_<conv|dense>_weights" and "..._bias" (shapes as layer_arrays() gives
// them, in the model's precision), and "metadata.json" (architecture, input shape, classes, precision,
// pixel scaling, and the array names in layer order), which np.load returns as bytes.
#pragma once

#include <filesystem>

#include "common/nn/model_file.hpp"

namespace convlab {

// Throws NpyError naming the path; an existing file at `path` is replaced only by a complete archive.
void export_model_npz(const SavedModel& model, const std::filesystem::path& path);

}  // namespace convlab
