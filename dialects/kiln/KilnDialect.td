//===- KilnDialect.td - the kiln dialect -------------------*- tablegen -*-===//
//
// The kiln dialect: ONNX meaning on builtin tensor types, one op per concept.
// Every op infers its result type from its operands and attributes; the same
// inference is the verifier, so an op that exists is an op that type-checks.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_DIALECT_TD
#define KILN_DIALECT_TD

include "mlir/IR/OpBase.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"

def Kiln_Dialect : Dialect {
  let name = "kiln";
  let cppNamespace = "::mlir::kiln";
  let summary = "Tensor-level ops with ONNX meaning, normalized to one form";
  let description = [{
    Ops take and return builtin ranked tensors; dynamic dims are `?`.
    Opset differences are resolved by the importer, so each ONNX concept has
    exactly one form here. Unsigned ONNX integers are `ui8`..`ui64`, signed
    ones are signless `i8`..`i64`, booleans are `i1`.
  }];
  let hasConstantMaterializer = 1;
  // kiln.if's canonicalization casts a branch's sharper types back.
  let dependentDialects = ["::mlir::tensor::TensorDialect"];
}

// Elementwise ops whose result shape is the numpy broadcast of their
// operands' shapes (unary ops trivially); the graph passes follow extents
// through them.
def Kiln_Broadcasting : NativeOpTrait<"KilnBroadcasting">;

// All kiln ops are side-effect free tensor ops.
class Kiln_Op<string mnemonic, list<Trait> traits = []>
    : Op<Kiln_Dialect, mnemonic, !listconcat(traits, [Pure])>;

// Result types are inferred; an inferred `?` is compatible with a known
// extent, so later refinement of either side keeps the IR valid.
defvar Kiln_CompatDecl = [{
  static bool isCompatibleReturnTypes(::mlir::TypeRange l, ::mlir::TypeRange r) {
    return ::mlir::kiln::areCompatibleTensorTypes(l, r);
  }
}];

// The verifier runs inference with the op's location so its precise message
// is reported; the interface's own check (which runs after it, with the
// regions) then compares the inferred and actual result types.
defvar Kiln_VerifyDef = [{
  ::llvm::LogicalResult $cppClass::verify() {
    ::llvm::SmallVector<::mlir::Type> types;
    if (::mlir::failed(
            inferReturnTypes(getContext(), getLoc(), Adaptor(*this), types)))
      return ::mlir::failure();
    return ::mlir::kiln::verifyResultExtents(getOperation(), types);
  }
}];

class Kiln_InferOp<string mnemonic, list<Trait> traits = []>
    : Kiln_Op<mnemonic, !listconcat(traits, [InferTypeOpAdaptor])> {
  let extraClassDeclaration = Kiln_CompatDecl;
  let hasVerifier = 1;
  let extraClassDefinition = Kiln_VerifyDef;
}

// Ops whose inference is one shared C++ expression `call`, with `opName`,
// `loc`, `adaptor` and `types` in scope.
class Kiln_SharedInferOp<string mnemonic, string call, list<Trait> traits = []>
    : Kiln_InferOp<mnemonic, traits> {
  let extraClassDefinition = Kiln_VerifyDef # [{
    ::llvm::LogicalResult $cppClass::inferReturnTypes(
        ::mlir::MLIRContext *, std::optional<::mlir::Location> loc,
        Adaptor adaptor, ::llvm::SmallVectorImpl<::mlir::Type> &types) {
      ::llvm::StringRef opName = getOperationName();
      (void)opName;
      return }] # call # [{;
    }
  }];
}

#endif // KILN_DIALECT_TD
