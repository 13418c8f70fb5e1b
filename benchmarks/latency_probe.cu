/*
 * Kernels for benchmarks/notify-latency.
 *
 * latency_probe: block b spins @spin_ns + b * @stagger_ns of the GPU's global
 * timer, so the blocks of one wave finish in id order and the last block is
 * the grid's last to end; then its thread 0 stores @seq into done[b] in
 * host-mapped memory as the block's last act.  The CPU watching the last
 * block's word sees that store about one PCIe one-way latency after it was
 * made; it is the reference every completion signal is measured against.
 * Each block also writes the global timer at its end into ends[b] (device
 * memory), so that the benchmark can tell when the last block by id was not
 * the last to end (blocks that did not all start together) and correct for
 * it.  With @trigger, every block lets a dependent launch start at once
 * (programmatic dependent launch).
 * Built with the instrumentation pass too, so the block-exit epilogue runs
 * right after the store.
 *
 * ping_pong: one thread answers the CPU @rounds times through host-mapped
 * words (ping from the CPU, pong from the GPU), so that the CPU can measure
 * the round trip and halve it: the one-way latency of a GPU store seen by a
 * polling CPU thread.
 */

extern "C" __global__ void latency_probe(volatile unsigned *done, unsigned seq,
					 unsigned long long spin_ns, unsigned long long stagger_ns,
					 unsigned long long *ends, unsigned trigger)
{
	unsigned long long start, now;

	/* Lets a kernel launched after this one with programmatic stream
	 * serialization start now (it then waits in griddepcontrol.wait for
	 * this grid to complete). */
	if (trigger)
		asm volatile("griddepcontrol.launch_dependents;");
	spin_ns += blockIdx.x * stagger_ns;
	asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(start));
	do {
		asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(now));
	} while (now - start < spin_ns);
	__syncthreads();
	if (threadIdx.x == 0) {
		asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(now));
		ends[blockIdx.x] = now;
		done[blockIdx.x] = seq;
	}
}

extern "C" __global__ void ping_pong(volatile unsigned *ping, volatile unsigned *pong,
				     unsigned rounds)
{
	for (unsigned i = 1; i <= rounds; i++) {
		while (*ping != i)
			;
		*pong = i;
	}
}
