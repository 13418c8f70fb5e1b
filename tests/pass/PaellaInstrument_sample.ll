; Proves: the default (sample) report, with no barrier and no atomic
; read-modify-write: only thread (0,0,0) goes past the first tests, the
; sampling interval comes from the record parameter's low bits (no load), the
; grid's last intervals are excluded in 64-bit arithmetic, and only a sampled
; block loads the record's host_counts and stores block + 1 there with a
; relaxed system-scope store.  A kernel with a loop (count_up) reports at
; entry, before its body, its returns left alone; a kernel without (scale)
; at its merged exit, where -paella-sample-at=edges puts them (the default,
; shadow, is PaellaInstrument_sample_shadow.ll).  The manifest names the mode.
; RUN: %opt -passes=paella-instrument -paella-sample-at=edges -S %s | FileCheck %s
; RUN: %opt -passes=paella-instrument -paella-notify=sample -paella-sample-at=edges -S %s | FileCheck %s

; CHECK: @__paella_abi_version = weak addrspace(1) constant i32 2
; CHECK: c"paella-manifest 3\0AK scale 2 sample scale__paella_plain\0AK count_up 2 sample count_up__paella_plain\0A\00"
; CHECK-LABEL: define {{.*}}ptx_kernel void @scale(ptr {{.*}}%0, float {{.*}}%1, ptr addrspace(1) noundef %paella.record)
; CHECK: store float
; CHECK-NEXT: br label %paella.exit
; CHECK: paella.exit:
; CHECK-NEXT: %paella.tid.x = call i32 asm sideeffect "mov.u32 $0, %tid.x;"
; CHECK-NEXT: %paella.tx0 = icmp eq i32 %paella.tid.x, 0
; CHECK-NEXT: br i1 %paella.tx0, label %paella.row, label %paella.done
; CHECK: paella.row:
; CHECK-NOT: load
; CHECK: %paella.thread0 = icmp eq i32
; CHECK-NEXT: br i1 %paella.thread0, label %paella.check, label %paella.done
; CHECK: paella.check:
; CHECK-NEXT: [[P:%.*]] = ptrtoint ptr addrspace(1) %paella.record to i64
; CHECK-NEXT: %paella.tag = and i64 [[P]], 31
; CHECK-NOT: load
; CHECK: %paella.block = add i32
; CHECK: %paella.sample_mask = sub i32
; CHECK: %paella.sampled = icmp eq i32
; CHECK-NEXT: br i1 %paella.sampled, label %paella.tail, label %paella.done
; CHECK: paella.tail:
; CHECK: %paella.nblocks = mul i64
; CHECK: [[TAIL:%.*]] = shl i64 4, %paella.tag
; CHECK: %paella.before_tail = icmp ult i64 {{%.*}}, %paella.nblocks
; CHECK-NEXT: br i1 %paella.before_tail, label %paella.post, label %paella.done
; CHECK: paella.post:
; CHECK: %paella.record.base = getelementptr i8, ptr addrspace(1) %paella.record
; CHECK: %paella.host_counts = load ptr addrspace(1), {{.*}}!invariant.load
; CHECK: store atomic i32 {{%.*}}, ptr addrspace(1) %paella.host_counts monotonic, align 4
; CHECK-NEXT: br label %paella.done
; CHECK: paella.done:
; CHECK-NEXT: ret void
; CHECK-LABEL: define {{.*}}ptx_kernel void @count_up(ptr %p, i32 %n, ptr addrspace(1) noundef %paella.record)
; CHECK-NEXT: entry:
; CHECK-NEXT: %paella.tid.x = call i32 asm sideeffect "mov.u32 $0, %tid.x;"
; CHECK-NEXT: %paella.tx0 = icmp eq i32 %paella.tid.x, 0
; CHECK-NEXT: br i1 %paella.tx0, label %paella.row, label %paella.body
; CHECK: store atomic i32 {{%.*}}, ptr addrspace(1) %paella.host_counts monotonic, align 4
; CHECK-NEXT: br label %paella.body
; CHECK: paella.body:
; CHECK: loop:
; CHECK: ret void
; CHECK-NOT: paella.exit
; CHECK-NOT: barrier
; CHECK-NOT: atomicrmw
; CHECK-NOT: fence
; CHECK: attributes #0 = { {{.*}}"paella-instrumented"="sample"

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

define ptx_kernel void @count_up(ptr %p, i32 %n) {
entry:
  br label %loop

loop:
  %i = phi i32 [ 0, %entry ], [ %next, %loop ]
  %q = getelementptr i32, ptr %p, i32 %i
  store i32 %i, ptr %q
  %next = add i32 %i, 1
  %more = icmp ult i32 %next, %n
  br i1 %more, label %loop, label %out

out:
  ret void
}
