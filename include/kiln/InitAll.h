//===- InitAll.h - register kiln dialects and passes ------------*- C++ -*-===//
//
// The one place tools register what kiln provides: the kiln dialect with the
// upstream dialects it lowers to, and every kiln pass.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_INITALL_H
#define KILN_INITALL_H

namespace mlir {
class DialectRegistry;
} // namespace mlir

namespace kiln {

/// Adds the kiln dialect and the upstream dialects kiln code lives in.
void registerKilnDialects(mlir::DialectRegistry &registry);

/// Registers every kiln pass and pipeline with the global pass registry.
void registerAllKilnPasses();

} // namespace kiln

#endif // KILN_INITALL_H
