//===- Calibrate.cpp - `kiln calibrate` -----------------------------------===//
//
// See Calibrate.h. The dense layers are found in the ONNX graph (a MatMul or
// Gemm node whose weight, input 1, is an initializer or a Constant node's
// output; a Conv of one group with a constant filter likewise); their first inputs become extra outputs of an fp32 library
// compiled for the purpose, so the values measured are the ones that
// library computes. Ranges are keyed by node name (OPTYPE_INDEX for an
// unnamed node, as the importer names it), which is what the compiler
// finds in the dense layer's location.
//
//===----------------------------------------------------------------------===//

#include "Calibrate.h"
#include "Run.h"

#include "kiln/Compile.h"

#include "onnx/onnx_pb.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"

#include <google/protobuf/io/coded_stream.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

using namespace kiln;

namespace {

/// One dense layer's input and what was seen of it.
struct Observed {
  std::string tensor;
  std::vector<std::string> nodes;
  double lo = std::numeric_limits<double>::infinity();
  double hi = -std::numeric_limits<double>::infinity();
  uint64_t count = 0;
  std::vector<uint64_t> hist;    // percentile: x over [lo, hi]
  std::vector<uint64_t> absHist; // entropy: |x| over [0, max |x|]
};

constexpr int kHistBins = 8192, kAbsBins = 2048, kQuantLevels = 128;

/// The ONNX graph's input names (initializers excluded) and ranks (-1:
/// unknown).
std::map<std::string, int> graphInputs(const onnx::GraphProto &g) {
  llvm::StringSet<> inits;
  for (const auto &t : g.initializer())
    inits.insert(t.name());
  std::map<std::string, int> ins;
  for (const auto &vi : g.input())
    if (!inits.contains(vi.name()))
      ins[vi.name()] = vi.type().tensor_type().has_shape()
                           ? vi.type().tensor_type().shape().dim_size()
                           : -1;
  return ins;
}

/// Splits an .npz of samples into one input set per sample.
bool splitSamples(const std::string &path, const std::map<std::string, int> &ranks,
                  std::vector<std::vector<npz::Array>> &sets, std::string &error) {
  std::vector<npz::Array> arrays;
  if (!npz::read(path, arrays, error))
    return false;
  int64_t count = -1;
  for (const auto &[name, rank] : ranks) {
    auto it = std::find_if(arrays.begin(), arrays.end(),
                           [&](auto &a) { return a.name == name; });
    if (it == arrays.end()) {
      error = "samples '" + path + "' have no array named '" + name + "'";
      return false;
    }
    int64_t c = rank >= 0 && (int)it->dims.size() == rank + 1 ? it->dims[0] : -1;
    if (count != -1 && c != count) {
      error = "samples '" + path + "': array '" + name + "' holds " +
              (c < 0 ? std::string("one sample") : std::to_string(c) + " samples") +
              ", another array " + std::to_string(count < 0 ? 1 : count);
      return false;
    }
    count = c;
  }
  if (count == 0) {
    error = "samples '" + path + "' hold no sample (first dims are 0)";
    return false;
  }
  if (count < 0) { // one sample, the arrays as they are
    sets.push_back(arrays);
    return true;
  }
  for (int64_t s = 0; s < count; ++s) {
    std::vector<npz::Array> set;
    for (const auto &[name, rank] : ranks) {
      const npz::Array &a = *std::find_if(arrays.begin(), arrays.end(),
                                          [&](auto &x) { return x.name == name; });
      npz::Array one;
      one.name = a.name;
      one.dtype = a.dtype;
      one.dims.assign(a.dims.begin() + 1, a.dims.end());
      size_t bytes = a.data.size() / (size_t)count;
      one.data.assign(a.data.begin() + s * bytes, a.data.begin() + (s + 1) * bytes);
      set.push_back(std::move(one));
    }
    sets.push_back(std::move(set));
  }
  return true;
}

/// The f32 values of `name` among `arrays`, or null.
const npz::Array *find(const std::vector<npz::Array> &arrays,
                       const std::string &name) {
  for (const auto &a : arrays)
    if (a.name == name && a.dtype == KILN_F32)
      return &a;
  return nullptr;
}

template <typename F>
void forEach(const npz::Array &a, F f) {
  size_t n = a.data.size() / 4;
  for (size_t i = 0; i < n; ++i) {
    float x;
    std::memcpy(&x, &a.data[i * 4], 4);
    if (std::isfinite(x))
      f(x);
  }
}

/// Smallest x with at least `frac` of the histogram's mass below it.
double quantile(const Observed &o, double frac) {
  double target = frac * (double)o.count, acc = 0;
  double w = (o.hi - o.lo) / kHistBins;
  for (int b = 0; b < kHistBins; ++b) {
    acc += (double)o.hist[b];
    if (acc >= target)
      return o.lo + (b + 1) * w;
  }
  return o.hi;
}

/// TensorRT's entropy calibration on the |x| histogram: the clipping
/// threshold (a bin edge from kQuantLevels bins up) whose distribution,
/// quantized to kQuantLevels levels, is closest to the unclipped one in KL
/// divergence.
double entropyThreshold(const Observed &o) {
  const std::vector<uint64_t> &h = o.absHist;
  double amax = std::max(std::fabs(o.lo), std::fabs(o.hi));
  double best = std::numeric_limits<double>::infinity();
  int bestI = kAbsBins;
  std::vector<double> p, q;
  for (int i = kQuantLevels; i <= kAbsBins; ++i) {
    p.assign(h.begin(), h.begin() + i);
    double outliers = 0;
    for (int b = i; b < kAbsBins; ++b)
      outliers += (double)h[b];
    p[i - 1] += outliers;
    // quantize the clipped histogram h[0, i) to kQuantLevels levels, each
    // spread back evenly over its bins that held values
    q.assign(i, 0.0);
    double merged = (double)i / kQuantLevels;
    for (int j = 0; j < kQuantLevels; ++j) {
      int start = (int)std::floor(j * merged), stop = (int)std::floor((j + 1) * merged);
      if (j == kQuantLevels - 1)
        stop = i;
      double sum = 0;
      int nonzero = 0;
      for (int b = start; b < stop; ++b) {
        sum += (double)h[b];
        nonzero += h[b] != 0;
      }
      if (j == kQuantLevels - 1)
        sum += outliers;
      for (int b = start; b < stop && nonzero; ++b)
        if (h[b] != 0)
          q[b] = sum / nonzero;
    }
    double ps = 0, qs = 0;
    for (int b = 0; b < i; ++b)
      ps += p[b], qs += q[b];
    if (ps <= 0 || qs <= 0)
      continue;
    double kl = 0;
    for (int b = 0; b < i; ++b)
      if (p[b] > 0)
        kl += (p[b] / ps) * std::log((p[b] / ps) / std::max(q[b] / qs, 1e-12));
    if (kl < best) {
      best = kl;
      bestI = i;
    }
  }
  return amax * bestI / kAbsBins;
}

} // namespace

bool kiln::calibrate(const CalibrateOptions &options, Calibration &cal,
                     llvm::raw_ostream &log, std::string &error) {
  if (options.method != "minmax" && options.method != "percentile" &&
      options.method != "entropy") {
    error = "--method must be minmax, percentile or entropy, got '" +
            options.method + "'";
    return false;
  }
  if (options.method == "percentile" &&
      !(options.percentile > 50 && options.percentile <= 100)) {
    error = "--percentile must be above 50 and at most 100";
    return false;
  }
  auto buf = llvm::MemoryBuffer::getFile(options.model, /*IsText=*/false);
  if (!buf) {
    error = "cannot read '" + options.model + "': " + buf.getError().message();
    return false;
  }
  onnx::ModelProto model;
  google::protobuf::io::CodedInputStream in(
      (const uint8_t *)(*buf)->getBufferStart(), (*buf)->getBufferSize());
  in.SetTotalBytesLimit(INT32_MAX);
  if (!model.ParseFromCodedStream(&in) || !in.ConsumedEntireMessage()) {
    error = "cannot parse '" + options.model +
            "': not a binary ONNX model (kiln calibrate reads .onnx files)";
    return false;
  }
  buf->reset();
  const onnx::GraphProto &g = model.graph();
  std::map<std::string, int> inputs = graphInputs(g);

  // The dense layers: MatMul / Gemm with a constant weight.
  llvm::StringSet<> constants;
  for (const auto &t : g.initializer())
    constants.insert(t.name());
  for (const auto &nd : g.node())
    if (nd.op_type() == "Constant" && nd.domain().empty() && nd.output_size() == 1)
      constants.insert(nd.output(0));
  std::vector<Observed> observed;
  std::map<std::string, size_t> byTensor;
  for (int i = 0; i < g.node_size(); ++i) {
    const onnx::NodeProto &nd = g.node(i);
    // (and convolutions of one group, whose int8 kernel --quantize
    // int8-static takes too)
    bool conv = nd.op_type() == "Conv";
    if (conv)
      for (const auto &a : nd.attribute())
        if (a.name() == "group" && a.i() != 1)
          conv = false;
    if (!nd.domain().empty() ||
        (nd.op_type() != "MatMul" && nd.op_type() != "Gemm" && !conv) ||
        nd.input_size() < 2 || !constants.contains(nd.input(1)) ||
        constants.contains(nd.input(0)))
      continue;
    std::string name = nd.name().empty() ? nd.op_type() + "_" + std::to_string(i)
                                         : nd.name();
    auto [it, fresh] = byTensor.try_emplace(nd.input(0), observed.size());
    if (fresh)
      observed.emplace_back().tensor = nd.input(0);
    observed[it->second].nodes.push_back(name);
  }
  if (observed.empty()) {
    error = "'" + options.model + "' has no MatMul, Gemm or Conv node with a "
            "constant weight: nothing to calibrate";
    return false;
  }

  // The fp32 library with the dense layers' inputs as extra outputs.
  CompileOptions co;
  co.import = options.import;
  co.cpu = options.cpu;
  for (const Observed &o : observed)
    if (!inputs.count(o.tensor))
      co.import.extraOutputs.push_back(o.tensor);
  llvm::SmallString<128> soPath;
  if (llvm::sys::fs::createTemporaryFile("kiln-calibrate", "so", soPath)) {
    error = "cannot create a temporary file for the calibration library";
    return false;
  }
  std::string so = soPath.str().str();
  auto cleanup = [&] {
    llvm::sys::fs::remove(so);
    llvm::sys::fs::remove(so + ".weights");
  };
  if (!compileModel(options.model, so, co, error, llvm::nulls())) {
    cleanup();
    return false;
  }

  std::vector<std::vector<npz::Array>> sets;
  for (const std::string &path : options.samples)
    if (!splitSamples(path, inputs, sets, error)) {
      cleanup();
      return false;
    }
  int runs = options.samples.empty() ? options.randomSamples : (int)sets.size();
  // Pass 1: ranges; pass 2 (percentile, entropy): histograms.
  int passes = options.method == "minmax" ? 1 : 2;
  for (int pass = 0; pass < passes; ++pass) {
    if (pass == 1)
      for (Observed &o : observed) {
        if (options.method == "percentile")
          o.hist.assign(kHistBins, 0);
        else
          o.absHist.assign(kAbsBins, 0);
      }
    for (int s = 0; s < runs; ++s) {
      RunOptions ro;
      ro.model = so;
      ro.threads = options.threads;
      ro.seed = (unsigned)s;
      ro.shapes = options.randomShapes;
      if (!options.samples.empty())
        ro.arrays = &sets[s];
      RunResult r;
      if (runModelTo(ro, r, error) != 0) {
        error = "calibration sample " + std::to_string(s) + ": " + error;
        cleanup();
        return false;
      }
      for (Observed &o : observed) {
        const npz::Array *a = find(r.outputs, o.tensor);
        if (!a)
          a = find(r.inputs, o.tensor);
        if (!a)
          continue; // not f32: not a layer the int8 kernels take
        if (pass == 0) {
          forEach(*a, [&](float x) {
            o.lo = std::min(o.lo, (double)x);
            o.hi = std::max(o.hi, (double)x);
            ++o.count;
          });
        } else if (!o.hist.empty()) {
          double w = (o.hi - o.lo) / kHistBins;
          forEach(*a, [&](float x) {
            int b = w > 0 ? (int)((x - o.lo) / w) : 0;
            ++o.hist[std::clamp(b, 0, kHistBins - 1)];
          });
        } else {
          double amax = std::max(std::fabs(o.lo), std::fabs(o.hi));
          forEach(*a, [&](float x) {
            int b = amax > 0 ? (int)(std::fabs(x) / amax * kAbsBins) : 0;
            ++o.absHist[std::clamp(b, 0, kAbsBins - 1)];
          });
        }
      }
    }
  }
  cleanup();

  cal.method = options.method;
  cal.samples = runs;
  cal.nodes.clear();
  int measured = 0;
  for (const Observed &o : observed) {
    if (!o.count)
      continue;
    double lo = o.lo, hi = o.hi;
    if (options.method == "percentile") {
      double tail = (100.0 - options.percentile) / 100.0;
      lo = std::max(o.lo, quantile(o, tail) - (o.hi - o.lo) / kHistBins);
      hi = std::min(o.hi, quantile(o, 1.0 - tail));
    } else if (options.method == "entropy") {
      double t = entropyThreshold(o);
      lo = std::max(o.lo, -t);
      hi = std::min(o.hi, t);
    }
    ++measured;
    for (const std::string &node : o.nodes)
      cal.nodes.push_back({node, ActRange{o.tensor, (float)lo, (float)hi}});
  }
  log << "kiln calibrate: " << cal.nodes.size() << " dense layer(s), "
      << measured << " input(s) measured over " << runs << " sample(s), method "
      << options.method << "\n";
  return true;
}
