; Proves: a kernel with one return gets the record parameter and the whole
; block-exit epilogue (default, -paella-exit-barrier=full): the threads of
; row 0 read the record and prepare the report, every thread waits at a
; non-aligned barrier 1 (no warp reconvergence, no thread count), and thread
; (0,0,0) then counts the block with one atomic, or posts its shard's count
; to host memory.
; RUN: %opt -passes=paella-instrument -paella-notify=count -S %s | FileCheck %s

; CHECK: @__paella_abi_version = weak addrspace(1) constant i32 2
; CHECK-LABEL: define {{.*}}ptx_kernel void @scale(ptr {{.*}}%0, float {{.*}}%1, ptr addrspace(1) noundef %paella.record)
; CHECK: store float
; CHECK-NEXT: br label %paella.exit
; CHECK: paella.exit:
; CHECK-NEXT: %paella.tid.x = call i32 asm sideeffect "mov.u32 $0, %tid.x;"
; CHECK: %paella.thread0 = icmp eq i32
; CHECK: br i1 %paella.row0, label %paella.prepare, label %paella.wait
; CHECK: paella.prepare:
; CHECK: %paella.shard_mask = load i32, ptr addrspace(1) {{.*}}!invariant.load
; CHECK: %paella.host_counts = load ptr addrspace(1)
; CHECK: %paella.block = add i32
; CHECK: br label %paella.wait
; CHECK: paella.wait:
; CHECK: call void @llvm.nvvm.barrier.cta.sync.all(i32 1)
; CHECK-NEXT: br i1 %paella.thread0, label %paella.report, label %paella.done
; CHECK: paella.report:
; CHECK-NEXT: br i1 %paella.posts.w, label %paella.post, label %paella.add
; CHECK: paella.post:
; CHECK-NEXT: [[OLD:%.*]] = atomicrmw add ptr addrspace(1) %paella.counter.w, i32 1 syncscope("device") monotonic
; CHECK: [[NEW:%.*]] = add i32 [[OLD]], 1
; CHECK-NEXT: store atomic i32 [[NEW]], ptr addrspace(1) %paella.slot.w monotonic
; CHECK: paella.add:
; CHECK-NEXT: atomicrmw add ptr addrspace(1) %paella.counter.w, i32 1 syncscope("device") monotonic
; CHECK: paella.done:
; CHECK-NEXT: ret void
; CHECK-NOT: ret void
; No warp reconvergence, no system-scope atomic and no fence anywhere.
; CHECK-NOT: bar.warp.sync
; CHECK-NOT: fence
; CHECK: attributes #0 = { {{.*}}"paella-instrumented"

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
