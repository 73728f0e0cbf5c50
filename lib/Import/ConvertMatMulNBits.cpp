//===- ConvertMatMulNBits.cpp - com.microsoft MatMulNBits -----------------===//
//
// ONNX Runtime's 4-bit weight-only matmul (as its MatMulNBitsQuantizer and
// the GenAI model builder write it), dequantized at import from its
// constant blocks into an fp32 weight, so it runs and matches ORT like any
// MatMul (`--quantize int4` packs it again for the int4 kernels). Not
// covered: bits other than 4, g_idx, float zero points or non-constant
// weights; those fail with an error naming the node.
//
//===----------------------------------------------------------------------===//

#include "ImporterImpl.h"

#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"

#include <cstring>

using namespace ::kiln::import;
namespace k = mlir::kiln;

/// com.microsoft MatMulNBits, bits 4: A [..., K] x dequantized B [N, K]^T.
/// B is uint8 [N, ceil(K / block_size), block_size / 2], two values per
/// byte, low nibble first; scales [N * blocks] in A's type; zero points
/// uint8, two per byte (default 8); optional bias [N] (input 5).
LogicalResult(::kiln::import::convertMatMulNBits)(NodeContext &c) {
  if (failed(c.requireInputs(3)))
    return failure();
  auto kAttr = c.getInt("K", -1), nAttr = c.getInt("N", -1);
  auto bits = c.getInt("bits", 4), block = c.getInt("block_size", -1);
  if (failed(kAttr) || failed(nAttr) || failed(bits) || failed(block))
    return failure();
  int64_t K = *kAttr, N = *nAttr, bs = *block;
  if (*bits != 4)
    return c.fail("MatMulNBits with bits=" + Twine(*bits) +
                  " is not supported (4 bits only)");
  if (K <= 0 || N <= 0)
    return c.fail("MatMulNBits needs positive K and N attributes");
  if (bs < 16 || (bs & (bs - 1)))
    return c.fail("MatMulNBits block_size must be a power of two >= 16, got " +
                  Twine(bs));
  if (c.input(4))
    return c.fail("MatMulNBits with g_idx (act-order) is not supported");
  Value a = c.input(0);
  auto aType = c.typeOf(a);
  if (!aType.getElementType().isF32())
    return c.fail("MatMulNBits: only float32 activations are supported");
  if (aType.getRank() < 1 || (!aType.isDynamicDim(aType.getRank() - 1) &&
                              aType.getDimSize(aType.getRank() - 1) != K))
    return c.fail("MatMulNBits: A's last dim must be K = " + Twine(K));
  int64_t blocks = (K + bs - 1) / bs, blob = bs / 2;
  std::vector<char> bStore, sStore, zStore;
  auto b = constantBytes(c.input(1), bStore);
  auto sc = constantBytes(c.input(2), sStore);
  if (!b || !sc || !c.typeOf(c.input(1)).getElementType().isUnsignedInteger(8) ||
      !c.typeOf(c.input(2)).getElementType().isF32())
    return c.fail("MatMulNBits: B (uint8) and scales (float32) must be "
                  "constants (initializers)");
  if ((int64_t)b->size() != N * blocks * blob ||
      (int64_t)sc->size() != N * blocks * 4)
    return c.fail("MatMulNBits: B must hold N x ceil(K / block_size) x "
                  "block_size / 2 bytes and scales N x ceil(K / block_size) "
                  "values for K = " + Twine(K) + ", N = " + Twine(N) +
                  ", block_size = " + Twine(bs));
  std::optional<ArrayRef<char>> zp;
  int64_t zpStride = (blocks + 1) / 2;
  if (Value z = c.input(3)) {
    zp = constantBytes(z, zStore);
    if (!c.typeOf(z).getElementType().isUnsignedInteger(8))
      return c.fail("MatMulNBits: only uint8 (packed 4-bit) zero points are "
                    "supported");
    if (!zp || (int64_t)zp->size() != N * zpStride)
      return c.fail("MatMulNBits: zero points must be a constant of N x "
                    "ceil(blocks / 2) bytes");
  }
  // W[k][n] = (q - zp) * scale, laid out [K, N] for A x W.
  std::vector<float> w((size_t)K * N);
  const uint8_t *bq = reinterpret_cast<const uint8_t *>(b->data());
  const char *scales = sc->data();
  for (int64_t n = 0; n < N; ++n)
    for (int64_t blk = 0; blk < blocks; ++blk) {
      float s;
      std::memcpy(&s, scales + 4 * (n * blocks + blk), 4);
      int z = 8;
      if (zp) {
        uint8_t byte = (uint8_t)(*zp)[n * zpStride + blk / 2];
        z = (blk & 1) ? byte >> 4 : byte & 15;
      }
      const uint8_t *row = bq + (n * blocks + blk) * blob;
      for (int64_t i = 0; i < bs && blk * bs + i < K; ++i) {
        int q = (i & 1) ? row[i / 2] >> 4 : row[i / 2] & 15;
        w[(size_t)(blk * bs + i) * N + n] = (float)(q - z) * s;
      }
    }
  auto wType = RankedTensorType::get({K, N}, c.b.getF32Type());
  auto blobData = HeapAsmResourceBlob::allocateAndCopyWithAlign(
      ArrayRef<char>(reinterpret_cast<const char *>(w.data()), w.size() * 4),
      alignof(float));
  Value weight = c.constant(cast<ElementsAttr>(DenseResourceElementsAttr::get(
      wType, "matmulnbits_weight", std::move(blobData))));
  auto y = c.make<k::MatmulOp>({a, weight});
  if (succeeded(y) && c.input(5))
    y = c.make<k::AddOp>({*y, c.input(5)});
  if (failed(y))
    return failure();
  c.outputs.push_back(*y);
  return success();
}
