// myoexo::eval (internal) — folds, subjects or any independent items on a few threads.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <functional>
#include <thread>
#include <vector>

namespace myoexo::eval {

/// Calls work(i) for i in [0, n) on min(threads, n) threads (>= 1; 1 = on the caller's thread), each taking the
/// next unclaimed index. work returns false to stop items not yet started. The caller keeps results by index, so
/// they do not depend on the thread count.
inline void for_each_index_parallel(std::size_t n, std::size_t threads, const std::function<bool(std::size_t)>& work) {
  std::atomic<std::size_t> next{0};
  std::atomic<bool> stop{false};
  auto worker = [&] {
    for (std::size_t i = next.fetch_add(1); i < n && !stop.load(); i = next.fetch_add(1))
      if (!work(i)) stop.store(true);
  };
  const std::size_t n_threads = std::min(std::max<std::size_t>(threads, 1), n);
  if (n_threads <= 1) {
    worker();
    return;
  }
  std::vector<std::thread> pool;
  for (std::size_t t = 0; t < n_threads; ++t) pool.emplace_back(worker);
  for (auto& t : pool) t.join();
}

}  // namespace myoexo::eval
