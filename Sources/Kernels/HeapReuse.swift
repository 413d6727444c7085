// HeapReuse.swift — why a training step should not ask the operating system for fresh memory every time.
//
// Teaches: a training step allocates the same large buffers again and again (activations, gradients,
// GEMM packing panels), and how the C allocator serves them decides whether that is free or costly.
// glibc's malloc gives every block above a threshold (128 KB at start, adapting up to 32 MB) its own
// `mmap` and hands it back with `munmap` on free. The next step's buffer of the same size then arrives
// as fresh pages, and the first write to each 4 KB page is a page fault: the kernel stops the thread,
// finds a page and clears it. A [2048, 768] activation is 1,536 such faults. Measured with
// `swift run -c release bench step --setup full --threads 1` (reference GPT, 2048 tokens): 1073 ms per
// step with the default policy, 801 ms with this one — a quarter of the step was page faults, charged
// to whichever op first wrote the buffer ("add", "permute", "reshape" looked slow for that reason).
// The remedy is to keep freed memory for reuse: serve blocks up to 32 MB (glibc's maximum) from the
// heap, never trim it back, and let threads share the main heap (a per-thread heap hands a wholly freed
// sub-heap back whatever the trim setting; threads that already have one keep it, so the policy is
// applied before training's first allocation). PyTorch's CPU allocator and its CUDA caching allocator exist for the same
// reason. The cost: the process keeps its peak heap after a peak (the meter's numbers are unchanged).
// Leaves out: a size-bucketed caching allocator of our own; C libraries other than glibc (there the
// policy is not applied and `isApplied` is false). The call itself is in Sources/CAllocator.
import CAllocator

/// The allocator policy for large, short-lived buffers (see the file header).
public enum HeapReuse {
    /// Blocks up to this size come from the reusable heap instead of their own mapping.
    public static let mappingThreshold = 32 << 20

    /// Whether the policy was applied. Reading it applies it, once per process (Swift runs a static
    /// property's initialiser exactly once, thread-safely); the tensor and GEMM allocators read it
    /// before they allocate, so no caller has to remember.
    public static let isApplied: Bool = {
        // glibc's mallopt (through our C header): M_MMAP_THRESHOLD = 32 MB, and a trim threshold (the
        // free space at the top of the heap that makes malloc give memory back) that never triggers.
        tinytune_keep_freed_memory(Int32(mappingThreshold)) == 1
    }()
}
