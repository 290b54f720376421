// convlab: one program, one subcommand per job. Each subcommand lives in its own cli/cmd_<name>.cpp.
#include <CLI/CLI.hpp>
#include <exception>
#include <iostream>

#include "cli/commands.hpp"

int main(int argc, char** argv) {
  CLI::App app{"convlab: 2-D convolution four ways, a classifier to train with them, and the numbers to compare"};
  app.require_subcommand(1);
  for (const auto& add_command : convlab::cli::all_commands()) add_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error);
  } catch (const std::exception& error) {
    std::cerr << "convlab: error: " << error.what() << "\n";
    return 1;
  }
  return 0;
}
