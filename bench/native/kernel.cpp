// FAISS's 4-bit fast-scan kernel alone, timed as VectorStore times its own (issue 21, item 2): one query's look-up
// tables against every code, the 16-bit sums written to memory, no heap or threshold. FAISS's entry point for exactly
// that is faiss::accumulate_to_mem (its StoreResultHandler over the same block loop its searches run; the SIMD level
// is the library's: AVX-512 for the faiss_avx512 target, AVX2 for faiss_avx2).
//
//   kernel [M] [CODES]          M sub-quantizers of 4 bits (default 96), CODES codes (default 50016, a multiple of 32)
//   env: MIN_TIME_S=1 (each of the ROUNDS timings repeats the scan for at least this long), ROUNDS=5
//
// Output (stdout): faiss-kernel,M,CODES,ns_per_code_best,ns_per_code_median,checksum,ROUND1;ROUND2;…,OPTIONS (ns per
// code of every round, in the order run; OPTIONS is faiss::get_compile_options(), which names the SIMD level) — the codes and tables are
// random (the kernel is data-oblivious), laid out by FAISS's own packers (pq4_pack_codes, pq4_pack_LUT, blocks of 32
// codes); the checksum of the sums keeps the compiler from dropping the work.
#include <faiss/impl/fast_scan/fast_scan.h>
#include <faiss/utils/utils.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

namespace {
double now_s() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }
double env_d(const char* k, double def) { const char* v = getenv(k); return v && *v ? atof(v) : def; }
}

int main(int argc, char** argv) {
    size_t m = argc > 1 ? strtoul(argv[1], nullptr, 10) : 96;
    size_t n = argc > 2 ? strtoul(argv[2], nullptr, 10) : 50016;
    if (m == 0 || m % 2 != 0 || n == 0 || n % 32 != 0) {
        fprintf(stderr, "kernel: M must be even and positive, CODES a positive multiple of 32 (got %zu, %zu)\n", m, n);
        return 2;
    }
    double min_time = env_d("MIN_TIME_S", 1.0);
    int rounds = (int)env_d("ROUNDS", 5);
    if (rounds < 1) {
        fprintf(stderr, "kernel: ROUNDS must be at least 1 (got %d)\n", rounds);
        return 2;
    }
    std::mt19937 rng(1);
    std::vector<uint8_t> codes(n * ((m + 1) / 2)), lut(m * 16), packed_lut(m * 16);
    // pq4_pack_codes reads M/2 bytes per code, two 4-bit sub-codes per byte (low nibble first).
    for (auto& c : codes) c = (uint8_t)rng();
    for (auto& v : lut) v = (uint8_t)rng();
    std::vector<uint8_t> blocks(n / 32 * 32 * m / 2);
    faiss::pq4_pack_codes(codes.data(), n, m, n, 32, m, blocks.data());
    faiss::pq4_pack_LUT(1, (int)m, lut.data(), packed_lut.data());
    std::vector<uint16_t> sums(n);
    std::vector<double> per_code;
    uint64_t checksum = 0;
    faiss::accumulate_to_mem(1, n, (int)m, blocks.data(), packed_lut.data(), sums.data()); // warm caches and pages
    for (int r = 0; r < rounds; r++) {
        size_t scans = 0;
        double t0 = now_s(), t;
        do {
            faiss::accumulate_to_mem(1, n, (int)m, blocks.data(), packed_lut.data(), sums.data());
            checksum += sums[scans % n];
            scans++;
            t = now_s() - t0;
        } while (t < min_time);
        per_code.push_back(t * 1e9 / ((double)scans * n));
    }
    std::vector<double> sorted = per_code;
    std::sort(sorted.begin(), sorted.end());
    printf("faiss-kernel,%zu,%zu,%.4f,%.4f,%llu,", m, n, sorted.front(), sorted[sorted.size() / 2], (unsigned long long)checksum);
    for (size_t r = 0; r < per_code.size(); r++) printf(r == 0 ? "%.4f" : ";%.4f", per_code[r]);
    printf(",%s\n", faiss::get_compile_options().c_str());
    return 0;
}
