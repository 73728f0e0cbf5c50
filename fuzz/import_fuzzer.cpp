//===- import_fuzzer.cpp - libFuzzer target for the ONNX importer ---------===//
//
// Feeds arbitrary bytes to the importer as a binary ONNX model (or, built
// with KILN_FUZZ_TEXT as kiln-text-fuzzer, as ONNX's text format, which
// `kiln compile` reads from .onnxtxt files), then runs the graph passes
// (folding, fusion) and the lowering to linalg on what imported. Every
// input must end in a module that verifies or in a clean error: a crash,
// a sanitizer report, a hang or an assertion is a bug.
//
// Built by -DKILN_FUZZ=ON with clang (scripts/fuzz.sh); seeds are the
// exported test models and ONNX's backend node tests (binary), or the
// text-format models of the lit tests (text).
//
//===----------------------------------------------------------------------===//

#include "kiln/Import.h"
#include "kiln/InitAll.h"

#include "codegen/Passes.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Pass/PassManager.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

#include <string>
#include <unistd.h>

namespace {

const mlir::DialectRegistry &registry() {
  static mlir::DialectRegistry *r = [] {
    auto *reg = new mlir::DialectRegistry();
    kiln::registerKilnDialects(*reg);
    kiln::registerAllKilnPasses();
    return reg;
  }();
  return *r;
}

#ifdef KILN_FUZZ_TEXT
constexpr bool kText = true;
#else
constexpr bool kText = false;
#endif

std::string scratchPath() {
  return "/tmp/kiln-fuzz-" + std::to_string(getpid()) +
         (kText ? ".onnxtxt" : ".onnx");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const std::string path = scratchPath();
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(path, ec);
    if (ec)
      return 0;
    os.write(reinterpret_cast<const char *>(data), size);
  }
  mlir::MLIRContext context(registry());
  context.printOpOnDiagnostic(false);
  mlir::ScopedDiagnosticHandler quiet(&context, [](mlir::Diagnostic &) {
    return mlir::success();
  });
  kiln::ImportOptions options;
  options.textFormat = kText;
  std::string error;
  auto module = kiln::importOnnxFile(context, path, options, error);
  if (!module)
    return 0;
  if (mlir::failed(mlir::verify(*module)))
    __builtin_trap(); // the importer must only hand out verified IR
  mlir::PassManager pm(&context);
  if (mlir::failed(mlir::parsePassPipeline(mlir::kiln::kGraphPipeline, pm)) ||
      mlir::failed(mlir::parsePassPipeline("convert-kiln-to-linalg", pm)))
    __builtin_trap();
  (void)pm.run(*module); // a clean failure is fine
  return 0;
}
