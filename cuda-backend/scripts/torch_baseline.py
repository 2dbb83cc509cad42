#!/usr/bin/env python3
"""PyTorch baselines for the cuda backend's sweep, on the same shapes, timed the same way.

Run by device-check.sh on the GPU machine (never in CI). For each dtype (float32, bfloat16), V and B:
  - torch._softmax_backward_data(grad, out, dim=-1, input_dtype)   (what autograd calls; eager)
  - autograd of torch.softmax: y = softmax(x); y.backward(g)        (backward only is timed)
  - a device-to-device copy of one array (dst.copy_(src))
CUDA events around 10 calls each, after warm-up, median of 50 pairs; L2 flushed outside the events;
inputs rotated through up to 8 sets (>= 256 MiB where the shape allows) so that L2 never holds them. Bandwidth = (bytes read + bytes written) / time, with the op's minimum bytes
3 * B * V * element size (read y, read g, write gradIn). Prints a markdown table.
"""
import statistics
import sys

import torch

VS = [32, 128, 1024, 4096, 32000, 50257, 131072, 262144]
BS = [1, 64, 4096, 65536]
DTYPES = [torch.float32, torch.bfloat16]
ROTATE_BYTES = 256 << 20
RUNS = 50


LAUNCHES_PER_EVENT_PAIR = 10
FLUSH = None


def flush_l2():
    """Overwrites a buffer larger than L2, outside the timed events."""
    global FLUSH
    if FLUSH is None:
        FLUSH = torch.empty(ROTATE_BYTES, dtype=torch.uint8, device="cuda")
    FLUSH.zero_()


def median_ms(fn, runs=RUNS):
    """Median over `runs` event pairs of the time per launch; each pair times 10 launches of fn
    (which rotates its inputs); L2 is flushed before each pair, outside the events."""
    for _ in range(3):
        fn()
    start = torch.cuda.Event(enable_timing=True)
    stop = torch.cuda.Event(enable_timing=True)
    times = []
    for _ in range(runs):
        flush_l2()
        start.record()
        for _ in range(LAUNCHES_PER_EVENT_PAIR):
            fn()
        stop.record()
        stop.synchronize()
        times.append(start.elapsed_time(stop) / LAUNCHES_PER_EVENT_PAIR)
    return statistics.median(times)


def main():
    dev = torch.device("cuda")
    print(f"torch {torch.__version__}, CUDA {torch.version.cuda}, {torch.cuda.get_device_name(dev)}")
    free, _ = torch.cuda.mem_get_info()
    budget = free // 3
    print()
    print("| dtype | B | V | _softmax_backward_data µs | GB/s (min bytes) | autograd µs | copy µs | copy GB/s |")
    print("|---|---|---|---|---|---|---|---|")
    for dtype in DTYPES:
        es = torch.tensor([], dtype=dtype).element_size()
        for v in VS:
            for b in BS:
                n = b * v
                nbytes = n * es
                # the Java sweep skips B*V > 2^31-1 (int sizes); skip the same shapes here
                if n > 2**31 - 1 or 4 * nbytes > budget:
                    print(f"| {dtype} | {b} | {v} | skipped | | | | |")
                    continue
                copies = max(1, min(8, ROTATE_BYTES // max(1, 3 * nbytes)))
                sets = []
                for _ in range(copies):
                    x = torch.randn(b, v, device=dev, dtype=torch.float32)
                    y = torch.softmax(x, dim=-1).to(dtype)
                    g = torch.randn(b, v, device=dev, dtype=dtype)
                    sets.append((x.to(dtype), y, g))
                it = [0]

                def sbd():
                    _, y, g = sets[it[0] % copies]
                    it[0] += 1
                    torch._softmax_backward_data(g, y, -1, dtype)

                ms = median_ms(sbd)
                # autograd: build the graph outside the timed region, time only backward
                graphs = []
                for x, _, g in sets:
                    xr = x.detach().requires_grad_(True)
                    graphs.append((xr, g))
                times = []
                start = torch.cuda.Event(enable_timing=True)
                stop = torch.cuda.Event(enable_timing=True)
                for i in range(RUNS + 3):
                    # the graphs are built outside the events; 10 backward passes, inputs rotated
                    outs = []
                    for j in range(LAUNCHES_PER_EVENT_PAIR):
                        xr, g = graphs[(i * LAUNCHES_PER_EVENT_PAIR + j) % copies]
                        xr.grad = None
                        outs.append((torch.softmax(xr, dim=-1), g))
                    flush_l2()
                    torch.cuda.synchronize()
                    start.record()
                    for out, g in outs:
                        out.backward(g)
                    stop.record()
                    stop.synchronize()
                    if i >= 3:
                        times.append(start.elapsed_time(stop) / LAUNCHES_PER_EVENT_PAIR)
                auto_ms = statistics.median(times)
                dsts = [torch.empty_like(s[1]) for s in sets]
                cit = [0]

                def copy():
                    k = cit[0] % copies
                    cit[0] += 1
                    dsts[k].copy_(sets[k][1])

                copy_ms = median_ms(copy)
                gbs = 3 * nbytes / ms / 1e6
                copy_gbs = 2 * nbytes / copy_ms / 1e6
                print(f"| {dtype} | {b} | {v} | {ms * 1000:.2f} | {gbs:.1f} | {auto_ms * 1000:.2f} | "
                      f"{copy_ms * 1000:.2f} | {copy_gbs:.1f} |")
                del sets, graphs, dsts
                torch.cuda.empty_cache()
    return 0


if __name__ == "__main__":
    sys.exit(main())
