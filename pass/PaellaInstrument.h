//===-- PaellaInstrument.h - Paella kernel instrumentation ------*- C++ -*-===//
//
// Part of Paella, under the Apache License v2.0.
//
//===----------------------------------------------------------------------===//
//
// The public face of the paella-instrument pass: the pass itself and nothing
// else.  Options and helpers live in PaellaInstrument.cpp.
//
// On an NVPTX device module, every kernel gets a trailing launch-record
// parameter and a block-exit epilogue that reports finished blocks (see
// runtime/include/paella/instrument-abi.h for the contract).  On a host
// module, calls of cudaLaunchKernel from CUDA launch stubs are redirected to
// the runtime's paella_launch_kernel, which supplies the record.
//
//===----------------------------------------------------------------------===//

#ifndef PAELLA_PASS_PAELLAINSTRUMENT_H
#define PAELLA_PASS_PAELLAINSTRUMENT_H

#include "llvm/IR/PassManager.h"

namespace llvm {
class Module;
} // namespace llvm

namespace paella {

struct PaellaInstrumentPass : llvm::PassInfoMixin<PaellaInstrumentPass> {
  llvm::PreservedAnalyses run(llvm::Module &M, llvm::ModuleAnalysisManager &);

  // Kernels built at -O0 carry optnone; they must be instrumented too, or the
  // runtime would pass them an argument they do not expect.
  static bool isRequired() { return true; }
};

} // namespace paella

#endif // PAELLA_PASS_PAELLAINSTRUMENT_H
