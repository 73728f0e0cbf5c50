//===- PatternReport.cpp - which patterns fired ---------------------------===//

#include "passes/PatternReport.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <atomic>
#include <mutex>

using namespace mlir;

namespace {
std::atomic<bool> recording{false};
std::mutex mu;
std::map<std::string, int64_t> counts;

struct CountingListener final : RewriterBase::Listener {
  std::map<std::string, int64_t> local;
  void notifyPatternEnd(const Pattern &pattern, LogicalResult status) override {
    if (failed(status))
      return;
    StringRef name = pattern.getDebugName();
    size_t colon = name.rfind("::");
    if (colon != StringRef::npos)
      name = name.drop_front(colon + 2);
    ++local[name.empty() ? "<unnamed>" : name.str()];
  }
};
} // namespace

void mlir::kiln::setPatternRecording(bool on) { recording = on; }

LogicalResult mlir::kiln::applyAndRecord(
    Operation *op, const FrozenRewritePatternSet &patterns) {
  if (!recording)
    return applyPatternsGreedily(op, patterns);
  CountingListener listener;
  GreedyRewriteConfig config;
  config.setListener(&listener);
  LogicalResult result = applyPatternsGreedily(op, patterns, config);
  std::lock_guard<std::mutex> lock(mu);
  for (auto &[name, n] : listener.local)
    counts[name] += n;
  return result;
}

std::map<std::string, int64_t> mlir::kiln::takePatternCounts() {
  std::lock_guard<std::mutex> lock(mu);
  return std::exchange(counts, {});
}
