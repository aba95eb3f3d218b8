#pragma once
// Permute: dst row i = src row index[i]. The dispatch side of every MoE schedule groups tokens by
// destination expert this way (and unpermute scatters them back). Rows are opaque bytes, so one
// kernel serves bf16, fp16 and fp32 activations. The CPU reference defines the result.
#include <cstdint>
#include <span>

namespace moesim::kernels {

// Throws std::out_of_range if an index is outside [0, src_rows).
void gather_rows_cpu(std::span<const std::byte> src, std::int64_t src_rows,
                     std::span<const std::int32_t> index, std::int64_t row_bytes,
                     std::span<std::byte> dst);

}  // namespace moesim::kernels
