// Each subcommand registers itself on the app with a function `void add_<name>_command(CLI::App&)`;
// the callback it installs does the work and throws std::exception with a one-line message on bad input.
#pragma once

#include <CLI/CLI.hpp>
#include <charconv>
#include <functional>
#include <string>
#include <vector>

namespace convlab::cli {

using AddCommand = void (*)(CLI::App&);

// An option check with a one-line message ("--window: must be an integer of at least 1, got '0'"),
// instead of CLI::PositiveNumber's "not in range 0.000000 to 1797693134862315708...".
inline CLI::Validator integer_at_least(long long minimum) {
  return CLI::Validator(
      [minimum](std::string& text) -> std::string {
        long long value = 0;
        const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (error == std::errc() && end == text.data() + text.size() && value >= minimum) return {};
        return "must be an integer of at least " + std::to_string(minimum) + ", got '" + text + "'";
      },
      "INT>=" + std::to_string(minimum));
}
const std::vector<AddCommand>& all_commands();

}  // namespace convlab::cli
