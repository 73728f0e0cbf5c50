//===- Run.cpp - `kiln run` and `kiln inspect` ----------------------------===//
//
// Loads a compiled MODEL.so with dlopen and drives its C API: inputs from an
// .npz, an ONNX test-data folder (input_N.pb) or random values; outputs
// printed, saved to an .npz, or timed with --bench.
//
//===----------------------------------------------------------------------===//

#include "Run.h"
#include "Npz.h"

#include "onnx/onnx_pb.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <dlfcn.h>
#include <fstream>
#include "llvm/ADT/APFloat.h"

#include <random>
#include <thread>

using namespace kiln;

namespace {

struct Api {
  void *handle = nullptr;
  decltype(&kiln_open) open;
  decltype(&kiln_close) close;
  decltype(&kiln_num_inputs) numInputs;
  decltype(&kiln_num_outputs) numOutputs;
  decltype(&kiln_input_info) inputInfo;
  decltype(&kiln_output_info) outputInfo;
  decltype(&kiln_run) run;
  decltype(&kiln_free) free;
  decltype(&kiln_last_error) lastError;
  decltype(&kiln_signature_text) signature;
};

bool loadApi(const std::string &path, Api &api, std::string &error) {
  std::string p = path.find('/') == std::string::npos ? "./" + path : path;
  api.handle = dlopen(p.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!api.handle) {
    error = std::string("cannot load '") + path + "': " + dlerror();
    return false;
  }
  auto sym = [&](const char *name) {
    void *s = dlsym(api.handle, name);
    if (!s)
      error = "'" + path + "' is not a kiln model (no " + name + ")";
    return s;
  };
#define KILN_SYM(field, name)                                                  \
  if (!(api.field = reinterpret_cast<decltype(api.field)>(sym(name))))         \
    return false;
  KILN_SYM(open, "kiln_open")
  KILN_SYM(close, "kiln_close")
  KILN_SYM(numInputs, "kiln_num_inputs")
  KILN_SYM(numOutputs, "kiln_num_outputs")
  KILN_SYM(inputInfo, "kiln_input_info")
  KILN_SYM(outputInfo, "kiln_output_info")
  KILN_SYM(run, "kiln_run")
  KILN_SYM(free, "kiln_free")
  KILN_SYM(lastError, "kiln_last_error")
  KILN_SYM(signature, "kiln_signature_text")
#undef KILN_SYM
  return true;
}

std::string dimsText(const kiln_tensor_info &info) {
  std::string s = "[";
  for (int i = 0; i < info.rank; ++i) {
    if (i)
      s += ", ";
    if (info.dims[i] >= 0)
      s += std::to_string(info.dims[i]);
    else
      s += *info.dim_names[i] ? info.dim_names[i] : "?";
  }
  return s + "]";
}

const char *dtypeText(kiln_dtype d) {
  static const char *names[] = {"float32", "float64", "float16", "bfloat16",
                                "int8",    "int16",   "int32",   "int64",
                                "uint8",   "uint16",  "uint32",  "uint64",
                                "bool"};
  return (unsigned)d < 13 ? names[d] : "unknown";
}

size_t dtypeSize(kiln_dtype d) {
  static const size_t sizes[] = {4, 8, 2, 2, 1, 2, 4, 8, 1, 2, 4, 8, 1};
  return (unsigned)d < 13 ? sizes[d] : 0;
}

/// input_N.pb (an ONNX TensorProto) as an npz array.
bool readTensorProto(const std::string &path, npz::Array &a, std::string &error) {
  std::ifstream f(path, std::ios::binary);
  onnx::TensorProto t;
  if (!f || !t.ParseFromIstream(&f)) {
    error = "cannot read tensor '" + path + "'";
    return false;
  }
  static const std::pair<int, kiln_dtype> map[] = {
      {1, KILN_F32}, {11, KILN_F64}, {10, KILN_F16}, {16, KILN_BF16},
      {3, KILN_I8},  {5, KILN_I16},  {6, KILN_I32},  {7, KILN_I64},
      {2, KILN_U8},  {4, KILN_U16},  {12, KILN_U32}, {13, KILN_U64},
      {9, KILN_BOOL}};
  bool found = false;
  for (auto &[o, k] : map)
    if (o == t.data_type()) {
      a.dtype = k;
      found = true;
    }
  if (!found) {
    error = "tensor '" + path + "' has an unsupported data type";
    return false;
  }
  a.name = t.name();
  size_t n = 1;
  for (int64_t d : t.dims()) {
    a.dims.push_back(d);
    n *= d;
  }
  size_t es = dtypeSize(a.dtype);
  a.data.resize(n * es);
  if (t.has_raw_data()) {
    if (t.raw_data().size() != a.data.size()) {
      error = "tensor '" + path + "' has the wrong amount of raw data";
      return false;
    }
    memcpy(a.data.data(), t.raw_data().data(), a.data.size());
    return true;
  }
  auto fill = [&](const auto &field) {
    if ((size_t)field.size() != n)
      return false;
    for (size_t i = 0; i < n; ++i) {
      auto v = field.Get(i);
      if (a.dtype == KILN_F32) {
        float x = (float)v;
        memcpy(&a.data[i * 4], &x, 4);
      } else if (a.dtype == KILN_F64) {
        double x = (double)v;
        memcpy(&a.data[i * 8], &x, 8);
      } else {
        uint64_t x = (uint64_t)(int64_t)v;
        memcpy(&a.data[i * es], &x, es);
      }
    }
    return true;
  };
  bool ok = t.float_data_size()    ? fill(t.float_data())
            : t.double_data_size() ? fill(t.double_data())
            : t.int64_data_size()  ? fill(t.int64_data())
            : t.uint64_data_size() ? fill(t.uint64_data())
                                   : fill(t.int32_data());
  if (!ok)
    error = "tensor '" + path + "' has the wrong number of values";
  return ok;
}

/// float16 / bfloat16 bits <-> float, through APFloat (round to nearest
/// even when narrowing).
const llvm::fltSemantics &halfSemantics(kiln_dtype d) {
  return d == KILN_F16 ? llvm::APFloat::IEEEhalf() : llvm::APFloat::BFloat();
}

float halfToFloat(uint16_t bits, kiln_dtype d) {
  return llvm::APFloat(halfSemantics(d), llvm::APInt(16, bits)).convertToFloat();
}

uint16_t floatToHalf(float x, kiln_dtype d) {
  llvm::APFloat f(x);
  bool lost = false;
  f.convert(halfSemantics(d), llvm::APFloat::rmNearestTiesToEven, &lost);
  return (uint16_t)f.bitcastToAPInt().getZExtValue();
}

double asDouble(const char *p, kiln_dtype d) {
  switch (d) {
  case KILN_F16: case KILN_BF16: {
    uint16_t x;
    memcpy(&x, p, 2);
    return halfToFloat(x, d);
  }
  case KILN_F32: { float x; memcpy(&x, p, 4); return x; }
  case KILN_F64: { double x; memcpy(&x, p, 8); return x; }
  case KILN_I8: return (int8_t)*p;
  case KILN_I16: { int16_t x; memcpy(&x, p, 2); return x; }
  case KILN_I32: { int32_t x; memcpy(&x, p, 4); return x; }
  case KILN_I64: { int64_t x; memcpy(&x, p, 8); return (double)x; }
  case KILN_U8: case KILN_BOOL: return (uint8_t)*p;
  case KILN_U16: { uint16_t x; memcpy(&x, p, 2); return x; }
  case KILN_U32: { uint32_t x; memcpy(&x, p, 4); return x; }
  case KILN_U64: { uint64_t x; memcpy(&x, p, 8); return (double)x; }
  }
  return NAN; /* a dtype value outside the enum */
}

} // namespace

int kiln::runInspect(const std::string &path, llvm::raw_ostream &os,
                     std::string &error) {
  Api api;
  if (!loadApi(path, api, error))
    return 1;
  kiln_model *m = nullptr;
  if (api.open(nullptr, &m) != KILN_OK) {
    error = api.lastError();
    return 1;
  }
  os << "model: " << path << "\n";
  for (int io = 0; io < 2; ++io) {
    size_t n = io ? api.numOutputs(m) : api.numInputs(m);
    os << (io ? "outputs:\n" : "inputs:\n");
    for (size_t i = 0; i < n; ++i) {
      kiln_tensor_info info;
      (io ? api.outputInfo : api.inputInfo)(m, i, &info);
      os << "  " << info.name << ": " << dimsText(info) << " "
         << dtypeText(info.dtype) << "\n";
    }
  }
  // "b <TAB> dim <TAB> weight bytes <TAB> FLOPs per image" (kiln-mark-batch-split),
  // "h <TAB> dtype <TAB> weight bytes" (kiln-outline-batch-head),
  // "t <TAB> cuda <TAB> sm_XX" (--target cuda)
  llvm::StringRef sig = api.signature();
  // "d <TAB> i,j,..." (kiln-gpu-device-inputs)
  std::string code = "CPU code", inPlace, outInPlace;
  for (llvm::StringRef rest = sig; !rest.empty();) {
    auto [line, next] = rest.split('\n');
    rest = next;
    if (line.consume_front("t\tcuda\t"))
      code = "NVIDIA GPU kernels for " + line.str() +
             " (the CUDA driver is loaded when a run starts)";
    bool outputs = line.starts_with("o\t");
    if (line.consume_front("d\t") || line.consume_front("o\t")) {
      llvm::SmallVector<llvm::StringRef> ids;
      line.split(ids, ',', -1, false);
      std::string &names = outputs ? outInPlace : inPlace;
      for (llvm::StringRef id : ids) {
        size_t i = 0;
        kiln_tensor_info info;
        if (!id.getAsInteger(10, i) &&
            i < (outputs ? api.numOutputs(m) : api.numInputs(m)) &&
            (outputs ? api.outputInfo(m, i, &info)
                     : api.inputInfo(m, i, &info)) == KILN_OK)
          names += (names.empty() ? "" : ", ") + std::string(info.name);
      }
    }
  }
  os << "runtime: C API (kiln/runtime.h), " << code << "\n";
  if (code != "CPU code") {
    os << "inputs the kernels read in place from GPU memory: "
       << (inPlace.empty() ? "none" : inPlace) << "\n";
    os << "outputs the kernels write in place into GPU memory: "
       << (outInPlace.empty() ? "none" : outInPlace) << "\n";
  }
  for (llvm::StringRef rest = sig; !rest.empty();) {
    auto [line, next] = rest.split('\n');
    rest = next;
    llvm::SmallVector<llvm::StringRef, 3> f;
    if (line.consume_front("h\t")) {
      line.split(f, '\t');
      if (f.size() == 2)
        os << "batch head: the ops after the last per-image layer (" << f[1]
           << " bytes of weights) run once on the whole batch\n";
      continue;
    }
    if (!line.consume_front("b\t"))
      continue;
    line.split(f, '\t');
    if (f.size() == 3)
      os << "batch split: image by image over '" << f[0]
         << "' when the weights (" << f[1]
         << " bytes, read again by each image) are <= 16 MiB and each image "
            "does >= 8 FLOPs per weight byte (FLOPs per image: "
         << (f[2].empty() ? "0" : f[2].str()) << ")\n";
  }
  api.close(m);
  return 0;
}

int kiln::runModel(const RunOptions &o, llvm::raw_ostream &os,
                   std::string &error) {
  RunResult r;
  if (runModelTo(o, r, error) != 0)
    return 1;
  if (o.bench > 0) {
    std::vector<double> ms = r.ms, msB = r.msAgainst;
    std::sort(ms.begin(), ms.end());
    os << llvm::format("bench: %d runs, min %.3f ms, median %.3f ms, max %.3f ms\n",
                       o.bench, ms.front(), ms[ms.size() / 2], ms.back());
    if (!msB.empty()) {
      std::sort(msB.begin(), msB.end());
      os << llvm::format("against: %d runs, min %.3f ms, median %.3f ms, max "
                         "%.3f ms\n",
                         o.bench, msB.front(), msB[msB.size() / 2], msB.back());
      os << llvm::format("against / model: median %.3f, min %.3f\n",
                         msB[msB.size() / 2] / ms[ms.size() / 2],
                         msB.front() / ms.front());
      for (size_t i = 0; i < r.againstDiff.size(); ++i)
        os << llvm::format("against: output %zu max |diff| / max |model| %.3g\n",
                           i, r.againstDiff[i]);
    }
  }
  if (!o.output.empty())
    return npz::write(o.output, r.outputs, error) ? 0 : 1;
  for (const npz::Array &a : r.outputs) {
    size_t es = dtypeSize(a.dtype), n = es ? a.data.size() / es : 0;
    os << a.name << ": [";
    for (size_t d = 0; d < a.dims.size(); ++d)
      os << (d ? ", " : "") << a.dims[d];
    os << "] " << dtypeText(a.dtype) << " =";
    for (size_t k = 0; k < std::min<size_t>(n, 8); ++k)
      os << " " << llvm::format("%.6g", asDouble(&a.data[k * es], a.dtype));
    os << (n > 8 ? " ...\n" : "\n");
  }
  return 0;
}

namespace {
double msSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now() - start)
      .count();
}

/// `kiln run A.so --bench N --against B.so`: B runs on A's inputs; its
/// outputs are compared with A's (`outA`, float outputs: max |a - b| over
/// max |a|), then both are timed in alternating blocks of about 100 ms,
/// each after a 60 ms pause (the other library's pool workers stop
/// spinning: parallel.c) and an untimed run. Blocks, not single runs, so
/// that neither pays for the other's spinning workers; alternating, so
/// that both see the same machine.
bool benchAgainst(const RunOptions &o, Api &apiA, kiln_model *mA,
                  std::vector<kiln_tensor> &inT, std::vector<kiln_tensor> &outA,
                  RunResult &result, std::string &error) {
  Api apiB;
  if (!loadApi(o.against, apiB, error))
    return false;
  kiln_model *mB = nullptr;
  kiln_options opts{o.threads};
  if (apiB.open(&opts, &mB) != KILN_OK) {
    error = apiB.lastError();
    return false;
  }
  size_t nout = apiB.numOutputs(mB);
  bool ok = apiB.numInputs(mB) == inT.size() && nout == outA.size();
  if (!ok)
    error = "'" + o.against + "' has other inputs or outputs than '" +
            o.model + "'";
  auto runOnce = [&](Api &api, kiln_model *m) {
    std::vector<kiln_tensor> t(nout, kiln_tensor{});
    kiln_status s = api.run(m, inT.data(), inT.size(), t.data(), nout);
    if (s != KILN_OK && error.empty())
      error = api.lastError();
    return std::make_pair(s, t);
  };
  if (ok) {
    auto [s, outB] = runOnce(apiB, mB);
    ok = s == KILN_OK;
    for (size_t i = 0; ok && i < nout; ++i) {
      const kiln_tensor &a = outA[i], &b = outB[i];
      bool same = a.dtype == b.dtype && a.rank == b.rank &&
                  std::equal(a.dims, a.dims + a.rank, b.dims);
      if (!same) {
        error = "output " + std::to_string(i) + " differs in shape or type";
        ok = false;
        break;
      }
      double maxDiff = 0, maxA = 0;
      if (a.dtype == KILN_F32) {
        size_t n = 1;
        for (int d = 0; d < a.rank; ++d)
          n *= a.dims[d];
        for (size_t k = 0; k < n; ++k) {
          double x = ((const float *)a.data)[k], y = ((const float *)b.data)[k];
          maxDiff = std::max(maxDiff, std::fabs(x - y));
          maxA = std::max(maxA, std::fabs(x));
        }
      }
      result.againstDiff.push_back(maxA > 0 ? maxDiff / maxA : maxDiff);
    }
    for (auto &t : outB)
      apiB.free(t.data);
  }
  auto start = std::chrono::steady_clock::now();
  if (ok) {
    auto [s, t] = runOnce(apiA, mA);
    for (auto &x : t)
      apiA.free(x.data);
    ok = s == KILN_OK;
  }
  int block = std::max(1, (int)(100.0 / std::max(msSince(start), 1e-3)));
  for (int side = 0; ok && (int)result.msAgainst.size() < o.bench;
       side = 1 - side) {
    Api &api = side ? apiB : apiA;
    kiln_model *m = side ? mB : mA;
    std::vector<double> &ms = side ? result.msAgainst : result.ms;
    std::this_thread::sleep_for(std::chrono::milliseconds(60));
    for (int i = -1; ok && i < block && (int)ms.size() < o.bench; ++i) {
      auto t0 = std::chrono::steady_clock::now();
      auto [s, t] = runOnce(api, m);
      double dt = msSince(t0);
      for (auto &x : t)
        api.free(x.data);
      ok = s == KILN_OK;
      if (i >= 0)
        ms.push_back(dt);
    }
  }
  apiB.close(mB);
  return ok;
}
} // namespace

int kiln::runModelTo(const RunOptions &o, RunResult &result,
                     std::string &error) {
  Api api;
  if (!loadApi(o.model, api, error))
    return 1;
  kiln_model *m = nullptr;
  kiln_options opts{o.threads};
  if (api.open(&opts, &m) != KILN_OK) {
    error = api.lastError();
    return 1;
  }
  size_t nin = api.numInputs(m), nout = api.numOutputs(m);
  std::vector<kiln_tensor_info> ins(nin), outs(nout);
  for (size_t i = 0; i < nin; ++i)
    api.inputInfo(m, i, &ins[i]);
  for (size_t i = 0; i < nout; ++i)
    api.outputInfo(m, i, &outs[i]);

  // Gather input arrays by name (npz), by position (test-data folder), or
  // make random ones.
  std::vector<npz::Array> arrays(nin);
  if (!o.inputs.empty() && llvm::sys::fs::is_directory(o.inputs)) {
    for (size_t i = 0; i < nin; ++i)
      if (!readTensorProto(o.inputs + "/input_" + std::to_string(i) + ".pb",
                           arrays[i], error))
        return 1;
  } else if (!o.inputs.empty() || o.arrays) {
    std::vector<npz::Array> read;
    if (!o.arrays && !npz::read(o.inputs, read, error))
      return 1;
    const std::vector<npz::Array> &given = o.arrays ? *o.arrays : read;
    for (size_t i = 0; i < nin; ++i) {
      auto it = std::find_if(given.begin(), given.end(),
                             [&](auto &a) { return a.name == ins[i].name; });
      if (it == given.end()) {
        error = "'" + (o.arrays ? std::string("the samples") : o.inputs) +
                "' has no array named '" + ins[i].name + "'";
        return 1;
      }
      arrays[i] = *it;
    }
  } else {
    // An override of a whole input also binds its symbolic dims.
    auto shapes = o.shapes;
    for (size_t i = 0; i < nin; ++i) {
      auto ov = o.shapes.find(ins[i].name);
      if (ov == o.shapes.end())
        continue;
      for (int d = 0; d < ins[i].rank && d < (int)ov->second.size(); ++d)
        if (ins[i].dims[d] < 0 && *ins[i].dim_names[d])
          shapes.emplace(ins[i].dim_names[d], std::vector<int64_t>{ov->second[d]});
    }
    std::mt19937 rng(o.seed);
    for (size_t i = 0; i < nin; ++i) {
      npz::Array &a = arrays[i];
      a.name = ins[i].name;
      a.dtype = ins[i].dtype;
      auto ov = shapes.find(a.name);
      for (int d = 0; d < ins[i].rank; ++d) {
        int64_t e = ins[i].dims[d];
        if (ov != shapes.end() && d < (int)ov->second.size())
          e = ov->second[d];
        else if (e < 0) {
          auto sym = shapes.find(ins[i].dim_names[d]);
          if (sym == shapes.end() || sym->second.size() != 1) {
            error = "input '" + a.name + "' dim " + std::to_string(d) +
                    " is dynamic ('" + ins[i].dim_names[d] +
                    "'): give it with --input-shape";
            return 1;
          }
          e = sym->second[0];
        }
        a.dims.push_back(e);
      }
      size_t n = 1;
      for (int64_t d : a.dims)
        n *= d;
      size_t es = dtypeSize(a.dtype);
      a.data.resize(n * es);
      for (size_t k = 0; k < n; ++k) {
        char *p = &a.data[k * es];
        if (a.dtype == KILN_F32) {
          float x = std::uniform_real_distribution<float>(-1, 1)(rng);
          memcpy(p, &x, 4);
        } else if (a.dtype == KILN_F64) {
          double x = std::uniform_real_distribution<double>(-1, 1)(rng);
          memcpy(p, &x, 8);
        } else if (a.dtype == KILN_F16 || a.dtype == KILN_BF16) {
          uint16_t x = floatToHalf(
              std::uniform_real_distribution<float>(-1, 1)(rng), a.dtype);
          memcpy(p, &x, 2);
        } else {
          uint64_t x = a.dtype == KILN_BOOL ? rng() % 2 : rng() % 10;
          memcpy(p, &x, es);
        }
      }
    }
  }
  // bfloat16 arrives as uint16 bits (numpy and ONNX test data store it so).
  for (size_t i = 0; i < nin; ++i)
    if (ins[i].dtype == KILN_BF16 && arrays[i].dtype == KILN_U16)
      arrays[i].dtype = KILN_BF16;
  for (size_t i = 0; i < nin; ++i)
    arrays[i].name = ins[i].name;
  std::vector<kiln_tensor> inT(nin);
  for (size_t i = 0; i < nin; ++i) {
    inT[i].dtype = arrays[i].dtype;
    inT[i].rank = (int32_t)arrays[i].dims.size();
    if (inT[i].rank > KILN_MAX_RANK) {
      error = "input '" + arrays[i].name + "' has too many dims";
      return 1;
    }
    for (int d = 0; d < inT[i].rank; ++d)
      inT[i].dims[d] = arrays[i].dims[d];
    // A zero-size input still needs a non-null pointer.
    static char empty;
    inT[i].data = arrays[i].data.empty() ? &empty : arrays[i].data.data();
    inT[i].capacity = arrays[i].data.size();
  }
  auto runOnce = [&](std::vector<kiln_tensor> &outT) {
    outT.assign(nout, kiln_tensor{});
    return api.run(m, inT.data(), nin, outT.data(), nout);
  };
  auto freeOutputs = [&](std::vector<kiln_tensor> &outT) {
    for (auto &t : outT)
      api.free(t.data);
  };
  std::vector<kiln_tensor> outT;
  if (runOnce(outT) != KILN_OK) {
    error = api.lastError();
    freeOutputs(outT);
    return 1;
  }
  if (o.bench > 0 && !o.against.empty()) {
    if (!benchAgainst(o, api, m, inT, outT, result, error)) {
      freeOutputs(outT);
      return 1;
    }
  } else if (o.bench > 0) {
    std::vector<double> &ms = result.ms;
    for (int i = 0; i < o.bench; ++i) {
      std::vector<kiln_tensor> t;
      auto start = std::chrono::steady_clock::now();
      kiln_status s = runOnce(t);
      ms.push_back(std::chrono::duration<double, std::milli>(
                       std::chrono::steady_clock::now() - start)
                       .count());
      freeOutputs(t);
      if (s != KILN_OK) {
        error = api.lastError();
        return 1;
      }
    }
  }
  result.inputs = std::move(arrays); // the runs are done: inT is unused now
  std::vector<npz::Array> &results = result.outputs;
  for (size_t i = 0; i < nout; ++i) {
    const kiln_tensor &t = outT[i];
    npz::Array a;
    a.name = outs[i].name;
    a.dtype = t.dtype;
    size_t n = 1;
    for (int d = 0; d < t.rank; ++d) {
      a.dims.push_back(t.dims[d]);
      n *= t.dims[d];
    }
    size_t es = dtypeSize(t.dtype);
    a.data.assign((char *)t.data, (char *)t.data + n * es);
    results.push_back(std::move(a));
  }
  freeOutputs(outT);
  api.close(m);
  return 0;
}

int kiln::accuracyReport(const std::string &candidate,
                         const std::string &reference, const RunOptions &options,
                         llvm::raw_ostream &os, std::string &error) {
  // Three rounds, each timing the reference then the candidate, so both
  // see the same machine (times pooled per library).
  RunOptions o = options;
  RunResult ref, got;
  const int rounds = options.bench >= 3 ? 3 : 1;
  for (int round = 0; round < rounds; ++round) {
    o.bench = (options.bench + rounds - 1 - round) / rounds;
    for (int side = 0; side < 2; ++side) {
      RunResult r;
      o.model = side ? candidate : reference;
      if (runModelTo(o, r, error) != 0)
        return 1;
      RunResult &into = side ? got : ref;
      if (round == 0)
        into.outputs = std::move(r.outputs);
      into.ms.insert(into.ms.end(), r.ms.begin(), r.ms.end());
    }
  }
  o.bench = options.bench;
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? NAN : v[v.size() / 2];
  };
  os << "| output | cosine | max abs error | max error / max |ref| | top-1 agreement |\n"
     << "|---|---|---|---|---|\n";
  for (size_t i = 0; i < ref.outputs.size() && i < got.outputs.size(); ++i) {
    const npz::Array &r = ref.outputs[i], &g = got.outputs[i];
    size_t es = dtypeSize(r.dtype), n = es ? r.data.size() / es : 0;
    if (g.dims != r.dims || g.dtype != r.dtype) {
      error = "output '" + r.name + "' differs in shape or type between the libraries";
      return 1;
    }
    double dot = 0, nr = 0, ng = 0, maxAbs = 0, maxRef = 0;
    for (size_t k = 0; k < n; ++k) {
      double a = asDouble(&r.data[k * es], r.dtype), b = asDouble(&g.data[k * es], g.dtype);
      dot += a * b;
      nr += a * a;
      ng += b * b;
      maxAbs = std::max(maxAbs, std::fabs(a - b));
      maxRef = std::max(maxRef, std::fabs(a));
    }
    double cosine = nr > 0 && ng > 0 ? dot / std::sqrt(nr * ng) : (nr == ng ? 1.0 : 0.0);
    // top-1: the argmax along the last dim agrees, over the other dims
    int64_t last = r.dims.empty() ? 1 : r.dims.back();
    size_t rows = last > 0 ? n / (size_t)last : 0, agree = 0;
    for (size_t row = 0; row < rows; ++row) {
      size_t ra = 0, ga = 0;
      for (int64_t c = 1; c < last; ++c) {
        size_t k = row * last + c;
        if (asDouble(&r.data[k * es], r.dtype) > asDouble(&r.data[(row * last + ra) * es], r.dtype))
          ra = c;
        if (asDouble(&g.data[k * es], g.dtype) > asDouble(&g.data[(row * last + ga) * es], g.dtype))
          ga = c;
      }
      agree += ra == ga;
    }
    os << llvm::format("| %s | %.6f | %.3g | %.3g | %.4f (%zu of %zu rows) |\n",
                       r.name.c_str(), cosine, maxAbs, maxRef > 0 ? maxAbs / maxRef : 0.0,
                       rows ? (double)agree / rows : 1.0, agree, rows);
  }
  if (o.bench > 0) {
    double tr = median(ref.ms), tg = median(got.ms);
    os << llvm::format("speed: fp32 %.3f ms, this library %.3f ms (median of %d runs "
                       "each in 3 alternating rounds, %d thread(s)): %.2fx\n",
                       tr, tg, o.bench, o.threads, tg > 0 ? tr / tg : 0.0);
  }
  return 0;
}
