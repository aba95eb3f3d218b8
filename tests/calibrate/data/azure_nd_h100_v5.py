#!/usr/bin/python3
"""Writes azure_nd_h100_v5.csv: published measurements of one Azure ND H100 v5 VM (8 x H100 80GB
HBM3 on NVSwitch, CUDA 12.6, NCCL 2.18.5) in calibration.csv's columns, for the fit tests.

Source: github.com/Azure/AI-benchmarking-guide, Azure_Results/ND_H100_v5_results.md (commit
8fd0c6e1, 2024-09-27):
  - "GEMM CuBLASLt ... FP8": TFLOPS per (m, n, k); time = 2 m n k / TFLOPS;
  - "NCCL Bandwidth ... AllReduce (NVLS algorithm) ... in-place": busbw per size, sizes
    doubling from 1 KiB (the labels "65K", "132K", ... round 2^16, 2^17, ...);
    time = size x 2 (n - 1) / n / busbw with n = 8.
Reps are 0: the source does not say how many it took; nothing was checked here (checked 0).
"""
import csv

GEMM_TFLOPS = [  # (m, n, k, TFLOPS)
    (1024, 1024, 1024, 274.1), (2048, 2048, 2048, 1011.3), (4096, 4096, 4096, 1216.9),
    (8192, 8192, 8192, 1290.1), (16384, 16384, 16384, 1377.3), (32768, 32768, 32768, 1382.2),
    (1024, 2145, 1024, 410.7), (6144, 12288, 12288, 1351.4), (802816, 192, 768, 663.8),
]
ALLREDUCE_BUSBW = [0.07, 0.14, 0.27, 0.53, 0.95, 1.71, 2.72, 5.40, 10.86, 21.35, 43.70, 81.93,
                   128.73, 172.13, 234.45, 295.53, 361.78, 400.61, 423.38, 438.46, 466.35,
                   472.36, 475.54, 478.87]  # GB/s, 1 KiB to 8 GiB
RANKS = 8

COLUMNS = ["op", "dtype", "batch", "m", "n", "k", "bytes", "flops", "ranks", "link", "reps",
           "median_s", "p10_s", "p90_s", "min_s", "checked", "wrong", "max_error"]


def row(op, dtype, m, n, k, size, flops, ranks, link, seconds):
    t = f"{seconds:.6e}"
    return [op, dtype, 1, m, n, k, size, flops, ranks, link, 0, t, t, t, t, 0, 0, 0]


with open("azure_nd_h100_v5.csv", "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(COLUMNS)
    for m, n, k, tflops in GEMM_TFLOPS:
        flops = 2 * m * n * k
        w.writerow(row("gemm", "fp8", m, n, k, 0, flops, 1, "", flops / (tflops * 1e12)))
    for i, busbw in enumerate(ALLREDUCE_BUSBW):
        size = 1024 << i
        w.writerow(row("all_reduce", "fp32", 0, 0, 0, size, 0, RANKS, "nvlink",
                       size * 2 * (RANKS - 1) / RANKS / (busbw * 1e9)))
