//===- Tensors.cpp - decode ONNX TensorProtos into attributes -------------===//
//
// Turns initializers and Constant values into ElementsAttrs. Large tensors
// become dense_resource blobs that point into the parsed model or into a
// mapped external-data file (no copy); the blob's deleter keeps that storage
// alive. Every size is checked against dims x dtype, and external paths are
// confined to the model's folder.
//
//===----------------------------------------------------------------------===//

#include "ImporterImpl.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/BuiltinDialect.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace ::kiln::import;
using onnx::TensorProto;

/// Tensors up to this many elements are DenseElementsAttr (visible to folders).
static constexpr int64_t kInlineElements = 256;

ModelStorage::Mapping::~Mapping() {
  if (addr)
    munmap(addr, size);
}

auto ::kiln::import::onnxElementType(MLIRContext *ctx, int t) -> Type {
  Builder b(ctx);
  switch (t) {
  case TensorProto::FLOAT: return b.getF32Type();
  case TensorProto::DOUBLE: return b.getF64Type();
  case TensorProto::FLOAT16: return b.getF16Type();
  case TensorProto::BFLOAT16: return b.getBF16Type();
  case TensorProto::INT8: return b.getIntegerType(8);
  case TensorProto::INT16: return b.getIntegerType(16);
  case TensorProto::INT32: return b.getIntegerType(32);
  case TensorProto::INT64: return b.getIntegerType(64);
  case TensorProto::UINT8: return b.getIntegerType(8, false);
  case TensorProto::UINT16: return b.getIntegerType(16, false);
  case TensorProto::UINT32: return b.getIntegerType(32, false);
  case TensorProto::UINT64: return b.getIntegerType(64, false);
  case TensorProto::BOOL: return b.getI1Type();
  default: return {};
  }
}

auto ::kiln::import::onnxTypeName(int t) -> std::string {
  if (onnx::TensorProto_DataType_IsValid(t))
    return onnx::TensorProto_DataType_Name((onnx::TensorProto_DataType)t);
  // Types newer than the onnx headers (onnx.proto's numbering).
  static const char *const newer[] = {"FLOAT8E4M3FN", "FLOAT8E4M3FNUZ",
                                      "FLOAT8E5M2",   "FLOAT8E5M2FNUZ",
                                      "UINT4",        "INT4",
                                      "FLOAT4E2M1"};
  if (t >= 17 && t <= 23)
    return newer[t - 17];
  return "data type " + std::to_string(t);
}

bool ::kiln::import::isFourBitType(int t) { return t == 21 || t == 22; }

auto ::kiln::import::fourBitStorageType(MLIRContext *ctx, int t) -> Type {
  if (!isFourBitType(t))
    return {};
  return IntegerType::get(ctx, 8,
                          t == 22 ? IntegerType::Signless : IntegerType::Unsigned);
}

void ::kiln::import::markFourBit(Value v, const TensorProto &t) {
  if (Operation *op = v.getDefiningOp(); op && isFourBitType(t.data_type()))
    op->setAttr(kFourBitAttr,
                IntegerAttr::get(IntegerType::get(v.getContext(), 64),
                                 t.data_type()));
}

int ::kiln::import::fourBitTypeOf(Value v) {
  Operation *op = v ? v.getDefiningOp() : nullptr;
  auto a = op ? op->getAttrOfType<IntegerAttr>(kFourBitAttr) : IntegerAttr();
  return a ? (int)a.getInt() : 0;
}

/// Bytes per element in ONNX's raw_data layout (bool is one byte).
static int64_t rawElementSize(int t) {
  if (isFourBitType(t)) /* two values per byte: the storage unit */
    return 1;
  switch (t) {
  case TensorProto::BOOL: case TensorProto::INT8: case TensorProto::UINT8:
    return 1;
  case TensorProto::FLOAT16: case TensorProto::BFLOAT16:
  case TensorProto::INT16: case TensorProto::UINT16:
    return 2;
  case TensorProto::FLOAT: case TensorProto::INT32: case TensorProto::UINT32:
    return 4;
  default:
    return 8;
  }
}

/// Resolves an external-data location inside the model folder and maps it.
static FailureOr<ArrayRef<char>>
mapExternal(ModelStorage &store, const TensorProto &t, int64_t expectedBytes,
            std::shared_ptr<ModelStorage::Mapping> &mapping, std::string &error) {
  std::string location;
  int64_t offset = 0, length = -1;
  for (const auto &kv : t.external_data()) {
    auto parseInt = [&](int64_t &out) {
      if (!llvm::to_integer(kv.value(), out, 10) || out < 0) {
        error = "external data '" + kv.key() + "' of tensor '" + t.name() +
                "' is not a non-negative integer: '" + kv.value() + "'";
        return false;
      }
      return true;
    };
    if (kv.key() == "location")
      location = kv.value();
    else if (kv.key() == "offset" && !parseInt(offset))
      return failure();
    else if (kv.key() == "length" && !parseInt(length))
      return failure();
  }
  std::string where = "tensor '" + t.name() + "': external data '" + location + "'";
  if (location.empty()) {
    error = "tensor '" + t.name() + "' has external data without a location";
    return failure();
  }
  if (llvm::sys::path::is_absolute(location) || location.find('\\') != std::string::npos) {
    error = where + " must be a relative path inside the model folder";
    return failure();
  }
  for (auto it = llvm::sys::path::begin(location),
            e = llvm::sys::path::end(location);
       it != e; ++it)
    if (*it == "..") {
      error = where + " must not contain '..'";
      return failure();
    }
  llvm::SmallString<256> full(store.modelDir);
  llvm::sys::path::append(full, location);
  char real[PATH_MAX];
  if (!realpath(full.c_str(), real)) {
    error = where + " cannot be opened: " + std::strerror(errno);
    return failure();
  }
  std::string realStr(real);
  if (realStr.compare(0, store.modelDir.size() + 1, store.modelDir + "/") != 0) {
    error = where + " resolves outside the model folder (to " + realStr + ")";
    return failure();
  }
  auto &slot = store.mappings[realStr];
  if (!slot) {
    int fd = open(real, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      error = where + " is not a readable regular file";
      if (fd >= 0)
        close(fd);
      return failure();
    }
    auto m = std::make_shared<ModelStorage::Mapping>();
    m->size = st.st_size;
    if (m->size > 0) {
      m->addr = mmap(nullptr, m->size, PROT_READ, MAP_PRIVATE, fd, 0);
      if (m->addr == MAP_FAILED) {
        m->addr = nullptr;
        close(fd);
        error = where + " could not be mapped";
        return failure();
      }
    }
    close(fd);
    slot = m;
  }
  mapping = slot;
  if (length < 0)
    length = expectedBytes;
  if ((uint64_t)offset > mapping->size ||
      (uint64_t)length > mapping->size - (uint64_t)offset) {
    error = where + ": offset " + std::to_string(offset) + " + length " +
            std::to_string(length) + " is past the end of the file (" +
            std::to_string(mapping->size) + " bytes)";
    return failure();
  }
  if (length != expectedBytes) {
    error = where + ": length " + std::to_string(length) +
            " does not match the " + std::to_string(expectedBytes) +
            " bytes its dims and data type need";
    return failure();
  }
  return ArrayRef<char>((const char *)mapping->addr + offset, length);
}

/// Copies typed-field values into a byte buffer in raw_data layout.
template <typename Field>
static std::vector<char> packField(const Field &field, int dataType) {
  int64_t es = rawElementSize(dataType);
  std::vector<char> out(field.size() * es);
  for (int i = 0; i < field.size(); ++i) {
    auto v = field.Get(i);
    switch (es) {
    case 1: { uint8_t x = (uint8_t)v; memcpy(&out[i], &x, 1); break; }
    case 2: { uint16_t x = (uint16_t)v; memcpy(&out[2 * i], &x, 2); break; }
    case 4: {
      if constexpr (std::is_floating_point_v<decltype(v)>) {
        float x = (float)v; memcpy(&out[4 * i], &x, 4);
      } else {
        uint32_t x = (uint32_t)v; memcpy(&out[4 * i], &x, 4);
      }
      break;
    }
    default: { auto x = v; memcpy(&out[8 * i], &x, 8); break; }
    }
  }
  return out;
}

auto ::kiln::import::decodeTensor(MLIRContext *ctx,
                                  const std::shared_ptr<ModelStorage> &store,
                                  const TensorProto &t, std::string &error)
    -> FailureOr<ElementsAttr> {
  std::string what = "tensor '" + t.name() + "'";
  bool fourBit = isFourBitType(t.data_type());
  Type elt = fourBit ? fourBitStorageType(ctx, t.data_type())
                     : onnxElementType(ctx, t.data_type());
  if (!elt) {
    error = what + " has unsupported data type " + onnxTypeName(t.data_type());
    return failure();
  }
  SmallVector<int64_t> dims;
  int64_t numel = 1;
  for (int64_t d : t.dims()) {
    if (d < 0) {
      error = what + " has a negative dim " + std::to_string(d);
      return failure();
    }
    if (d != 0 && numel > (int64_t(1) << 40) / d) {
      error = what + " is too large";
      return failure();
    }
    numel *= d;
    dims.push_back(d);
  }
  auto type = RankedTensorType::get(dims, elt);
  int64_t es = rawElementSize(t.data_type());
  int64_t bytes = fourBit ? (numel + 1) / 2 : numel * es;

  // Find the bytes in raw_data layout, and who owns them.
  ArrayRef<char> data;
  std::shared_ptr<void> owner = store;
  std::vector<char> packed;
  if (t.data_location() == TensorProto::EXTERNAL) {
    std::shared_ptr<ModelStorage::Mapping> mapping;
    auto ext = mapExternal(*store, t, bytes, mapping, error);
    if (failed(ext))
      return failure();
    data = *ext;
    owner = mapping;
  } else if (t.has_raw_data()) {
    if ((int64_t)t.raw_data().size() != bytes) {
      error = what + " has " + std::to_string(t.raw_data().size()) +
              " bytes of raw data, but its dims and data type need " +
              std::to_string(bytes);
      return failure();
    }
    data = ArrayRef<char>(t.raw_data().data(), t.raw_data().size());
  } else {
    int64_t count = -1;
    switch (t.data_type()) {
    case TensorProto::FLOAT: count = t.float_data_size(); packed = packField(t.float_data(), t.data_type()); break;
    case TensorProto::DOUBLE: count = t.double_data_size(); packed = packField(t.double_data(), t.data_type()); break;
    case TensorProto::INT64: count = t.int64_data_size(); packed = packField(t.int64_data(), t.data_type()); break;
    case TensorProto::UINT32: case TensorProto::UINT64:
      count = t.uint64_data_size(); packed = packField(t.uint64_data(), t.data_type()); break;
    default: count = t.int32_data_size(); packed = packField(t.int32_data(), t.data_type()); break;
    }
    if (count != (fourBit ? bytes : numel)) {
      error = what + " has " + std::to_string(count) +
              (fourBit ? " packed bytes" : " values") +
              ", but its dims need " + std::to_string(fourBit ? bytes : numel);
      return failure();
    }
    data = ArrayRef<char>(packed.data(), packed.size());
  }
  if (fourBit) {
    // Two values per byte, the first in the low nibble; INT4 sign-extended.
    std::vector<char> wide(numel);
    for (int64_t i = 0; i < numel; ++i) {
      int v = ((uint8_t)data[i / 2] >> (4 * (i & 1))) & 15;
      wide[i] = (char)(t.data_type() == 22 && v > 7 ? v - 16 : v);
    }
    packed = std::move(wide);
    data = ArrayRef<char>(packed.data(), packed.size());
  }

  // Booleans and small tensors: a DenseElementsAttr folders can read.
  if (elt.isInteger(1)) {
    SmallVector<bool> v;
    for (char c : data)
      v.push_back(c != 0);
    return cast<ElementsAttr>(DenseElementsAttr::get(type, v));
  }
  if (numel <= kInlineElements) {
    bool splat = false;
    if (!DenseElementsAttr::isValidRawBuffer(type, data, splat)) {
      error = what + " has an invalid buffer";
      return failure();
    }
    return cast<ElementsAttr>(DenseElementsAttr::getFromRawBuffer(type, data));
  }
  // Everything else references its bytes in place, unless they are misaligned
  // or were unpacked from typed fields above.
  AsmResourceBlob blob;
  if (!packed.empty() || ((uintptr_t)data.data() % es) != 0) {
    blob = HeapAsmResourceBlob::allocateAndCopyWithAlign(data, es);
  } else {
    blob = UnmanagedAsmResourceBlob::allocateWithAlign(
        data, es, [owner](void *, size_t, size_t) mutable { owner.reset(); });
  }
  std::string name = t.name().empty() ? "tensor" : t.name();
  return cast<ElementsAttr>(
      DenseResourceElementsAttr::get(type, name, std::move(blob)));
}
