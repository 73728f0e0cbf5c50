//===- Ptxas.cpp - PTX to cubins for the CUDA target ----------------------===//
//
// The CUDA pipeline leaves each kernel module as PTX (gpu.binary, format
// isa). Assembling here rather than inside gpu-module-to-binary keeps
// ptxas's -v report (registers, spills), which upstream discards, and lets
// `--save-ptx` keep the PTX and the report for inspection and tests.
//
//===----------------------------------------------------------------------===//

#include "Ptxas.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/Regex.h"
#include "llvm/Support/ThreadPool.h"

#include <vector>

using namespace mlir;

namespace {

/// Removes the temporary files it was given when it goes out of scope.
struct TempFiles {
  llvm::SmallVector<std::string> paths;
  ~TempFiles() {
    for (auto &p : paths)
      llvm::sys::fs::remove(p);
  }
  bool make(llvm::StringRef suffix, std::string &path) {
    llvm::SmallString<128> p;
    if (llvm::sys::fs::createTemporaryFile("kiln-kernel", suffix, p))
      return false;
    path = std::string(p);
    paths.push_back(path);
    return true;
  }
};

bool writeFile(llvm::StringRef path, llvm::StringRef data) {
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec);
  if (ec)
    return false;
  os << data;
  return true;
}

/// Sums "N bytes spill stores, M bytes spill loads" over the report.
int64_t spillBytes(llvm::StringRef report) {
  static const llvm::Regex re("([0-9]+) bytes spill stores, ([0-9]+) bytes spill loads");
  int64_t total = 0;
  llvm::SmallVector<llvm::StringRef> lines;
  report.split(lines, '\n');
  for (llvm::StringRef line : lines) {
    llvm::SmallVector<llvm::StringRef, 3> m;
    if (!re.match(line, &m))
      continue;
    int64_t a = 0, b = 0;
    m[1].getAsInteger(10, a);
    m[2].getAsInteger(10, b);
    total += a + b;
  }
  return total;
}

} // namespace

bool kiln::assembleWithPtxas(ModuleOp module, llvm::StringRef toolkit,
                             llvm::StringRef arch, llvm::StringRef saveDir,
                             PtxasStats &stats, std::string &error) {
  llvm::SmallString<256> ptxas(toolkit);
  llvm::sys::path::append(ptxas, "bin", "ptxas");
  bool any = false;
  module.walk([&](gpu::BinaryOp) { any = true; });
  if (!any)
    return true;
  if (!llvm::sys::fs::can_execute(ptxas)) {
    error = "--target cuda needs the CUDA toolkit's ptxas, not found at '" +
            std::string(ptxas) + "' (give --cuda-path or set CUDA_PATH)";
    return false;
  }
  if (!saveDir.empty())
    if (std::error_code ec = llvm::sys::fs::create_directories(saveDir)) {
      error = "--save-ptx: cannot create '" + saveDir.str() + "': " + ec.message();
      return false;
    }
  // Kernel modules are assembled in parallel, one ptxas per core; their
  // reports, errors and cubins are then taken in module order.
  struct Job {
    gpu::BinaryOp binary;
    gpu::ObjectAttr object;
    std::string log, cubin, error;
    int rc = -1;
  };
  std::vector<Job> jobs;
  module.walk([&](gpu::BinaryOp binary) {
    for (Attribute a : binary.getObjects()) {
      auto object = cast<gpu::ObjectAttr>(a);
      if (object.getFormat() == gpu::CompilationTarget::Assembly)
        jobs.push_back({binary, object, "", "", "", -1});
    }
  });
  std::string archFlag = "-arch=" + arch.str();
  auto assemble = [&](Job &job) {
    TempFiles tmp;
    std::string ptx, cubin, report;
    if (!tmp.make("ptx", ptx) || !tmp.make("cubin", cubin) ||
        !tmp.make("log", report) ||
        !writeFile(ptx, job.object.getObject().getValue())) {
      job.error = "cannot write temporary files for ptxas";
      return;
    }
    llvm::SmallVector<llvm::StringRef> argv{ptxas, archFlag, "-O3", "-v",
                                            ptx, "-o", cubin};
    std::optional<llvm::StringRef> redirects[] = {std::nullopt, report, report};
    job.rc = llvm::sys::ExecuteAndWait(ptxas, argv, std::nullopt, redirects, 0,
                                       0, &job.error);
    if (auto log = llvm::MemoryBuffer::getFile(report))
      job.log = (*log)->getBuffer().str();
    if (job.rc == 0)
      if (auto bytes = llvm::MemoryBuffer::getFile(cubin, /*IsText=*/false))
        job.cubin = (*bytes)->getBuffer().str();
  };
  {
    // At most 16 at once (each ptxas holds about 65 MB), and no more than
    // the cores.
    llvm::ThreadPoolStrategy strategy = llvm::hardware_concurrency(16);
    strategy.Limit = true;
    llvm::DefaultThreadPool pool(strategy);
    for (Job &job : jobs)
      pool.async([&assemble, &job] { assemble(job); });
    pool.wait();
  }
  for (Job &job : jobs) {
    llvm::StringRef name = job.binary.getSymName();
    if (!saveDir.empty()) {
      llvm::SmallString<256> base(saveDir);
      llvm::sys::path::append(base, name);
      writeFile((base + ".ptx").str(), job.object.getObject().getValue());
      writeFile((base + ".ptxas.log").str(), job.log);
    }
    if (job.rc != 0) {
      error = job.rc < 0 && job.log.empty()
                  ? "cannot run ptxas on kernel module '" + name.str() +
                        "': " + job.error
                  : "ptxas rejected kernel module '" + name.str() + "' for " +
                        arch.str() + ": " +
                        (job.log.empty() ? job.error
                                         : llvm::StringRef(job.log).trim().str());
      return false;
    }
    if (job.cubin.empty()) {
      error = "ptxas wrote no cubin for '" + name.str() + "'";
      return false;
    }
    int64_t spills = spillBytes(job.log);
    ++stats.kernels;
    stats.spillBytes += spills;
    stats.spilling += spills > 0;
  }
  // Each binary's objects, the assembled ones replaced by their cubins.
  size_t next = 0;
  module.walk([&](gpu::BinaryOp binary) {
    SmallVector<Attribute> objects;
    for (Attribute a : binary.getObjects()) {
      auto object = cast<gpu::ObjectAttr>(a);
      if (object.getFormat() != gpu::CompilationTarget::Assembly) {
        objects.push_back(a);
        continue;
      }
      objects.push_back(gpu::ObjectAttr::get(
          module.getContext(), object.getTarget(), gpu::CompilationTarget::Binary,
          StringAttr::get(module.getContext(), jobs[next++].cubin),
          object.getProperties(), object.getKernels()));
    }
    binary.setObjectsAttr(ArrayAttr::get(module.getContext(), objects));
  });
  return true;
}
