//===- Compile.cpp - ONNX model to MODEL.so -------------------------------===//
//
// Drives the stages: import, the CPU lowering pipeline, translation to LLVM
// IR, the entry and signature symbols the runtime looks up, LLVM -O3 and
// object emission for the target CPU, then linking with the runtime archive
// using the system C compiler driver.
//
//===----------------------------------------------------------------------===//

#include "kiln/Compile.h"
#include "kiln/InitAll.h"

#include "Ptxas.h"
#include "Signature.h"

#include "codegen/Passes.h"
#include "codegen/cpu/Calibration.h"
#include "passes/PatternReport.h"
#include "dialects/kiln/KilnDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassInstrumentation.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/OpenMP/OpenMPToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"

#include "llvm/ADT/StringSet.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/IR/Verifier.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/SubtargetFeature.h"

#include <chrono>
#include <cstdlib>
#include <map>
#include <set>

using namespace mlir;

namespace {

using Clock = std::chrono::steady_clock;

/// --timing prints every stage. Without it, a compile that has run for
/// more than 3 s prints one progress line per finished stage on stderr when
/// stderr is a terminal, so a long compile (BERT-base: ~11 s) shows where
/// it is.
struct StageTimer {
  bool enabled;
  llvm::raw_ostream &log;
  Clock::time_point begin = Clock::now();
  Clock::time_point start = begin;
  bool progress = llvm::errs().is_displayed();
  void lap(llvm::StringRef stage) {
    auto now = Clock::now();
    if (enabled)
      log << llvm::format("  %-10s %8.1f ms\n", stage.str().c_str(),
                          std::chrono::duration<double, std::milli>(now - start)
                              .count());
    else if (progress &&
             std::chrono::duration<double>(now - begin).count() > 3.0)
      llvm::errs() << llvm::format(
          "kiln: %s done (%.1f s, %.1f s in all)\n", stage.str().c_str(),
          std::chrono::duration<double>(now - start).count(),
          std::chrono::duration<double>(now - begin).count());
    start = now;
  }
};

/// Adds `void kiln_model_entry(void **inputs, void *ctx)` calling the C
/// interface of @main, and `const char *kiln_model_signature(void)`.
bool addEntryPoints(llvm::Module &m, unsigned numInputs,
                    const std::string &signature, bool cuda,
                    std::string &error) {
  llvm::LLVMContext &c = m.getContext();
  llvm::Function *main = m.getFunction("_mlir_ciface_main");
  if (!main || main->arg_size() != numInputs + 1) {
    error = "internal error: the lowered @main has an unexpected signature";
    return false;
  }
  auto *ptr = llvm::PointerType::getUnqual(c);
  auto *entryTy = llvm::FunctionType::get(llvm::Type::getVoidTy(c), {ptr, ptr}, false);
  auto *entry = llvm::Function::Create(entryTy, llvm::GlobalValue::ExternalLinkage,
                                       "kiln_model_entry", m);
  llvm::IRBuilder<> b(llvm::BasicBlock::Create(c, "entry", entry));
  llvm::SmallVector<llvm::Value *> args;
  for (unsigned i = 0; i < numInputs; ++i) {
    llvm::Value *slot = b.CreateConstGEP1_64(ptr, entry->getArg(0), i);
    args.push_back(b.CreateLoad(ptr, slot));
  }
  args.push_back(entry->getArg(1));
  b.CreateCall(main, args);
  b.CreateRetVoid();

  // `void kiln_model_head(void **inputs, void *ctx)`: the batch head
  // (kiln-outline-batch-head) on the cut's descriptor; empty without one.
  auto *headEntry = llvm::Function::Create(
      entryTy, llvm::GlobalValue::ExternalLinkage, "kiln_model_head", m);
  llvm::IRBuilder<> hb(llvm::BasicBlock::Create(c, "entry", headEntry));
  if (llvm::Function *head = m.getFunction("_mlir_ciface_kiln_head")) {
    if (head->arg_size() != 2) {
      error = "internal error: the lowered @kiln_head has an unexpected signature";
      return false;
    }
    llvm::Value *cut = hb.CreateLoad(ptr, headEntry->getArg(0));
    hb.CreateCall(head, {cut, headEntry->getArg(1)});
  }
  hb.CreateRetVoid();

  // Only the runtime's API and these two symbols leave the library: the
  // generated code (whose @main would otherwise interpose with a host
  // program's main) stays hidden.
  if (llvm::Function *f = m.getFunction("main"))
    f->setName("kiln_graph_main");
  for (llvm::Function &f : m)
    if (!f.isDeclaration())
      f.setVisibility(llvm::GlobalValue::HiddenVisibility);
  entry->setVisibility(llvm::GlobalValue::DefaultVisibility);
  headEntry->setVisibility(llvm::GlobalValue::HiddenVisibility);

  auto *str = llvm::ConstantDataArray::getString(c, signature, true);
  auto *gv = new llvm::GlobalVariable(m, str->getType(), true,
                                      llvm::GlobalValue::PrivateLinkage, str,
                                      "kiln_signature_text");
  auto *sigFn = llvm::Function::Create(llvm::FunctionType::get(ptr, {}, false),
                                       llvm::GlobalValue::ExternalLinkage,
                                       "kiln_model_signature", m);
  llvm::IRBuilder<> sb(llvm::BasicBlock::Create(c, "entry", sigFn));
  sb.CreateRet(gv);
  sigFn->setVisibility(llvm::GlobalValue::DefaultVisibility);
  if (cuda) {
    // The runtime (a weak reference) runs a CUDA model's buffers, inputs and
    // constants through the CUDA driver.
    auto *flag = new llvm::GlobalVariable(
        m, llvm::Type::getInt32Ty(c), true, llvm::GlobalValue::ExternalLinkage,
        llvm::ConstantInt::get(llvm::Type::getInt32Ty(c), 1), "kiln_model_cuda");
    flag->setVisibility(llvm::GlobalValue::HiddenVisibility);
  }
  return true;
}

/// For `--report`: the kiln op counts before and after each graph pass
/// (every pass up to the conversion out of the kiln dialect).
struct OpCountReport final : PassInstrumentation {
  llvm::raw_ostream &os;
  bool done = false;
  std::map<std::string, int64_t> before;
  explicit OpCountReport(llvm::raw_ostream &os) : os(os) {}

  static std::map<std::string, int64_t> count(Operation *op) {
    std::map<std::string, int64_t> n;
    op->walk([&](Operation *o) {
      if (o->getName().getDialectNamespace() == "kiln")
        ++n[o->getName().getStringRef().str()];
    });
    return n;
  }
  static int64_t total(const std::map<std::string, int64_t> &m) {
    int64_t t = 0;
    for (auto &kv : m)
      t += kv.second;
    return t;
  }
  void runBeforePass(Pass *pass, Operation *op) override {
    if (!done)
      before = count(op);
  }
  void runAfterPass(Pass *pass, Operation *op) override {
    if (done)
      return;
    if (pass->getArgument() == "convert-kiln-to-linalg") {
      done = true;
      return;
    }
    if (pass->getArgument().empty()) // a nested pipeline's adaptor
      return;
    auto after = count(op);
    std::string changes;
    std::set<std::string> names;
    for (auto &kv : before)
      names.insert(kv.first);
    for (auto &kv : after)
      names.insert(kv.first);
    for (const std::string &n : names) {
      int64_t d = (after.count(n) ? after[n] : 0) - (before.count(n) ? before[n] : 0);
      if (d)
        changes += (changes.empty() ? "" : ", ") + n + (d > 0 ? " +" : " ") +
                   std::to_string(d);
    }
    os << "report: " << pass->getArgument() << ": " << total(before) << " -> "
       << total(after) << " kiln ops"
       << (changes.empty() ? std::string() : " (" + changes + ")") << "\n";
    std::string fired;
    for (auto &[name, n] : mlir::kiln::takePatternCounts())
      fired += (fired.empty() ? "" : ", ") + name + " x" + std::to_string(n);
    if (!fired.empty())
      os << "report:   patterns fired: " << fired << "\n";
  }
};

std::unique_ptr<llvm::TargetMachine> makeTargetMachine(llvm::StringRef cpu,
                                                       std::string &error) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  llvm::Triple triple(llvm::sys::getDefaultTargetTriple());
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return nullptr;
  std::string cpuName = cpu.str(), features;
  if (cpu == "native") {
    cpuName = llvm::sys::getHostCPUName().str();
    llvm::SubtargetFeatures f;
    for (auto &kv : llvm::sys::getHostCPUFeatures())
      f.AddFeature(kv.first(), kv.second);
    features = f.getString();
  }
  std::unique_ptr<llvm::MCSubtargetInfo> sti(
      target->createMCSubtargetInfo(triple, "", ""));
  if (cpu != "native" && (!sti || !sti->isCPUStringValid(cpuName))) {
    error = "unknown CPU '" + cpuName + "' (try native, x86-64-v3 or x86-64-v4)";
    return nullptr;
  }
  llvm::TargetOptions opts;
  std::unique_ptr<llvm::TargetMachine> tm(target->createTargetMachine(
      triple, cpuName, features, opts, llvm::Reloc::PIC_, std::nullopt,
      llvm::CodeGenOptLevel::Aggressive));
  if (!tm)
    error = "cannot create a target machine for CPU '" + cpuName + "'";
  return tm;
}

void optimize(llvm::Module &m, llvm::TargetMachine *tm) {
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  // -O2: the generated loops have static trip counts (head sizes, hidden
  // sizes, tiles) that -O3's aggressive unroll threshold (300) expands for
  // tens of seconds on AVX-512 targets (BERT-base: 44 s in -O3's optimizer,
  // about 10 s at -O2's threshold of 150) without measured speed gains.
  llvm::PassBuilder pb(tm);
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  pb.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O2).run(m, mam);
}

std::string runtimeArchive(const ::kiln::CompileOptions &o) {
  llvm::SmallString<256> p;
  if (!o.runtimeDir.empty()) {
    p = o.runtimeDir;
  } else {
    std::string exe = llvm::sys::fs::getMainExecutable(nullptr, nullptr);
    p = llvm::sys::path::parent_path(exe);
    llvm::sys::path::append(p, "..", "lib");
  }
  if (!o.runtimeVariant.empty())
    llvm::sys::path::append(p, o.runtimeVariant);
  llvm::sys::path::append(p, "libkiln_runtime.a");
  return std::string(p);
}

/// The link flag of a --runtime-variant ("" for the default runtime).
llvm::StringRef sanitizerLinkFlag(llvm::StringRef variant) {
  return llvm::StringSwitch<llvm::StringRef>(variant)
      .Case("asan", "-fsanitize=address,undefined")
      .Case("tsan", "-fsanitize=thread")
      .Default("");
}

} // namespace

bool ::kiln::compileModel(llvm::StringRef modelPath, llvm::StringRef outputPath,
                        const CompileOptions &options, std::string &error,
                        llvm::raw_ostream &log) {
  StageTimer timer{options.timing, log};
  if (options.timing)
    log << "kiln compile " << modelPath << " (per stage)\n";
  DialectRegistry registry;
  ::kiln::registerKilnDialects(registry);
  mlir::registerBuiltinDialectTranslation(registry);
  mlir::registerLLVMDialectTranslation(registry);
  mlir::registerOpenMPDialectTranslation(registry);
  MLIRContext context(registry);
  context.printOpOnDiagnostic(false);
  auto module = ::kiln::importOnnxFile(context, modelPath, options.import, error);
  if (!module)
    return false;
  auto main = module->lookupSymbol<func::FuncOp>("main");
  std::string signature = ::kiln::signatureOf(main);
  unsigned numInputs = main.getNumArguments();
  timer.lap("import");
  if (!options.runtimeVariant.empty() &&
      sanitizerLinkFlag(options.runtimeVariant).empty()) {
    error = "--runtime-variant must be asan or tsan, got '" +
            options.runtimeVariant + "'";
    return false;
  }

  std::string weightsPath = outputPath.str() + ".weights";
  llvm::sys::fs::remove(weightsPath);
  auto tm = makeTargetMachine(options.cpu, error);
  if (!tm)
    return false;
  // The GEMM microkernels are chosen for the target CPU (--cpu).
  const llvm::MCSubtargetInfo *sti = tm->getMCSubtargetInfo();
  mlir::kiln::CpuPipelineOptions cpuOptions;
  cpuOptions.weightsFile = weightsPath;
  cpuOptions.minWeightBytes = options.minWeightBytes;
  if (options.precision != "fp32" && options.precision != "bf16" &&
      options.precision != "fp16") {
    error = "--precision must be fp32, bf16 or fp16, got '" + options.precision + "'";
    return false;
  }
  cpuOptions.precision = options.precision;
  cpuOptions.winograd = options.winograd;
  if (options.quantize != "none" && options.quantize != "int8" &&
      options.quantize != "int8-static" && options.quantize != "int4") {
    error = "--quantize must be none, int8, int8-static or int4, got '" +
            options.quantize + "'";
    return false;
  }
  if ((options.quantize == "int8-static") != !options.calibration.empty()) {
    error = options.calibration.empty()
                ? "--quantize int8-static needs --calibration FILE (the "
                  "ranges `kiln calibrate` writes, or sample inputs as .npz)"
                : "--calibration goes with --quantize int8-static";
    return false;
  }
  if (options.groupSize < 8 || options.groupSize > 4096 || options.groupSize % 8) {
    error = "--group-size must be a multiple of 8 from 8 to 4096, got " +
            std::to_string(options.groupSize);
    return false;
  }
  cpuOptions.groupSize = options.groupSize;
  if (options.quantize != "none" && options.precision != "fp32") {
    error = "--quantize " + options.quantize + " with --precision " +
            options.precision + " is not supported: pick one";
    return false;
  }
  cpuOptions.quantize = options.quantize;
  // --keep-fp32 and the calibration name ONNX nodes: each must be one of
  // the model's (the names the importer put in the ops' locations).
  llvm::StringSet<> names;
  if (!options.keepFp32.empty() || !options.calibration.empty())
    module->walk([&](Operation *op) {
      op->getLoc()->walk([&](Location l) {
        if (auto n = dyn_cast<NameLoc>(l))
          names.insert(n.getName().strref());
        return WalkResult::advance();
      });
    });
  if (!options.calibration.empty()) {
    ::kiln::Calibration cal;
    if (!::kiln::readCalibration(options.calibration, cal, error))
      return false;
    for (const auto &node : cal.nodes)
      if (!names.contains(node.first)) {
        error = "calibration file '" + options.calibration +
                "' has a range for node '" + node.first +
                "', which the model does not have (calibrated on another "
                "model?)";
        return false;
      }
    cpuOptions.calibration = options.calibration;
  }
  if (!options.keepFp32.empty()) {
    if (options.precision == "fp32" && options.quantize == "none") {
      error = "--keep-fp32 goes with --precision bf16|fp16 or --quantize "
              "int8|int8-static|int4";
      return false;
    }
    for (const std::string &name : options.keepFp32)
      if (!names.contains(name)) {
        error = "--keep-fp32: the model has no node named '" + name + "'";
        return false;
      }
    cpuOptions.keepFp32 = options.keepFp32;
  }
  bool cuda = options.target == "cuda";
  if (options.target != "cpu" && !cuda) {
    error = "--target must be cpu or cuda, got '" + options.target + "'";
    return false;
  }
  mlir::kiln::CudaPipelineOptions cudaOptions;
  if (cuda) {
    if (options.quantize != "none" || !options.keepFp32.empty()) {
      error = "--target cuda has no " +
              std::string(options.quantize != "none"
                              ? "--quantize " + options.quantize
                              : std::string("--keep-fp32")) +
              " yet (fp32, or --precision fp16|bf16 for the matmuls)";
      return false;
    }
    llvm::StringRef arch = options.gpuArch;
    unsigned sm = 0;
    if (!arch.consume_front("sm_") || arch.consumeInteger(10, sm) ||
        !(arch.empty() || arch == "a") || sm < 75) {
      error = "--gpu must be an NVIDIA SM architecture from sm_75 (e.g. "
              "sm_80, sm_90), got '" + options.gpuArch + "'";
      return false;
    }
    if (options.precision != "fp32" && sm < 80) {
      error = "--target cuda --precision " + options.precision +
              " runs the matmuls on sm_80+ tensor cores (mma.sync m16n8k16); "
              "--gpu " + options.gpuArch + " has none of that shape";
      return false;
    }
    if (!options.gpuMmaTile.empty() &&
        (options.precision == "fp32" ||
         !llvm::is_contained({"64x64", "64x128", "128x64", "128x128"},
                             options.gpuMmaTile))) {
      error = "--gpu-mma-tile must be 64x64, 64x128, 128x64 or 128x128, "
              "with --precision fp16|bf16; got '" + options.gpuMmaTile +
              "' with --precision " + options.precision;
      return false;
    }
    if (options.gpuMmaLdmatrix && options.gpuMmaTile.empty()) {
      error = "--gpu-mma-ldmatrix goes with --gpu-mma-tile (the pipelined "
              "kernel's fragment loads)";
      return false;
    }
    if (options.gpuSplitK != 1 &&
        (options.gpuMmaTile.empty() || options.gpuSplitK < 2 ||
         options.gpuSplitK > 8)) {
      error = "--gpu-split-k must be 2 to 8 and goes with --gpu-mma-tile "
              "(the pipelined kernel splits k); got " +
              std::to_string(options.gpuSplitK);
      return false;
    }
    if (options.gpuMmaAttention && options.precision == "fp32") {
      error = "--gpu-mma-attention runs attention on tensor cores: it goes "
              "with --precision fp16|bf16";
      return false;
    }
    cudaOptions.mmaTile = options.gpuMmaTile;
    cudaOptions.mmaLdmatrix = options.gpuMmaLdmatrix;
    cudaOptions.splitK = options.gpuSplitK;
    cudaOptions.mmaAttention = options.gpuMmaAttention;
    cudaOptions.precision = options.precision;
    cudaOptions.chip = options.gpuArch;
    cudaOptions.toolkit = options.cudaPath;
    if (cudaOptions.toolkit.empty())
      if (const char *env = std::getenv("CUDA_PATH"))
        cudaOptions.toolkit = env;
    if (cudaOptions.toolkit.empty())
      cudaOptions.toolkit = "/usr/local/cuda";
    cudaOptions.weightsFile = weightsPath;
    cudaOptions.minWeightBytes = options.minWeightBytes;
    cudaOptions.emulateOnCpu = options.emulateGpu;
    if (!options.emulateGpu) {
      llvm::SmallString<256> libdevice(cudaOptions.toolkit);
      llvm::sys::path::append(libdevice, "nvvm", "libdevice", "libdevice.10.bc");
      if (!llvm::sys::fs::exists(libdevice)) {
        error = "--target cuda needs the CUDA toolkit (libdevice, ptxas); "
                "'" + std::string(libdevice) + "' not found (give --cuda-path "
                "or set CUDA_PATH)";
        return false;
      }
    }
  } else if (options.emulateGpu) {
    error = "--emulate-gpu goes with --target cuda";
    return false;
  }
  cpuOptions.ukernelIsa = sti->checkFeatures("+avx512f")           ? "avx512"
                          : sti->checkFeatures("+avx2,+fma")        ? "avx2"
                                                                    : "generic";
  std::string diag;
  std::vector<std::string> remarks;
  {
    ScopedDiagnosticHandler handler(&context, [&](Diagnostic &d) {
      if (d.getSeverity() == DiagnosticSeverity::Remark)
        remarks.push_back(d.str());
      if (diag.empty() && d.getSeverity() == DiagnosticSeverity::Error) {
        std::string where;
        if (auto nl = dyn_cast<NameLoc>(d.getLocation()))
          where = "node '" + nl.getName().str() + "': ";
        diag = where + d.str();
      }
      return success();
    });
    ::kiln::registerAllKilnPasses();
    if (!options.printIrAfter.empty() &&
        !mlir::PassInfo::lookup(options.printIrAfter) &&
        !mlir::PassPipelineInfo::lookup(options.printIrAfter)) {
      error = "--print-ir-after: unknown pass '" + options.printIrAfter +
              "' (kiln-opt --help lists them)";
      return false;
    }
    PassManager pm(&context);
    if (cuda)
      mlir::kiln::buildCudaLoweringPipeline(pm, cudaOptions);
    else
      mlir::kiln::buildCpuLoweringPipeline(pm, cpuOptions);
    if (options.printIrAfterAll || !options.printIrAfter.empty()) {
      std::string only = options.printIrAfter;
      bool all = options.printIrAfterAll;
      OpPrintingFlags flags;
      flags.elideLargeElementsAttrs(16).elideLargeResourceString(64);
      pm.enableIRPrinting(
          [](Pass *, Operation *) { return false; },
          [only, all](Pass *p, Operation *) {
            return all || p->getArgument() == only;
          },
          /*printModuleScope=*/false, /*printAfterOnlyOnChange=*/false,
          /*printAfterOnlyOnFailure=*/false, llvm::errs(), flags);
    }
    if (options.mlirTiming)
      pm.enableTiming();
    if (options.report) {
      mlir::kiln::setPatternRecording(true);
      pm.addInstrumentation(std::make_unique<OpCountReport>(log));
    }
    if (failed(pm.run(*module))) {
      error = "code generation failed: " + (diag.empty() ? "unknown error" : diag);
      return false;
    }
  }
  for (const std::string &r : remarks)
    log << "kiln: " << r << "\n";
  if (options.report && !cuda) { // kiln-mark-batch-split's outcome
    if (auto split = (*module)->getAttrOfType<DictionaryAttr>("kiln.batch_split")) {
      log << "report: batch split: image by image over '"
          << split.getAs<StringAttr>("dim").getValue() << "' (when it pays)\n";
      if (auto bytes = split.getAs<IntegerAttr>("head_weight_bytes"))
        log << "report: batch head: the ops after the last per-image layer ("
            << bytes.getInt()
            << " bytes of weights) run once on the whole batch\n";
    } else if (auto why = (*module)->getAttrOfType<StringAttr>("kiln.batch_split_blocked"))
      log << "report: batch split: no, " << why.getValue() << "\n";
    else
      log << "report: batch split: no, no input has a named dynamic dim 0\n";
  }
  timer.lap("passes");
  if (cuda && !options.emulateGpu) {
    ::kiln::PtxasStats stats;
    if (!::kiln::assembleWithPtxas(*module, cudaOptions.toolkit, options.gpuArch,
                                   options.savePtxDir, stats, error))
      return false;
    if (options.timing || stats.spilling)
      log << "kiln: " << stats.kernels << " kernel modules assembled for "
          << options.gpuArch << ", " << stats.spilling << " spilling ("
          << stats.spillBytes << " bytes of spill stores and loads)\n";
    timer.lap("ptxas");
  }
  ::kiln::appendSignatureLines(*module, cuda ? options.gpuArch : "", signature);

  llvm::LLVMContext llvmContext;
  auto llvmModule = translateModuleToLLVMIR(*module, llvmContext, "kiln_model");
  if (!llvmModule) {
    error = "translation to LLVM IR failed";
    return false;
  }
  if (!addEntryPoints(*llvmModule, numInputs, signature,
                      cuda && !options.emulateGpu, error))
    return false;
  llvmModule->setDataLayout(tm->createDataLayout());
  llvmModule->setTargetTriple(tm->getTargetTriple());
  if (llvm::verifyModule(*llvmModule, &llvm::errs())) {
    error = "internal error: the generated LLVM IR does not verify";
    return false;
  }
  optimize(*llvmModule, tm.get());
  timer.lap("llvm-opt");

  llvm::SmallString<256> objPath(outputPath);
  objPath += ".o";
  {
    std::error_code ec;
    llvm::raw_fd_ostream obj(objPath, ec, llvm::sys::fs::OF_None);
    if (ec) {
      error = "cannot write next to '" + outputPath.str() + "': " + ec.message();
      return false;
    }
    llvm::legacy::PassManager cg;
    if (tm->addPassesToEmitFile(cg, obj, nullptr,
                                llvm::CodeGenFileType::ObjectFile)) {
      error = "the target cannot emit object files";
      return false;
    }
    cg.run(*llvmModule);
  }
  timer.lap("codegen");

  std::string archive = runtimeArchive(options);
  llvm::StringRef sanitizeFlag = sanitizerLinkFlag(options.runtimeVariant);
  if (!llvm::sys::fs::exists(archive)) {
    error = "runtime archive not found at '" + archive + "'";
    return false;
  }
  auto cc = llvm::sys::findProgramByName("cc");
  if (!cc) {
    error = "no C compiler driver ('cc') on PATH to link with";
    return false;
  }
  std::string out = outputPath.str(), obj = std::string(objPath);
  // -z defs: a symbol neither the model nor the runtime defines fails
  // here, naming it, instead of when the library is loaded (a libcall such
  // as __truncsfbf2 that this machine's libgcc lacks did the latter).
  llvm::SmallVector<llvm::StringRef> argv{*cc,      "-shared", "-Wl,-z,defs",
                                          "-o",     out,       obj,
                                          archive, "-lm",     "-lpthread"};
  if (!sanitizeFlag.empty())
    argv.push_back(sanitizeFlag);
  std::string linkError;
  int rc = llvm::sys::ExecuteAndWait(*cc, argv, std::nullopt, {}, 0, 0,
                                     &linkError);
  if (!options.keepObject)
    llvm::sys::fs::remove(objPath);
  if (rc != 0) {
    error = "linking '" + out + "' failed" +
            (linkError.empty() ? "" : ": " + linkError);
    return false;
  }
  timer.lap("link");
  return true;
}
