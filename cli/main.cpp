// convlab: one program, one subcommand per job. Each subcommand lives in its own cli/cmd_<name>.cpp.
#include <CLI/CLI.hpp>
#include <exception>
#include <iostream>
#include <string>

#include "cli/commands.hpp"
#include "common/machine/openmp_spin.hpp"

int main(int argc, char** argv) {
  convlab::bound_openmp_spin(argv);  // may re-execute the program once (see common/machine/openmp_spin.hpp)
  CLI::App app{"convlab: 2-D convolution four ways, a classifier to train with them, and the numbers to compare"};
  app.set_version_flag("--version", std::string("convlab ") + CONVLAB_VERSION);
  app.require_subcommand(1);
  // Option errors get the same one-line form as every other error.
  app.failure_message([](const CLI::App*, const CLI::Error& error) {
    return std::string("convlab: error: ") + error.what() + " (run with --help for more information)\n";
  });
  for (const auto& add_command : convlab::cli::all_commands()) add_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    // --help and --version exit 0; every usage error (unknown option, missing or malformed value) exits 2,
    // as command-line tools conventionally do, whatever code CLI11 gives that kind of error.
    const int status = app.exit(error);
    return status == 0 ? 0 : 2;
  } catch (const std::exception& error) {
    std::cerr << "convlab: error: " << error.what() << "\n";
    return 1;
  }
  return 0;
}
