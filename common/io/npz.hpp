// Writing numpy .npz files: a ZIP archive of named members, stored without compression (what np.savez
// writes), which np.load opens as a dict-like of arrays (members ending in .npy) and raw bytes (others).
// Written through a temporary file renamed into place, so a reader never sees half an archive.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace convlab {

struct NpzMember {
  std::string name;   // "weights.npy" is read back by np.load as key "weights"
  std::string bytes;  // a .npy file's bytes (npy_bytes), or any other content
};

// Throws NpyError naming the path (unwritable folder, a member of 4 GiB or more: no ZIP64 here).
void write_npz(const std::filesystem::path& path, const std::vector<NpzMember>& members);

}  // namespace convlab
