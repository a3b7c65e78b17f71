// File: storage/projections/stable_vector.h
//
// StableVector<T>: a growable array whose elements never move, for the
// projection's units, members, commitments and plans. References to its
// elements stay valid as it grows (the id indexes and the undo journal hold
// them), as with std::deque; unlike std::deque, finding element i reads one
// entry of a small array of chunk pointers. (std::deque keeps a pointer per
// 512 bytes of elements: for units, one per unit, a map of megabytes at
// national scale whose entry is a cache miss of its own on every lookup.)
#pragma once

#include <cstddef>
#include <iterator>
#include <memory>
#include <new>
#include <utility>
#include <vector>

namespace nenep::projections {

template <typename T>
class StableVector {
 public:
  StableVector() = default;
  StableVector(const StableVector&) = delete;
  StableVector& operator=(const StableVector&) = delete;
  ~StableVector() { clear(); }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  T& operator[](size_t i) { return Slot(i); }
  const T& operator[](size_t i) const { return Slot(i); }
  T& back() { return Slot(size_ - 1); }
  const T& back() const { return Slot(size_ - 1); }

  void push_back(T value) { emplace_back(std::move(value)); }
  template <typename... Args>
  T& emplace_back(Args&&... args) {
    if (size_ == chunks_.size() * kChunk) {
      std::unique_ptr<T, FreeChunk> chunk(static_cast<T*>(
          ::operator new(kChunk * sizeof(T), std::align_val_t(alignof(T)))));
      chunks_.push_back(std::move(chunk));  // if this throws, chunk frees it
    }
    T* slot = &Slot(size_);
    new (slot) T(std::forward<Args>(args)...);
    ++size_;
    return *slot;
  }
  // The chunk stays allocated for the next push_back.
  void pop_back() {
    --size_;
    Slot(size_).~T();
  }
  void clear() {
    while (size_ > 0) pop_back();
    chunks_.clear();
  }

  template <bool kConst>
  class Iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = T;
    using difference_type = std::ptrdiff_t;
    using pointer = std::conditional_t<kConst, const T*, T*>;
    using reference = std::conditional_t<kConst, const T&, T&>;
    using Owner = std::conditional_t<kConst, const StableVector, StableVector>;

    Iterator(Owner* v, size_t i) : v_(v), i_(i) {}
    reference operator*() const { return (*v_)[i_]; }
    pointer operator->() const { return &(*v_)[i_]; }
    Iterator& operator++() {
      ++i_;
      return *this;
    }
    bool operator==(const Iterator& o) const { return i_ == o.i_; }
    bool operator!=(const Iterator& o) const { return i_ != o.i_; }

   private:
    Owner* v_;
    size_t i_;
  };
  Iterator<false> begin() { return {this, 0}; }
  Iterator<false> end() { return {this, size_}; }
  Iterator<true> begin() const { return {this, 0}; }
  Iterator<true> end() const { return {this, size_}; }

 private:
  // 4,096 elements a chunk: a chunk of units is ~2.5 MB, and the chunk
  // pointers of 5.6 million members fit in 11 KB.
  static constexpr size_t kChunkBits = 12;
  static constexpr size_t kChunk = size_t{1} << kChunkBits;

  struct FreeChunk {
    void operator()(T* p) const {
      ::operator delete(p, std::align_val_t(alignof(T)));
    }
  };

  T& Slot(size_t i) const {
    return chunks_[i >> kChunkBits].get()[i & (kChunk - 1)];
  }

  std::vector<std::unique_ptr<T, FreeChunk>> chunks_;
  size_t size_ = 0;
};

}  // namespace nenep::projections
