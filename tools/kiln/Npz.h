//===- Npz.h - read and write numpy .npz archives ---------------*- C++ -*-===//
//
// Enough of the zip and .npy formats for `kiln run`: uncompressed (np.savez)
// archives, with zip64 sizes, little-endian C-order arrays.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_TOOLS_NPZ_H
#define KILN_TOOLS_NPZ_H

#include "kiln/runtime.h"

#include <string>
#include <vector>

namespace kiln::npz {

struct Array {
  std::string name;
  kiln_dtype dtype = KILN_F32;
  std::vector<int64_t> dims;
  std::vector<char> data;
};

/// Reads every array of `path`; false with `error` set on failure.
bool read(const std::string &path, std::vector<Array> &arrays,
          std::string &error);
/// Writes `arrays` to `path` as an uncompressed .npz.
bool write(const std::string &path, const std::vector<Array> &arrays,
           std::string &error);

} // namespace kiln::npz

#endif // KILN_TOOLS_NPZ_H
