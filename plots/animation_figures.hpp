// An animated GIF of a window walking over an input, for any geometry a reader gives: each frame shows the
// input (its padding shaded) and the output side by side, axes numbered, the output cell being computed
// and the input cells it reads, each marked with the weight tap it meets. The transposed case animates the
// input gradient: for each input cell, the output-gradient cells that reach it and through which tap.
#pragma once

#include <filesystem>

#include "plots/window_walk.hpp"

namespace convlab::plots {

// Animations longer than this many frames are refused (std::invalid_argument): choose a smaller input.
inline constexpr Index kMaxAnimationFrames = 400;

void animate_window_walk(const WindowWalkGeometry& geometry, const std::filesystem::path& gif_path,
                         int frame_delay_centiseconds);

}  // namespace convlab::plots
