//==============================================================================
// FILE:
//    PaellaInstrument.cpp
//
// DESCRIPTION:
//    Makes CUDA kernels report finished thread blocks to the Paella runtime.
//
//    Device module (nvptx64): every kernel that can safely be instrumented
//    gets one trailing parameter, `ptr addrspace(1) %paella.record`, and
//    reports in the mode -paella-notify picks (see instrument-abi.h):
//
//    sample (default), right after the kernel's first global loads where
//    -paella-sample-at=shadow finds such a point, else at kernel entry
//    (kernels with loops or calls; returns left alone) or at the merged exit:
//      thread (0,0,0):  k = record & 31, b = linear block id
//                   if (b & (2^k-1)) == 2^k-1 and b + 4*2^k < blocks:
//                     store atomic b+1 -> (record - k)->host_counts[0]  (sys)
//
//    count, all returns merged into one exit block that runs:
//      row 0 (tid.y == tid.z == 0, tid.x < 32):
//                  load shard_mask, shard_shift, post_mask, host_counts
//                  s = block & shard_mask, k = block >> shard_shift
//      barrier.sync 1                                ; every thread, per thread
//      thread (0,0,0):
//                  poster (k & post_mask == post_mask, or last k of s):
//                    n = atomicrmw add counters[s], 1    (gpu scope)
//                    store atomic n+1 -> host_counts[s]  (sys scope)
//                  otherwise:
//                    atomicrmw add counters[s], 1        (result unused)
//
//    Neither mode has a fence (a report is a scheduling hint, not a data
//    signal) or makes a block wait on an atomic it does not need.
//    -paella-exit-barrier=handshake (count mode) instead reconverges each
//    warp and lets only warp 0 wait for the others' arrivals (measured
//    slower on the H200: see benchmarks/results/overhead.md).
//    The module also gets `__paella_abi_version` and `__paella_manifest`
//    (see runtime/include/paella/instrument-abi.h).
//
//    Kernels marked with __attribute__((annotate("paella_skip"))), matching
//    -paella-skip=<regex>, synchronising the whole grid, launching kernels
//    from the device, or (count mode) using named barrier 1 are left as they are, with a
//    remark, and listed in the manifest as uninstrumented.
//
//    nvcc compatibility (also with -paella-fixups-only, which paella-cc
//    --paella-no-instrument gives, and nothing else then): kernel
//    declarations leave clang's __clang_gpu_used_external list, and a kernel
//    launched from the device but defined in another file is declared as a
//    kernel, and the uses of a static device variable that clang renamed
//    for -rdc go to the renamed definition: each would make -rdc programs
//    fail to link.
//    With -paella-rdc the manifest stays local to its module.
//
//    Host module: each call of cudaLaunchKernel[_ptsz] whose kernel is a
//    CUDA launch stub becomes a call of paella_launch_kernel[_ptsz] with the
//    same arguments plus the kernel's parameter count.
//
// USAGE:
//    opt -load-pass-plugin=build/pass/paella-instrument.so \
//        -passes=paella-instrument -S in.ll -o out.ll
//    clang-22 -x cuda -fpass-plugin=build/pass/paella-instrument.so ...
//      (or simply paella-cc, which adds the plugin)
//
// License: Apache-2.0
//==============================================================================
#include "PaellaInstrument.h"

#include "paella/instrument-abi.h"

#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/Statistic.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Analysis/LoopInfo.h"
#include "llvm/Analysis/OptimizationRemarkEmitter.h"
#include "llvm/Analysis/ValueTracking.h"
#include "llvm/Demangle/Demangle.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/DiagnosticInfo.h"
#include "llvm/IR/Dominators.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/InlineAsm.h"
#include "llvm/IR/InstIterator.h"
#include "llvm/IR/Instructions.h"
#include "llvm/IR/IntrinsicInst.h"
#include "llvm/IR/IntrinsicsNVPTX.h"
#include "llvm/IR/MDBuilder.h"
#include "llvm/IR/Module.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Plugins/PassPlugin.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Regex.h"
#include "llvm/Transforms/Utils/Cloning.h"
#include "llvm/Transforms/Utils/ModuleUtils.h"

using namespace llvm;

#define DEBUG_TYPE "paella-instrument"

STATISTIC(NumKernelsInstrumented, "Number of kernels instrumented");
STATISTIC(NumKernelsSkipped, "Number of kernels left uninstrumented");
STATISTIC(NumShadowReports,
          "Number of sample reports placed in the shadow of a kernel's first loads");
STATISTIC(NumReturnsMerged, "Number of kernel returns merged into one exit");
STATISTIC(NumLaunchesRedirected,
          "Number of host kernel launches redirected to the runtime");

static cl::opt<std::string>
    ClSkip("paella-skip",
           cl::desc("Leave kernels whose name (mangled or demangled) matches "
                    "this regex uninstrumented"),
           cl::Hidden, cl::init(""));

enum class NotifyMode { Sample, Count };

static cl::opt<NotifyMode> ClNotify(
    "paella-notify",
    cl::desc("What a block does at exit"),
    cl::values(clEnumValN(NotifyMode::Sample, "sample",
                          "no barrier, no atomic: thread 0 of every 2^k-th "
                          "block stores its id to host memory (default)"),
               clEnumValN(NotifyMode::Count, "count",
                          "every block waits at an exit barrier and counts "
                          "itself on a sharded device counter")),
    cl::Hidden, cl::init(NotifyMode::Sample));

enum class ExitBarrier { Full, Handshake };

static cl::opt<ExitBarrier> ClExitBarrier(
    "paella-exit-barrier",
    cl::desc("Count mode: how a block learns that all its threads are done"),
    cl::values(clEnumValN(ExitBarrier::Full, "full",
                          "every thread waits at a non-aligned barrier; "
                          "thread 0 reports (default)"),
               clEnumValN(ExitBarrier::Handshake, "handshake",
                          "[experimental, measured slower: +14.7% against "
                          "full's +9.6% on a 2^26 vector add, H200, "
                          "benchmarks/results/kernels.md] warps reconverge; "
                          "warp 0 waits for the others' arrivals and reports")),
    cl::Hidden, cl::init(ExitBarrier::Full));

static cl::opt<bool> ClThreadFactsAtEntry(
    "paella-thread-facts-at-entry",
    cl::desc("[experimental, measured slower: +16.6% against +14.7% at exit "
             "on a 2^26 vector add, H200, benchmarks/results/kernels.md] "
             "With the handshake barrier, compute each thread's warp, lane "
             "mask and barrier count at kernel entry (off: at exit)"),
    cl::Hidden, cl::init(false));

enum class SampleAt { Shadow, Edges };

static cl::opt<SampleAt> ClSampleAt(
    "paella-sample-at",
    cl::desc("Sample mode: where in the kernel thread 0 tests its block"),
    cl::values(clEnumValN(SampleAt::Shadow, "shadow",
                          "right after the kernel's first global loads, while "
                          "they are in flight, where such a point exists; "
                          "otherwise as 'edges' (default)"),
               clEnumValN(SampleAt::Edges, "edges",
                          "[experimental, measured slower: a 2^26 vector "
                          "add +2.2..2.5% against shadow's +1.45..1.50%, "
                          "H200, benchmarks/results/kernels.md] "
                          "at entry for kernels with loops or calls, at the "
                          "merged exit for the others")),
    cl::Hidden, cl::init(SampleAt::Shadow));

static cl::opt<bool> ClPlainClone(
    "paella-plain-clone",
    cl::desc("Sample mode: keep an uninstrumented copy of each instrumented "
             "kernel (<name>" PAELLA_PLAIN_CLONE_SUFFIX ") for the runtime to "
             "launch where no block would report"),
    cl::Hidden, cl::init(true));

static cl::opt<bool> ClFixupsOnly(
    "paella-fixups-only",
    cl::desc("Only the nvcc-compatibility fix-ups: no kernel is instrumented "
             "and no launch redirected (paella-cc --paella-no-instrument)"),
    cl::Hidden, cl::init(false));

static cl::opt<bool> ClRdc(
    "paella-rdc",
    cl::desc("The module is relocatable device code (-fgpu-rdc): its "
             "manifest stays local, since the device link merges modules"),
    cl::Hidden, cl::init(false));

static cl::opt<bool>
    ClHostRewrite("paella-host-rewrite",
                  cl::desc("Redirect host kernel launches to the runtime"),
                  cl::Hidden, cl::init(true));

namespace {

constexpr const char *InstrumentedAttr = "paella-instrumented";
constexpr const char *UninstrumentedAttr = "paella-uninstrumented";
constexpr const char *SkipAnnotation = "paella_skip";
// On an instrumented kernel: the name of its plain clone.  On the clone:
// the kernel it copies (so that a second run leaves it alone).
constexpr const char *PlainCloneAttr = "paella-plain-clone";
constexpr const char *PlainOfAttr = "paella-plain-of";

struct KernelEntry {
  std::string Name;
  unsigned OriginalParams;
  bool Instrumented;
  std::string Reason; // why not instrumented
  std::string Mode;   // how it reports, when instrumented
  std::string Plain;  // its uninstrumented clone, if any
};

const char *notifyModeName() {
  return ClNotify == NotifyMode::Sample ? PAELLA_NOTIFY_SAMPLE_NAME
                                        : PAELLA_NOTIFY_COUNT_NAME;
}


void remark(Function &F, StringRef Name, const Twine &Msg, bool Missed) {
  OptimizationRemarkEmitter ORE(&F);
  if (Missed)
    ORE.emit([&] {
      return OptimizationRemarkMissed(DEBUG_TYPE, Name, &F) << Msg.str();
    });
  else
    ORE.emit(
        [&] { return OptimizationRemark(DEBUG_TYPE, Name, &F) << Msg.str(); });
}

//------------------------------------------------------------------------------
// Device side
//------------------------------------------------------------------------------

// Whether inline PTX names the exit barrier, or a barrier we cannot read
// (an operand such as $0 or a register).
bool asmUsesExitBarrier(StringRef Asm) {
  static const Regex BarrierRe(
      "(^|[^.a-z_])(bar|barrier)(\\.cta)?\\.(sync|arrive|red)[.a-z0-9]*[ \t]+"
      "([^ \t,;]+)");
  SmallVector<StringRef, 8> Groups;
  StringRef Rest = Asm;
  while (BarrierRe.match(Rest, &Groups)) {
    StringRef Id = Groups[5];
    unsigned Value;
    if (Id.getAsInteger(0, Value) || Value == PAELLA_EXIT_BARRIER_ID)
      return true;
    Rest = Rest.substr(Rest.find(Groups[0]) + Groups[0].size());
  }
  return false;
}

// A special register read through volatile inline asm: the optimiser can
// neither merge it with the kernel's own reads of the same register (which
// would keep that value alive through the whole body and cost registers,
// hence occupancy) nor move it.
Value *readSpecialRegister(IRBuilder<> &B, StringRef Name) {
  auto *Ty = FunctionType::get(B.getInt32Ty(), false);
  auto *IA = InlineAsm::get(Ty, ("mov.u32 $0, %" + Name + ";").str(), "=r",
                            /*hasSideEffects=*/true);
  return B.CreateCall(Ty, IA, {}, ("paella." + Name).str());
}

// The block's linear id (x fastest, 32-bit) and the grid's dimensions.
struct GridPosition {
  Value *Block, *Gx, *Gy, *Gz;
};

GridPosition readGridPosition(IRBuilder<> &B) {
  Value *Cx = readSpecialRegister(B, "ctaid.x");
  Value *Cy = readSpecialRegister(B, "ctaid.y");
  Value *Cz = readSpecialRegister(B, "ctaid.z");
  Value *Gx = readSpecialRegister(B, "nctaid.x");
  Value *Gy = readSpecialRegister(B, "nctaid.y");
  Value *Gz = readSpecialRegister(B, "nctaid.z");
  Value *Block = B.CreateAdd(Cx, B.CreateMul(Gx, B.CreateAdd(Cy, B.CreateMul(Gy, Cz))),
                             "paella.block");
  return {Block, Gx, Gy, Gz};
}

class DeviceInstrumenter {
public:
  explicit DeviceInstrumenter(Module &M) : M(M), Ctx(M.getContext()) {}
  bool run();

private:
  Module &M;
  // Whether an invalid -paella-skip was reported already.
  bool ReportedBadSkip = false;
  LLVMContext &Ctx;
  SmallPtrSet<const Function *, 8> AnnotatedKernels;
  SmallPtrSet<const Function *, 8> SkipAnnotated;
  // Kernels whose address device code uses: launched from the device.
  SmallPtrSet<const Function *, 8> DeviceLaunched;
  std::vector<KernelEntry> Manifest;

  void initialize();
  bool isKernel(const Function &F) const {
    return F.getCallingConv() == CallingConv::PTX_Kernel ||
           AnnotatedKernels.count(&F);
  }
  std::string whySkipped(Function &F);
  std::string whyUnsafe(Function &F);
  bool addressUsedByCode(const Function &F) const;
  Function *addRecordParameter(Function &F);
  std::string makePlainClone(Function &F);
  void insertExitEpilogue(Function &F, Value *Record);
  bool hasLoopsOrCalls(Function &F);
  Instruction *findLoadShadow(Function &F);
  void emitSampleReport(Function &F, Value *Record, BasicBlock *Start, BasicBlock *Next);
  void insertCountEpilogue(Function &F, Value *Record, BasicBlock *Exit);
  bool emitAbiGlobals();
  void padExternalDeviceLaunches();
};

void DeviceInstrumenter::initialize() {
  // Kernels listed in nvvm.annotations (front ends older than the ptx_kernel
  // calling convention still emit them).
  if (NamedMDNode *NA = M.getNamedMetadata("nvvm.annotations")) {
    for (MDNode *Op : NA->operands()) {
      if (Op->getNumOperands() < 3)
        continue;
      auto *FV = dyn_cast_or_null<ValueAsMetadata>(Op->getOperand(0).get());
      auto *Key = dyn_cast_or_null<MDString>(Op->getOperand(1).get());
      if (!FV || !Key || Key->getString() != "kernel")
        continue;
      if (auto *F = dyn_cast<Function>(FV->getValue()->stripPointerCasts()))
        AnnotatedKernels.insert(F);
    }
  }
  // __attribute__((annotate("paella_skip"))) lands in llvm.global.annotations.
  if (GlobalVariable *GA = M.getGlobalVariable("llvm.global.annotations")) {
    if (auto *Arr = dyn_cast<ConstantArray>(GA->getInitializer())) {
      for (Value *Op : Arr->operands()) {
        auto *CS = dyn_cast<ConstantStruct>(Op);
        if (!CS || CS->getNumOperands() < 2)
          continue;
        auto *F = dyn_cast<Function>(CS->getOperand(0)->stripPointerCasts());
        auto *StrGV =
            dyn_cast<GlobalVariable>(CS->getOperand(1)->stripPointerCasts());
        if (!F || !StrGV || !StrGV->hasInitializer())
          continue;
        auto *Str = dyn_cast<ConstantDataSequential>(StrGV->getInitializer());
        if (Str && Str->isCString() && Str->getAsCString() == SkipAnnotation)
          SkipAnnotated.insert(F);
      }
    }
  }
  // A kernel launched from the device gets its arguments from the parent's
  // parameter buffer, laid out by the parent as the kernel was written: it
  // must keep that layout, so it is left alone.  Any use of its address by
  // device code (a launch, a table of kernels) counts; the lists that only
  // keep it alive (llvm.used, annotations) do not.
  for (Function &F : M)
    if (!F.isDeclaration() && isKernel(F) && addressUsedByCode(F))
      DeviceLaunched.insert(&F);
  // A kernel launched from here but defined in another file (-rdc): its own
  // file cannot know, and instruments it unless told.
  padExternalDeviceLaunches();
}

// The device-side launches in M (CUDA 13's __cudaCDP2LaunchDevice, older
// cudaLaunchDevice*) of a kernel only declared here: another file's.
static SmallVector<std::pair<CallBase *, Function *>, 4>
externalDeviceLaunches(Module &M) {
  SmallVector<std::pair<CallBase *, Function *>, 4> Launches;
  for (Function &L : M) {
    StringRef LN = L.getName();
    if (!L.isDeclaration() || !(LN.starts_with("__cudaCDP2LaunchDevice") ||
                                LN.starts_with("cudaLaunchDevice")))
      continue;
    for (User *U : L.users()) {
      auto *CB = dyn_cast<CallBase>(U);
      if (!CB || CB->getCalledFunction() != &L || CB->arg_size() < 2)
        continue;
      auto *Child =
          dyn_cast<Function>(CB->getArgOperand(0)->stripPointerCasts());
      if (Child && Child->isDeclaration())
        Launches.push_back({CB, Child});
    }
  }
  return Launches;
}

// The parameter buffer of a device-side launch of a kernel that another file
// defines (-rdc) gets one pointer more, after the parameters as written:
// the inert record (PAELLA_INERT_RECORD: tagged to sample no block, no
// address).  If that file instrumented the kernel (sample mode), the kernel
// finds its record there and the tag samples no block of any grid under
// 2^33 blocks, so it reports
// nothing and touches no memory; if it did not, the kernel never reads past
// its own parameters.  Either way the child computes what it was written to.
// Count mode touches the record in every block, so there the launch is left
// as it is and the user is told to keep the kernel plain (--paella-skip).
void DeviceInstrumenter::padExternalDeviceLaunches() {
  SmallPtrSet<Function *, 4> Warned;
  for (auto [CB, Child] : externalDeviceLaunches(M)) {
    if (CB->getMetadata("paella.padded"))
      continue;
    Function *Launch = CB->getCalledFunction();
    // The buffer: a call of the device runtime's parameter-buffer
    // allocator with constant alignment and size (what clang emits).
    auto *Alloc = dyn_cast<CallBase>(CB->getArgOperand(1)->stripPointerCasts());
    Function *AF = Alloc ? Alloc->getCalledFunction() : nullptr;
    ConstantInt *AlignC = nullptr, *SizeC = nullptr;
    if (AF && Alloc->arg_size() == 2 &&
        (AF->getName().starts_with("__cudaCDP2GetParameterBuffer") ||
         AF->getName().starts_with("cudaGetParameterBuffer"))) {
      AlignC = dyn_cast<ConstantInt>(Alloc->getArgOperand(0));
      SizeC = dyn_cast<ConstantInt>(Alloc->getArgOperand(1));
    }
    // One buffer, one launch: a buffer passed to two launches is not
    // clang's code, and is left alone.
    bool Sole = Alloc && llvm::count_if(Alloc->users(), [&](User *AU) {
                           auto *LC = dyn_cast<CallBase>(AU);
                           return LC && LC->getCalledFunction() == Launch;
                         }) == 1;
    if (ClNotify == NotifyMode::Count || !AlignC || !SizeC || !Sole) {
      if (!Warned.insert(Child).second)
        continue;
      std::string Msg =
          "paella-instrument: kernel " + demangle(Child->getName().str()) +
          " is launched from the device here but defined in another file, "
          "which instruments it unless told: build that file with "
          "--paella-skip='^" + Child->getName().str() +
          "$' (or mark the kernel __attribute__((annotate(\"paella_skip\"))))";
      Ctx.diagnose(DiagnosticInfoGeneric(Msg, DS_Warning));
      continue;
    }
    uint64_t Offset = alignTo(SizeC->getZExtValue(), 8);
    Alloc->setArgOperand(0, ConstantInt::get(AlignC->getType(),
                                             std::max<uint64_t>(AlignC->getZExtValue(), 8)));
    Alloc->setArgOperand(1, ConstantInt::get(SizeC->getType(), Offset + 8));
    IRBuilder<> B(CB);
    Value *Slot = B.CreateConstInBoundsGEP1_64(B.getInt8Ty(), CB->getArgOperand(1), Offset,
                                                "paella.norecord.slot");
    B.CreateAlignedStore(B.getInt64(PAELLA_INERT_RECORD), Slot, Align(8));
    CB->setMetadata("paella.padded", MDNode::get(Ctx, {}));
    remark(*CB->getFunction(), "DeviceLaunchPadded",
           "device-side launch of " + demangle(Child->getName().str()) +
               ", defined in another file: a launch record that reports "
               "nothing follows its parameters, in case that file "
               "instrumented it",
           /*Missed=*/false);
  }
}

// Whether a use of @V, through constant expressions and aggregates, reaches
// an instruction or a global other than llvm.used / llvm.compiler.used /
// llvm.global.annotations.
static bool usedByCode(const Value *V, SmallPtrSetImpl<const Value *> &Seen) {
  for (const User *U : V->users()) {
    if (!Seen.insert(U).second)
      continue;
    if (isa<Instruction>(U))
      return true;
    if (auto *GV = dyn_cast<GlobalVariable>(U)) {
      StringRef N = GV->getName();
      if (N != "llvm.used" && N != "llvm.compiler.used" &&
          N != "llvm.global.annotations")
        return true;
      continue;
    }
    if (isa<Constant>(U) && usedByCode(U, Seen))
      return true;
  }
  return false;
}

bool DeviceInstrumenter::addressUsedByCode(const Function &F) const {
  SmallPtrSet<const Value *, 16> Seen;
  return usedByCode(&F, Seen);
}

std::string DeviceInstrumenter::whySkipped(Function &F) {
  if (SkipAnnotated.count(&F) || F.hasFnAttribute("paella-skip"))
    return "skip-attribute";
  if (!ClSkip.empty()) {
    Regex Re(ClSkip);
    std::string Err;
    if (!Re.isValid(Err)) {
      // A user's typo, not a compiler bug: an error diagnostic (once per
      // module), which fails the compilation without a crash report.
      if (!ReportedBadSkip)
        Ctx.emitError(Twine("paella-instrument: bad -paella-skip regex '") +
                      ClSkip + "': " + Err +
                      " (LLVM regex syntax, POSIX extended: e.g. '^my_lib_')");
      ReportedBadSkip = true;
      return "";
    }
    if (Re.match(F.getName()) || Re.match(demangle(F.getName().str())))
      return "skip-regex";
  }
  return "";
}

// Grid-wide synchronisation spins until every block of the grid arrives, and
// a device-side launch hands a parameter layout to a child: neither is safe
// to change.  A kernel that uses the exit barrier itself would mix its
// arrivals with ours.  Look through everything the kernel calls.
//
// Device launches: CUDA 13's headers make clang call __cudaCDP2LaunchDevice
// and __cudaCDP2GetParameterBuffer; older ones cudaLaunchDevice[_v2] and
// cudaGetParameterBuffer[V2].  A child launched so is found in initialize().
//
// Cooperative groups: this_grid() reads the grid's workspace pointer
// (%envreg1/2); only grid.sync() then spins on it, with atomics.  A kernel
// that reads the workspace without any atomic, fence or grid barrier in
// what it runs (to learn its rank, say) does not synchronise the grid and is
// instrumented in sample mode (a cooperative launch by hand gets an inert
// record from the host rewrite, which sample mode never dereferences).  In
// count mode, where every block dereferences its record, it is left alone.
static bool isDeviceLaunchApi(StringRef N) {
  return N.starts_with("cudaLaunchDevice") ||
         N.starts_with("cudaGetParameterBuffer") ||
         N.starts_with("__cudaCDP2LaunchDevice") ||
         N.starts_with("__cudaCDP2GetParameterBuffer") ||
         N.starts_with("__cudaCDP2Launch") ||
         N.starts_with("__cudaCDP2GetParameter");
}

static bool asmMaySynchroniseGrid(StringRef Asm) {
  return Asm.contains("atom.") || Asm.contains("red.") ||
         Asm.contains("ld.acquire") || Asm.contains("ld.relaxed.gpu") ||
         Asm.contains("ld.volatile") || Asm.contains("fence") ||
         Asm.contains("membar");
}

std::string DeviceInstrumenter::whyUnsafe(Function &Kernel) {
  if (DeviceLaunched.count(&Kernel))
    return "device-launched";
  SmallVector<Function *, 16> Work{&Kernel};
  SmallPtrSet<Function *, 16> Seen{&Kernel};
  bool ReadsWorkspace = false, MaySpin = false;
  while (!Work.empty()) {
    Function *F = Work.pop_back_val();
    for (Instruction &I : instructions(*F)) {
      if (isa<AtomicRMWInst>(I) || isa<AtomicCmpXchgInst>(I) ||
          isa<FenceInst>(I))
        MaySpin = true;
      if (auto *LI = dyn_cast<LoadInst>(&I))
        if (LI->isVolatile() || LI->isAtomic())
          MaySpin = true;
      auto *CB = dyn_cast<CallBase>(&I);
      if (!CB)
        continue;
      if (auto *IA = dyn_cast<InlineAsm>(CB->getCalledOperand())) {
        StringRef Asm = IA->getAsmString();
        if (Asm.contains("%envreg"))
          ReadsWorkspace = true;
        if (asmMaySynchroniseGrid(Asm))
          MaySpin = true;
        if (ClNotify == NotifyMode::Count && asmUsesExitBarrier(Asm))
          return "exit-barrier-in-use";
        continue;
      }
      Function *Callee = CB->getCalledFunction();
      if (!Callee)
        continue;
      StringRef N = Callee->getName();
      if (isDeviceLaunchApi(N))
        return "device-launch";
      if (N.starts_with("cudaCGSynchronizeGrid") ||
          N.starts_with("cudaCGGetIntrinsicHandle") ||
          N.contains("sync_grids"))
        return "grid-sync";
      if (N.starts_with("llvm.nvvm.read.ptx.sreg.envreg"))
        ReadsWorkspace = true;
      if (N.starts_with("llvm.nvvm.atomic") || N.starts_with("llvm.nvvm.membar") ||
          N.starts_with("llvm.nvvm.fence") || N.starts_with("__nv_atomic") ||
          N.starts_with("llvm.nvvm.ld.gen.i.volatile"))
        MaySpin = true;
      if (ClNotify == NotifyMode::Count &&
          N.starts_with("llvm.nvvm.barrier.cta.") &&
          !N.starts_with("llvm.nvvm.barrier.cta.sync.aligned.all") &&
          CB->arg_size() > 0) {
        auto *Id = dyn_cast<ConstantInt>(CB->getArgOperand(0));
        if (!Id || Id->getZExtValue() == PAELLA_EXIT_BARRIER_ID)
          return "exit-barrier-in-use";
      }
      if (Callee->isDeclaration() && !Callee->isIntrinsic() &&
          !N.starts_with("__nv_"))
        MaySpin = true; // an external device function: it may spin
      if (!Callee->isDeclaration() && Seen.insert(Callee).second)
        Work.push_back(Callee);
    }
  }
  if (ReadsWorkspace && MaySpin)
    return "grid-sync";
  if (ReadsWorkspace && ClNotify == NotifyMode::Count)
    return "grid-group";
  return "";
}

// STEP 2: clone the kernel's signature with one more parameter and move the
// body over.  The new function takes the old one's name, so the host still
// finds it by name, and its place in nvvm.annotations and llvm.used.
Function *DeviceInstrumenter::addRecordParameter(Function &F) {
  FunctionType *OldTy = F.getFunctionType();
  SmallVector<Type *, 8> Params(OldTy->params());
  Params.push_back(PointerType::get(Ctx, /*AddressSpace=*/1));
  auto *NewTy = FunctionType::get(OldTy->getReturnType(), Params, false);

  Function *NewF = Function::Create(NewTy, F.getLinkage(), F.getAddressSpace(),
                                    "", &M);
  NewF->copyAttributesFrom(&F);
  NewF->setCallingConv(F.getCallingConv());
  NewF->takeName(&F);
  NewF->setComdat(F.getComdat());
  // The epilogue synchronises, does atomics and writes through a pointer it
  // loads: what the optimiser proved about the old body no longer holds.
  NewF->removeFnAttr(Attribute::Memory);
  NewF->removeFnAttr(Attribute::NoSync);
  M.getFunctionList().remove(NewF);
  M.getFunctionList().insertAfter(F.getIterator(), NewF);

  SmallVector<std::pair<unsigned, MDNode *>, 4> MDs;
  F.getAllMetadata(MDs);
  for (auto &[Kind, Node] : MDs)
    NewF->setMetadata(Kind, Node);
  F.clearMetadata();

  NewF->splice(NewF->begin(), &F);
  for (auto [Old, New] : zip(F.args(), NewF->args())) {
    New.takeName(&Old);
    Old.replaceAllUsesWith(&New);
  }
  Argument *Record = NewF->getArg(NewTy->getNumParams() - 1);
  Record->setName("paella.record");
  NewF->addParamAttr(Record->getArgNo(), Attribute::NoUndef);

  F.replaceAllUsesWith(NewF);
  F.eraseFromParent();
  return NewF;
}

// STEP 2b, sample mode: a copy of the kernel as written, for the launches
// in which the sampling rule picks no block (grids of little more than a
// wave, the usual case at batch 1): there the report can tell the runtime
// nothing, and thread 0's test still costs every block (overhead.md).  The
// runtime launches the copy for those, the instrumented kernel for the rest.
// Returns the copy's name, or "" when there is none.
std::string DeviceInstrumenter::makePlainClone(Function &F) {
  if (ClNotify != NotifyMode::Sample || !ClPlainClone)
    return "";
  // Only kernels known by their calling convention: a copy would need its
  // own nvvm.annotations entry otherwise.
  if (F.getCallingConv() != CallingConv::PTX_Kernel)
    return "";
  std::string Name = (F.getName() + PAELLA_PLAIN_CLONE_SUFFIX).str();
  if (M.getFunction(Name))
    return "";
  ValueToValueMapTy VMap;
  Function *Clone = CloneFunction(&F, VMap);
  Clone->setName(Name);
  Clone->setLinkage(F.getLinkage());
  Clone->setVisibility(F.getVisibility());
  Clone->addFnAttr(PlainOfAttr, F.getName());
  appendToCompilerUsed(M, {Clone});
  return Name;
}

// STEP 3: the report.  Sample mode: emitSampleReport() below, at entry or at
// the merged exit.  Count mode: merge every return into one exit block and
// count the block there.
//
// The cost of the count epilogue is mostly the time it adds to each block's life
// (blocks that live longer leave fewer slots for the next ones), so the
// report is prepared before the barrier and only one atomic follows it.  Two
// ways to know that the whole block is done (-paella-exit-barrier):
//  - full: every thread waits at a non-aligned barrier for the whole block
//    (per thread, so warps diverged by early returns need no reconvergence,
//    and no thread count has to be computed); thread 0 then reports;
//  - handshake: warps reconverge, warps other than the first only arrive,
//    warp 0 waits and reports.
void DeviceInstrumenter::insertExitEpilogue(Function &F, Value *Record) {
  SmallVector<ReturnInst *, 8> Returns;
  for (BasicBlock &BB : F)
    if (auto *RI = dyn_cast<ReturnInst>(BB.getTerminator()))
      Returns.push_back(RI);
  if (ClNotify == NotifyMode::Sample && ClSampleAt == SampleAt::Shadow) {
    if (Instruction *At = findLoadShadow(F)) {
      BasicBlock *Start = At->getParent();
      BasicBlock *Body = Start->splitBasicBlock(At, "paella.body");
      Start->getTerminator()->eraseFromParent();
      emitSampleReport(F, Record, Start, Body);
      ++NumShadowReports;
      return;
    }
  }
  bool AtEntry = ClNotify == NotifyMode::Sample && hasLoopsOrCalls(F);
  if (Returns.empty() && !AtEntry)
    return; // Never returns (traps or loops forever): nothing to report.

  if (AtEntry) {
    BasicBlock *Entry = &F.getEntryBlock();
    BasicBlock *Body = Entry->splitBasicBlock(Entry->getFirstNonPHIOrDbgOrAlloca(),
                                              "paella.body");
    Entry->getTerminator()->eraseFromParent();
    emitSampleReport(F, Record, Entry, Body);
    return;
  }

  BasicBlock *Exit = BasicBlock::Create(Ctx, "paella.exit", &F);
  for (ReturnInst *RI : Returns) {
    BranchInst::Create(Exit, RI->getIterator());
    RI->eraseFromParent();
  }
  NumReturnsMerged += Returns.size();
  if (ClNotify == NotifyMode::Count) {
    insertCountEpilogue(F, Record, Exit);
    return;
  }
  BasicBlock *Done = BasicBlock::Create(Ctx, "paella.done", &F);
  ReturnInst::Create(Ctx, Done);
  emitSampleReport(F, Record, Exit, Done);
}

// Whether the kernel has a loop, or calls code that may: a store after a
// main loop makes ptxas give the kernel more registers (stencil3d 31 -> 37,
// checked with ptxas -v; a load does not), so such kernels report at entry.
bool DeviceInstrumenter::hasLoopsOrCalls(Function &F) {
  for (Instruction &I : instructions(F))
    if (auto *CB = dyn_cast<CallBase>(&I))
      if (Function *Callee = CB->getCalledFunction())
        if (!Callee->isDeclaration())
          return true;
  DominatorTree DT(F);
  LoopInfo LI(DT);
  return !LI.empty();
}

// Whether a load reads memory another grid could have written: global or
// generic, not shared, constant, local or a parameter, nor a local variable.
static bool isGlobalLoad(const Instruction &I) {
  auto *LI = dyn_cast<LoadInst>(&I);
  if (!LI)
    return false;
  unsigned AS = LI->getPointerAddressSpace();
  if (AS != 0 && AS != 1)
    return false;
  return !isa<AllocaInst>(getUnderlyingObject(LI->getPointerOperand()));
}

// A block that only returns: the side of a guard that threads with nothing
// to do take (`if (i >= n) return;`).
static bool onlyReturns(const BasicBlock *BB) {
  for (int Hops = 0; BB && Hops < 4; ++Hops) {
    const Instruction *I = &*BB->getFirstNonPHIOrDbg();
    if (isa<ReturnInst>(I))
      return true;
    auto *Br = dyn_cast<BranchInst>(I);
    if (!Br || Br->isConditional())
      return false;
    BB = Br->getSuccessor(0);
  }
  return false;
}

// Where the report can run in the shadow of the kernel's first global
// loads: after they are issued and before anything waits for them, so that
// thread 0's test costs its warp nothing while the loads are in flight
// (at the exit of a loop-free kernel it runs after the block's last store,
// where it delays the block's end; at entry it delays the first loads).
//
// Walks from the entry through blocks that run at most once per thread
// (outside loops), following unconditional branches and guards whose other
// side only returns, to the first block with a global load.  Returns the first instruction after that
// load which uses a load of the block, has side effects or is a call
// (other than reading a special register), or the block's terminator.
// Returns null where the walk meets a loop, a call, a barrier or any other
// branch first: the report then goes where -paella-sample-at=edges puts it.
// A guard that turns thread 0 away (`if (threadIdx.x != 5) return;`) would
// leave the kernel without reports: its progress then reads 0 until its
// completion, as for a grid the sampling rule picks no block of; nothing
// else changes.
Instruction *DeviceInstrumenter::findLoadShadow(Function &F) {
  DominatorTree DT(F);
  LoopInfo LI(DT);
  auto IsHarmless = [](const Instruction &I) {
    if (auto *II = dyn_cast<IntrinsicInst>(&I))
      return isa<DbgInfoIntrinsic>(II) || II->isAssumeLikeIntrinsic() ||
             II->getCalledFunction()->getName().starts_with("llvm.nvvm.read.ptx.sreg.");
    return !isa<CallBase>(&I) && !I.mayHaveSideEffects() && !I.isAtomic() &&
           !isa<FenceInst>(&I);
  };
  SmallPtrSet<BasicBlock *, 8> Seen;
  BasicBlock *BB = &F.getEntryBlock();
  while (BB && Seen.insert(BB).second && !LI.getLoopFor(BB)) {
    SmallPtrSet<const Instruction *, 8> Loads;
    for (Instruction &I : *BB) {
      if (I.isTerminator())
        break;
      if (!Loads.empty()) {
        bool Waits = llvm::any_of(I.operands(), [&](const Use &U) {
          auto *Op = dyn_cast<Instruction>(U.get());
          return Op && Loads.count(Op);
        });
        if (Waits || (!isGlobalLoad(I) && !IsHarmless(I)))
          return &I;
      }
      if (isGlobalLoad(I)) {
        if (cast<LoadInst>(I).isVolatile() || I.isAtomic())
          return nullptr;
        Loads.insert(&I);
        continue;
      }
      if (!IsHarmless(I))
        return nullptr;
    }
    if (!Loads.empty())
      return BB->getTerminator();
    auto *Br = dyn_cast<BranchInst>(BB->getTerminator());
    if (!Br)
      return nullptr;
    if (Br->isUnconditional()) {
      BB = Br->getSuccessor(0);
      continue;
    }
    // Not into the "then" of an if without else: ptxas turns a run of
    // those (reduce_sum's guarded loads) into predicated loads issued back
    // to back, and a report inside the first one stops that (+26% there,
    // overhead.md).
    BasicBlock *S0 = Br->getSuccessor(0), *S1 = Br->getSuccessor(1);
    if (onlyReturns(S1))
      BB = S0;
    else if (onlyReturns(S0))
      BB = S1;
    else
      return nullptr;
  }
  return nullptr;
}

// The sampled report: no barrier and no atomic, and only one block in 2^k
// touches memory at all.  Emitted at kernel entry (the report then means
// "block b started") for kernels with loops, else at their merged exit
// ("block b's thread 0 ended"), where it overlaps the block's last memory
// operations instead of delaying its first (2^26 vector add: +2.5% at exit,
// +3.7% at entry).  The record parameter carries k in its low
// PAELLA_RECORD_TAG_BITS bits, so that the other blocks decide without a
// load.  A sampled block that is not in the grid's last
// PAELLA_SAMPLE_TAIL_INTERVALS intervals stores its id + 1 to host memory:
// a high-water mark.  Blocks start in id order and at most a wave is
// resident, so the runtime reads it as "at least id + 1 - wave blocks done",
// a hint; the exact completion comes from the stream.
//
//   thread (0,0,0):
//     k = record & TAG_MASK;  b = linear block id;  n = blocks in the grid
//     if ((b & (2^k - 1)) == 2^k - 1 && b + TAIL * 2^k < n):
//       store atomic b+1 -> (record - k)->host_counts[0]       (sys scope)
//
// Block ids are 32-bit: the runtime refuses grids of 2^32 blocks or more;
// the tail test is done in 64 bits so that it cannot wrap.  The code starts
// in @Start (empty) and ends with a branch to @Next.
void DeviceInstrumenter::emitSampleReport(Function &F, Value *Record, BasicBlock *Start,
                                          BasicBlock *Next) {
  Type *I32 = Type::getInt32Ty(Ctx);
  Type *I64 = Type::getInt64Ty(Ctx);
  BasicBlock *Body = Next;
  IRBuilder<> B(Start);
  auto Sreg = [&](StringRef Name) { return readSpecialRegister(B, Name); };
  BasicBlock *Row = BasicBlock::Create(Ctx, "paella.row", &F, Next);
  BasicBlock *Check = BasicBlock::Create(Ctx, "paella.check", &F, Next);
  BasicBlock *Tail = BasicBlock::Create(Ctx, "paella.tail", &F, Next);
  BasicBlock *Post = BasicBlock::Create(Ctx, "paella.post", &F, Next);

  // Cheapest tests first: every instruction on the reporting thread's path
  // holds up its warp, and with it the block.  Measured on
  // the H200 (overhead.md): testing the block first, in every thread, cost
  // 3x more; letting every thread with tid.x == 0 test the block delays a
  // lane of every warp of a 2D or 3D block (the stencil +12% against +4%).
  // So: one test of tid.x, which the kernel usually reads anyway; then
  // tid.y and tid.z; then thread (0,0,0) alone tests the block, a 32-bit
  // mask first, the 64-bit tail only in sampled blocks.
  Value *Tx = Sreg("tid.x");
  B.CreateCondBr(B.CreateICmpEQ(Tx, B.getInt32(0), "paella.tx0"), Row, Body);
  B.SetInsertPoint(Row);
  Value *Ty = Sreg("tid.y");
  Value *Tz = Sreg("tid.z");
  Value *Thread0 = B.CreateICmpEQ(B.CreateOr(Ty, Tz), B.getInt32(0), "paella.thread0");
  B.CreateCondBr(Thread0, Check, Body);

  B.SetInsertPoint(Check);
  Value *Tag64 = B.CreateAnd(B.CreatePtrToInt(Record, I64),
                             B.getInt64(PAELLA_RECORD_TAG_MASK), "paella.tag");
  Value *Tag = B.CreateTrunc(Tag64, I32);
  GridPosition Grid = readGridPosition(B);
  Value *Block = Grid.Block, *Gx = Grid.Gx, *Gy = Grid.Gy, *Gz = Grid.Gz;
  Value *Mask = B.CreateSub(B.CreateShl(B.getInt32(1), Tag), B.getInt32(1),
                            "paella.sample_mask");
  Value *Sampled = B.CreateICmpEQ(B.CreateAnd(Block, Mask), Mask, "paella.sampled");
  B.CreateCondBr(Sampled, Tail, Body);

  B.SetInsertPoint(Tail);
  Value *NBlocks = B.CreateMul(B.CreateMul(B.CreateZExt(Gx, I64), B.CreateZExt(Gy, I64)),
                               B.CreateZExt(Gz, I64), "paella.nblocks");
  Value *Reach = B.CreateAdd(B.CreateZExt(Block, I64),
                             B.CreateShl(B.getInt64(PAELLA_SAMPLE_TAIL_INTERVALS), Tag64));
  Value *BeforeTail = B.CreateICmpULT(Reach, NBlocks, "paella.before_tail");
  B.CreateCondBr(BeforeTail, Post, Body);

  B.SetInsertPoint(Post);
  Value *Base = B.CreateGEP(B.getInt8Ty(), Record, B.CreateNeg(Tag64),
                            "paella.record.base");
  Value *HostCountsP =
      B.CreateConstInBoundsGEP1_32(B.getInt8Ty(), Base, PAELLA_RECORD_OFF_HOST_COUNTS);
  LoadInst *HostCounts = B.CreateAlignedLoad(PointerType::get(Ctx, 1), HostCountsP,
                                             Align(8), "paella.host_counts");
  HostCounts->setMetadata(LLVMContext::MD_invariant_load, MDNode::get(Ctx, {}));
  B.SetInsertPoint(Post);
  StoreInst *St = B.CreateAlignedStore(B.CreateAdd(Block, B.getInt32(1)),
                                       HostCounts, Align(4));
  St->setAtomic(AtomicOrdering::Monotonic, SyncScope::System);
  B.CreateBr(Body);
}

void DeviceInstrumenter::insertCountEpilogue(Function &F, Value *Record,
                                             BasicBlock *Exit) {
  Type *I32 = Type::getInt32Ty(Ctx);
  IRBuilder<> B(Exit);
  auto Sreg = [&](StringRef Name) { return readSpecialRegister(B, Name); };
  Value *BarId = B.getInt32(PAELLA_EXIT_BARRIER_ID);

  BasicBlock *Prepare = BasicBlock::Create(Ctx, "paella.prepare", &F);
  BasicBlock *Wait = BasicBlock::Create(Ctx, "paella.wait", &F);
  BasicBlock *Report = BasicBlock::Create(Ctx, "paella.report", &F);
  BasicBlock *Post = BasicBlock::Create(Ctx, "paella.post", &F);
  BasicBlock *Add = BasicBlock::Create(Ctx, "paella.add", &F);
  BasicBlock *Done = BasicBlock::Create(Ctx, "paella.done", &F);

  Value *Reporter; // i1, true in the one thread that reports, after Wait
  Value *Preparer; // i1, true in the threads that prepare the report
  Value *Count = nullptr;
  if (ClExitBarrier == ExitBarrier::Full) {
    // STEP 3a: thread (0,0,0) reports; the threads of its x-row up to 32
    // (all in warp 0) read the record while the block finishes.
    Value *Tx = Sreg("tid.x");
    Value *Ty = Sreg("tid.y");
    Value *Tz = Sreg("tid.z");
    Value *YZ = B.CreateOr(Ty, Tz);
    Reporter = B.CreateICmpEQ(B.CreateOr(Tx, YZ), B.getInt32(0), "paella.thread0");
    Preparer = B.CreateAnd(B.CreateICmpULT(Tx, B.getInt32(32)),
                           B.CreateICmpEQ(YZ, B.getInt32(0)), "paella.row0");
    B.CreateCondBr(Preparer, Prepare, Wait);
  } else {
    // STEP 3a: threads and warps of this block: warps are formed from
    // consecutive linear thread ids, the last one possibly partial.
    if (ClThreadFactsAtEntry)
      B.SetInsertPoint(F.getEntryBlock().getFirstInsertionPt());
    Value *Tx = Sreg("tid.x");
    Value *Ty = Sreg("tid.y");
    Value *Tz = Sreg("tid.z");
    Value *Nx = Sreg("ntid.x");
    Value *Ny = Sreg("ntid.y");
    Value *Nz = Sreg("ntid.z");
    Value *Tid = B.CreateAdd(Tx, B.CreateMul(Nx, B.CreateAdd(Ty, B.CreateMul(Ny, Tz))),
                             "paella.tid");
    Value *NThreads = B.CreateMul(B.CreateMul(Nx, Ny), Nz, "paella.nthreads");
    Value *Warp = B.CreateLShr(Tid, 5, "paella.warp");
    Reporter = B.CreateICmpEQ(B.CreateAnd(Tid, 31), B.getInt32(0), "paella.lane0");
    // Barrier counts are in whole warps.
    Count = B.CreateAnd(B.CreateAdd(NThreads, B.getInt32(31)), B.getInt32(~31u),
                        "paella.count");
    Value *InWarp = B.CreateSub(NThreads, B.CreateShl(Warp, 5));
    Value *Full = B.CreateICmpUGE(InWarp, B.getInt32(32));
    Value *Partial = B.CreateSub(B.CreateShl(B.getInt32(1), InWarp), B.getInt32(1));
    Value *Mask = B.CreateSelect(Full, B.getInt32(~0u), Partial, "paella.mask");
    Preparer = B.CreateICmpEQ(Warp, B.getInt32(0), "paella.warp0");

    B.SetInsertPoint(Exit);
    // Early returns can leave a warp diverged; the aligned barriers below
    // need it whole again.
    B.CreateIntrinsic(Intrinsic::nvvm_bar_warp_sync, {Mask});
    BasicBlock *Others = BasicBlock::Create(Ctx, "paella.arrive", &F);
    B.CreateCondBr(Preparer, Prepare, Others);
    // Warps other than the first arrive and leave at once.
    B.SetInsertPoint(Others);
    B.CreateIntrinsic(Intrinsic::nvvm_barrier_cta_arrive_aligned_count,
                      {BarId, Count});
    B.CreateBr(Done);
  }

  // STEP 3b: work out the report while the block's other warps finish: read
  // the record, find the block's shard and whether it posts.  Block ids are
  // 32-bit: the runtime refuses grids of more than 2^32 - 1 blocks.
  B.SetInsertPoint(Prepare);
  MDNode *Invariant = MDNode::get(Ctx, {});
  auto LoadField = [&](Type *T, unsigned Off, Align A, const char *Name) {
    Value *P = B.CreateConstInBoundsGEP1_32(B.getInt8Ty(), Record, Off);
    LoadInst *L = B.CreateAlignedLoad(T, P, A, Name);
    L->setMetadata(LLVMContext::MD_invariant_load, Invariant);
    return L;
  };
  Value *ShardMask = LoadField(I32, PAELLA_RECORD_OFF_SHARD_MASK, Align(4),
                               "paella.shard_mask");
  Value *ShardShift = LoadField(I32, PAELLA_RECORD_OFF_SHARD_SHIFT, Align(4),
                                "paella.shard_shift");
  Value *PostMask = LoadField(I32, PAELLA_RECORD_OFF_POST_MASK, Align(4),
                              "paella.post_mask");
  Value *HostCounts = LoadField(PointerType::get(Ctx, 1),
                                PAELLA_RECORD_OFF_HOST_COUNTS, Align(8),
                                "paella.host_counts");
  GridPosition Grid = readGridPosition(B);
  Value *Block = Grid.Block, *Gx = Grid.Gx, *Gy = Grid.Gy, *Gz = Grid.Gz;
  Value *NBlocks = B.CreateMul(B.CreateMul(Gx, Gy), Gz, "paella.nblocks");
  Value *Shard = B.CreateAnd(Block, ShardMask, "paella.shard");
  Value *Index = B.CreateLShr(Block, ShardShift, "paella.index");
  Value *LastIndex = B.CreateLShr(
      B.CreateSub(B.CreateSub(NBlocks, B.getInt32(1)), Shard), ShardShift,
      "paella.last_index");
  Value *Sampled = B.CreateICmpEQ(B.CreateAnd(Index, PostMask), PostMask);
  Value *IsLast = B.CreateICmpEQ(Index, LastIndex);
  Value *Posts = B.CreateOr(Sampled, IsLast, "paella.posts");
  Value *ShardWide = B.CreateZExt(Shard, B.getInt64Ty());
  Value *Counter = B.CreateInBoundsGEP(
      B.getInt8Ty(), Record,
      B.CreateAdd(B.getInt64(PAELLA_RECORD_OFF_COUNTERS),
                  B.CreateMul(ShardWide, B.getInt64(PAELLA_COUNTER_STRIDE_WORDS * 4))),
      "paella.counter");
  Value *Slot = B.CreateInBoundsGEP(I32, HostCounts, ShardWide, "paella.slot");

  if (ClExitBarrier == ExitBarrier::Full) {
    B.CreateBr(Wait);
    B.SetInsertPoint(Wait);
    auto Merge = [&](Value *V, const char *Name) {
      PHINode *Phi = B.CreatePHI(V->getType(), 2, Name);
      Phi->addIncoming(V, Prepare);
      Phi->addIncoming(PoisonValue::get(V->getType()), Exit);
      return Phi;
    };
    Counter = Merge(Counter, "paella.counter.w");
    Slot = Merge(Slot, "paella.slot.w");
    Posts = Merge(Posts, "paella.posts.w");
    B.CreateIntrinsic(Intrinsic::nvvm_barrier_cta_sync_all, {BarId});
  } else {
    Wait->eraseFromParent();
    B.CreateIntrinsic(Intrinsic::nvvm_barrier_cta_sync_aligned_count,
                      {BarId, Count});
  }
  B.CreateCondBr(Reporter, Report, Done);

  // STEP 3c: one thread per block, all its threads done.
  B.SetInsertPoint(Report);
  SyncScope::ID GpuScope = Ctx.getOrInsertSyncScopeID("device");
  B.CreateCondBr(Posts, Post, Add);

  // Most blocks: count and leave; nothing waits for the result.
  B.SetInsertPoint(Add);
  B.CreateAtomicRMW(AtomicRMWInst::Add, Counter, B.getInt32(1), Align(4),
                    AtomicOrdering::Monotonic, GpuScope);
  B.CreateBr(Done);

  // Posters: learn the shard's count and store it where the CPU polls.
  B.SetInsertPoint(Post);
  Value *Old = B.CreateAtomicRMW(AtomicRMWInst::Add, Counter, B.getInt32(1),
                                 Align(4), AtomicOrdering::Monotonic, GpuScope);
  StoreInst *St = B.CreateAlignedStore(B.CreateAdd(Old, B.getInt32(1)), Slot,
                                       Align(4));
  St->setAtomic(AtomicOrdering::Monotonic, SyncScope::System);
  B.CreateBr(Done);

  B.SetInsertPoint(Done);
  B.CreateRetVoid();
}

// STEP 4: the ABI version and the manifest, rewritten on every run so that a
// second run gives the same module.
bool DeviceInstrumenter::emitAbiGlobals() {
  Type *I32 = Type::getInt32Ty(Ctx);
  bool Changed = false;
  // A program of relocatable device code (-rdc) links many modules into
  // one image, each with its own pair: the version, the same everywhere, is
  // weak so that the device link keeps one; the manifests, each of its own
  // size, stay local to their modules.  Transparent mode reads neither, and
  // paella_module_load takes a cubin of one module, so nothing is lost.
  auto Replace = [&](StringRef Name, Constant *Init,
                     GlobalValue::LinkageTypes Linkage) {
    GlobalVariable *Old = M.getGlobalVariable(Name, /*AllowInternal=*/true);
    if (Old && Old->getInitializer() == Init && Old->getLinkage() == Linkage)
      return;
    Changed = true;
    auto *GV = new GlobalVariable(M, Init->getType(), /*isConstant=*/true,
                                  Linkage, Init, "",
                                  nullptr, GlobalValue::NotThreadLocal,
                                  /*AddressSpace=*/1);
    GV->setAlignment(Align(4));
    if (Old) {
      removeFromUsedLists(M, [&](Constant *C) { return C == Old; });
      Old->replaceAllUsesWith(GV);
      Old->eraseFromParent();
    }
    GV->setName(Name);
    appendToCompilerUsed(M, {GV});
  };

  Replace(PAELLA_ABI_VERSION_SYMBOL, ConstantInt::get(I32, PAELLA_ABI_VERSION),
          GlobalValue::WeakAnyLinkage);

  std::string Text = PAELLA_MANIFEST_HEADER;
  for (const KernelEntry &E : Manifest) {
    Text += E.Instrumented ? "K " : "U ";
    Text += E.Name + " " + utostr(E.OriginalParams) + " ";
    Text += E.Instrumented ? E.Mode : E.Reason;
    if (!E.Plain.empty())
      Text += " " + E.Plain;
    Text += "\n";
  }
  Replace(PAELLA_MANIFEST_SYMBOL, ConstantDataArray::getString(Ctx, Text),
          ClRdc ? GlobalValue::InternalLinkage : GlobalValue::ExternalLinkage);
  return Changed;
}

bool DeviceInstrumenter::run() {
  // STEP 1: find the kernels and decide, for each, whether to instrument.
  initialize();
  SmallVector<Function *, 8> Kernels;
  for (Function &F : M)
    if (!F.isDeclaration() && isKernel(F) && !F.hasFnAttribute(PlainOfAttr))
      Kernels.push_back(&F);
  if (Kernels.empty())
    return false;

  bool Changed = false;
  for (Function *F : Kernels) {
    std::string Name = F->getName().str();
    if (F->hasFnAttribute(InstrumentedAttr)) {
      // Instrumented by an earlier run, maybe in the other mode.
      std::string Mode =
          F->getFnAttribute(InstrumentedAttr).getValueAsString().str();
      std::string Plain;
      if (F->hasFnAttribute(PlainCloneAttr))
        Plain = F->getFnAttribute(PlainCloneAttr).getValueAsString().str();
      Manifest.push_back({Name, (unsigned)F->arg_size() - 1, true, "",
                          Mode.empty() ? notifyModeName() : Mode, Plain});
      continue;
    }
    std::string Why;
    if (F->hasFnAttribute(UninstrumentedAttr))
      Why = F->getFnAttribute(UninstrumentedAttr).getValueAsString().str();
    if (Why.empty())
      Why = whySkipped(*F);
    if (Why.empty())
      Why = whyUnsafe(*F);
    if (!Why.empty()) {
      if (!F->hasFnAttribute(UninstrumentedAttr)) {
        F->addFnAttr(UninstrumentedAttr, Why);
        remark(*F, "NotInstrumented",
               "kernel " + demangle(Name) + " left uninstrumented: " + Why,
               /*Missed=*/true);
        ++NumKernelsSkipped;
        Changed = true;
      }
      Manifest.push_back({Name, (unsigned)F->arg_size(), false, Why, "", ""});
      continue;
    }

    unsigned NParams = F->arg_size();
    std::string Plain = makePlainClone(*F);
    Function *NewF = addRecordParameter(*F);
    insertExitEpilogue(*NewF, NewF->getArg(NParams));
    NewF->addFnAttr(InstrumentedAttr, notifyModeName());
    if (!Plain.empty())
      NewF->addFnAttr(PlainCloneAttr, Plain);
    remark(*NewF, "Instrumented", "kernel " + demangle(Name) + " instrumented",
           /*Missed=*/false);
    Manifest.push_back({Name, NParams, true, "", notifyModeName(), Plain});
    ++NumKernelsInstrumented;
    Changed = true;
  }

  Changed |= emitAbiGlobals();
  return Changed;
}

//------------------------------------------------------------------------------
// Host side
//------------------------------------------------------------------------------

// The number of kernel parameters is the length of the stub's argument-pointer
// array; the stub's own parameter list can differ (the host ABI may split a
// struct passed by value into several arguments).
unsigned countKernelParams(CallBase &Launch, Function &Stub) {
  // A kernel without parameters still gets a one-slot array from clang.
  if (Stub.arg_empty())
    return 0;
  const DataLayout &DL = Launch.getModule()->getDataLayout();
  Value *Args = getUnderlyingObject(Launch.getArgOperand(5));
  if (auto *AI = dyn_cast<AllocaInst>(Args))
    if (auto Size = AI->getAllocationSize(DL))
      if (!Size->isScalable())
        return Size->getFixedValue() / DL.getPointerSize();
  return Stub.arg_size();
}

// The calls of launch API @Name: of the C function itself and, since a call
// through cuda_runtime.h's template wrapper (static, same arguments) is not
// inlined at -O0, of every instance of that wrapper.  Mangled, a wrapper is
// _ZL<length><Name>I<T>E...: found by that prefix, checked by its arguments.
SmallVector<CallBase *, 8> launchCalls(Module &M, StringRef Name) {
  SmallVector<CallBase *, 8> Calls;
  std::string Wrapper = ("_ZL" + Twine(Name.size()) + Name + "I").str();
  Function *C = M.getFunction(Name);
  for (Function &F : M) {
    if (&F != C && !(F.getName().starts_with(Wrapper) && C &&
                     F.getFunctionType() == C->getFunctionType()))
      continue;
    for (User *U : F.users())
      if (auto *CB = dyn_cast<CallBase>(U))
        if (CB->getCalledOperand() == &F)
          Calls.push_back(CB);
  }
  return Calls;
}

// The inert record (see giveInertRecords): a constant pointer whose tag is
// PAELLA_RECORD_TAG_MASK and whose base is null, made once per module.
GlobalVariable *inertRecord(Module &M) {
  if (GlobalVariable *G = M.getGlobalVariable("__paella_inert_record", true))
    return G;
  LLVMContext &Ctx = M.getContext();
  auto *PtrTy = PointerType::get(Ctx, 0);
  auto *G = new GlobalVariable(
      M, PtrTy, /*isConstant=*/true, GlobalValue::PrivateLinkage,
      ConstantExpr::getIntToPtr(
          ConstantInt::get(Type::getInt64Ty(Ctx), PAELLA_INERT_RECORD),
          PtrTy),
      "__paella_inert_record");
  G->setUnnamedAddr(GlobalValue::UnnamedAddr::Global);
  return G;
}

// Room for a copy of an array of N pointers with the inert record at [N]:
// an alloca of N + 1 pointers in the entry block of F.
AllocaInst *inertCopySlot(Function &F, unsigned N, StringRef Name) {
  auto *PtrTy = PointerType::get(F.getContext(), 0);
  IRBuilder<> EntryB(&*F.getEntryBlock().getFirstInsertionPt());
  return EntryB.CreateAlloca(ArrayType::get(PtrTy, N + 1), nullptr, Name);
}

// Fills Copy, just before At, with the N pointers at Arr and the inert record.
void fillInertCopy(Instruction *At, AllocaInst *Copy, Value *Arr, unsigned N) {
  auto *PtrTy = PointerType::get(At->getContext(), 0);
  IRBuilder<> B(At);
  for (unsigned I = 0; I < N; I++) {
    Value *Src = B.CreateConstInBoundsGEP1_32(PtrTy, Arr, I);
    B.CreateStore(B.CreateLoad(PtrTy, Src),
                  B.CreateConstInBoundsGEP1_32(PtrTy, Copy, I));
  }
  B.CreateStore(inertRecord(*At->getModule()),
                B.CreateConstInBoundsGEP1_32(PtrTy, Copy, N));
}

// A copy of the array of N pointers at Arr with the inert record at [N],
// filled just before At.
AllocaInst *copyWithInertRecord(Instruction *At, Value *Arr, unsigned N,
                                StringRef Name) {
  AllocaInst *Copy = inertCopySlot(*At->getFunction(), N, Name);
  fillInertCopy(At, Copy, Arr, N);
  return Copy;
}

// A launch API that takes the kernel's argument array as it is, by hand
// (cudaLaunchCooperativeKernel, cudaLaunchKernelExC): the position of the
// kernel and of the argument array.
struct ByHandLaunch {
  const char *Name;
  unsigned Func, Args;
};

// Sample mode: the kernel such a call names may be instrumented (the device
// side of its compilation decided), and would then read one argument more
// than the array holds.  The call gets a copy of the array with one more
// entry: a record pointer whose tag is PAELLA_RECORD_TAG_MASK and whose base
// is null.  With that tag no block's id passes the sampling test in any grid
// the driver accepts, so no block dereferences it: the kernel runs as
// written.  (Count mode dereferences every record: the device side leaves
// the kernels such launches take, the grid-group ones, alone.)
bool giveInertRecords(Module &M) {
  static const ByHandLaunch APIs[] = {
      {"cudaLaunchCooperativeKernel", 0, 5},
      {"cudaLaunchCooperativeKernel_ptsz", 0, 5},
      {"cudaLaunchKernelExC", 1, 2},
      {"cudaLaunchKernelExC_ptsz", 1, 2},
  };
  bool Changed = false;
  const DataLayout &DL = M.getDataLayout();
  for (const ByHandLaunch &API : APIs) {
    for (CallBase *CB : launchCalls(M, API.Name)) {
      if (CB->arg_size() <= std::max(API.Func, API.Args))
        continue;
      // Any kernel: one more argument than a kernel has is harmless (the
      // driver reads only its parameters), so the kernel need not be a
      // stub of this file, and cuda_runtime.h's cudaLaunchKernelEx template,
      // which passes the kernel on as a parameter, is covered at -O0.  The
      // array's length must be known: an alloca of pointers, or none.
      unsigned N = 0;
      Value *ArgsV = CB->getArgOperand(API.Args);
      if (!isa<ConstantPointerNull>(ArgsV)) {
        auto *AI = dyn_cast<AllocaInst>(getUnderlyingObject(ArgsV));
        auto Size = AI ? AI->getAllocationSize(DL) : std::nullopt;
        if (!Size || Size->isScalable() || AI != ArgsV->stripPointerCasts())
          continue; // not an array we can read: left as the program wrote it
        N = Size->getFixedValue() / DL.getPointerSize();
      }
      CB->setArgOperand(API.Args,
                        copyWithInertRecord(CB, CB->getArgOperand(API.Args), N,
                                            "paella.args"));
      Changed = true;
    }
  }
  return Changed;
}

// The same for a kernel node of a graph the program builds by hand
// (cudaGraphAddKernelNode, cudaGraphKernelNodeSetParams,
// cudaGraphExecKernelNodeSetParams, and the generic cudaGraphAddNode,
// cudaGraphNodeSetParams, cudaGraphExecNodeSetParams): where the program
// stores a local array of N pointers, or null (a kernel without
// parameters), into the kernelParams field of a local cudaKernelNodeParams
// (byte 40, LP64) or cudaGraphNodeParams (byte 56: its kernel member), the
// field gets instead a copy of the array with the inert record at [N],
// filled before each call that may pass the structure on, itself or as one
// of a select's or phi's choices (the array's own elements may be stored
// after the field is).  The node API copies the
// parameters when called, and the arguments the array points to are the
// program's own, so later changes to them still count.  No other node
// type holds an array of pointers at those bytes.
bool giveInertRecordsToGraphNodes(Module &M) {
  static const struct {
    const char *Type;
    int64_t KernelParams;
  } Fields[] = {{"struct.cudaKernelNodeParams", 40}, {"struct.cudaGraphNodeParams", 56}};
  bool Changed = false;
  const DataLayout &DL = M.getDataLayout();
  if (!M.getFunction("cudaGraphAddKernelNode") &&
      !M.getFunction("cudaGraphKernelNodeSetParams") &&
      !M.getFunction("cudaGraphExecKernelNodeSetParams") &&
      !M.getFunction("cudaGraphAddNode") && !M.getFunction("cudaGraphNodeSetParams") &&
      !M.getFunction("cudaGraphExecNodeSetParams"))
    return false;
  for (Function &F : M) {
    struct Found {
      StoreInst *SI;
      AllocaInst *Params; // the structure
    };
    SmallVector<Found, 4> Stores;
    for (Instruction &I : instructions(F)) {
      auto *SI = dyn_cast<StoreInst>(&I);
      if (!SI || !SI->getValueOperand()->getType()->isPointerTy())
        continue;
      int64_t Off = 0;
      auto *P = dyn_cast<AllocaInst>(
          GetPointerBaseWithConstantOffset(SI->getPointerOperand(), Off, DL));
      auto *STy = P ? dyn_cast<StructType>(P->getAllocatedType()) : nullptr;
      if (!STy || !STy->hasName())
        continue;
      bool Field = false;
      for (const auto &Fd : Fields)
        Field |= Off == Fd.KernelParams && STy->getName().starts_with(Fd.Type) &&
                 !STy->getName().starts_with("struct.cudaKernelNodeParamsV2");
      Value *V = SI->getValueOperand()->stripPointerCasts();
      if (Field && (isa<AllocaInst>(V) || isa<ConstantPointerNull>(V)))
        Stores.push_back({SI, P});
    }
    if (Stores.empty())
      continue;
    struct Copied {
      AllocaInst *Params, *Copy; // the structure, the array's copy
      Value *Arr;                // the program's array, or null
      unsigned N;
    };
    SmallVector<Copied, 4> Copies;
    for (const Found &Fd : Stores) {
      Value *V = Fd.SI->getValueOperand()->stripPointerCasts();
      unsigned N = 0;
      if (auto *Arr = dyn_cast<AllocaInst>(V)) {
        auto Size = Arr->getAllocationSize(DL);
        if (!Size || Size->isScalable())
          continue;
        N = Size->getFixedValue() / DL.getPointerSize();
      }
      AllocaInst *Copy = inertCopySlot(F, N, "paella.node_args");
      Fd.SI->setOperand(0, Copy);
      Copies.push_back({Fd.Params, Copy, V, N});
      Changed = true;
    }
    // Each copy is filled before every call that may pass its structure
    // on, directly or through a select or phi
    // (`cudaGraphExecKernelNodeSetParams(e, n, odd ? &p1 : &p0)`,
    // jacobiCudaGraphs); the field's store dominates those that can see
    // the copy.  A call's arguments are traced once for all the copies.
    SmallVector<CallBase *, 16> Calls;
    for (Instruction &I : instructions(F))
      if (auto *CB = dyn_cast<CallBase>(&I); CB && !isa<IntrinsicInst>(CB))
        Calls.push_back(CB);
    for (CallBase *CB : Calls) {
      SmallVector<const Value *, 4> Objs;
      for (const Use &A : CB->args())
        if (A->getType()->isPointerTy())
          getUnderlyingObjects(A, Objs);
      for (const Copied &C : Copies)
        if (llvm::is_contained(Objs, C.Params))
          fillInertCopy(CB, C.Copy, C.Arr, C.N);
    }
  }
  return Changed;
}

bool rewriteHostLaunches(Module &M) {
  bool Changed = false;
  if (ClNotify == NotifyMode::Sample) {
    Changed |= giveInertRecords(M);
    Changed |= giveInertRecordsToGraphNodes(M);
  }
  for (StringRef LaunchName : {"cudaLaunchKernel", "cudaLaunchKernel_ptsz"}) {
    Function *Launch = M.getFunction(LaunchName);
    if (!Launch)
      continue;
    for (CallBase *CB : launchCalls(M, LaunchName)) {
      if (CB->arg_size() < 6)
        continue;
      auto *Stub = dyn_cast<Function>(CB->getArgOperand(0)->stripPointerCasts());
      if (!Stub || !Stub->getName().contains("__device_stub__"))
        continue; // A launch the program makes by hand: not ours to change.
      SmallVector<Type *, 10> Params(CB->getFunctionType()->params());
      Params.push_back(Type::getInt32Ty(M.getContext()));
      auto *Ty = FunctionType::get(CB->getType(), Params, false);
      std::string Target = LaunchName == "cudaLaunchKernel"
                               ? "paella_launch_kernel"
                               : "paella_launch_kernel_ptsz";
      FunctionCallee Callee = M.getOrInsertFunction(Target, Ty);

      SmallVector<Value *, 10> Args(CB->args());
      // The device code of the same compilation reports in ClNotify's mode.
      unsigned Count = countKernelParams(*CB, *Stub);
      if (ClNotify == NotifyMode::Count)
        Count |= PAELLA_LAUNCH_COUNT_MODE;
      Args.push_back(ConstantInt::get(Type::getInt32Ty(M.getContext()), Count));
      IRBuilder<> B(CB);
      // In C++ with exceptions the launch may be an invoke, which ends its
      // block: the replacement must be an invoke to the same destinations.
      CallBase *New;
      if (auto *II = dyn_cast<InvokeInst>(CB))
        New = B.CreateInvoke(Callee, II->getNormalDest(), II->getUnwindDest(),
                             Args);
      else
        New = B.CreateCall(Callee, Args);
      New->setCallingConv(CB->getCallingConv());
      New->setDebugLoc(CB->getDebugLoc());
      CB->replaceAllUsesWith(New);
      CB->eraseFromParent();
      ++NumLaunchesRedirected;
      Changed = true;
    }
    // A template wrapper whose calls all went is left for the optimiser
    // (or the linker) to drop: it is static and unused.
    if (Launch->use_empty())
      Launch->eraseFromParent();
  }
  return Changed;
}

// nvcc compatibility, device side.  With -fgpu-rdc, clang lists the
// kernels that host code launches but another file defines in
// __clang_gpu_used_external, and so declares them in the PTX as
// `.extern .func`; nvlink then refuses the program ("Function ... not
// declared __global__ in all source files": a clang bug, llvm-project issue
// 118212).  A declaration keeps nothing alive in its own module, so such
// entries are dropped, and the list with them when it empties.
static bool dropUsedExternalDeclarations(Module &M) {
  GlobalVariable *GV = M.getGlobalVariable("__clang_gpu_used_external",
                                           /*AllowInternal=*/true);
  if (!GV || !GV->hasInitializer())
    return false;
  auto *Init = dyn_cast<ConstantArray>(GV->getInitializer());
  if (!Init)
    return false;
  SmallVector<Constant *, 8> Keep;
  SmallVector<Function *, 4> Dropped;
  for (Use &Op : Init->operands()) {
    auto *C = cast<Constant>(Op.get());
    auto *F = dyn_cast<Function>(C->stripPointerCasts());
    if (F && F->isDeclaration())
      Dropped.push_back(F);
    else
      Keep.push_back(C);
  }
  if (Dropped.empty())
    return false;
  removeFromUsedLists(M, [&](Constant *C) { return C == GV; });
  if (!Keep.empty()) {
    auto *Ty = ArrayType::get(Init->getType()->getElementType(), Keep.size());
    auto *New = new GlobalVariable(M, Ty, GV->isConstant(), GV->getLinkage(),
                                   ConstantArray::get(Ty, Keep), "", GV);
    New->takeName(GV);
    appendToCompilerUsed(M, {New});
  }
  GV->eraseFromParent();
  for (Function *F : Dropped) {
    F->removeDeadConstantUsers(); // the old list's initialiser
    if (F->use_empty())
      F->eraseFromParent();
  }
  return true;
}

// The same bug for a kernel launched from the device but defined in another
// file: clang declares it without the kernel calling convention, so the PTX
// says `.extern .func` and nvlink refuses it.  Its declaration gets the
// convention (`.extern .entry`), as nvcc's PTX has it.
static bool markDeviceLaunchedDeclarations(Module &M) {
  bool Changed = false;
  for (auto [CB, Child] : externalDeviceLaunches(M)) {
    if (Child->getCallingConv() == CallingConv::PTX_Kernel)
      continue;
    Child->setCallingConv(CallingConv::PTX_Kernel);
    Changed = true;
  }
  return Changed;
}

// And a third: with -fgpu-rdc, clang 22 gives a static __device__ or
// __constant__ variable that host code names (cudaMemcpyToSymbol) a unique
// name, `<name>__static__<id>`, so that the host can find it, but leaves the
// device code's uses on an external declaration of the old name, which
// nothing defines: nvlink fails with "Undefined reference".  The uses go to
// the renamed definition, as clang meant.
static bool mergeRenamedStatics(Module &M) {
  StringMap<GlobalVariable *> Renamed;
  for (GlobalVariable &GV : M.globals()) {
    StringRef Name = GV.getName();
    size_t At = Name.rfind("__static__");
    if (!GV.isDeclaration() && At != StringRef::npos && At > 0)
      Renamed[Name.take_front(At)] = &GV;
  }
  bool Changed = false;
  for (GlobalVariable &GV : llvm::make_early_inc_range(M.globals())) {
    if (!GV.isDeclaration() || !GV.hasName())
      continue;
    auto It = Renamed.find(GV.getName());
    if (It == Renamed.end() || It->second->getType() != GV.getType() ||
        It->second->getValueType() != GV.getValueType())
      continue;
    GV.replaceAllUsesWith(It->second);
    GV.eraseFromParent();
    Changed = true;
  }
  return Changed;
}

} // namespace

namespace paella {

PreservedAnalyses PaellaInstrumentPass::run(Module &M,
                                            ModuleAnalysisManager &) {
  bool Changed = false;
  if (Triple(M.getTargetTriple()).isNVPTX()) {
    Changed = dropUsedExternalDeclarations(M);
    Changed |= markDeviceLaunchedDeclarations(M);
    Changed |= mergeRenamedStatics(M);
    if (!ClFixupsOnly)
      Changed |= DeviceInstrumenter(M).run();
  } else {
    Changed = !ClFixupsOnly && ClHostRewrite && rewriteHostLaunches(M);
  }
  return Changed ? PreservedAnalyses::none() : PreservedAnalyses::all();
}

} // namespace paella

//------------------------------------------------------------------------------
// Registration: by name for opt, and at the end of the optimisation pipeline
// (every -O level, since the pass is required) when clang loads the plugin.
//------------------------------------------------------------------------------
extern "C" LLVM_ATTRIBUTE_WEAK PassPluginLibraryInfo llvmGetPassPluginInfo() {
  return {LLVM_PLUGIN_API_VERSION, "paella-instrument", "0.1.0",
          [](PassBuilder &PB) {
            PB.registerPipelineParsingCallback(
                [](StringRef Name, ModulePassManager &MPM,
                   ArrayRef<PassBuilder::PipelineElement>) {
                  if (Name != "paella-instrument")
                    return false;
                  MPM.addPass(paella::PaellaInstrumentPass());
                  return true;
                });
            PB.registerOptimizerLastEPCallback(
                [](ModulePassManager &MPM, OptimizationLevel,
                   ThinOrFullLTOPhase) {
                  MPM.addPass(paella::PaellaInstrumentPass());
                });
          }};
}
