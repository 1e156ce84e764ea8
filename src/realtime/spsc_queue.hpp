// myoexo::realtime — a bounded lock-free single-producer single-consumer queue of trivially copyable values
// (decisions, telemetry rows, safety events) between the threads of a live session.
//
// Written here rather than taken from a library: it is one small header, the project already keeps the frame ring
// in the same style, and the session needs exactly this (fixed capacity sized once, wait-free push and pop,
// drop-and-count when full so that a slow consumer never blocks the control thread).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <type_traits>

namespace myoexo::realtime {

template <typename T>
class SpscQueue {
  static_assert(std::is_trivially_copyable_v<T>, "SpscQueue holds trivially copyable values");

 public:
  SpscQueue() = default;
  /// Room for `capacity` (>= 1) values; allocates here only.
  explicit SpscQueue(std::size_t capacity)
      : capacity_(capacity + 1), slots_(std::make_unique<T[]>(capacity + 1)), state_(std::make_unique<State>()) {}
  SpscQueue(SpscQueue&&) noexcept = default;
  SpscQueue& operator=(SpscQueue&&) noexcept = default;

  std::size_t capacity() const noexcept { return capacity_ ? capacity_ - 1 : 0; }

  /// Producer: appends `v`; false (and counted in dropped()) when full. Wait-free, no allocation.
  bool push(const T& v) noexcept {
    const std::size_t head = state_->head.load(std::memory_order_relaxed);
    const std::size_t next = head + 1 == capacity_ ? 0 : head + 1;
    if (next == state_->tail.load(std::memory_order_acquire)) {
      state_->dropped.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    slots_[head] = v;
    state_->head.store(next, std::memory_order_release);
    return true;
  }
  /// Consumer: the oldest value without removing it; false when empty.
  bool peek(T& out) const noexcept {
    const std::size_t tail = state_->tail.load(std::memory_order_relaxed);
    if (tail == state_->head.load(std::memory_order_acquire)) return false;
    out = slots_[tail];
    return true;
  }
  /// Consumer: removes the oldest value into `out`; false when empty.
  bool pop(T& out) noexcept {
    const std::size_t tail = state_->tail.load(std::memory_order_relaxed);
    if (tail == state_->head.load(std::memory_order_acquire)) return false;
    out = slots_[tail];
    state_->tail.store(tail + 1 == capacity_ ? 0 : tail + 1, std::memory_order_release);
    return true;
  }
  /// Values pushed while the queue was full.
  std::uint64_t dropped() const noexcept { return state_->dropped.load(std::memory_order_relaxed); }

 private:
  struct State {
    alignas(64) std::atomic<std::size_t> head{0};  // next slot to write (producer)
    alignas(64) std::atomic<std::size_t> tail{0};  // next slot to read (consumer)
    alignas(64) std::atomic<std::uint64_t> dropped{0};
  };
  std::size_t capacity_ = 0;
  std::unique_ptr<T[]> slots_;
  std::unique_ptr<State> state_;
};

}  // namespace myoexo::realtime
