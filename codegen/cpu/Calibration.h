//===- Calibration.h - activation ranges for static int8 --------*- C++ -*-===//
//
// The file `kiln calibrate` writes and `kiln compile --quantize int8-static
// --calibration FILE` reads: per ONNX MatMul / Gemm node with a constant
// weight, the range of its input activations over the calibration samples
// (after the method's clipping), as JSON:
//
//   {"format": "kiln-calibration", "version": 1, "method": "minmax",
//    "samples": 8,
//    "nodes": {"/layer.0/attention/query/MatMul":
//                {"tensor": "/layer.0/LayerNorm_output_0",
//                 "min": -4.21, "max": 5.87}, ...}}
//
//===----------------------------------------------------------------------===//

#ifndef KILN_CODEGEN_CPU_CALIBRATION_H
#define KILN_CODEGEN_CPU_CALIBRATION_H

#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringRef.h"

#include <string>
#include <utility>
#include <vector>

namespace kiln {

struct ActRange {
  std::string tensor;
  float lo = 0, hi = 0;
};

struct Calibration {
  std::string method;
  int64_t samples = 0;
  /// Node name -> range, in the file's order.
  std::vector<std::pair<std::string, ActRange>> nodes;
};

/// Reads `path`; false with `error` naming the file and the problem (not
/// JSON, another format, a range that is not finite or has min > max).
bool readCalibration(llvm::StringRef path, Calibration &cal, std::string &error);
/// Writes `cal` to `path` as above.
bool writeCalibration(llvm::StringRef path, const Calibration &cal,
                      std::string &error);
/// The u8 scale and zero point of the range [lo, hi] widened to hold 0, as
/// the runtime's int8 GEMM computes them for a row (gemm_s8.c): scale
/// (hi - lo) / 255, zero point round(-lo / scale) in [0, 255]; an empty
/// range gets scale 1 and zero point 0.
std::pair<float, float> u8QuantParams(float lo, float hi);

} // namespace kiln

#endif // KILN_CODEGEN_CPU_CALIBRATION_H
