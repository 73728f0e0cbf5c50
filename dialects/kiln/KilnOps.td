//===- KilnOps.td - kiln op definitions --------------------*- tablegen -*-===//
//
// The ops of the kiln dialect. Most share an inference class: the C++ helper
// named in each class both verifies operands/attributes (with a message naming
// the op and the values seen) and computes the result type, static where it
// can be and `?` where it cannot.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_OPS_TD
#define KILN_OPS_TD

include "KilnDialect.td"
include "mlir/Interfaces/DestinationStyleOpInterface.td"
include "mlir/Interfaces/ControlFlowInterfaces.td"

defvar T = AnyRankedTensor;

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

class Kiln_UnaryOp<string mnemonic, list<Trait> traits = [],
                   dag attrs = (ins)>
    : Kiln_SharedInferOp<mnemonic,
        "inferSameType(opName, loc, adaptor.getInput(), types)",
        !listconcat(traits, [Kiln_Broadcasting])> {
  let summary = "elementwise " # mnemonic;
  let arguments = !con((ins T:$input), attrs);
  let results = (outs T:$result);
  // Custom parsers infer result types before inherent attributes become
  // properties, so ops with attributes spell their result type out.
  let assemblyFormat = !if(!empty(attrs), "$input attr-dict `:` type($input)",
      "$input attr-dict `:` type($input) `->` type($result)");
}

def Kiln_SqrtOp : Kiln_UnaryOp<"sqrt"> { let hasFolder = 1; }
def Kiln_ReciprocalOp : Kiln_UnaryOp<"reciprocal">;
def Kiln_ExpOp : Kiln_UnaryOp<"exp">;
def Kiln_LogOp : Kiln_UnaryOp<"log">;
def Kiln_ErfOp : Kiln_UnaryOp<"erf">;
def Kiln_TanhOp : Kiln_UnaryOp<"tanh">;
def Kiln_SigmoidOp : Kiln_UnaryOp<"sigmoid">;
def Kiln_ReluOp : Kiln_UnaryOp<"relu">;
def Kiln_NegOp : Kiln_UnaryOp<"neg"> { let hasFolder = 1; }
def Kiln_AbsOp : Kiln_UnaryOp<"abs">;
def Kiln_SinOp : Kiln_UnaryOp<"sin">;
def Kiln_CosOp : Kiln_UnaryOp<"cos">;
def Kiln_TanOp : Kiln_UnaryOp<"tan">;
def Kiln_AsinOp : Kiln_UnaryOp<"asin">;
def Kiln_AcosOp : Kiln_UnaryOp<"acos">;
def Kiln_AtanOp : Kiln_UnaryOp<"atan">;
def Kiln_SinhOp : Kiln_UnaryOp<"sinh">;
def Kiln_CoshOp : Kiln_UnaryOp<"cosh">;
def Kiln_AsinhOp : Kiln_UnaryOp<"asinh">;
def Kiln_AcoshOp : Kiln_UnaryOp<"acosh">;
def Kiln_AtanhOp : Kiln_UnaryOp<"atanh">;
def Kiln_FloorOp : Kiln_UnaryOp<"floor">;
def Kiln_CeilOp : Kiln_UnaryOp<"ceil">;
def Kiln_RoundOp : Kiln_UnaryOp<"round">;
def Kiln_SignOp : Kiln_UnaryOp<"sign">;
def Kiln_SoftplusOp : Kiln_UnaryOp<"softplus">;
def Kiln_SoftsignOp : Kiln_UnaryOp<"softsign">;
def Kiln_HardSwishOp : Kiln_UnaryOp<"hard_swish">;
def Kiln_MishOp : Kiln_UnaryOp<"mish">;
def Kiln_SiluOp : Kiln_UnaryOp<"silu"> {
  let description = "x * sigmoid(x) (SiLU, swish); created by kiln-fuse-activations.";
}
def Kiln_NotOp : Kiln_UnaryOp<"not">;
def Kiln_BitwiseNotOp : Kiln_UnaryOp<"bitwise_not">;

def Kiln_IdentityOp : Kiln_UnaryOp<"identity"> { let hasFolder = 1; }
def Kiln_LeakyReluOp : Kiln_UnaryOp<"leaky_relu", [],
    (ins DefaultValuedAttr<F32Attr, "0.01">:$alpha)>;
def Kiln_HardSigmoidOp : Kiln_UnaryOp<"hard_sigmoid", [],
    (ins DefaultValuedAttr<F32Attr, "0.2">:$alpha,
         DefaultValuedAttr<F32Attr, "0.5">:$beta)>;
def Kiln_EluOp : Kiln_UnaryOp<"elu", [],
    (ins DefaultValuedAttr<F32Attr, "1.0">:$alpha)>;
def Kiln_CeluOp : Kiln_UnaryOp<"celu", [],
    (ins DefaultValuedAttr<F32Attr, "1.0">:$alpha)>;
def Kiln_SeluOp : Kiln_UnaryOp<"selu", [],
    (ins DefaultValuedAttr<F32Attr, "1.67326319217681884765625">:$alpha,
         DefaultValuedAttr<F32Attr, "1.05070102214813232421875">:$gamma)>;
def Kiln_ThresholdedReluOp : Kiln_UnaryOp<"thresholded_relu", [],
    (ins DefaultValuedAttr<F32Attr, "1.0">:$alpha)>;
def Kiln_GeluOp : Kiln_UnaryOp<"gelu", [],
    (ins DefaultValuedAttr<BoolAttr, "false">:$tanh_approx)> {
  let description = "GELU; `tanh_approx` selects the tanh approximation.";
}

class Kiln_UnaryPredicateOp<string mnemonic, dag attrs = (ins)>
    : Kiln_SharedInferOp<mnemonic,
        "inferSameShape(opName, loc, adaptor.getInput(), "
        "::mlir::IntegerType::get(adaptor.getInput().getContext(), 1), types)"> {
  let summary = "elementwise " # mnemonic # ", boolean result";
  let arguments = !con((ins T:$input), attrs);
  let results = (outs T:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
}
def Kiln_IsNaNOp : Kiln_UnaryPredicateOp<"is_nan">;
def Kiln_IsInfOp : Kiln_UnaryPredicateOp<"is_inf",
    (ins DefaultValuedAttr<BoolAttr, "true">:$detect_positive,
         DefaultValuedAttr<BoolAttr, "true">:$detect_negative)>;

// Binary ops broadcast numpy-style. `kind` selects the element-type rule:
// 0 = operands and result share one type, 1 = result is i1 (comparisons),
// 2 = result has the lhs type (pow).
class Kiln_BinaryOp<string mnemonic, int kind = 0, dag attrs = (ins)>
    : Kiln_SharedInferOp<mnemonic,
        "inferBroadcast(opName, loc, adaptor.getOperands(), " # kind #
        ", types)", [Kiln_Broadcasting]> {
  let summary = "elementwise " # mnemonic # " with broadcasting";
  let arguments = !con((ins T:$lhs, T:$rhs), attrs);
  let results = (outs T:$result);
  let assemblyFormat =
      "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
}

def Kiln_AddOp : Kiln_BinaryOp<"add"> { let hasFolder = 1; }
def Kiln_SubOp : Kiln_BinaryOp<"sub"> { let hasFolder = 1; }
def Kiln_MulOp : Kiln_BinaryOp<"mul"> { let hasFolder = 1; }
def Kiln_DivOp : Kiln_BinaryOp<"div"> { let hasFolder = 1; }
def Kiln_ModOp : Kiln_BinaryOp<"mod", 0,
    (ins DefaultValuedAttr<BoolAttr, "false">:$fmod)> { let hasFolder = 1; }
def Kiln_MaxOp : Kiln_BinaryOp<"max"> { let hasFolder = 1; }
def Kiln_MinOp : Kiln_BinaryOp<"min"> { let hasFolder = 1; }
def Kiln_PReluOp : Kiln_BinaryOp<"prelu">;
def Kiln_SwiGluOp : Kiln_BinaryOp<"swiglu"> {
  let description = [{
    `silu(lhs) * rhs`: the SwiGLU gate of LLaMA-style MLPs (`lhs` the gate
    projection, `rhs` the up projection); created by kiln-fuse-activations.
  }];
}
def Kiln_AndOp : Kiln_BinaryOp<"and">;
def Kiln_OrOp : Kiln_BinaryOp<"or">;
def Kiln_XorOp : Kiln_BinaryOp<"xor">;
def Kiln_BitwiseAndOp : Kiln_BinaryOp<"bitwise_and">;
def Kiln_BitwiseOrOp : Kiln_BinaryOp<"bitwise_or">;
def Kiln_BitwiseXorOp : Kiln_BinaryOp<"bitwise_xor">;
def Kiln_BitShiftOp : Kiln_BinaryOp<"bit_shift", 0,
    (ins DefaultValuedAttr<BoolAttr, "false">:$right)>;
def Kiln_PowOp : Kiln_BinaryOp<"pow", 2> { let hasFolder = 1; }
def Kiln_EqualOp : Kiln_BinaryOp<"equal", 1> { let hasFolder = 1; }
def Kiln_LessOp : Kiln_BinaryOp<"less", 1> { let hasFolder = 1; }
def Kiln_GreaterOp : Kiln_BinaryOp<"greater", 1> { let hasFolder = 1; }
def Kiln_LessEqualOp : Kiln_BinaryOp<"less_equal", 1> { let hasFolder = 1; }
def Kiln_GreaterEqualOp : Kiln_BinaryOp<"greater_equal", 1> { let hasFolder = 1; }

def Kiln_WhereOp : Kiln_SharedInferOp<"where",
    "inferWhere(opName, loc, adaptor.getOperands(), types)",
    [Kiln_Broadcasting]> {
  let summary = "select x where condition holds, else y (broadcasting)";
  let arguments = (ins T:$condition, T:$x, T:$y);
  let results = (outs T:$result);
  let assemblyFormat =
      "$condition `,` $x `,` $y attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
}

def Kiln_ClipOp : Kiln_InferOp<"clip", [AttrSizedOperandSegments]> {
  let summary = "clamp to [min, max]; absent bounds do not clamp";
  let arguments = (ins T:$input, Optional<T>:$min, Optional<T>:$max);
  let results = (outs T:$result);
  let assemblyFormat = "$input (`min` $min^)? (`max` $max^)? attr-dict `:` "
                       "functional-type(operands, results)";
}

def Kiln_CastOp : Kiln_Op<"cast", [Kiln_Broadcasting]> {
  let summary = "element type conversion";
  let description = [{
    Converts each element to the result element type with ONNX Cast
    semantics (float to integer truncates toward zero; to bool is `!= 0`).
  }];
  let arguments = (ins T:$input);
  let results = (outs T:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Linear algebra, convolution and pooling
//===----------------------------------------------------------------------===//

def Kiln_MatmulOp : Kiln_SharedInferOp<"matmul",
    "inferMatmul(opName, loc, adaptor.getLhs(), adaptor.getRhs(), types)"> {
  let summary = "numpy matmul: batched, broadcasting, 1-D operands promoted";
  let arguments = (ins T:$lhs, T:$rhs);
  let results = (outs T:$result);
  let assemblyFormat =
      "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
}

def Kiln_EinsumOp : Kiln_InferOp<"einsum"> {
  let summary = "Einstein summation with an explicit or implicit output";
  let arguments = (ins Variadic<T>:$inputs, StrAttr:$equation);
  let results = (outs T:$result);
  let assemblyFormat =
      "$inputs attr-dict `:` functional-type(operands, results)";
}

def Kiln_ConvOp : Kiln_InferOp<"conv"> {
  let summary = "N-D grouped convolution (NC[D]HW, weights OI[D]HW)";
  let description = [{
    `pads` holds the begin pads of every spatial dim, then the end pads;
    ONNX's auto_pad is resolved to explicit pads at import.
  }];
  let arguments = (ins T:$input, T:$weight, Optional<T>:$bias,
                   DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                   DenseI64ArrayAttr:$dilations,
                   DefaultValuedAttr<I64Attr, "1">:$group);
  let results = (outs T:$result);
  let assemblyFormat =
      "$input `,` $weight (`bias` $bias^)? attr-dict `:` "
      "functional-type(operands, results)";
  let hasCanonicalizer = 1;
}

def Kiln_ConvTransposeOp : Kiln_InferOp<"conv_transpose"> {
  let summary = "N-D grouped transposed convolution (weights IO[D]HW)";
  let arguments = (ins T:$input, T:$weight, Optional<T>:$bias,
                   DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                   DenseI64ArrayAttr:$dilations,
                   DenseI64ArrayAttr:$output_padding,
                   DefaultValuedAttr<I64Attr, "1">:$group);
  let results = (outs T:$result);
  let assemblyFormat =
      "$input `,` $weight (`bias` $bias^)? attr-dict `:` "
      "functional-type(operands, results)";
}

class Kiln_PoolOp<string mnemonic, dag attrs>
    : Kiln_SharedInferOp<mnemonic,
        "inferPool(opName, loc, adaptor.getInput(), adaptor.getKernelShape(), "
        "adaptor.getStrides(), adaptor.getPads(), adaptor.getDilations(), "
        "adaptor.getCeilMode(), types)"> {
  let summary = mnemonic # " over the spatial dims of NC[D]HW";
  let arguments = !con((ins T:$input, DenseI64ArrayAttr:$kernel_shape,
                        DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                        DenseI64ArrayAttr:$dilations,
                        DefaultValuedAttr<BoolAttr, "false">:$ceil_mode),
                       attrs);
  let results = (outs T:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}
def Kiln_MaxPoolOp : Kiln_PoolOp<"max_pool", (ins)>;

def Kiln_MaxPoolWithIndicesOp : Kiln_SharedInferOp<"max_pool_with_indices",
    "inferPoolWithIndices(opName, loc, adaptor.getInput(), "
    "adaptor.getKernelShape(), adaptor.getStrides(), adaptor.getPads(), "
    "adaptor.getDilations(), adaptor.getCeilMode(), adaptor.getStorageOrder(), "
    "types)"> {
  let summary = "max pooling that also gives each maximum's index in the input";
  let description = [{
    ONNX MaxPool with its Indices output: `indices` holds, for each output
    element, the index of the (first) maximum of its window in the input
    flattened to 1-D (padding not counted): row major over N, C, spatial
    dims (`storage_order = 0`), or with the spatial dims column major
    (`storage_order = 1`).
  }];
  let arguments = (ins T:$input, DenseI64ArrayAttr:$kernel_shape,
                       DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                       DenseI64ArrayAttr:$dilations,
                       DefaultValuedAttr<BoolAttr, "false">:$ceil_mode,
                       DefaultValuedAttr<I64Attr, "0">:$storage_order);
  let results = (outs T:$result, T:$indices);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}
def Kiln_AveragePoolOp : Kiln_PoolOp<"average_pool",
    (ins DefaultValuedAttr<BoolAttr, "false">:$count_include_pad)> {
  let hasCanonicalizer = 1;
}

class Kiln_GlobalPoolOp<string mnemonic>
    : Kiln_SharedInferOp<mnemonic,
        "inferGlobalPool(opName, loc, adaptor.getInput(), types)"> {
  let summary = mnemonic # ": reduce all spatial dims to 1";
  let arguments = (ins T:$input);
  let results = (outs T:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}
def Kiln_GlobalAveragePoolOp : Kiln_GlobalPoolOp<"global_average_pool">;
def Kiln_GlobalMaxPoolOp : Kiln_GlobalPoolOp<"global_max_pool">;

//===----------------------------------------------------------------------===//
// Normalization and softmax
//===----------------------------------------------------------------------===//

def Kiln_BatchNormOp : Kiln_InferOp<"batch_norm"> {
  let summary = "inference batch normalization over dim 1";
  let arguments = (ins T:$input, T:$scale, T:$bias, T:$mean, T:$variance,
                   DefaultValuedAttr<F32Attr, "1e-5">:$epsilon);
  let results = (outs T:$result);
  let assemblyFormat = "$input `,` $scale `,` $bias `,` $mean `,` $variance "
                       "attr-dict `:` functional-type(operands, results)";
}

def Kiln_InstanceNormOp : Kiln_InferOp<"instance_norm"> {
  let summary = "instance normalization over the spatial dims";
  let arguments = (ins T:$input, T:$scale, T:$bias,
                   DefaultValuedAttr<F32Attr, "1e-5">:$epsilon);
  let results = (outs T:$result);
  let assemblyFormat = "$input `,` $scale `,` $bias attr-dict `:` "
                       "functional-type(operands, results)";
}

def Kiln_LayerNormOp : Kiln_InferOp<"layer_norm"> {
  let summary = "layer normalization over dims [axis, rank)";
  let arguments = (ins T:$input, T:$scale, Optional<T>:$bias,
                   DefaultValuedAttr<I64Attr, "-1">:$axis,
                   DefaultValuedAttr<F32Attr, "1e-5">:$epsilon);
  let results = (outs T:$result);
  let assemblyFormat = "$input `,` $scale (`bias` $bias^)? attr-dict `:` "
                       "functional-type(operands, results)";
}

def Kiln_RmsNormOp : Kiln_InferOp<"rms_norm"> {
  let summary = "x / sqrt(mean(x^2 over [axis, rank)) + epsilon) * scale";
  let arguments = (ins T:$input, T:$scale,
                   DefaultValuedAttr<I64Attr, "-1">:$axis,
                   DefaultValuedAttr<F32Attr, "1e-5">:$epsilon);
  let results = (outs T:$result);
  let assemblyFormat =
      "$input `,` $scale attr-dict `:` functional-type(operands, results)";
}

class Kiln_AxisOp<string mnemonic>
    : Kiln_SharedInferOp<mnemonic,
        "inferSameTypeWithAxis(opName, loc, adaptor.getInput(), "
        "adaptor.getAxis(), types)"> {
  let arguments = (ins T:$input, DefaultValuedAttr<I64Attr, "-1">:$axis);
  let results = (outs T:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
}
def Kiln_SoftmaxOp : Kiln_AxisOp<"softmax"> { let summary = "softmax along axis"; }
def Kiln_LogSoftmaxOp : Kiln_AxisOp<"log_softmax"> { let summary = "log-softmax along axis"; }
def Kiln_HardmaxOp : Kiln_AxisOp<"hardmax"> { let summary = "one-hot of the first max along axis"; }

def Kiln_CumSumOp : Kiln_SharedInferOp<"cum_sum",
    "inferSameTypeWithAxis(opName, loc, adaptor.getInput(), "
    "adaptor.getAxis(), types)"> {
  let summary = "cumulative sum along axis";
  let arguments = (ins T:$input, I64Attr:$axis,
                   DefaultValuedAttr<BoolAttr, "false">:$exclusive,
                   DefaultValuedAttr<BoolAttr, "false">:$reverse);
  let results = (outs T:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
}

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

class Kiln_ReduceOp<string mnemonic>
    : Kiln_SharedInferOp<mnemonic,
        "inferReduce(opName, loc, adaptor.getInput(), adaptor.getAxes(), "
        "adaptor.getKeepdims(), ::mlir::Type(), types)"> {
  let summary = mnemonic # " over `axes` (sorted, non-negative, non-empty)";
  let arguments = (ins T:$input, DenseI64ArrayAttr:$axes,
                   DefaultValuedAttr<BoolAttr, "true">:$keepdims);
  let results = (outs T:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}
def Kiln_ReduceSumOp : Kiln_ReduceOp<"reduce_sum">;
def Kiln_ReduceMeanOp : Kiln_ReduceOp<"reduce_mean">;
def Kiln_ReduceMaxOp : Kiln_ReduceOp<"reduce_max">;
def Kiln_ReduceMinOp : Kiln_ReduceOp<"reduce_min">;
def Kiln_ReduceProdOp : Kiln_ReduceOp<"reduce_prod">;
def Kiln_ReduceL1Op : Kiln_ReduceOp<"reduce_l1">;
def Kiln_ReduceL2Op : Kiln_ReduceOp<"reduce_l2">;
def Kiln_ReduceLogSumOp : Kiln_ReduceOp<"reduce_log_sum">;
def Kiln_ReduceLogSumExpOp : Kiln_ReduceOp<"reduce_log_sum_exp">;
def Kiln_ReduceSumSquareOp : Kiln_ReduceOp<"reduce_sum_square">;

class Kiln_ArgOp<string mnemonic>
    : Kiln_SharedInferOp<mnemonic,
        "inferArgReduce(opName, loc, adaptor.getInput(), adaptor.getAxis(), "
        "adaptor.getKeepdims(), types)"> {
  let summary = "index of the " # mnemonic # " along axis, as i64";
  let arguments = (ins T:$input, I64Attr:$axis,
                   DefaultValuedAttr<BoolAttr, "true">:$keepdims,
                   DefaultValuedAttr<BoolAttr, "false">:$select_last_index);
  let results = (outs T:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}
def Kiln_ArgMaxOp : Kiln_ArgOp<"arg_max">;
def Kiln_ArgMinOp : Kiln_ArgOp<"arg_min">;

def Kiln_TopKOp : Kiln_InferOp<"top_k"> {
  let summary = "the k largest (or smallest) values along axis and their indices";
  let arguments = (ins T:$input, T:$k, DefaultValuedAttr<I64Attr, "-1">:$axis,
                   DefaultValuedAttr<BoolAttr, "true">:$largest,
                   DefaultValuedAttr<BoolAttr, "true">:$sorted);
  let results = (outs T:$values, T:$indices);
  let assemblyFormat =
      "$input `,` $k attr-dict `:` functional-type(operands, results)";
}

//===----------------------------------------------------------------------===//
// Shapes and data movement
//===----------------------------------------------------------------------===//

def Kiln_ConstantOp : Kiln_InferOp<"constant", [ConstantLike]> {
  let summary = "a constant tensor (dense or dense_resource)";
  let arguments = (ins ElementsAttr:$value);
  let results = (outs T:$result);
  let assemblyFormat = "attr-dict $value";
  let hasFolder = 1;
}

def Kiln_ShapeOp : Kiln_InferOp<"shape"> {
  let summary = "the dims [start, end) of the input as a 1-D i64 tensor";
  let arguments = (ins T:$input, DefaultValuedAttr<I64Attr, "0">:$start,
                   OptionalAttr<I64Attr>:$end);
  let results = (outs T:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
}

def Kiln_SizeOp : Kiln_InferOp<"size"> {
  let summary = "number of elements as a 0-D i64 tensor";
  let arguments = (ins T:$input);
  let results = (outs T:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
}

def Kiln_ReshapeOp : Kiln_InferOp<"reshape"> {
  let summary = "reshape to a 1-D i64 shape (0 copies a dim unless allowzero, -1 infers)";
  let arguments = (ins T:$input, T:$shape,
                   DefaultValuedAttr<BoolAttr, "false">:$allowzero);
  let results = (outs T:$result);
  let assemblyFormat =
      "$input `,` $shape attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
  let hasCanonicalizer = 1;
}

def Kiln_TransposeOp : Kiln_InferOp<"transpose"> {
  let summary = "permute dims: result dim i is input dim perm[i]";
  let arguments = (ins T:$input, DenseI64ArrayAttr:$perm);
  let results = (outs T:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
  let hasCanonicalizer = 1;
}

def Kiln_ConcatOp : Kiln_InferOp<"concat"> {
  let summary = "concatenate along axis";
  let arguments = (ins Variadic<T>:$inputs, I64Attr:$axis);
  let results = (outs T:$result);
  let assemblyFormat = "$inputs attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
}

def Kiln_RandomOp : Kiln_Op<"random"> {
  let summary = "random numbers, a pure function of (seed, element index)";
  let description = [{
    Fills the result (the shape of `like` when given, else the static result
    type) with `distribution` "uniform" in [a, b) or "normal" with mean a and
    standard deviation b. Element i is computed from a counter-based hash
    (splitmix64) of `seed` and i, so the values are the same on every run
    and thread split; the importer takes the seed from the ONNX node or, if
    it has none, from the node's output name.
  }];
  let arguments = (ins Optional<T>:$like, StrAttr:$distribution, F32Attr:$a,
                   F32Attr:$b, I64Attr:$seed);
  let results = (outs T:$result);
  let assemblyFormat = "($like^)? attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Kiln_SplitOp : Kiln_Op<"split"> {
  let summary = "split along axis into the given sizes (or equal parts)";
  let arguments = (ins T:$input, I64Attr:$axis,
                   OptionalAttr<DenseI64ArrayAttr>:$sizes);
  let results = (outs Variadic<T>:$results);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Kiln_SliceOp : Kiln_InferOp<"slice"> {
  let summary = "strided slice; starts/ends/axes/steps are 1-D i64 tensors";
  let arguments = (ins T:$input, T:$starts, T:$ends, T:$axes, T:$steps);
  let results = (outs T:$result);
  let assemblyFormat = "$input `,` $starts `,` $ends `,` $axes `,` $steps "
                       "attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
}

def Kiln_GatherOp : Kiln_InferOp<"gather"> {
  let summary = "gather slices along axis (negative indices count from the end)";
  let arguments = (ins T:$input, T:$indices, DefaultValuedAttr<I64Attr, "0">:$axis);
  let results = (outs T:$result);
  let assemblyFormat =
      "$input `,` $indices attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
}

def Kiln_GatherElementsOp : Kiln_InferOp<"gather_elements"> {
  let summary = "gather elements along axis; the result has the indices' shape";
  let arguments = (ins T:$input, T:$indices, DefaultValuedAttr<I64Attr, "0">:$axis);
  let results = (outs T:$result);
  let assemblyFormat =
      "$input `,` $indices attr-dict `:` functional-type(operands, results)";
}

def Kiln_GatherNDOp : Kiln_InferOp<"gather_nd"> {
  let summary = "gather slices addressed by the last dim of indices";
  let arguments = (ins T:$input, T:$indices,
                   DefaultValuedAttr<I64Attr, "0">:$batch_dims);
  let results = (outs T:$result);
  let assemblyFormat =
      "$input `,` $indices attr-dict `:` functional-type(operands, results)";
}

def Kiln_ScatterNDOp : Kiln_InferOp<"scatter_nd"> {
  let summary = "copy of input with slices addressed by indices replaced or reduced";
  let arguments = (ins T:$input, T:$indices, T:$updates,
                   DefaultValuedAttr<StrAttr, "\"none\"">:$reduction);
  let results = (outs T:$result);
  let assemblyFormat = "$input `,` $indices `,` $updates attr-dict `:` "
                       "functional-type(operands, results)";
}

def Kiln_ScatterElementsOp : Kiln_InferOp<"scatter_elements"> {
  let summary = "copy of input with elements along axis replaced or reduced";
  let arguments = (ins T:$input, T:$indices, T:$updates,
                   DefaultValuedAttr<I64Attr, "0">:$axis,
                   DefaultValuedAttr<StrAttr, "\"none\"">:$reduction);
  let results = (outs T:$result);
  let assemblyFormat = "$input `,` $indices `,` $updates attr-dict `:` "
                       "functional-type(operands, results)";
}

def Kiln_UnsqueezeOp : Kiln_InferOp<"unsqueeze"> {
  let summary = "insert unit dims at `axes` (positions in the result)";
  let arguments = (ins T:$input, DenseI64ArrayAttr:$axes);
  let results = (outs T:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
}

def Kiln_SqueezeOp : Kiln_InferOp<"squeeze"> {
  let summary = "remove the unit dims at `axes`";
  let arguments = (ins T:$input, DenseI64ArrayAttr:$axes);
  let results = (outs T:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
}

def Kiln_FlattenOp : Kiln_InferOp<"flatten"> {
  let summary = "collapse to 2-D: dims [0, axis) and [axis, rank)";
  let arguments = (ins T:$input, DefaultValuedAttr<I64Attr, "1">:$axis);
  let results = (outs T:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def Kiln_ExpandOp : Kiln_InferOp<"expand"> {
  let summary = "broadcast the input against a 1-D i64 shape";
  let arguments = (ins T:$input, T:$shape);
  let results = (outs T:$result);
  let assemblyFormat =
      "$input `,` $shape attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
}

def Kiln_TileOp : Kiln_InferOp<"tile"> {
  let summary = "repeat the input `repeats[i]` times along dim i";
  let arguments = (ins T:$input, T:$repeats);
  let results = (outs T:$result);
  let assemblyFormat =
      "$input `,` $repeats attr-dict `:` functional-type(operands, results)";
}

def Kiln_PadOp : Kiln_InferOp<"pad"> {
  let summary = "pad (constant, reflect, edge or wrap); pads are begins then ends";
  let arguments = (ins T:$input, Optional<T>:$value, DenseI64ArrayAttr:$pads,
                   DefaultValuedAttr<StrAttr, "\"constant\"">:$mode);
  let results = (outs T:$result);
  let assemblyFormat = "$input (`value` $value^)? attr-dict `:` "
                       "functional-type(operands, results)";
}

def Kiln_RangeOp : Kiln_InferOp<"range"> {
  let summary = "start, start + delta, ... up to (not including) limit";
  let arguments = (ins T:$start, T:$limit, T:$delta);
  let results = (outs T:$result);
  let assemblyFormat = "$start `,` $limit `,` $delta attr-dict `:` "
                       "functional-type(operands, results)";
  let hasFolder = 1;
}

def Kiln_ConstantOfShapeOp : Kiln_InferOp<"constant_of_shape"> {
  let summary = "a tensor of the given 1-D i64 shape filled with `value`";
  let arguments = (ins T:$shape, ElementsAttr:$value);
  let results = (outs T:$result);
  let assemblyFormat = "$shape `,` $value attr-dict `:` "
                       "functional-type(operands, results)";
  let hasFolder = 1;
}

def Kiln_TriluOp : Kiln_InferOp<"trilu"> {
  let summary = "upper or lower triangle of the last two dims, k-th diagonal";
  let arguments = (ins T:$input, Optional<T>:$k,
                   DefaultValuedAttr<BoolAttr, "true">:$upper);
  let results = (outs T:$result);
  let assemblyFormat = "$input (`k` $k^)? attr-dict `:` "
                       "functional-type(operands, results)";
}

def Kiln_ResizeOp : Kiln_InferOp<"resize", [AttrSizedOperandSegments]> {
  let summary = "resize with nearest, linear or cubic interpolation";
  let description = [{
    The output size comes from `sizes` (a 1-D i64 tensor with one entry per
    dim) when present, else from `scales` (one per dim: the attribute when
    the scales are known at compile time, else the `scales` operand, a 1-D
    f32 tensor read at run time; the output dims are then dynamic).
  }];
  let arguments = (ins T:$input, Optional<T>:$sizes,
                   Optional<T>:$scales_input,
                   OptionalAttr<DenseF32ArrayAttr>:$scales,
                   DefaultValuedAttr<StrAttr, "\"nearest\"">:$mode,
                   DefaultValuedAttr<StrAttr, "\"half_pixel\"">:$coordinate_transformation_mode,
                   DefaultValuedAttr<StrAttr, "\"round_prefer_floor\"">:$nearest_mode,
                   DefaultValuedAttr<F32Attr, "-0.75">:$cubic_coeff_a,
                   DefaultValuedAttr<BoolAttr, "false">:$exclude_outside,
                   DefaultValuedAttr<F32Attr, "0.0">:$extrapolation_value);
  let results = (outs T:$result);
  let assemblyFormat = "$input (`sizes` $sizes^)? (`scales` $scales_input^)? "
                       "attr-dict `:` functional-type(operands, results)";
}

def Kiln_GridSampleOp : Kiln_InferOp<"grid_sample"> {
  let summary = "sample [N, C, H, W] at the normalized points of a [N, Ho, Wo, 2] grid";
  let description = [{
    ONNX GridSample (opset 16): the grid's (x, y) in [-1, 1] map to input
    pixels (`align_corners` says whether -1 and 1 are the corner pixels'
    centers or their outer edges); `mode` nearest (round half to even),
    bilinear or bicubic (A = -0.75); `padding_mode` zeros, border or
    reflection for points and taps outside the input. The result is
    [N, C, Ho, Wo].
  }];
  let arguments = (ins T:$input, T:$grid,
                   DefaultValuedAttr<StrAttr, "\"bilinear\"">:$mode,
                   DefaultValuedAttr<StrAttr, "\"zeros\"">:$padding_mode,
                   DefaultValuedAttr<BoolAttr, "false">:$align_corners);
  let results = (outs T:$result);
  let assemblyFormat = "$input `,` $grid attr-dict `:` functional-type(operands, results)";
}
def Kiln_DepthToSpaceOp : Kiln_InferOp<"depth_to_space"> {
  let summary = "move channel blocks into spatial blocks (DCR or CRD order)";
  let arguments = (ins T:$input, I64Attr:$blocksize,
                   DefaultValuedAttr<StrAttr, "\"DCR\"">:$mode);
  let results = (outs T:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def Kiln_SpaceToDepthOp : Kiln_InferOp<"space_to_depth"> {
  let summary = "move spatial blocks into channels";
  let arguments = (ins T:$input, I64Attr:$blocksize);
  let results = (outs T:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def Kiln_NonZeroOp : Kiln_InferOp<"non_zero"> {
  let summary = "indices of the non-zero elements, rank x count, i64";
  let arguments = (ins T:$input);
  let results = (outs T:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def Kiln_OneHotOp : Kiln_InferOp<"one_hot"> {
  let summary = "one-hot encode indices with depth and [off, on] values";
  let arguments = (ins T:$indices, T:$depth, T:$values,
                   DefaultValuedAttr<I64Attr, "-1">:$axis);
  let results = (outs T:$result);
  let assemblyFormat = "$indices `,` $depth `,` $values attr-dict `:` "
                       "functional-type(operands, results)";
}

include "KilnControlFlowOps.td"
include "KilnFusedOps.td"

#endif // KILN_OPS_TD
