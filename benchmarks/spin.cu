/*
 * spin_ns: one block that busy-waits for a given number of nanoseconds of
 * the GPU's global timer.  Benchmarks put it first on a stream to hold the
 * GPU while they queue a round of launches, so that what they time is the
 * GPU's work and not the host's enqueue rate.
 */
extern "C" __global__ void spin_ns(unsigned long long ns)
{
	unsigned long long start, now;

	asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(start));
	do {
		asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(now));
	} while (now - start < ns);
}
