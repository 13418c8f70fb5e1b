; Proves: instrumenting an instrumented module changes nothing: no second
; record parameter, no second epilogue, the same manifest, byte for byte.
; RUN: %opt -passes=paella-instrument -paella-notify=count -S %s -o %t.once.ll
; RUN: %opt -passes=verify -S < %t.once.ll > %t.reread.ll
; RUN: %opt -passes=paella-instrument -paella-notify=count -S < %t.once.ll > %t.twice.ll
; RUN: diff %t.reread.ll %t.twice.ll
; RUN: FileCheck %s < %t.twice.ll
; A sample-mode module run again in count mode keeps its mode (the manifest
; says what the code does).
; RUN: %opt -passes=paella-instrument -S %s -o %t.sample.ll
; RUN: %opt -passes=paella-instrument -paella-notify=count -S < %t.sample.ll | FileCheck %s --check-prefix=KEEP
; KEEP: c"paella-manifest 3\0AK block_sum 2 sample block_sum__paella_plain\0A
; KEEP-NOT: barrier.cta.sync.all(i32 1)

; CHECK-COUNT-1: %paella.record)
; CHECK-NOT: %paella.record1
; CHECK-COUNT-1: call void @llvm.nvvm.barrier.cta.sync.all(i32 1)
; CHECK-NOT: call void @llvm.nvvm.barrier.cta.sync.all(i32 1)
target datalayout = "e-p6:32:32-i64:64-i128:128-i256:256-v16:16-v32:32-n16:32:64"
target triple = "nvptx64-nvidia-cuda"

@_ZZ9block_sumE1s = internal unnamed_addr addrspace(3) global [256 x float] undef, align 4

define dso_local ptx_kernel void @block_sum(ptr noundef readonly captures(none) %0, ptr noundef writeonly captures(none) %1) local_unnamed_addr #0 {
  %3 = tail call noundef i32 @llvm.nvvm.read.ptx.sreg.ctaid.x()
  %4 = shl i32 %3, 8
  %5 = tail call noundef i32 @llvm.nvvm.read.ptx.sreg.tid.x()
  %6 = add i32 %4, %5
  %7 = zext i32 %6 to i64
  %8 = getelementptr inbounds nuw float, ptr %0, i64 %7
  %9 = load float, ptr %8, align 4
  %10 = zext nneg i32 %5 to i64
  %11 = getelementptr inbounds nuw float, ptr addrspacecast (ptr addrspace(3) @_ZZ9block_sumE1s to ptr), i64 %10
  store float %9, ptr %11, align 4
  tail call void @llvm.nvvm.barrier.cta.sync.aligned.all(i32 0)
  br label %14

12:                                               ; preds = %24
  %13 = icmp eq i32 %5, 0
  br i1 %13, label %27, label %31

14:                                               ; preds = %2, %24
  %15 = phi i32 [ 128, %2 ], [ %25, %24 ]
  %16 = icmp samesign ult i32 %5, %15
  br i1 %16, label %17, label %24

17:                                               ; preds = %14
  %18 = add nuw nsw i32 %15, %5
  %19 = zext nneg i32 %18 to i64
  %20 = getelementptr inbounds nuw float, ptr addrspacecast (ptr addrspace(3) @_ZZ9block_sumE1s to ptr), i64 %19
  %21 = load float, ptr %20, align 4
  %22 = load float, ptr %11, align 4
  %23 = fadd contract float %21, %22
  store float %23, ptr %11, align 4
  br label %24

24:                                               ; preds = %17, %14
  tail call void @llvm.nvvm.barrier.cta.sync.aligned.all(i32 0)
  %25 = lshr i32 %15, 1
  %26 = icmp eq i32 %25, 0
  br i1 %26, label %12, label %14

27:                                               ; preds = %12
  %28 = load float, ptr addrspacecast (ptr addrspace(3) @_ZZ9block_sumE1s to ptr), align 4
  %29 = zext nneg i32 %3 to i64
  %30 = getelementptr inbounds nuw float, ptr %1, i64 %29
  store float %28, ptr %30, align 4
  br label %31

31:                                               ; preds = %27, %12
  ret void
}

declare void @llvm.nvvm.barrier.cta.sync.aligned.all(i32) #1

declare noundef range(i32 0, 2147483647) i32 @llvm.nvvm.read.ptx.sreg.ctaid.x() #2

declare noundef range(i32 0, 1024) i32 @llvm.nvvm.read.ptx.sreg.tid.x() #2

attributes #0 = { convergent mustprogress noinline norecurse nounwind "target-cpu"="sm_90" "target-features"="+ptx88,+sm_90" "uniform-work-group-size"="true" }
attributes #1 = { convergent nocallback nounwind }
attributes #2 = { mustprogress nocallback nofree nosync nounwind speculatable willreturn memory(none) }
