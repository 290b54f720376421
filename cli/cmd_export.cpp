// `convlab export`: a saved model as a numpy .npz (common/nn/model_export.hpp), for programs that read numpy.
#include <iostream>
#include <memory>
#include <string>

#include "cli/commands.hpp"
#include "common/io/atomic_file.hpp"
#include "common/nn/model_export.hpp"
#include "common/nn/model_file.hpp"

namespace convlab::cli {

void add_export_command(CLI::App& app) {
  struct Settings {
    std::string model_path, out;
  };
  auto settings = std::make_shared<Settings>();
  CLI::App* command = app.add_subcommand(
      "export", "Write a saved model as a numpy .npz: each layer's weights and bias, and metadata.json");
  command->add_option("--model", settings->model_path, "Model file written by `convlab train --save`")->required();
  command->add_option("--out", settings->out, "The .npz to write (np.load reads it)")->required();
  command->callback([settings] {
    const Settings& s = *settings;
    check_output_writable(s.out, "archive");
    const SavedModel model = load_model(s.model_path);
    export_model_npz(model, s.out);
    std::cout << "Model " << s.model_path << " (" << model.architecture.describe() << ", "
              << (model.precision == Precision::Double ? "float64" : "float32") << ") written to " << s.out << "\n";
  });
}

}  // namespace convlab::cli
