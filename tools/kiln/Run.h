//===- Run.h - `kiln run` and `kiln inspect` --------------------*- C++ -*-===//
//
// Loading and running compiled models from the command line.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_TOOLS_RUN_H
#define KILN_TOOLS_RUN_H

#include "Npz.h"

#include "llvm/Support/raw_ostream.h"

#include <map>
#include <string>
#include <vector>

namespace kiln {

struct RunOptions {
  std::string model, inputs, output;
  std::map<std::string, std::vector<int64_t>> shapes;
  int threads = 0;
  int bench = 0;
  /// Inputs given in memory (matched by name), instead of `inputs`.
  const std::vector<npz::Array> *arrays = nullptr;
  /// Seed of the random inputs.
  unsigned seed = 0;
  /// A second build of the model to time against this one (`--against`).
  std::string against;
};

int runModel(const RunOptions &options, llvm::raw_ostream &os,
             std::string &error);

/// What one `runModel` call produced: the outputs of the first run and the
/// times of the `bench` runs after it (ms, in run order).
struct RunResult {
  std::vector<npz::Array> outputs;
  /// The inputs it ran on (read, given or random).
  std::vector<npz::Array> inputs;
  std::vector<double> ms;
  /// With `against`: its times and, per output, max |diff| / max |output|
  /// against the model's (0 for non-float outputs).
  std::vector<double> msAgainst, againstDiff;
};
/// runModel without printing.
int runModelTo(const RunOptions &options, RunResult &result,
               std::string &error);

/// `kiln compile --accuracy-report`: runs the low-precision `candidate` and
/// the fp32 `reference` library on the same inputs (options.inputs, or
/// random ones at options.shapes), `options.bench` timed runs each in
/// three alternating rounds, and
/// prints per output the cosine, max abs and relative error, top-1
/// agreement along the last dim, and both median times.
int accuracyReport(const std::string &candidate, const std::string &reference,
                   const RunOptions &options, llvm::raw_ostream &os,
                   std::string &error);
int runInspect(const std::string &path, llvm::raw_ostream &os,
               std::string &error);

} // namespace kiln

#endif // KILN_TOOLS_RUN_H
