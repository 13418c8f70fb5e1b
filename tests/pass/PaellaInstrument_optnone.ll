; Proves: a kernel built at -O0 (optnone, noinline) is instrumented too: the
; pass is required, and the runtime always passes the record.
; RUN: %opt -passes=paella-instrument -paella-notify=count -S %s | FileCheck %s

; CHECK-LABEL: define {{.*}}ptx_kernel void @copy_o0(ptr noundef %0, ptr noundef %1, ptr addrspace(1) noundef %paella.record) #0
; CHECK: paella.exit:
; CHECK: paella.done:
; CHECK-NEXT: ret void
; CHECK: attributes #0 = { {{.*}}noinline {{.*}}optnone {{.*}}"paella-instrumented"
target datalayout = "e-p6:32:32-i64:64-i128:128-i256:256-v16:16-v32:32-n16:32:64"
target triple = "nvptx64-nvidia-cuda"

%struct.__cuda_builtin_threadIdx_t = type { i8 }

@threadIdx = extern_weak dso_local addrspace(1) global %struct.__cuda_builtin_threadIdx_t, align 1

define dso_local ptx_kernel void @copy_o0(ptr noundef %0, ptr noundef %1) #0 {
  %3 = alloca ptr, align 8
  %4 = alloca ptr, align 8
  store ptr %0, ptr %3, align 8
  store ptr %1, ptr %4, align 8
  %5 = call noundef i32 @llvm.nvvm.read.ptx.sreg.tid.x()
  %6 = icmp ugt i32 %5, 7
  br i1 %6, label %7, label %8

7:                                                ; preds = %2
  br label %18

8:                                                ; preds = %2
  %9 = load ptr, ptr %3, align 8
  %10 = call noundef i32 @llvm.nvvm.read.ptx.sreg.tid.x()
  %11 = zext i32 %10 to i64
  %12 = getelementptr inbounds nuw i32, ptr %9, i64 %11
  %13 = load i32, ptr %12, align 4
  %14 = load ptr, ptr %4, align 8
  %15 = call noundef i32 @llvm.nvvm.read.ptx.sreg.tid.x()
  %16 = zext i32 %15 to i64
  %17 = getelementptr inbounds nuw i32, ptr %14, i64 %16
  store i32 %13, ptr %17, align 4
  br label %18

18:                                               ; preds = %8, %7
  ret void
}

declare noundef range(i32 0, 1024) i32 @llvm.nvvm.read.ptx.sreg.tid.x() #1

attributes #0 = { convergent mustprogress noinline norecurse nounwind optnone "target-cpu"="sm_90" "target-features"="+ptx88,+sm_90" "uniform-work-group-size"="true" }
attributes #1 = { nocallback nofree nosync nounwind speculatable willreturn memory(none) }
