//===- Calibrate.h - `kiln calibrate` ---------------------------*- C++ -*-===//
//
// Activation ranges for static int8 quantization: the model is compiled in
// fp32 with the inputs of its dense layers (MatMul / Gemm nodes with a
// constant weight) as extra outputs, run on the calibration samples, and
// each input's range is measured by one of three methods.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_TOOLS_CALIBRATE_H
#define KILN_TOOLS_CALIBRATE_H

#include "codegen/cpu/Calibration.h"
#include "kiln/Import.h"

#include "llvm/Support/raw_ostream.h"

#include <map>
#include <string>
#include <vector>

namespace kiln {

struct CalibrateOptions {
  std::string model;
  /// .npz files of sample inputs, keyed by input name; an array with one
  /// dim more than its input holds one sample per index of its first dim.
  /// Empty: `randomSamples` random inputs at `randomShapes`.
  std::vector<std::string> samples;
  int randomSamples = 8;
  std::map<std::string, std::vector<int64_t>> randomShapes;
  /// --input-shape of the fp32 library that is run.
  ImportOptions import;
  /// minmax, percentile or entropy.
  std::string method = "minmax";
  /// method percentile: the percentile kept at each end (of 100).
  double percentile = 99.999;
  std::string cpu = "native";
  int threads = 0;
};

/// Measures the ranges into `cal`; false with `error` set on failure.
bool calibrate(const CalibrateOptions &options, Calibration &cal,
               llvm::raw_ostream &log, std::string &error);

} // namespace kiln

#endif // KILN_TOOLS_CALIBRATE_H
