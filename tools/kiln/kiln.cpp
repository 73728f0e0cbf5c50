//===- kiln.cpp - the kiln command-line driver ----------------------------===//
//
// `kiln import MODEL.onnx [-o OUT.mlir] [--input-shape ...] [--summary]`
// prints the verified kiln IR of a model (or a short summary of it). Errors
// are one line on stderr and exit code 1.
//
//===----------------------------------------------------------------------===//

#include "kiln/Compile.h"
#include "kiln/Import.h"
#include "kiln/InitAll.h"

#include "Calibrate.h"
#include "Run.h"

#include "codegen/Passes.h"
#include "dialects/kiln/KilnDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdlib>

using namespace llvm;

// Every kiln option is in this category; --help shows it alone (LLVM's own
// flags, linked in through libLLVM, are hidden).
static cl::OptionCategory kilnCategory("kiln options");

static cl::SubCommand importCmd("import",
                                "Print the kiln IR of an ONNX model");
static cl::opt<std::string> modelPath(cl::Positional, cl::desc("<model.onnx>"),
                                      cl::Required, cl::sub(importCmd), cl::cat(kilnCategory));
static cl::opt<std::string> outputPath("o", cl::desc("Output file"),
                                       cl::value_desc("file"), cl::init("-"),
                                       cl::sub(importCmd), cl::cat(kilnCategory));
static cl::opt<std::string>
    inputShapes("input-shape",
                cl::desc("Specialize dims: name=1x128 for an input, or "
                         "batch=4 for a symbolic dim; comma separated"),
                cl::sub(importCmd), cl::cat(kilnCategory));
static cl::opt<bool> summary("summary",
                             cl::desc("Print a summary instead of the IR"),
                             cl::sub(importCmd), cl::cat(kilnCategory));
static cl::opt<bool> optimize("optimize",
                              cl::desc("Run the graph optimizations (folding, "
                                       "norm and activation fusion)"),
                              cl::sub(importCmd), cl::cat(kilnCategory));
static cl::opt<bool> elide("elide-weights",
                           cl::desc("Elide weight data in the printed IR"),
                           cl::sub(importCmd), cl::cat(kilnCategory));

static cl::SubCommand compileCmd("compile",
                                 "Compile an ONNX model into a shared library");
static cl::opt<std::string> cModel(cl::Positional, cl::desc("<model.onnx>"),
                                   cl::Required, cl::sub(compileCmd), cl::cat(kilnCategory));
static cl::opt<std::string> cOutput("o", cl::desc("Output MODEL.so"),
                                    cl::value_desc("file"), cl::Required,
                                    cl::sub(compileCmd), cl::cat(kilnCategory));
static cl::opt<std::string> cShapes("input-shape",
                                    cl::desc("Specialize dims (as for import)"),
                                    cl::sub(compileCmd), cl::cat(kilnCategory));
static cl::opt<std::string>
    cCpu("cpu", cl::desc("Target CPU, which also picks the runtime kernels: native (default), x86-64-v3 (AVX2), x86-64-v4 (AVX-512), x86-64 (generic C)"),
         cl::init("native"), cl::sub(compileCmd), cl::cat(kilnCategory));
static cl::opt<std::string> cTarget(
    "target",
    cl::desc("cpu (default), or cuda: NVIDIA GPU kernels (cubins assembled by "
             "the CUDA toolkit's ptxas) run through the CUDA driver; the "
             "library still loads on machines without a GPU"),
    cl::init("cpu"), cl::sub(compileCmd), cl::cat(kilnCategory));
static cl::opt<std::string> cGpu(
    "gpu", cl::desc("--target cuda: SM architecture of the cubins (default sm_90)"),
    cl::init("sm_90"), cl::sub(compileCmd), cl::cat(kilnCategory));
static cl::opt<std::string> cCudaPath(
    "cuda-path",
    cl::desc("--target cuda: CUDA toolkit root (default $CUDA_PATH, else "
             "/usr/local/cuda)"),
    cl::sub(compileCmd), cl::cat(kilnCategory));
static cl::opt<std::string> cSavePtx(
    "save-ptx",
    cl::desc("--target cuda: write each kernel module's PTX and ptxas -v "
             "report (registers, spills) to this folder"),
    cl::value_desc("dir"), cl::sub(compileCmd), cl::cat(kilnCategory));
static cl::opt<bool> cEmulateGpu(
    "emulate-gpu",
    cl::desc("--target cuda: lower the GPU's tiled block x thread loops for "
             "the CPU instead (tests the GPU tiling without a GPU)"),
    cl::Hidden, cl::sub(compileCmd), cl::cat(kilnCategory));
static cl::opt<std::string> cGpuMmaTile(
    "gpu-mma-tile",
    cl::desc("--target cuda --precision fp16|bf16: ROWSxCOLS (64 or 128 "
             "each) runs the matmuls whose operands allow 16-byte loads on "
             "the pipelined tensor-core kernel with that tile of C per block "
             "(default: the 64 x 64 kernel)"),
    cl::value_desc("RxC"), cl::sub(compileCmd), cl::cat(kilnCategory));
static cl::opt<bool> cGpuMmaLdmatrix(
    "gpu-mma-ldmatrix",
    cl::desc("with --gpu-mma-tile: load the tensor cores' fragments with "
             "ldmatrix"),
    cl::sub(compileCmd), cl::cat(kilnCategory));
static cl::opt<int64_t> cGpuSplitK(
    "gpu-split-k",
    cl::desc("with --gpu-mma-tile: split k of the matmuls with a static K "
             "of at least 256 x S and twice their N over S blocks per tile "
             "(2 to 8), their partial tiles added up by a second kernel "
             "(default 1: off)"),
    cl::value_desc("S"), cl::init(1), cl::sub(compileCmd),
    cl::cat(kilnCategory));
static cl::opt<bool> cGpuMmaAttention(
    "gpu-mma-attention",
    cl::desc("--target cuda --precision fp16|bf16: run attention with more "
             "than 8 query rows on tensor cores (head dims multiples of 16)"),
    cl::sub(compileCmd), cl::cat(kilnCategory));
static cl::opt<std::string> cRuntimeVariant(
    "runtime-variant",
    cl::desc("Link the model with an instrumented runtime (tests): asan "
             "(AddressSanitizer + UBSan) or tsan (ThreadSanitizer); the "
             "program that loads it must be built with the same sanitizer"),
    cl::value_desc("asan|tsan"), cl::Hidden, cl::sub(compileCmd),
    cl::cat(kilnCategory));
static cl::opt<bool> cKeepObject(
    "keep-object",
    cl::desc("Keep the model's object file next to it (MODEL.so.o)"),
    cl::Hidden, cl::sub(compileCmd), cl::cat(kilnCategory));
static cl::opt<bool> cTiming("timing", cl::desc("Print the time per stage"),
                             cl::sub(compileCmd), cl::cat(kilnCategory));
static cl::opt<std::string> cPrecision(
    "precision",
    cl::desc("fp32 (default); bf16: dense layers' weights in bf16, "
             "multiplied in bf16 with fp32 accumulation (AVX512-BF16); fp16: "
             "dense layers' weights in fp16, widened to fp32 in registers"),
    cl::init("fp32"), cl::sub(compileCmd), cl::cat(kilnCategory));
static cl::opt<std::string> cQuantize(
    "quantize",
    cl::desc("none (default); int8: dense layers' weights quantized to "
             "int8 per output column, activations to u8 per row at run time "
             "(dynamic), int32 accumulation (AVX512-VNNI); int8-static: the "
             "same weights, activations quantized per tensor with calibrated "
             "ranges (--calibration); int4: weight-only, "
             "4 bits per group of --group-size values of k"),
    cl::init("none"), cl::sub(compileCmd), cl::cat(kilnCategory));
static cl::opt<std::string> cCalibration(
    "calibration",
    cl::desc("--quantize int8-static: the ranges `kiln calibrate` wrote "
             "(.json), or sample inputs (.npz, calibrated here with "
             "--calibrate-method; the ranges go to OUTPUT.calibration.json)"),
    cl::value_desc("file"), cl::sub(compileCmd), cl::cat(kilnCategory));
static cl::opt<std::string> cCalibrateMethod(
    "calibrate-method",
    cl::desc("With --calibration SAMPLES.npz: minmax (default), percentile or "
             "entropy"),
    cl::init("minmax"), cl::sub(compileCmd), cl::cat(kilnCategory));
static cl::opt<int64_t> cGroupSize(
    "group-size",
    cl::desc("--quantize int4: values of k per scale (32 or 128; default 128)"),
    cl::init(128), cl::sub(compileCmd), cl::cat(kilnCategory));
static cl::list<std::string> cKeepFp32(
    "keep-fp32",
    cl::desc("NODE,...: these ONNX nodes (MatMul, Gemm, Attention) keep fp32 "
             "weights under --precision bf16|fp16 or --quantize"),
    cl::CommaSeparated, cl::sub(compileCmd), cl::cat(kilnCategory));
static cl::opt<bool> cWinograd(
    "winograd",
    cl::desc("3 x 3 stride-1 convolutions by Winograd F(2x2, 3x3) on AVX-512 "
             "(default true; --winograd=false: the direct kernel)"),
    cl::init(true), cl::sub(compileCmd), cl::cat(kilnCategory));
static cl::opt<std::string> cAccuracy(
    "accuracy-report",
    cl::desc("INPUTS.npz or 'random': also compile the model in fp32, run "
             "both on these inputs and print per output the cosine, max "
             "errors, top-1 agreement and both speeds"),
    cl::sub(compileCmd), cl::cat(kilnCategory));
static cl::opt<std::string> cAccuracyShape(
    "accuracy-shape",
    cl::desc("Dims of the random inputs of --accuracy-report: batch=1,seq=128"),
    cl::sub(compileCmd), cl::cat(kilnCategory));
static cl::opt<int> cAccuracyRuns(
    "accuracy-runs", cl::desc("Timed runs of each library (default 10)"),
    cl::init(10), cl::sub(compileCmd), cl::cat(kilnCategory));
static cl::opt<int> cAccuracyThreads(
    "accuracy-threads", cl::desc("Threads for the report's runs (0: all cores)"),
    cl::init(0), cl::sub(compileCmd), cl::cat(kilnCategory));
static cl::opt<bool> cPrintAll(
    "print-ir-after-all",
    cl::desc("Print the IR to stderr after every pass (large constants elided)"),
    cl::sub(compileCmd), cl::cat(kilnCategory));
static cl::opt<std::string> cPrintAfter(
    "print-ir-after",
    cl::desc("Print the IR to stderr after each run of this pass (its kiln-opt "
             "name, e.g. kiln-fuse-attention)"),
    cl::sub(compileCmd), cl::cat(kilnCategory));
static cl::opt<bool> cMlirTiming(
    "mlir-timing", cl::desc("Print the time of each pass to stderr"),
    cl::sub(compileCmd), cl::cat(kilnCategory));
static cl::opt<bool> cReport("report",
                             cl::desc("Print kiln op counts before and after "
                                      "each graph pass"),
                             cl::sub(compileCmd), cl::cat(kilnCategory));

static cl::SubCommand calibrateCmd(
    "calibrate", "Measure the dense layers' input ranges for --quantize int8-static");
static cl::opt<std::string> kModel(cl::Positional, cl::desc("<model.onnx>"),
                                   cl::Required, cl::sub(calibrateCmd),
                                   cl::cat(kilnCategory));
static cl::opt<std::string> kOutput("o", cl::desc("Output ranges (.json)"),
                                    cl::value_desc("file"), cl::Required,
                                    cl::sub(calibrateCmd), cl::cat(kilnCategory));
static cl::list<std::string> kSamples(
    "samples",
    cl::desc("SAMPLES.npz,...: inputs keyed by name, an array with one dim "
             "more than its input holding one sample per index of its first "
             "dim; 'random' (default): --random-samples random inputs"),
    cl::CommaSeparated, cl::sub(calibrateCmd), cl::cat(kilnCategory));
static cl::opt<int> kRandomSamples(
    "random-samples", cl::desc("How many random samples (default 8)"),
    cl::init(8), cl::sub(calibrateCmd), cl::cat(kilnCategory));
static cl::opt<std::string> kShapes(
    "input-shape", cl::desc("Dims of the random samples: batch=1,seq=128"),
    cl::sub(calibrateCmd), cl::cat(kilnCategory));
static cl::opt<std::string> kMethod(
    "method",
    cl::desc("minmax (default): each input's whole range; percentile: "
             "clipped at --percentile at both ends; entropy: clipped where "
             "the KL divergence of the quantized |x| histogram is least"),
    cl::init("minmax"), cl::sub(calibrateCmd), cl::cat(kilnCategory));
static cl::opt<double> kPercentile(
    "percentile", cl::desc("--method percentile: kept percentile (default 99.999)"),
    cl::init(99.999), cl::sub(calibrateCmd), cl::cat(kilnCategory));
static cl::opt<std::string> kCpu("cpu", cl::desc("Target CPU of the fp32 run (default native)"),
                                 cl::init("native"), cl::sub(calibrateCmd),
                                 cl::cat(kilnCategory));
static cl::opt<int> kThreads("threads", cl::desc("Threads (0: all cores)"),
                             cl::init(0), cl::sub(calibrateCmd), cl::cat(kilnCategory));

static cl::SubCommand runCmd("run", "Run a compiled model");
static cl::opt<std::string> rModel(cl::Positional, cl::desc("<model.so>"),
                                   cl::Required, cl::sub(runCmd), cl::cat(kilnCategory));
static cl::opt<std::string>
    rInputs("inputs", cl::desc("Inputs: an .npz keyed by input name, or an "
                               "ONNX test-data folder of input_N.pb"),
            cl::sub(runCmd), cl::cat(kilnCategory));
static cl::opt<std::string> rOutput("output", cl::desc("Write outputs to .npz"),
                                    cl::sub(runCmd), cl::cat(kilnCategory));
static cl::opt<std::string>
    rShapes("input-shape", cl::desc("Dims for random inputs: batch=2,seq=7"),
            cl::sub(runCmd), cl::cat(kilnCategory));
static cl::opt<int> rThreads("threads", cl::desc("Threads (0: all cores)"),
                             cl::init(0), cl::sub(runCmd), cl::cat(kilnCategory));
static cl::opt<int> rBench("bench", cl::desc("Time N runs after a warm-up"),
                           cl::init(0), cl::sub(runCmd), cl::cat(kilnCategory));
static cl::opt<std::string> rAgainst(
    "against",
    cl::desc("With --bench: time a second build of the model (B.so) on the "
             "same inputs, in alternating blocks, and print its times, the "
             "ratio of medians and the outputs' largest difference"),
    cl::sub(runCmd), cl::cat(kilnCategory));
static cl::opt<bool> rProfile(
    "profile",
    cl::desc("Print each kernel call site's time per run to stderr at exit "
             "(sets KILN_PROFILE=1)"),
    cl::sub(runCmd), cl::cat(kilnCategory));

static cl::SubCommand inspectCmd("inspect", "Print a compiled model's signature");
static cl::opt<std::string> iModel(cl::Positional, cl::desc("<model.so>"),
                                   cl::Required, cl::sub(inspectCmd), cl::cat(kilnCategory));

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
  if (optimize) {
    kiln::registerAllKilnPasses();
    mlir::PassManager pm(&context);
    if (failed(mlir::parsePassPipeline(
            mlir::kiln::kGraphPipeline, pm)) ||
        failed(pm.run(*module)))
      return fail("graph optimization failed");
  }
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

static int runCompile() {
  kiln::CompileOptions options;
  std::string error;
  if (!cShapes.empty() &&
      !kiln::parseShapeOverrides(cShapes, options.import, error))
    return fail(error);
  options.cpu = cCpu;
  options.target = cTarget;
  options.gpuArch = cGpu;
  options.gpuMmaTile = cGpuMmaTile;
  options.gpuMmaLdmatrix = cGpuMmaLdmatrix;
  options.gpuSplitK = cGpuSplitK;
  options.gpuMmaAttention = cGpuMmaAttention;
  options.cudaPath = cCudaPath;
  options.savePtxDir = cSavePtx;
  options.emulateGpu = cEmulateGpu;
  options.runtimeVariant = cRuntimeVariant;
  options.keepObject = cKeepObject;
  options.timing = cTiming;
  options.precision = cPrecision;
  options.quantize = cQuantize;
  options.groupSize = cGroupSize;
  options.keepFp32.assign(cKeepFp32.begin(), cKeepFp32.end());
  options.winograd = cWinograd;
  options.calibration = cCalibration;
  // Sample inputs: calibrated here, the ranges written next to the output.
  if (StringRef(cCalibration).ends_with(".npz") &&
      options.quantize == "int8-static") {
    kiln::CalibrateOptions co;
    co.model = cModel;
    co.samples = {cCalibration};
    co.method = cCalibrateMethod;
    co.cpu = cCpu;
    kiln::Calibration cal;
    if (!kiln::calibrate(co, cal, outs(), error))
      return fail(error);
    options.calibration = cOutput + ".calibration.json";
    if (!kiln::writeCalibration(options.calibration, cal, error))
      return fail(error);
    outs() << "kiln: ranges written to " << options.calibration << "\n";
  }
  options.printIrAfterAll = cPrintAll;
  options.printIrAfter = cPrintAfter;
  options.mlirTiming = cMlirTiming;
  options.report = cReport;
  if (!cAccuracy.empty() && options.precision == "fp32" &&
      options.quantize == "none")
    return fail("--accuracy-report compares against fp32: give --precision "
                "bf16|fp16 or --quantize int8|int8-static|int4");
  if (!kiln::compileModel(cModel, cOutput, options, error, outs()))
    return fail(error);
  if (cAccuracy.empty())
    return 0;
  // The fp32 reference: the same model and options, full precision, in a
  // temporary library.
  kiln::RunOptions ro;
  ro.inputs = cAccuracy == "random" ? "" : cAccuracy.getValue();
  ro.bench = cAccuracyRuns;
  ro.threads = cAccuracyThreads;
  if (!cAccuracyShape.empty()) {
    kiln::ImportOptions io;
    if (!kiln::parseShapeOverrides(cAccuracyShape, io, error))
      return fail(error);
    ro.shapes = io.shapes;
  }
  llvm::SmallString<128> refPath;
  if (llvm::sys::fs::createTemporaryFile("kiln-fp32-reference", "so", refPath))
    return fail("cannot create a temporary file for the fp32 reference");
  std::string ref = refPath.str().str();
  kiln::CompileOptions refOptions = options;
  refOptions.precision = "fp32";
  refOptions.quantize = "none";
  refOptions.calibration.clear();
  refOptions.keepFp32.clear();
  refOptions.timing = refOptions.report = refOptions.mlirTiming = false;
  refOptions.printIrAfterAll = false;
  refOptions.printIrAfter.clear();
  int rc = 0;
  if (!kiln::compileModel(cModel, ref, refOptions, error, outs())) {
    rc = 1;
  } else {
    outs() << "accuracy of " << cOutput.getValue() << " (precision "
           << options.precision << ", quantize " << options.quantize
           << ") against fp32, inputs: " << cAccuracy.getValue() << "\n";
    rc = kiln::accuracyReport(cOutput, ref, ro, outs(), error);
  }
  llvm::sys::fs::remove(ref);
  llvm::sys::fs::remove(ref + ".weights");
  return rc ? fail(error) : 0;
}

static int runCalibrate() {
  kiln::CalibrateOptions o;
  o.model = kModel;
  for (const std::string &s : kSamples)
    if (s != "random")
      o.samples.push_back(s);
  o.randomSamples = kRandomSamples;
  o.method = kMethod;
  o.percentile = kPercentile;
  o.cpu = kCpu;
  o.threads = kThreads;
  std::string error;
  if (o.randomSamples < 1)
    return fail("--random-samples must be at least 1");
  if (!kShapes.empty()) {
    kiln::ImportOptions io;
    if (!kiln::parseShapeOverrides(kShapes, io, error))
      return fail(error);
    o.randomShapes = io.shapes;
  }
  kiln::Calibration cal;
  if (!kiln::calibrate(o, cal, outs(), error) ||
      !kiln::writeCalibration(kOutput, cal, error))
    return fail(error);
  return 0;
}

static int runRun() {
  // The model's runtime reads KILN_PROFILE when the library loads (KILN_PROFILE=order stays).
  if (rProfile && !::getenv("KILN_PROFILE"))
    ::setenv("KILN_PROFILE", "1", 1);
  kiln::RunOptions o;
  o.model = rModel;
  o.inputs = rInputs;
  o.output = rOutput;
  o.threads = rThreads;
  o.bench = rBench;
  o.against = rAgainst;
  std::string error;
  if (!o.against.empty() && o.bench <= 0)
    return fail("--against needs --bench N");
  if (!rShapes.empty()) {
    kiln::ImportOptions io;
    if (!kiln::parseShapeOverrides(rShapes, io, error))
      return fail(error);
    o.shapes = io.shapes;
  }
  if (kiln::runModel(o, outs(), error) != 0)
    return fail(error);
  return 0;
}

int main(int argc, char **argv) {
  for (cl::SubCommand *sub : {&importCmd, &compileCmd, &calibrateCmd, &runCmd,
                              &inspectCmd,
                              &cl::SubCommand::getTopLevel()})
    cl::HideUnrelatedOptions(kilnCategory, *sub);
  cl::ParseCommandLineOptions(argc, argv,
                              "kiln: an ahead-of-time ONNX compiler\n");
  if (importCmd)
    return runImport();
  if (compileCmd)
    return runCompile();
  if (calibrateCmd)
    return runCalibrate();
  if (runCmd)
    return runRun();
  if (inspectCmd) {
    std::string error;
    if (kiln::runInspect(iModel, outs(), error) != 0)
      return fail(error);
    return 0;
  }
  return fail("no command given; try `kiln import MODEL.onnx` or `kiln --help`");
}
