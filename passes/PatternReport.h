//===- PatternReport.h - which patterns fired, for kiln compile --report ---===//
//
// The graph passes apply their patterns through applyAndRecord, which counts
// successful applications per pattern while recording is enabled; the
// driver's report takes the counts after each pass.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_PASSES_PATTERNREPORT_H
#define KILN_PASSES_PATTERNREPORT_H

#include "mlir/IR/PatternMatch.h"
#include "mlir/Rewrite/FrozenRewritePatternSet.h"

#include <map>
#include <string>

namespace mlir::kiln {

/// Turns pattern counting on or off (off by default: no overhead).
void setPatternRecording(bool on);

/// applyPatternsGreedily, counting each pattern that fires when recording.
LogicalResult applyAndRecord(Operation *op,
                             const FrozenRewritePatternSet &patterns);

/// The counts recorded since the last call (pattern name -> applications).
std::map<std::string, int64_t> takePatternCounts();

} // namespace mlir::kiln

#endif // KILN_PASSES_PATTERNREPORT_H
