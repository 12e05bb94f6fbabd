// Batched search in native FAISS: the whole query set in one index->search(nq, ...) call, as FAISS's own benchmarks
// and most applications call it. This is the peer of VectorStore's Collection.SearchBatch (issue 21, item 4); the
// one-query-per-call numbers come from ../shared/peers/native/bench.cpp, whose CSV columns this program keeps.
//
//   batch BASE QUERY GT METRIC FACTORY SWEEP [FIXED]
//     METRIC  l2 | ip
//     SWEEP   name=v1,v2,... (nprobe, efSearch, k_factor) or "exact"
//     FIXED   name=v;name=v (set once before the sweep)
//   env: MIN_TIME_S=1 (each timing repeats the whole batch at least this long, at least 3 times),
//        TRAIN_N=40000, TRAIN_SEED=1234, BUILD_THREADS=2, NQ (first NQ queries only)
//
// Output (stdout): faiss-batch,CONFIG,PARAM,build_s,bytes,recall10,qps_b1,qps_b2,rss_mb — qps_b1 with OpenMP limited
// to one thread, qps_b2 to two; FAISS chooses how to split the batch (per query, or per query block for fast-scan).
#include <faiss/AutoTune.h>
#include <faiss/Index.h>
#include <faiss/IndexRefine.h>
#include <faiss/impl/io.h>
#include <faiss/index_factory.h>
#include <faiss/index_io.h>
#include <faiss/utils/utils.h>

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <numeric>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

double now_s() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }
double env_d(const char* k, double def) { const char* v = getenv(k); return v && *v ? atof(v) : def; }
long env_l(const char* k, long def) { const char* v = getenv(k); return v && *v ? atol(v) : def; }

template <class T>
struct Vecs { size_t n = 0, d = 0; std::vector<T> data; const T* row(size_t i) const { return data.data() + i * d; } };

template <class T>
Vecs<T> read_vecs(const std::string& path, size_t max_n = SIZE_MAX) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw std::runtime_error("cannot open " + path);
    int32_t d32 = 0;
    f.read(reinterpret_cast<char*>(&d32), 4);
    if (!f || d32 <= 0) throw std::runtime_error("bad header in " + path);
    f.seekg(0, std::ios::end);
    size_t size = size_t(f.tellg()), d = size_t(d32), rec = 4 * (d + 1);
    if (size % rec) throw std::runtime_error("size is not a multiple of the record size: " + path);
    f.seekg(0);
    Vecs<T> v; v.n = std::min(size / rec, max_n); v.d = d; v.data.resize(v.n * d);
    std::vector<char> buf(rec);
    for (size_t i = 0; i < v.n; i++) {
        if (!f.read(buf.data(), std::streamsize(rec))) throw std::runtime_error("short read " + path);
        memcpy(v.data.data() + i * d, buf.data() + 4, 4 * d);
    }
    return v;
}

std::vector<std::string> split(const std::string& s, char c) {
    std::vector<std::string> out; std::string cur; std::istringstream is(s);
    while (std::getline(is, cur, c)) if (!cur.empty()) out.push_back(cur);
    return out;
}

double status_mb(const char* key) {
    std::ifstream f("/proc/self/status"); std::string line;
    while (std::getline(f, line))
        if (line.rfind(key, 0) == 0) return atof(line.c_str() + strlen(key) + 1) / 1024.0;
    return -1;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 7) {
        fprintf(stderr, "usage: %s BASE QUERY GT METRIC FACTORY SWEEP [FIXED]\n", argv[0]);
        return 2;
    }
    try {
        std::string metric = argv[4], factory = argv[5], sweep = argv[6], fixed = argc > 7 ? argv[7] : "";
        if (metric != "l2" && metric != "ip") throw std::runtime_error("metric must be l2 or ip");
        Vecs<float> xb = read_vecs<float>(argv[1]);
        Vecs<float> xq = read_vecs<float>(argv[2], size_t(env_l("NQ", long(SIZE_MAX >> 1))));
        Vecs<int32_t> gt = read_vecs<int32_t>(argv[3], xq.n);
        if (xq.d != xb.d) throw std::runtime_error("query and base dimensions differ");
        if (gt.n < xq.n || gt.d < 10) throw std::runtime_error("ground truth needs 10 ids for every query");
        const size_t n = xb.n, d = xb.d, nq = xq.n;
        if (nq == 0 || n == 0) throw std::runtime_error("no queries or no base vectors");
        const double min_time = env_d("MIN_TIME_S", 1.0);

        std::string config = factory;
        std::replace(config.begin(), config.end(), ',', '_');
        std::unique_ptr<faiss::Index> index(
            faiss::index_factory(int(d), factory.c_str(), metric == "l2" ? faiss::METRIC_L2 : faiss::METRIC_INNER_PRODUCT));
        bool refine = dynamic_cast<faiss::IndexRefine*>(index.get()) != nullptr;
        auto pname = [&](const std::string& nm) { return nm == "k_factor" && refine ? std::string("k_factor_rf") : nm; };
        faiss::ParameterSpace ps;
        for (auto& kv : split(fixed, ';')) {
            auto p = kv.find('=');
            if (p == std::string::npos) throw std::runtime_error("bad FIXED entry " + kv);
            ps.set_index_parameter(index.get(), pname(kv.substr(0, p)), atof(kv.c_str() + p + 1));
            config += "-" + (kv.substr(0, p) == "k_factor" ? std::string("kf") : kv.substr(0, p)) + kv.substr(p + 1);
        }
        omp_set_num_threads(int(env_l("BUILD_THREADS", 2)));
        double t0 = now_s();
        if (!index->is_trained) {
            size_t tn = std::min<size_t>(n, size_t(env_l("TRAIN_N", 40000)));
            std::vector<size_t> perm(n);
            std::iota(perm.begin(), perm.end(), 0);
            std::mt19937_64 rng(env_l("TRAIN_SEED", 1234));
            for (size_t i = 0; i < tn; i++) std::swap(perm[i], perm[i + rng() % (n - i)]);
            std::vector<float> xt(tn * d);
            for (size_t i = 0; i < tn; i++) memcpy(xt.data() + i * d, xb.row(perm[i]), 4 * d);
            index->train(faiss::idx_t(tn), xt.data());
        }
        index->add(faiss::idx_t(n), xb.data.data());
        double build_s = now_s() - t0;
        faiss::VectorIOWriter w;
        faiss::write_index(index.get(), &w);
        size_t bytes = w.data.size();
        fprintf(stderr, "faiss %s [%s] %s: n=%zu nq=%zu d=%zu built in %.2fs, %zu B (%.1f B/vector)\n",
                faiss::get_version().c_str(), faiss::get_compile_options().c_str(), config.c_str(), n, nq, d, build_s,
                bytes, double(bytes) / n);

        std::vector<std::string> names;
        std::vector<double> values;
        if (sweep == "exact") { names.push_back("exact"); values.push_back(0); }
        else {
            auto p = sweep.find('=');
            if (p == std::string::npos) throw std::runtime_error("bad SWEEP " + sweep);
            for (auto& v : split(sweep.substr(p + 1), ',')) { names.push_back(sweep.substr(0, p)); values.push_back(atof(v.c_str())); }
        }
        std::vector<float> D(nq * 10);
        std::vector<faiss::idx_t> I(nq * 10);
        auto batch = [&] { index->search(faiss::idx_t(nq), xq.data.data(), 10, D.data(), I.data()); };
        auto qps = [&](int threads) {
            omp_set_num_threads(threads);
            batch();  // warm-up at this thread count
            double best = 0, start = now_s();
            for (int runs = 0; runs < 3 || now_s() - start < min_time; runs++) {
                double t = now_s();
                batch();
                best = std::max(best, double(nq) / (now_s() - t));
            }
            return best;
        };
        for (size_t i = 0; i < values.size(); i++) {
            if (names[i] != "exact") ps.set_index_parameter(index.get(), pname(names[i]), values[i]);
            omp_set_num_threads(1);
            batch();
            size_t hits = 0;
            for (size_t q = 0; q < nq; q++)
                for (int a = 0; a < 10; a++)
                    for (int b = 0; b < 10; b++)
                        if (I[q * 10 + a] >= 0 && I[q * 10 + a] == gt.row(q)[b]) { hits++; break; }
            double recall = double(hits) / (10.0 * nq);
            double q1 = qps(1), q2 = qps(2);
            char param[64];
            snprintf(param, sizeof param, "%s=%g", names[i].c_str(), values[i]);
            printf("faiss-batch,%s,%s,%.2f,%zu,%.4f,%.0f,%.0f,%.0f\n", config.c_str(), names[i] == "exact" ? "exact" : param,
                   build_s, bytes, recall, q1, q2, status_mb("VmHWM:"));
            fflush(stdout);
        }
    } catch (const std::exception& e) {
        fprintf(stderr, "ERROR: %s\n", e.what());
        return 1;
    }
    return 0;
}
