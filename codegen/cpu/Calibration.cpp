//===- Calibration.cpp - activation ranges for static int8 ----------------===//

#include "codegen/cpu/Calibration.h"

#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>

using namespace llvm;

bool kiln::readCalibration(StringRef path, Calibration &cal, std::string &error) {
  auto fail = [&](const Twine &msg) {
    error = ("calibration file '" + path + "': " + msg).str();
    return false;
  };
  auto buf = MemoryBuffer::getFile(path);
  if (!buf)
    return fail("cannot read it (" + buf.getError().message() + ")");
  auto parsed = json::parse((*buf)->getBuffer());
  if (!parsed)
    return fail("not JSON: " + toString(parsed.takeError()));
  const json::Object *root = parsed->getAsObject();
  if (!root || root->getString("format") != "kiln-calibration")
    return fail("not a kiln calibration (no \"format\": \"kiln-calibration\"; "
                "`kiln calibrate` writes one)");
  if (root->getInteger("version") != 1)
    return fail("version must be 1");
  cal.method = root->getString("method").value_or("").str();
  cal.samples = root->getInteger("samples").value_or(0);
  const json::Object *nodes = root->getObject("nodes");
  if (!nodes)
    return fail("no \"nodes\" object");
  cal.nodes.clear();
  for (const auto &kv : *nodes) {
    const json::Object *r = kv.second.getAsObject();
    std::optional<double> lo = r ? r->getNumber("min") : std::nullopt,
                          hi = r ? r->getNumber("max") : std::nullopt;
    if (!lo || !hi)
      return fail("node '" + kv.first.str() + "' has no numeric \"min\" and \"max\"");
    if (!std::isfinite(*lo) || !std::isfinite(*hi) || *lo > *hi) {
      std::string range;
      raw_string_ostream(range) << "[" << *lo << ", " << *hi << "]";
      return fail("node '" + kv.first.str() + "' has the range " + range +
                  " (min and max must be finite, min <= max)");
    }
    ActRange a;
    a.tensor = r->getString("tensor").value_or("").str();
    a.lo = (float)*lo;
    a.hi = (float)*hi;
    cal.nodes.emplace_back(kv.first.str(), a);
  }
  // json::Object is unordered: keep a stable order for messages and tests.
  llvm::sort(cal.nodes, [](auto &a, auto &b) { return a.first < b.first; });
  return true;
}

bool kiln::writeCalibration(StringRef path, const Calibration &cal,
                            std::string &error) {
  std::error_code ec;
  raw_fd_ostream os(path, ec);
  if (ec) {
    error = ("cannot write '" + path + "': " + ec.message()).str();
    return false;
  }
  json::OStream j(os, 1);
  j.object([&] {
    j.attribute("format", "kiln-calibration");
    j.attribute("version", 1);
    j.attribute("method", cal.method);
    j.attribute("samples", cal.samples);
    j.attributeObject("nodes", [&] {
      for (const auto &[node, r] : cal.nodes)
        j.attributeObject(node, [&] {
          j.attribute("tensor", r.tensor);
          j.attribute("min", (double)r.lo);
          j.attribute("max", (double)r.hi);
        });
    });
  });
  os << "\n";
  return true;
}

std::pair<float, float> kiln::u8QuantParams(float lo, float hi) {
  lo = lo < 0.0f ? lo : 0.0f;
  hi = hi > 0.0f ? hi : 0.0f;
  float s = (hi - lo) / 255.0f;
  if (!(s > 0.0f) || !std::isfinite(s))
    return {1.0f, 0.0f};
  float z = std::nearbyint(-lo / s);
  return {s, z <= 0.0f ? 0.0f : z > 255.0f ? 255.0f : z}; // no -0
}
