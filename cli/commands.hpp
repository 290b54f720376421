// Each subcommand registers itself on the app with a function `void add_<name>_command(CLI::App&)`;
// the callback it installs does the work and throws std::exception with a one-line message on bad input.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <vector>

namespace convlab::cli {

using AddCommand = void (*)(CLI::App&);
const std::vector<AddCommand>& all_commands();

}  // namespace convlab::cli
