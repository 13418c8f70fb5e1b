; Proves: by default a sample-mode report goes in the shadow of the kernel's
; first global loads: after the loads are issued and before the first
; instruction that waits for one of them, reached through a guard whose other
; side only returns (copy2).  Not inside the "then" of an if without else
; (guarded: ptxas predicates such loads and issues them together, which a
; report there would stop).  The report is the same code as at the edges (only its place
; moves).  Where the walk from the entry meets a loop first (in_loop), a call
; (calls_first), or a load from shared memory only (shared_only), the report
; goes where -paella-sample-at=edges puts it: at entry for kernels with loops
; or calls, at the merged exit for the others.
; RUN: %opt -passes=paella-instrument -S %s | FileCheck %s
; RUN: %opt -passes=paella-instrument -paella-sample-at=shadow -S %s | FileCheck %s
; RUN: %opt -passes=paella-instrument -paella-sample-at=edges -S %s | FileCheck %s --check-prefix=EDGES

; CHECK-LABEL: define {{.*}}ptx_kernel void @copy2(
; CHECK: %a = load float, ptr %pa
; CHECK-NEXT: %b = load float, ptr addrspace(1) %pb
; CHECK-NEXT: %paella.tid.x = call i32 asm sideeffect "mov.u32 $0, %tid.x;"
; CHECK: store atomic i32 {{%.*}}, ptr addrspace(1) %paella.host_counts monotonic, align 4
; CHECK-NEXT: br label %paella.body
; CHECK: paella.body:
; CHECK-NEXT: %s = fadd float %a, %b
; CHECK-NOT: paella.exit
; CHECK: ret void
; EDGES-LABEL: define {{.*}}ptx_kernel void @copy2(
; EDGES: %s = fadd float %a, %b
; EDGES: paella.exit:
; EDGES-NEXT: %paella.tid.x

; CHECK-LABEL: define {{.*}}ptx_kernel void @guarded(
; CHECK: then:
; CHECK-NEXT: %x = load float, ptr %p
; CHECK-NEXT: br label %join
; CHECK: paella.exit:
; CHECK-NEXT: %paella.tid.x

; CHECK-LABEL: define {{.*}}ptx_kernel void @in_loop(
; CHECK-NEXT: entry:
; CHECK-NEXT: %paella.tid.x
; CHECK: paella.body:
; CHECK: loop:
; CHECK-NOT: paella.tid.x
; CHECK: ret void

; CHECK-LABEL: define {{.*}}ptx_kernel void @calls_first(
; CHECK-NEXT: %paella.tid.x
; CHECK: paella.body:
; CHECK-NEXT: call void @helper
; CHECK-NEXT: %x = load float

; CHECK-LABEL: define {{.*}}ptx_kernel void @shared_only(
; CHECK: %x = load float, ptr addrspace(3) @tile
; CHECK: paella.exit:
; CHECK-NEXT: %paella.tid.x

target datalayout = "e-p6:32:32-i64:64-i128:128-i256:256-v16:16-v32:32-n16:32:64"
target triple = "nvptx64-nvidia-cuda"

@tile = internal addrspace(3) global [32 x float] undef

define ptx_kernel void @copy2(ptr %pa, ptr addrspace(1) %pb, ptr %out, i32 %n) {
  %t = call i32 @llvm.nvvm.read.ptx.sreg.tid.x()
  %in = icmp ult i32 %t, %n
  br i1 %in, label %work, label %done

work:
  %a = load float, ptr %pa
  %b = load float, ptr addrspace(1) %pb
  %s = fadd float %a, %b
  store float %s, ptr %out
  br label %done

done:
  ret void
}

define ptx_kernel void @guarded(ptr %p, ptr %out, i1 %c) {
entry:
  br i1 %c, label %then, label %join

then:
  %x = load float, ptr %p
  br label %join

join:
  %v = phi float [ %x, %then ], [ 0.0, %entry ]
  store float %v, ptr %out
  ret void
}

define ptx_kernel void @in_loop(ptr %p, i32 %n) {
entry:
  br label %loop

loop:
  %i = phi i32 [ 0, %entry ], [ %next, %loop ]
  %q = getelementptr float, ptr %p, i32 %i
  %x = load float, ptr %q
  %y = fadd float %x, 1.0
  store float %y, ptr %q
  %next = add i32 %i, 1
  %more = icmp ult i32 %next, %n
  br i1 %more, label %loop, label %out

out:
  ret void
}

define void @helper() noinline {
  ret void
}

define ptx_kernel void @calls_first(ptr %p, ptr %out) {
  call void @helper()
  %x = load float, ptr %p
  store float %x, ptr %out
  ret void
}

define ptx_kernel void @shared_only(ptr %out) {
  %x = load float, ptr addrspace(3) @tile
  store float %x, ptr %out
  ret void
}

declare i32 @llvm.nvvm.read.ptx.sreg.tid.x()
