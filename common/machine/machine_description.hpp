// One line naming the CPU a run used, for results that are only comparable on the same machine kind:
// "AMD EPYC (cpu family 26, model 2: Zen 5), 2 logical CPUs" or
// "Intel(R) Xeon(R) Processor (cpu family 6, model 207: Emerald Rapids), 2 logical CPUs". Read from /proc/cpuinfo; where that is missing,
// only the CPU count is given.
#pragma once

#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>

namespace convlab {

inline std::string machine_description() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line, model_name, family, model;
  auto value = [](const std::string& text) {
    const std::size_t colon = text.find(':');
    return colon == std::string::npos ? std::string() : text.substr(text.find_first_not_of(" \t", colon + 1));
  };
  while (std::getline(cpuinfo, line) && (model_name.empty() || family.empty() || model.empty())) {
    if (line.rfind("model name", 0) == 0 && model_name.empty()) model_name = value(line);
    else if (line.rfind("cpu family", 0) == 0 && family.empty()) family = value(line);
    else if (line.rfind("model", 0) == 0 && line.find("name") == std::string::npos && model.empty()) model = value(line);
  }
  std::string text = model_name.empty() ? "CPU" : model_name;
  if (!family.empty()) {
    text += " (cpu family " + family + ", model " + model;
    // AMD's numbering: family 26 is Zen 5 (FMA units twice as wide as Zen 4's); family 25 is Zen 4 for
    // models 0x10-0x1f, 0x60-0x7f and 0xa0-0xaf, Zen 3 otherwise.
    if (model_name.find("AMD") != std::string::npos && !model.empty()) {
      const int number = std::atoi(model.c_str());
      const bool zen4 = (number >= 0x10 && number <= 0x1f) || (number >= 0x60 && number <= 0x7f) ||
                        (number >= 0xa0 && number <= 0xaf);
      if (family == "26") text += ": Zen 5";
      if (family == "25") text += zen4 ? ": Zen 4" : ": Zen 3";
    }
    // Intel's server cores of family 6 that this project's machines have been, all with two 512-bit FMA
    // ports per core.
    if (model_name.find("Intel") != std::string::npos && family == "6") {
      const int number = std::atoi(model.c_str());
      if (number == 143) text += ": Sapphire Rapids";
      if (number == 207) text += ": Emerald Rapids";
      if (number == 173) text += ": Granite Rapids";
      if (number == 106 || number == 108) text += ": Ice Lake";
    }
    text += ")";
  }
  return text + ", " + std::to_string(std::thread::hardware_concurrency()) + " logical CPUs";
}

}  // namespace convlab
