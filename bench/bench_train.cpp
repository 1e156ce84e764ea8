// bench_train — training throughput and batch-1 inference latency of the default CNN1d, C++ (myoexo) and
// PyTorch (bench/peer_torch.py, Debian's python3-torch) side by side in one run.
//
// The machine is shared and noisy (~17 %), so the two sides alternate in rounds and the report gives the
// per-round ratio and its median: only a ratio measured within one run counts.
//
// Usage: bench_train [--threads 1] [--rounds 3] [--epochs 4] [--windows 2560] [--latency-runs 2000]
//                    [--config configs/cnn1d.toml] [--peer bench/peer_torch.py] [--python /usr/bin/python3]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/torch/network_spec.hpp"
#include "models/torch/torch_classifier.hpp"
#include "train/train.hpp"

#ifndef MYOEXO_PEER_SCRIPT
#define MYOEXO_PEER_SCRIPT "bench/peer_torch.py"
#endif

namespace {

using namespace myoexo;

// The BLAS libraries mapped into this process (the system's libblas.so.3 alternative: reference BLAS, OpenBLAS,
// ...), as their resolved paths: every speed figure says which BLAS it ran with.
std::string loaded_blas() {
  std::ifstream maps("/proc/self/maps");
  std::vector<std::string> seen;
  std::string line;
  while (std::getline(maps, line)) {
    const auto slash = line.find('/');
    if (slash == std::string::npos) continue;
    const std::string path = line.substr(slash);
    if (path.find("blas") == std::string::npos) continue;
    if (std::find(seen.begin(), seen.end(), path) == seen.end()) seen.push_back(path);
  }
  std::string s;
  for (const auto& p : seen) s += (s.empty() ? "" : ", ") + p;
  return s.empty() ? "none loaded" : s;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

struct Args {
  int threads = 1, rounds = 3, epochs = 4, windows = 2560, latency_runs = 2000;
  std::string config = std::string(MYOEXO_SOURCE_DIR) + "/configs/cnn1d.toml";
  std::string peer = MYOEXO_PEER_SCRIPT, python = "/usr/bin/python3";
};

struct Side {
  std::vector<double> rate;  // median epoch samples/s per round (first epoch = warm-up, dropped)
  std::vector<double> p50, p99;
};

std::vector<double> percentiles(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return {v[v.size() / 2], v[std::size_t(double(v.size()) * 0.99)]};
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--threads") a.threads = std::stoi(v);
    else if (k == "--rounds") a.rounds = std::stoi(v);
    else if (k == "--epochs") a.epochs = std::stoi(v);
    else if (k == "--windows") a.windows = std::stoi(v);
    else if (k == "--latency-runs") a.latency_runs = std::stoi(v);
    else if (k == "--config") a.config = v;
    else if (k == "--peer") a.peer = v;
    else if (k == "--python") a.python = v;
    else {
      std::cerr << "unknown option " << k << "\n";
      return 2;
    }
  }
  auto spec = models::load_network_spec(a.config);
  if (!spec) {
    std::cerr << spec.error().message() << "\n";
    return 1;
  }
  const std::size_t channels = spec->input.n_channels(), length = spec->input.window_length;
  const int classes = static_cast<int>(spec->class_names.size());
  train::TrainingSet data;
  data.channels = channels;
  data.length = length;
  std::mt19937 rng(0);
  std::normal_distribution<float> nd;
  data.X.resize(std::size_t(a.windows) * channels * length);
  for (float& v : data.X) v = nd(rng);
  for (int i = 0; i < a.windows; ++i) data.y.push_back(int(rng() % unsigned(classes)));

  train::TrainConfig cfg;
  cfg.epochs = std::size_t(a.epochs);
  cfg.batch_size = 64;
  cfg.learning_rate = 1e-3;
  cfg.validation = train::ValidationSplit::none;
  cfg.threads = a.threads;
  cfg.progress = false;

  std::printf("bench_train: %s, %zu ch x %zu samples, %d windows, batch 64, %d thread(s), %d rounds x %d epochs\n",
              models::arch_kind_name(spec->arch.kind), channels, length, a.windows, a.threads, a.rounds, a.epochs);
  Side cpp, py;
  std::string py_blas;
  std::vector<double> window(channels * length), probs(static_cast<std::size_t>(classes), 0.0);
  for (double& v : window) v = nd(rng);
  for (int round = 0; round < a.rounds; ++round) {
    // ---- C++ training
    auto r = train::train_network(*spec, data, cfg);
    if (!r) {
      std::cerr << r.error().message() << "\n";
      return 1;
    }
    std::vector<double> rates;
    for (std::size_t e = 1; e < r->history.epochs.size(); ++e)
      rates.push_back(double(r->history.train_windows) / r->history.epochs[e].seconds);
    cpp.rate.push_back(median(rates));
    // ---- C++ batch-1 inference (the real-time path: reserve + warm-up, then predict_proba per window)
    models::TorchClassifier& m = r->model;
    if (!m.reserve(1)) return 1;
    for (int i = 0; i < 100; ++i) (void)m.predict_proba(window.data(), 1, window.size(), probs.data());
    std::vector<double> lat;
    for (int i = 0; i < a.latency_runs; ++i) {
      auto t0 = std::chrono::steady_clock::now();
      (void)m.predict_proba(window.data(), 1, window.size(), probs.data());
      lat.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
    }
    auto pc = percentiles(lat);
    cpp.p50.push_back(pc[0]);
    cpp.p99.push_back(pc[1]);
    // ---- PyTorch peer
    // The peer's BLAS (OpenBLAS keeps its own pool) gets the same thread count as LibTorch on both sides.
    const std::string threads = std::to_string(a.threads);
    const std::string cmd = "OPENBLAS_NUM_THREADS=" + threads + " OMP_NUM_THREADS=" + threads + " " + a.python + " " +
                            a.peer + " --threads " + std::to_string(a.threads) + " --windows " +
                            std::to_string(a.windows) + " --channels " + std::to_string(channels) + " --length " +
                            std::to_string(length) + " --classes " + std::to_string(classes) + " --epochs " +
                            std::to_string(a.epochs) + " --latency-runs " + std::to_string(a.latency_runs);
    std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(cmd.c_str(), "r"), pclose);
    std::string out;
    char buf[4096];
    while (pipe && fgets(buf, sizeof buf, pipe.get())) out += buf;
    try {
      auto j = nlohmann::json::parse(out.substr(out.find('{')));
      auto er = j.at("epoch_samples_per_s").get<std::vector<double>>();
      er.erase(er.begin());
      py.rate.push_back(median(er));
      py.p50.push_back(j.at("latency_p50_us").get<double>());
      py.p99.push_back(j.at("latency_p99_us").get<double>());
      if (round == 0) py_blas = j.value("blas", std::string("?"));
    } catch (const std::exception& e) {
      std::cerr << "peer failed (" << cmd << "): " << e.what() << "\n" << out << "\n";
      return 1;
    }
    std::printf("round %d: train %8.0f vs %8.0f samples/s (x%.2f) | batch-1 p50 %7.1f vs %7.1f us, p99 %7.1f vs %7.1f us (x%.1f)\n",
                round + 1, cpp.rate.back(), py.rate.back(), cpp.rate.back() / py.rate.back(), cpp.p50.back(),
                py.p50.back(), cpp.p99.back(), py.p99.back(), py.p99.back() / cpp.p99.back());
    std::fflush(stdout);
  }
  std::vector<double> train_ratio, p99_ratio;
  for (std::size_t i = 0; i < cpp.rate.size(); ++i) {
    train_ratio.push_back(cpp.rate[i] / py.rate[i]);
    p99_ratio.push_back(py.p99[i] / cpp.p99[i]);
  }
  std::printf("\nBLAS: myoexo (LibTorch's calls) %s; PyTorch %s\n", loaded_blas().c_str(), py_blas.c_str());
  std::printf("median over rounds       myoexo (C++)   PyTorch eager   ratio\n");
  std::printf("training samples/s       %12.0f   %13.0f   x%.2f (target >= 1.2)\n", median(cpp.rate), median(py.rate),
              median(train_ratio));
  std::printf("batch-1 latency p50 (us) %12.1f   %13.1f   x%.1f\n", median(cpp.p50), median(py.p50),
              median(py.p50) / median(cpp.p50));
  std::printf("batch-1 latency p99 (us) %12.1f   %13.1f   x%.1f (target >= 5)\n", median(cpp.p99), median(py.p99),
              median(p99_ratio));
  return 0;
}
