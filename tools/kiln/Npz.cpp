//===- Npz.cpp - read and write numpy .npz archives -----------------------===//
//
// Stored (uncompressed) zip entries only: np.savez writes those; archives
// from np.savez_compressed are rejected with a clear message.
//
//===----------------------------------------------------------------------===//

#include "Npz.h"

#include <cstdint>
#include <cstring>
#include <fstream>
#include <sstream>

using namespace kiln::npz;

namespace {

const struct {
  const char *descr;
  kiln_dtype dtype;
} kDescr[] = {{"f4", KILN_F32}, {"f8", KILN_F64}, {"f2", KILN_F16},
              {"i1", KILN_I8},  {"i2", KILN_I16}, {"i4", KILN_I32},
              {"i8", KILN_I64}, {"u1", KILN_U8},  {"u2", KILN_U16},
              {"u4", KILN_U32}, {"u8", KILN_U64}, {"b1", KILN_BOOL}};

size_t elementSize(kiln_dtype d) {
  static const size_t sizes[] = {4, 8, 2, 2, 1, 2, 4, 8, 1, 2, 4, 8, 1};
  return (unsigned)d < 13 ? sizes[d] : 0;
}

uint32_t crc32(const char *p, size_t n) {
  static uint32_t table[256];
  if (!table[1])
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k)
        c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      table[i] = c;
    }
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; ++i)
    c = table[(c ^ (uint8_t)p[i]) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

template <typename T> T rd(const char *p) {
  T v;
  memcpy(&v, p, sizeof v);
  return v;
}

bool parseNpy(const char *p, size_t n, Array &a, std::string &error) {
  if (n < 10 || memcmp(p, "\x93NUMPY", 6) != 0) {
    error = "'" + a.name + "' is not a .npy array";
    return false;
  }
  size_t hlen, off;
  if (p[6] == 1) {
    hlen = rd<uint16_t>(p + 8);
    off = 10;
  } else {
    hlen = rd<uint32_t>(p + 8);
    off = 12;
  }
  if (off + hlen > n) {
    error = "'" + a.name + "' has a truncated header";
    return false;
  }
  std::string h(p + off, hlen);
  auto field = [&](const char *key) -> std::string {
    size_t k = h.find(key);
    if (k == std::string::npos)
      return "";
    k = h.find(':', k);
    return h.substr(k + 1);
  };
  std::string descr = field("'descr'");
  size_t q1 = descr.find('\''), q2 = descr.find('\'', q1 + 1);
  descr = descr.substr(q1 + 1, q2 - q1 - 1);
  if (field("'fortran_order'").find("True") == 0 ||
      field("'fortran_order'").find(" True") == 0) {
    error = "'" + a.name + "' is Fortran-ordered; save a C-ordered array";
    return false;
  }
  if (descr.size() < 3 || descr[0] == '>') {
    error = "'" + a.name + "' has unsupported dtype '" + descr + "'";
    return false;
  }
  bool found = false;
  for (auto &d : kDescr)
    if (descr.substr(1) == d.descr) {
      a.dtype = d.dtype;
      found = true;
    }
  if (!found) {
    error = "'" + a.name + "' has unsupported dtype '" + descr + "'";
    return false;
  }
  std::string shape = field("'shape'");
  shape = shape.substr(shape.find('(') + 1, shape.find(')') - shape.find('(') - 1);
  std::stringstream ss(shape);
  std::string tok;
  size_t count = 1;
  while (std::getline(ss, tok, ','))
    if (tok.find_first_of("0123456789") != std::string::npos) {
      a.dims.push_back(std::stoll(tok));
      count *= a.dims.back();
    }
  size_t bytes = count * elementSize(a.dtype);
  if (off + hlen + bytes > n) {
    error = "'" + a.name + "' has less data than its shape needs";
    return false;
  }
  a.data.assign(p + off + hlen, p + off + hlen + bytes);
  return true;
}

} // namespace

bool kiln::npz::read(const std::string &path, std::vector<Array> &arrays,
                     std::string &error) {
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    error = "cannot open '" + path + "'";
    return false;
  }
  std::string buf((std::istreambuf_iterator<char>(f)), {});
  size_t pos = 0;
  while (pos + 30 <= buf.size() && rd<uint32_t>(&buf[pos]) == 0x04034b50) {
    const char *h = &buf[pos];
    uint16_t flags = rd<uint16_t>(h + 6), method = rd<uint16_t>(h + 8);
    uint64_t csize = rd<uint32_t>(h + 18);
    uint16_t nlen = rd<uint16_t>(h + 26), xlen = rd<uint16_t>(h + 28);
    if (pos + 30 + nlen + xlen > buf.size())
      break;
    std::string name(h + 30, nlen);
    const char *x = h + 30 + nlen;
    for (size_t k = 0; k + 4 <= xlen;) {
      uint16_t id = rd<uint16_t>(x + k), sz = rd<uint16_t>(x + k + 2);
      if (id == 1 && sz >= 16)
        csize = rd<uint64_t>(x + k + 4 + 8);
      k += 4 + sz;
    }
    if (method != 0) {
      error = "'" + path + "' is compressed; write it with np.savez, not "
                           "np.savez_compressed";
      return false;
    }
    if (flags & 8) {
      error = "'" + path + "' uses zip data descriptors, which kiln does not read";
      return false;
    }
    size_t data = pos + 30 + nlen + xlen;
    if (data + csize > buf.size()) {
      error = "'" + path + "' is truncated";
      return false;
    }
    Array a;
    a.name = name.size() > 4 && name.substr(name.size() - 4) == ".npy"
                 ? name.substr(0, name.size() - 4)
                 : name;
    if (!parseNpy(&buf[data], csize, a, error))
      return false;
    arrays.push_back(std::move(a));
    pos = data + csize;
  }
  if (arrays.empty()) {
    error = "'" + path + "' holds no arrays (not an .npz archive?)";
    return false;
  }
  return true;
}

bool kiln::npz::write(const std::string &path, const std::vector<Array> &arrays,
                      std::string &error) {
  std::string out, central;
  auto put = [](std::string &s, uint64_t v, int n) {
    for (int i = 0; i < n; ++i)
      s.push_back((char)((v >> (8 * i)) & 0xFF));
  };
  for (const Array &a : arrays) {
    const char *descr = "<f4";
    static std::string tmp;
    if (a.dtype == KILN_BF16)
      descr = "<u2"; // numpy has no bfloat16: the raw bits, as ONNX stores them
    else
      for (auto &d : kDescr)
      if (d.dtype == a.dtype) {
        tmp = std::string(d.descr[0] == 'b' || d.descr[1] == '1' ? "|" : "<") + d.descr;
        descr = tmp.c_str();
      }
    std::string shape = "(";
    for (size_t i = 0; i < a.dims.size(); ++i)
      shape += std::to_string(a.dims[i]) + (a.dims.size() == 1 ? "," : i + 1 < a.dims.size() ? ", " : "");
    shape += ")";
    std::string header = "{'descr': '" + std::string(descr) +
                         "', 'fortran_order': False, 'shape': " + shape + ", }";
    while ((10 + header.size() + 1) % 64)
      header += ' ';
    header += '\n';
    std::string npy = "\x93NUMPY";
    npy += (char)1;
    npy += (char)0;
    put(npy, header.size(), 2);
    npy += header;
    npy.append(a.data.begin(), a.data.end());
    std::string name = a.name + ".npy";
    uint32_t crc = crc32(npy.data(), npy.size());
    uint64_t offset = out.size();
    if (npy.size() >= 0xFFFFFFFFull || offset >= 0xFFFFFFFFull) {
      error = "array '" + a.name + "' is too large for this npz writer";
      return false;
    }
    put(out, 0x04034b50, 4);
    put(out, 20, 2); put(out, 0, 2); put(out, 0, 2);
    put(out, 0, 2); put(out, 0x21, 2);
    put(out, crc, 4); put(out, npy.size(), 4); put(out, npy.size(), 4);
    put(out, name.size(), 2); put(out, 0, 2);
    out += name;
    out += npy;
    put(central, 0x02014b50, 4);
    put(central, 20, 2); put(central, 20, 2); put(central, 0, 2);
    put(central, 0, 2); put(central, 0, 2); put(central, 0x21, 2);
    put(central, crc, 4); put(central, npy.size(), 4); put(central, npy.size(), 4);
    put(central, name.size(), 2); put(central, 0, 2); put(central, 0, 2);
    put(central, 0, 2); put(central, 0, 2); put(central, 0, 4);
    put(central, offset, 4);
    central += name;
  }
  uint64_t cdOffset = out.size();
  out += central;
  put(out, 0x06054b50, 4);
  put(out, 0, 2); put(out, 0, 2);
  put(out, arrays.size(), 2); put(out, arrays.size(), 2);
  put(out, central.size(), 4); put(out, cdOffset, 4); put(out, 0, 2);
  std::ofstream f(path, std::ios::binary);
  if (!f.write(out.data(), out.size())) {
    error = "cannot write '" + path + "'";
    return false;
  }
  return true;
}
