//===- kiln.cpp - the kiln command-line driver ----------------------------===//
//
// `kiln import MODEL.onnx [-o OUT.mlir] [--input-shape ...] [--summary]`
// prints the verified kiln IR of a model (or a short summary of it). Errors
// are one line on stderr and exit code 1.
//
//===----------------------------------------------------------------------===//

#include "kiln/Import.h"
#include "kiln/InitAll.h"

#include "dialects/kiln/KilnDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;

static cl::SubCommand importCmd("import",
                                "Print the kiln IR of an ONNX model");
static cl::opt<std::string> modelPath(cl::Positional, cl::desc("<model.onnx>"),
                                      cl::Required, cl::sub(importCmd));
static cl::opt<std::string> outputPath("o", cl::desc("Output file"),
                                       cl::value_desc("file"), cl::init("-"),
                                       cl::sub(importCmd));
static cl::opt<std::string>
    inputShapes("input-shape",
                cl::desc("Specialize dims: name=1x128 for an input, or "
                         "batch=4 for a symbolic dim; comma separated"),
                cl::sub(importCmd));
static cl::opt<bool> summary("summary",
                             cl::desc("Print a summary instead of the IR"),
                             cl::sub(importCmd));
static cl::opt<bool> elide("elide-weights",
                           cl::desc("Elide weight data in the printed IR"),
                           cl::sub(importCmd));

static int fail(const Twine &msg) {
  errs() << "kiln: error: " << msg << "\n";
  return 1;
}

static std::string dimsOf(mlir::RankedTensorType t, mlir::Attribute names) {
  std::string s;
  raw_string_ostream os(s);
  auto arr = dyn_cast_or_null<mlir::ArrayAttr>(names);
  os << "[";
  for (int64_t i = 0; i < t.getRank(); ++i) {
    if (i)
      os << ", ";
    StringRef sym;
    if (arr && i < (int64_t)arr.size())
      sym = cast<mlir::StringAttr>(arr[i]).getValue();
    if (!t.isDynamicDim(i))
      os << t.getDimSize(i);
    else
      os << (sym.empty() ? "?" : sym);
  }
  os << "] " << t.getElementType();
  return s;
}

static void printSummary(mlir::ModuleOp module, raw_ostream &os) {
  auto func = *module.getOps<mlir::func::FuncOp>().begin();
  os << "model: " << modelPath << "\n";
  auto printArgs = [&](StringRef what, mlir::TypeRange types,
                       function_ref<mlir::DictionaryAttr(unsigned)> attrs) {
    os << what << ":\n";
    for (auto [i, t] : llvm::enumerate(types)) {
      auto d = attrs(i);
      os << "  " << cast<mlir::StringAttr>(d.get("kiln.name")).getValue()
         << ": " << dimsOf(cast<mlir::RankedTensorType>(t), d.get("kiln.dims"))
         << "\n";
    }
  };
  printArgs("inputs", func.getArgumentTypes(),
            [&](unsigned i) { return func.getArgAttrDict(i); });
  printArgs("outputs", func.getResultTypes(),
            [&](unsigned i) { return func.getResultAttrDict(i); });
  MapVector<StringRef, unsigned> counts;
  unsigned total = 0;
  func.walk([&](mlir::Operation *op) {
    if (isa<mlir::kiln::KilnDialect>(op->getDialect())) {
      ++counts[op->getName().getStringRef()];
      ++total;
    }
  });
  os << "kiln ops: " << total << "\n";
  SmallVector<std::pair<StringRef, unsigned>> sorted(counts.begin(),
                                                     counts.end());
  llvm::sort(sorted, [](auto &a, auto &b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  for (auto &[name, n] : sorted)
    os << "  " << name << ": " << n << "\n";
}

static int runImport() {
  kiln::ImportOptions options;
  std::string error;
  if (!inputShapes.empty() &&
      !kiln::parseShapeOverrides(inputShapes, options, error))
    return fail(error);
  mlir::DialectRegistry registry;
  kiln::registerKilnDialects(registry);
  mlir::MLIRContext context(registry);
  context.printOpOnDiagnostic(false);
  auto module = kiln::importOnnxFile(context, modelPath, options, error);
  if (!module)
    return fail(error);
  std::string openError;
  auto out = mlir::openOutputFile(outputPath, &openError);
  if (!out)
    return fail(openError);
  if (summary) {
    printSummary(*module, out->os());
  } else {
    mlir::OpPrintingFlags flags;
    if (elide)
      flags.elideLargeElementsAttrs(16).elideLargeResourceString(64);
    module->print(out->os(), flags);
  }
  out->keep();
  return 0;
}

int main(int argc, char **argv) {
  cl::ParseCommandLineOptions(argc, argv,
                              "kiln: an ahead-of-time ONNX compiler\n");
  if (importCmd)
    return runImport();
  return fail("no command given; try `kiln import MODEL.onnx` or `kiln --help`");
}
