//===- Run.h - `kiln run` and `kiln inspect` --------------------*- C++ -*-===//
//
// Loading and running compiled models from the command line.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_TOOLS_RUN_H
#define KILN_TOOLS_RUN_H

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
};

int runModel(const RunOptions &options, llvm::raw_ostream &os,
             std::string &error);
int runInspect(const std::string &path, llvm::raw_ostream &os,
               std::string &error);

} // namespace kiln

#endif // KILN_TOOLS_RUN_H
