; Proves: the handshake exit barrier (-paella-exit-barrier=handshake): warps
; reconverge, warps other than the first only arrive at barrier 1 with the
; block's thread count rounded to warps, warp 0 prepares the report, waits and
; reports.  With -paella-thread-facts-at-entry the thread's linear id, warp,
; lane mask and barrier count are computed in the entry block (where their
; latency overlaps the kernel's own work) and the exit block starts with the
; warp reconvergence; without it they are computed at exit.
; RUN: %opt -passes=paella-instrument -paella-notify=count -paella-exit-barrier=handshake -paella-thread-facts-at-entry -S %s | FileCheck %s --check-prefix=ENTRY
; RUN: %opt -passes=paella-instrument -paella-notify=count -paella-exit-barrier=handshake -S %s | FileCheck %s --check-prefix=EXIT

; ENTRY-LABEL: define {{.*}}ptx_kernel void @scale(
; ENTRY-NEXT: %paella.tid.x = call i32 asm sideeffect "mov.u32 $0, %tid.x;"
; ENTRY: %paella.warp0 = icmp eq i32 %paella.warp, 0
; ENTRY: paella.exit:
; ENTRY-NEXT: call void @llvm.nvvm.bar.warp.sync(i32 %paella.mask)
; ENTRY-NEXT: br i1 %paella.warp0, label %paella.prepare, label %paella.arrive
; ENTRY: paella.prepare:
; ENTRY: %paella.shard_mask = load i32
; ENTRY: call void @llvm.nvvm.barrier.cta.sync.aligned.count(i32 1, i32 %paella.count)
; ENTRY-NEXT: br i1 %paella.lane0, label %paella.report, label %paella.done
; ENTRY: paella.arrive:
; ENTRY-NEXT: call void @llvm.nvvm.barrier.cta.arrive.aligned.count(i32 1, i32 %paella.count)
; ENTRY-NEXT: br label %paella.done

; EXIT-LABEL: define {{.*}}ptx_kernel void @scale(
; EXIT-NOT: asm sideeffect
; EXIT: paella.exit:
; EXIT-NEXT: %paella.tid.x = call i32 asm sideeffect "mov.u32 $0, %tid.x;"
target datalayout = "e-p6:32:32-i64:64-i128:128-i256:256-v16:16-v32:32-n16:32:64"
target triple = "nvptx64-nvidia-cuda"

define dso_local ptx_kernel void @scale(ptr noundef captures(none) %0, float noundef %1) local_unnamed_addr #0 {
  %3 = tail call noundef i32 @llvm.nvvm.read.ptx.sreg.tid.x()
  %4 = zext nneg i32 %3 to i64
  %5 = getelementptr inbounds nuw float, ptr %0, i64 %4
  %6 = load float, ptr %5, align 4
  %7 = fmul contract float %1, %6
  store float %7, ptr %5, align 4
  ret void
}

declare noundef range(i32 0, 1024) i32 @llvm.nvvm.read.ptx.sreg.tid.x() #1

attributes #0 = { mustprogress nofree noinline norecurse nosync nounwind willreturn memory(argmem: readwrite) "target-cpu"="sm_90" "target-features"="+ptx88,+sm_90" "uniform-work-group-size"="true" }
attributes #1 = { mustprogress nocallback nofree nosync nounwind speculatable willreturn memory(none) }
